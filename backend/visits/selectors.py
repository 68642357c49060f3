from django.db.models import QuerySet

from accounts.models import User
from visits.models import FollowUpReminder


def reminder_list(*, user: User) -> QuerySet[FollowUpReminder]:
    """The user's reminders of follow-ups still open, soonest due first."""
    return (
        FollowUpReminder.objects.filter(
            user=user, followup__deleted=False, followup__done=False, followup__scope_owner=user
        )
        .select_related("followup")
        .order_by("due_date", "pk")
    )
