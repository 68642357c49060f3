"""Background jobs of the reports app (Celery; inline when no broker is configured)."""

from celery import shared_task

from reports.retention import storage_retention_sweep
from reports.services import export_job_run


@shared_task(name="reports.run_export_job")
def run_export_job(*, job_id: str) -> int:
    """Write one export job's file; returns the rows written (0 when there was nothing to
    do). Safe to repeat: a finished job is not run again."""
    job = export_job_run(job_id=job_id)
    return 0 if job is None else job.rows_done


@shared_task(name="reports.storage_retention_sweep")
def storage_retention_sweep_job() -> dict[str, int]:
    """Daily: remove export files, import uploads and deleted photos' bytes past their
    retention period, recording each removal. Safe to repeat."""
    return storage_retention_sweep()
