"""Background jobs of the customer analytics (Celery; inline without a broker).

All are safe to run again, as the worker's late acknowledgement may do: a requested
recompute that has finished is not run twice, and the queue fill adds nothing the second
time.
"""

import datetime as dt
import uuid

from celery import shared_task
from django.db import transaction

from crm.call_services import call_queues_generate
from crm.models import AnalyticsRun
from crm.services import analytics_recompute, order_import_job_run
from crm.subsidy_services import coupons_expire


@shared_task
def analytics_recompute_job(run_id: str | None = None, as_of: str | None = None) -> str | None:
    """Run a requested recompute (`run_id`, from the API) or, on the nightly schedule, a
    new one as of `as_of` (default today). Returns the run's id."""
    if run_id is None:
        day = dt.date.fromisoformat(as_of) if as_of else None
        return str(analytics_recompute(actor=None, as_of=day).run.pk)
    with transaction.atomic():
        # Locked, so a redelivered job waits for the first and then finds the run finished.
        run = AnalyticsRun.objects.select_for_update().filter(pk=uuid.UUID(run_id)).first()
        if run is None or run.finished_at is not None:
            return None
        return str(analytics_recompute(actor=run.started_by, run=run).run.pk)


@shared_task
def call_queues_generate_job(today: str | None = None) -> dict[str, int]:
    """Expire stale calls, queue surveys by phone and new-customer callbacks."""
    day = dt.date.fromisoformat(today) if today else None
    return call_queues_generate(today=day).as_dict()


@shared_task
def expire_coupons() -> int:
    """Expire coupons past their use window, one bounded batch per run."""
    return coupons_expire()


@shared_task
def run_order_import(*, job_id: str) -> int:
    """Import one queued orders file; returns the rows read (0 when there was nothing to
    do). Safe to repeat: a finished job is not run again, an interrupted one resumes."""
    job = order_import_job_run(job_id=job_id)
    return 0 if job is None else job.rows_done
