"""Background jobs of the orders import (Celery; inline without a broker).

Task names stay those of the app's single jobs module they came from (`crm.jobs.*`), so
messages already queued under those names keep finding their task.
"""

from celery import shared_task

from crm.orders.services import order_import_job_run


@shared_task(name="crm.jobs.run_order_import")
def run_order_import(*, job_id: str) -> int:
    """Import one queued orders file; returns the rows read (0 when there was nothing to
    do). Safe to repeat: a finished job is not run again, an interrupted one resumes."""
    job = order_import_job_run(job_id=job_id)
    return 0 if job is None else job.rows_done
