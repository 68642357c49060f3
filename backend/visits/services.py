"""Writes of the visits domain that are not records phones edit."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from fieldline.conf import fieldline_settings
from visits.models import FollowUp, FollowUpReminder


@transaction.atomic
def followup_reminders_raise(*, today: dt.date | None = None) -> int:
    """Raise a reminder for every open follow-up due within the lead time that has none
    yet, set-based and idempotent (a second run the same day raises nothing). Returns how
    many were raised."""
    today = today or timezone.localdate()
    lead = dt.timedelta(days=fieldline_settings.FOLLOWUP_REMIND_DAYS_BEFORE)
    due = (
        FollowUp.objects.filter(
            deleted=False,
            done=False,
            due_date__lte=today + lead,
            scope_owner__isnull=False,
            reminder__isnull=True,
        )
        .order_by("pk")
        .values_list("pk", "scope_owner_id", "due_date")
    )
    now = timezone.now()
    created = FollowUpReminder.objects.bulk_create(
        [
            FollowUpReminder(followup_id=pk, user_id=owner, due_date=due_date, raised_at=now)
            for pk, owner, due_date in due.iterator(chunk_size=2000)
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    return len(created)
