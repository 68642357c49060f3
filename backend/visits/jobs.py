"""Background jobs of visits (Celery; inline without a broker, see fieldline/celery.py)."""

from celery import shared_task

from visits.fraud import visit_mark_photo_reused


@shared_task
def visit_photo_flags_refresh(*, visit_ids: list[str]) -> int:
    """Flag visits that hold a photo reused from another store; safe to repeat."""
    return visit_mark_photo_reused(visit_ids=visit_ids)
