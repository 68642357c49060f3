"""Background jobs of the visits app (see fieldline/celery.py)."""

from celery import shared_task

from visits.services import followup_reminders_raise


@shared_task(name="visits.raise_followup_reminders")
def raise_followup_reminders() -> int:
    """Hourly: reminders for follow-ups falling due. Idempotent, so a rerun is harmless."""
    return followup_reminders_raise()
