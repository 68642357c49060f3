"""Background jobs of the crm app (see fieldline/celery.py)."""

from celery import shared_task

from crm.services import order_import_job_run
from crm.subsidy_services import coupons_expire


@shared_task(name="crm.expire_coupons")
def expire_coupons() -> int:
    """Expire coupons past their use window, one bounded batch per run; safe to repeat."""
    return coupons_expire()


@shared_task(name="crm.run_order_import")
def run_order_import(*, job_id: str) -> int:
    """Import one queued orders file; returns the rows read (0 when there was nothing to
    do). Safe to repeat: a finished job is not run again, an interrupted one resumes."""
    job = order_import_job_run(job_id=job_id)
    return 0 if job is None else job.rows_done
