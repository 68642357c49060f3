"""Background jobs of the customer analytics (Celery; inline without a broker).

Safe to run again, as the worker's late acknowledgement may do: a requested recompute that
has finished is not run twice. Task names stay those of the app's single jobs module they
came from (`crm.jobs.*`): the beat schedule and messages already queued use them.
"""

import datetime as dt
import uuid

from celery import shared_task
from django.db import transaction

from crm.analytics.models import AnalyticsRun
from crm.analytics.services import analytics_recompute


@shared_task(name="crm.jobs.analytics_recompute_job")
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
