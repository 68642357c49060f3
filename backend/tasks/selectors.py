from django.db.models import QuerySet

from accounts.models import User
from tasks.models import Dispatch


def dispatch_list(*, actor: User) -> QuerySet[Dispatch]:
    """HQ sees every dispatch; a manager those made in their region."""
    dispatches = Dispatch.objects.order_by("-created_at")
    if actor.is_hq:
        return dispatches
    return dispatches.filter(created_by__region_id=actor.region_id)
