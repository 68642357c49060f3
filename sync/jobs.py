"""Background jobs of the sync engine (Celery; inline without a broker, see
fieldline/celery.py). Each is safe to repeat."""

from celery import shared_task
from django.utils import timezone


@shared_task(name="sync.jobs.prune_watermelon_timestamps")
def prune_watermelon_timestamps() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): drop WatermelonDB timestamp records past their
    retention, so the table holds what a restore may still need."""
    from sync.watermelon.timestamps import prune_issued

    return prune_issued(now=timezone.now())
