"""Writes of the call center: filling the queues, claiming calls and recording outcomes.

Queues are filled set-based and idempotently: a store waits in a queue at most once (a
partial unique constraint, so even two generators racing cannot double a call), gets no
new reactivation or survey call within FIELDLINE["CALL_REPEAT_AFTER_DAYS"] of its last
one, and one new-customer callback per configured day. Only stores with a phone number
are queued. A claim is not for ever: the agent (or the region's manager, or HQ) may give a
call back, and a claim older than FIELDLINE["CALL_CLAIM_TIMEOUT_HOURS"] is given back by
the periodic fill. An outcome with a next-contact date leaves a follow-up for the store's rep,
written through the sync engine so that the rep's phone pulls it.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Min, Model, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import User
from crm.calls.models import OPEN_CALL_STATUSES, Call, CallOutcome, CallQueue, CallStatus
from crm.calls.selectors import call_scope
from crm.orders.models import Order
from stores.models import Store, StoreStatus
from surveys.models import SiteSurvey
from sync.bulk import bulk_create_records
from sync.models import ChangeSource

CHUNK = 1000


class OverdueStore(Protocol):
    """What a reactivation call says about a store (the analytics' churn warnings are such):
    a protocol, so that the call center does not import the analytics above it."""

    @property
    def store_id(self) -> uuid.UUID: ...
    @property
    def last_order(self) -> dt.date: ...
    @property
    def days_since_last_order(self) -> int: ...
    @property
    def average_interval_days(self) -> float: ...


def call_due_at(*, queue: str, created_at: dt.datetime) -> dt.datetime:
    """The SLA deadline of a call created now in `queue`."""
    return created_at + dt.timedelta(hours=settings.FIELDLINE["CALL_SLA_HOURS"][queue])


def _blocked(queue: str, *, now: dt.datetime, repeat: bool) -> Q:
    """Stores that may not get a new call in `queue`: one waiting, or (for queues that
    repeat) one made within the repeat window."""
    recent = Q(status__in=OPEN_CALL_STATUSES)
    if repeat:
        since = now - dt.timedelta(days=settings.FIELDLINE["CALL_REPEAT_AFTER_DAYS"])
        recent |= Q(created_at__gte=since)
    return Q(Exists(Call.objects.filter(recent, store=OuterRef("pk"), queue=queue)))


def _callable_stores() -> QuerySet[Store]:
    return Store.objects.filter(deleted=False).exclude(phone="")


def _insert_calls(calls: Sequence[Call]) -> int:
    """Insert, skipping any a concurrent generator inserted first; returns how many."""
    if not calls:
        return 0
    Call.objects.bulk_create(calls, batch_size=CHUNK, ignore_conflicts=True)
    ids = [call.pk for call in calls]
    return sum(
        Call.objects.filter(pk__in=ids[start : start + CHUNK]).count()
        for start in range(0, len(ids), CHUNK)
    )


def calls_queue_reactivation(
    *, warnings: Sequence[OverdueStore], run: Model | None, now: dt.datetime
) -> int:
    """A `reactivation` call for each store with a churn warning (and a phone number)."""
    by_store = {warning.store_id: warning for warning in warnings}
    ids = list(by_store)
    calls = []
    for start in range(0, len(ids), CHUNK):
        eligible = (
            _callable_stores()
            .filter(pk__in=ids[start : start + CHUNK])
            .exclude(_blocked(CallQueue.REACTIVATION, now=now, repeat=True))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for store_id in eligible:
            warning = by_store[store_id]
            calls.append(
                Call(
                    queue=CallQueue.REACTIVATION,
                    store_id=store_id,
                    reason=(
                        f"No order since {warning.last_order.isoformat()} "
                        f"({warning.days_since_last_order} days; usually every "
                        f"{warning.average_interval_days:g} days)"
                    ),
                    created_at=now,
                    due_at=call_due_at(queue=CallQueue.REACTIVATION, created_at=now),
                    run=run,
                )
            )
    return _insert_calls(calls)


@dataclass
class CallQueueReport:
    expired: int = 0
    released: int = 0
    survey_by_phone: int = 0
    new_customer_callback: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@transaction.atomic
def call_queues_generate(
    *, today: dt.date | None = None, now: dt.datetime | None = None
) -> CallQueueReport:
    """The periodic fill: expire stale open calls, give claims held past the timeout back to
    their queue, then queue surveys by phone and new-customer callbacks. Safe to run again:
    a second run the same day adds nothing.

    Released after expiring, so a call given back waits in its queue until the next run at
    least. Both are single UPDATEs guarded by the status: a call completed meanwhile (its
    row locked by `call_complete`) is no longer `claimed` when the UPDATE reaches it."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    expire_before = now - dt.timedelta(hours=settings.FIELDLINE["CALL_EXPIRE_AFTER_HOURS"])
    report = CallQueueReport()
    report.expired = Call.objects.filter(status=CallStatus.OPEN, due_at__lt=expire_before).update(
        status=CallStatus.EXPIRED
    )
    held_since = now - dt.timedelta(hours=settings.FIELDLINE["CALL_CLAIM_TIMEOUT_HOURS"])
    report.released = Call.objects.filter(
        status=CallStatus.CLAIMED, claimed_at__lt=held_since
    ).update(status=CallStatus.OPEN, claimed_by=None, claimed_at=None)
    report.survey_by_phone = _queue_surveys_by_phone(now=now)
    report.new_customer_callback = _queue_new_customer_callbacks(today=today, now=now)
    return report


def _queue_surveys_by_phone(*, now: dt.datetime) -> int:
    """Stores without a survey in STALE_SURVEY_DAYS, the longest unsurveyed first."""
    conf = settings.FIELDLINE
    stale_before = now - dt.timedelta(days=conf["STALE_SURVEY_DAYS"])
    latest = (
        SiteSurvey.objects.filter(store=OuterRef("pk"), deleted=False, captured_at__isnull=False)
        .order_by("-captured_at")
        .values("captured_at")[:1]
    )
    stores = (
        _callable_stores()
        .exclude(status=StoreStatus.CHURNED)
        .annotate(last_survey=Subquery(latest))
        .filter(Q(last_survey__isnull=True) | Q(last_survey__lt=stale_before))
        .exclude(_blocked(CallQueue.SURVEY_BY_PHONE, now=now, repeat=True))
        .order_by(F("last_survey").asc(nulls_first=True), "pk")
        .values_list("pk", "last_survey")[: conf["CALL_SURVEY_PER_RUN"]]
    )
    due_at = call_due_at(queue=CallQueue.SURVEY_BY_PHONE, created_at=now)
    return _insert_calls(
        [
            Call(
                queue=CallQueue.SURVEY_BY_PHONE,
                store_id=store_id,
                reason=(
                    f"Latest site survey {last.date().isoformat()}"
                    if last
                    else "No site survey yet"
                ),
                created_at=now,
                due_at=due_at,
            )
            for store_id, last in stores
        ]
    )


def callback_day_due(*, first_order: dt.date, today: dt.date) -> int | None:
    """The callback day (after the first order) that falls due today, if any: day d is due
    from first_order + d for the grace window, so a missed run is caught up."""
    conf = settings.FIELDLINE
    grace = conf["NEW_CUSTOMER_CALLBACK_GRACE_DAYS"]
    age = (today - first_order).days
    due = [day for day in conf["NEW_CUSTOMER_CALLBACK_DAYS"] if day <= age < day + grace]
    return max(due) if due else None


def _queue_new_customer_callbacks(*, today: dt.date, now: dt.datetime) -> int:
    conf = settings.FIELDLINE
    days = conf["NEW_CUSTOMER_CALLBACK_DAYS"]
    if not days:
        return 0
    oldest = today - dt.timedelta(days=max(days) + conf["NEW_CUSTOMER_CALLBACK_GRACE_DAYS"])
    # First orders of stores that ordered since `oldest`: one GROUP BY, then only those
    # whose first order is that recent.
    firsts = (
        Order.objects.filter(
            store__deleted=False, order_date__lte=today, store_id__in=_callable_stores()
        )
        .values("store_id")
        .annotate(first=Min("order_date"))
        .filter(first__gt=oldest)
        .order_by()
        .values_list("store_id", "first")
    )
    wanted = {}
    for store_id, first in firsts.iterator(chunk_size=5000):
        day = callback_day_due(first_order=first, today=today)
        if day is not None:
            wanted[store_id] = (day, first)
    ids = list(wanted)
    skip: set[uuid.UUID] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        existing = Call.objects.filter(
            Q(status__in=OPEN_CALL_STATUSES) | Q(callback_day__isnull=False),
            store_id__in=chunk,
            queue=CallQueue.NEW_CUSTOMER_CALLBACK,
        ).values_list("store_id", "callback_day", "status")
        for store_id, day, status in existing:
            if status in OPEN_CALL_STATUSES or day == wanted[store_id][0]:
                skip.add(store_id)
    due_at = call_due_at(queue=CallQueue.NEW_CUSTOMER_CALLBACK, created_at=now)
    return _insert_calls(
        [
            Call(
                queue=CallQueue.NEW_CUSTOMER_CALLBACK,
                store_id=store_id,
                reason=f"Day {day} after the first order ({first.isoformat()})",
                created_at=now,
                due_at=due_at,
                callback_day=day,
            )
            for store_id, (day, first) in sorted(wanted.items())
            if store_id not in skip
        ]
    )


# --- working a call ---------------------------------------------------------------------


class CallNotFound(Exception):
    pass


class CallConflict(Exception):
    """The call is not in a state that allows this; `code` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class CallInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


@transaction.atomic
def call_claim_next(*, actor: User, queue: str, now: dt.datetime | None = None) -> Call | None:
    """Claim the open call of `queue` with the earliest deadline, or None when none waits.

    On PostgreSQL, rows another agent is claiming right now are skipped (FOR UPDATE SKIP
    LOCKED), so agents claiming at once each get a different call without waiting; SQLite
    runs write transactions one at a time.
    """
    now = now or timezone.now()
    waiting = (
        call_scope(actor=actor)
        .filter(queue=queue, status=CallStatus.OPEN)
        .order_by("due_at", "created_at", "id")
        .select_for_update(skip_locked=True, of=("self",))
    )
    call = waiting.first()
    if call is None:
        return None
    # The status in the filter keeps this safe even where rows are not locked.
    updated = Call.objects.filter(pk=call.pk, status=CallStatus.OPEN).update(
        status=CallStatus.CLAIMED, claimed_by=actor, claimed_at=now
    )
    if not updated:
        return None
    call.refresh_from_db()
    return call


@transaction.atomic
def call_claim(*, actor: User, call_id: uuid.UUID, now: dt.datetime | None = None) -> Call:
    """Claim one call; claiming a call one holds already is a no-op."""
    now = now or timezone.now()
    calls = call_scope(actor=actor)
    updated = Call.objects.filter(
        pk__in=calls.filter(pk=call_id).values("pk"), status=CallStatus.OPEN
    ).update(status=CallStatus.CLAIMED, claimed_by=actor, claimed_at=now)
    call = calls.select_related("store").filter(pk=call_id).first()
    if call is None:
        raise CallNotFound
    if updated or (call.status == CallStatus.CLAIMED and call.claimed_by_id == actor.pk):
        return call
    if call.status == CallStatus.CLAIMED:
        raise CallConflict("claimed_by_other", "Another agent has claimed this call.")
    raise CallConflict(f"call_{call.status}", f"This call is {call.status}; it cannot be claimed.")


@transaction.atomic
def call_release(*, actor: User, call_id: uuid.UUID) -> Call:
    """Give a claimed call back to its queue, unclaimed, for the next agent. Whoever may
    work the call may release it: the agent who holds it, their region's manager, HQ."""
    call = call_scope(actor=actor).select_for_update(of=("self",)).filter(pk=call_id).first()
    if call is None:
        raise CallNotFound
    if call.status != CallStatus.CLAIMED:
        raise CallConflict(
            f"call_{call.status}", f"This call is {call.status}, not claimed; nothing to release."
        )
    call.status = CallStatus.OPEN
    call.claimed_by = None
    call.claimed_at = None
    call.save(update_fields=["status", "claimed_by", "claimed_at"])
    return call


@transaction.atomic
def call_complete(
    *,
    actor: User,
    call_id: uuid.UUID,
    outcome: str,
    notes: str = "",
    next_contact_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Call:
    """Record a claimed call's outcome; a next-contact date becomes a follow-up for the
    store's rep (through the sync engine), due that day."""
    now = now or timezone.now()
    call = call_scope(actor=actor).select_for_update(of=("self",)).filter(pk=call_id).first()
    if call is None:
        raise CallNotFound
    if call.status != CallStatus.CLAIMED:
        raise CallConflict(
            f"call_{call.status}",
            "Claim this call before completing it."
            if call.status == CallStatus.OPEN
            else f"This call is {call.status} already.",
        )
    if call.claimed_by_id != actor.pk:
        raise CallConflict("claimed_by_other", "Another agent has claimed this call.")
    errors: dict[str, list[str]] = {}
    today = timezone.localdate(now)
    horizon = today + dt.timedelta(days=settings.FIELDLINE["CALL_NEXT_CONTACT_MAX_DAYS"])
    if outcome == CallOutcome.CALLBACK_REQUESTED and next_contact_on is None:
        errors["next_contact_on"] = ["A callback needs the date to call back on."]
    elif next_contact_on is not None and not today <= next_contact_on <= horizon:
        errors["next_contact_on"] = [
            f"Must lie between today and {horizon.isoformat()} (UTC dates)."
        ]
    if errors:
        raise CallInvalid(errors)
    if next_contact_on is not None:
        call.followup_id = uuid.uuid4()
        label = CallOutcome(outcome).label
        note = f"Call center, {CallQueue(call.queue).label.lower()}: {label}."
        bulk_create_records(
            entity="followup",
            rows=[
                {
                    "id": call.followup_id,
                    "store": call.store_id,
                    "due_date": next_contact_on,
                    "note": f"{note} {notes}".strip()[:2000],
                }
            ],
            actor=actor,
            source=ChangeSource.REST,
            device_id=f"call-{call.pk}",
            at=now,
        )
    call.status = CallStatus.DONE
    call.outcome = outcome
    call.notes = notes
    call.next_contact_on = next_contact_on
    call.completed_at = now
    call.save(
        update_fields=[
            "status",
            "outcome",
            "notes",
            "next_contact_on",
            "completed_at",
            "followup_id",
        ]
    )
    return call
