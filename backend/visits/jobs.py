"""Background jobs of the visits app (see fieldline/celery.py)."""

from celery import shared_task

from visits.fraud import visit_mark_photo_reused, visit_travel_flags_refresh
from visits.services import followup_reminders_raise


@shared_task
def raise_followup_reminders() -> int:
    """Hourly: reminders for follow-ups falling due. Idempotent, so a rerun is harmless."""
    return followup_reminders_raise()


@shared_task
def visit_photo_flags_refresh(*, visit_ids: list[str]) -> int:
    """Flag visits that hold a photo reused from another store; safe to repeat."""
    return visit_mark_photo_reused(visit_ids=visit_ids)


@shared_task
def visit_travel_flags_refresh_job(*, spans: list[list]) -> int:
    """Judge impossible travel again around check-ins a write added or moved (a late
    arrival changes its stored neighbours' verdicts); safe to repeat."""
    return visit_travel_flags_refresh(spans=spans)
