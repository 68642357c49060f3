"""Reads of the call center: the calls an office user may work, and their SLA standing.

Call-center work is office work: managers work the calls of their region's stores, HQ
all of them; reps have no call queue (their share of a call is the follow-up it leaves).
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet

from accounts.models import Role, User
from crm.calls.models import OPEN_CALL_STATUSES, Call, CallQueue, CallStatus


def call_scope(*, actor: User) -> QuerySet[Call]:
    """Calls of live stores in the actor's office scope (managers: region; HQ: all)."""
    calls = Call.objects.filter(store__deleted=False)
    if not actor.is_active:
        return calls.none()
    if actor.role == Role.HQ:
        return calls
    if actor.role == Role.MANAGER:
        return calls.filter(store__region_id=actor.region_id)
    return calls.none()


def call_list(
    *,
    actor: User,
    now: dt.datetime,
    queue: str | None = None,
    status: str | None = None,
    overdue: bool | None = None,
) -> QuerySet[Call]:
    """Calls by deadline, soonest first; `overdue`: open or claimed past the deadline."""
    calls = call_scope(actor=actor).select_related("store")
    if queue:
        calls = calls.filter(queue=queue)
    if status:
        calls = calls.filter(status=status)
    late = Q(status__in=OPEN_CALL_STATUSES, due_at__lt=now)
    if overdue is True:
        calls = calls.filter(late)
    elif overdue is False:
        calls = calls.exclude(late)
    return calls.order_by("due_at", "created_at", "id")


@dataclass(frozen=True)
class QueueSla:
    queue: str
    sla_hours: int
    open: int
    claimed: int
    overdue: int
    oldest_overdue_due_at: dt.datetime | None


def call_sla(*, actor: User, now: dt.datetime) -> list[QueueSla]:
    """Per queue: calls waiting, in work, and past their SLA deadline (one query)."""
    late = Q(status__in=OPEN_CALL_STATUSES, due_at__lt=now)
    rows = {
        row["queue"]: row
        for row in call_scope(actor=actor)
        .filter(status__in=OPEN_CALL_STATUSES)
        .values("queue")
        .annotate(
            open=Count("id", filter=Q(status=CallStatus.OPEN)),
            claimed=Count("id", filter=Q(status=CallStatus.CLAIMED)),
            overdue=Count("id", filter=late),
            oldest=Min("due_at", filter=late),
        )
        .order_by()
    }
    hours = settings.FIELDLINE["CALL_SLA_HOURS"]
    return [
        QueueSla(
            queue=queue,
            sla_hours=hours[queue],
            open=rows.get(queue, {}).get("open", 0),
            claimed=rows.get(queue, {}).get("claimed", 0),
            overdue=rows.get(queue, {}).get("overdue", 0),
            oldest_overdue_due_at=rows.get(queue, {}).get("oldest"),
        )
        for queue in CallQueue.values
    ]
