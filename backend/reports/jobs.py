"""Background jobs of the reports app (Celery; inline when no broker is configured)."""

from celery import shared_task

from reports.services import export_job_run


@shared_task(name="reports.run_export_job")
def run_export_job(*, job_id: str) -> int:
    """Write one export job's file; returns the rows written (0 when there was nothing to
    do). Safe to repeat: a finished job is not run again."""
    job = export_job_run(job_id=job_id)
    return 0 if job is None else job.rows_done
