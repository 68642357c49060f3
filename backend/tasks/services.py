"""Dispatch: one task for every store a selection matches, assigned to the store's owner.

Tasks are created set-based through the sync engine's bulk path (so they are versioned,
in the changelog and pulled by phones), and the whole dispatch is one transaction: a
failure leaves no half-done dispatch. A store that already has an open task of the same
type gets no second one unless the manager asks for it. Cancelling cancels every task of
it still open.
"""

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from fieldline.conf import fieldline_settings
from stores.models import Store
from surveys.selectors import StoreSelection, store_selection
from sync.batch import apply_mutations
from sync.bulk import bulk_create_records
from sync.merge import Status
from sync.models import ChangeSource
from sync.mutations import Mutation
from sync.retries import retried_on_contention
from tasks.models import OPEN_TASK_STATUSES, Dispatch, Task, TaskStatus, TaskType
from tasks.selectors import open_task_exists

CANCELLABLE = (TaskStatus.OPEN, TaskStatus.ACCEPTED)
CANCEL_BATCH = 1000
DISPATCH_PAGE = 5000


@dataclass(frozen=True)
class TaskTemplate:
    type: str
    title: str
    due_date: dt.date | None = None
    priority: int = 2
    notes: str = ""

    def wire(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "title": self.title,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "priority": self.priority,
            "notes": self.notes,
        }

    def with_due_date(self) -> "TaskTemplate":
        """This template, due on the default date when it names none."""
        return self if self.due_date else replace(self, due_date=default_due_date())


def default_due_date(*, today: dt.date | None = None) -> dt.date:
    """The due date a dispatch gets unless it names one: DISPATCH_DUE_DAYS from today."""
    today = today or timezone.localdate()
    return today + dt.timedelta(days=fieldline_settings.DISPATCH_DUE_DAYS)


@dataclass(frozen=True)
class DispatchPreview:
    count: int
    unowned: int
    skipped_existing: int
    include_existing: bool
    sample: list[dict[str, Any]]
    skipped_sample: list[dict[str, Any]]


def dispatch_stores(
    *, actor: User, selection: StoreSelection, task_type: str, include_existing: bool
) -> tuple[QuerySet[Store], QuerySet[Store]]:
    """(the stores a dispatch sends a task to, the matching ones it skips because they
    already have an open task of the same type). Stores without an owner get none."""
    owned = store_selection(actor=actor, selection=selection).filter(owner__isnull=False)
    has_open = open_task_exists(task_type=task_type)
    if include_existing:
        return owned, owned.none()
    return owned.filter(~has_open), owned.filter(has_open)


def store_rows(stores: QuerySet[Store], *, limit: int) -> list[dict[str, Any]]:
    """A few stores as the preview shows them: name, address, region, owner by name."""
    rows = stores.order_by("name", "address", "id").values(
        "id",
        "name",
        "address",
        "region",
        "owner",
        "owner__username",
        "owner__first_name",
        "owner__last_name",
    )[:limit]
    return [
        {
            "id": str(row["id"]),
            "name": row["name"],
            "address": row["address"],
            "region": row["region"],
            "owner": row["owner"],
            "owner_name": " ".join(
                part for part in (row["owner__first_name"], row["owner__last_name"]) if part
            )
            or row["owner__username"],
        }
        for row in rows
    ]


def dispatch_preview(
    *,
    actor: User,
    selection: StoreSelection,
    task_type: str,
    include_existing: bool = False,
    sample_size: int = 10,
) -> DispatchPreview:
    """What a dispatch would do: how many tasks, how many matching stores it would skip
    (no owner; an open task of the same type already), and a few of each."""
    send, skipped = dispatch_stores(
        actor=actor, selection=selection, task_type=task_type, include_existing=include_existing
    )
    return DispatchPreview(
        count=send.count(),
        unowned=store_selection(actor=actor, selection=selection)
        .filter(owner__isnull=True)
        .count(),
        skipped_existing=0 if include_existing else skipped.count(),
        include_existing=include_existing,
        sample=store_rows(send, limit=sample_size),
        skipped_sample=[] if include_existing else store_rows(skipped, limit=sample_size),
    )


class DispatchRequestReused(Exception):
    """The request id names an earlier dispatch of another filter or task."""


def dispatch_tasks(
    *,
    actor: User,
    selection: StoreSelection,
    selection_wire: dict[str, Any],
    template: TaskTemplate,
    request_id: uuid.UUID | None = None,
    include_existing: bool = False,
) -> Dispatch:
    """One task per matching store that has an owner, assigned to that owner; stores that
    already have an open task of the same type are skipped (and counted in
    `skipped_existing`) unless `include_existing`. A template without a due date gets
    the default one (`default_due_date`).

    With a `request_id`, a retry (the client lost the answer) returns the dispatch that id
    made instead of making a second one; two requests with the same id at once make one.
    """
    same = (actor, request_id, selection_wire, template, include_existing)
    if request_id is not None:
        earlier = _dispatch_of_request(*same)
        if earlier is not None:
            return earlier
    try:
        return _dispatch_tasks(
            actor=actor,
            selection=selection,
            selection_wire=selection_wire,
            template=template.with_due_date(),
            request_id=request_id,
            include_existing=include_existing,
        )
    except IntegrityError:
        # A request with the same id committed while this one ran: its dispatch stands.
        earlier = request_id and _dispatch_of_request(*same)
        if not earlier:
            raise
        return earlier


def _dispatch_of_request(
    actor: User,
    request_id: uuid.UUID,
    selection_wire: dict[str, Any],
    template: TaskTemplate,
    include_existing: bool,
) -> Dispatch | None:
    earlier = Dispatch.objects.filter(created_by=actor, request_id=request_id).first()
    if earlier is None:
        return None
    asked = template.wire()
    if template.due_date is None:  # the default was filled in: any date is the same ask
        asked["due_date"] = earlier.task_template.get("due_date")
    if (
        earlier.store_filter != selection_wire
        or earlier.task_template != asked
        or earlier.include_existing != include_existing
    ):
        raise DispatchRequestReused
    return earlier


@transaction.atomic
def _dispatch_tasks(
    *,
    actor: User,
    selection: StoreSelection,
    selection_wire: dict[str, Any],
    template: TaskTemplate,
    request_id: uuid.UUID | None,
    include_existing: bool,
) -> Dispatch:
    now = timezone.now()
    stores, skipped = dispatch_stores(
        actor=actor, selection=selection, task_type=template.type, include_existing=include_existing
    )
    dispatch = Dispatch.objects.create(
        created_by=actor,
        created_at=now,
        store_filter=selection_wire,
        task_template=template.wire(),
        request_id=request_id,
        include_existing=include_existing,
        skipped_existing=0 if include_existing else skipped.count(),
    )
    fields = template.wire() | {"status": TaskStatus.OPEN}

    def rows() -> Iterator[dict[str, Any]]:
        # Keyset pages, not a server-side cursor: a cursor opened inside this transaction
        # would not survive the rollback of a failed dispatch cleanly.
        last = None
        while True:
            page = stores.order_by("pk")
            if last is not None:
                page = page.filter(pk__gt=last)
            chunk = list(page.values_list("pk", "owner_id")[:DISPATCH_PAGE])
            for store_id, owner_id in chunk:
                yield {"id": uuid.uuid4(), "store": store_id, "assignee": owner_id, **fields}
            if len(chunk) < DISPATCH_PAGE:
                return
            last = chunk[-1][0]

    dispatch.task_count = bulk_create_records(
        entity="task",
        rows=rows(),
        actor=actor,
        source=ChangeSource.DISPATCH,
        device_id=f"dispatch-{dispatch.pk}",
        at=now,
        extra={"dispatch": dispatch, "created_by": actor},
    )
    dispatch.save(update_fields=["task_count"])
    return dispatch


def task_status_mutation(task_id: uuid.UUID, version: int, status: str) -> Mutation:
    """An update of one task's status, for the sync engine."""
    return Mutation(
        entity="task",
        op="update",
        record_id=task_id,
        base_version=version,
        fields={"status": status},
    )


class DispatchAlreadyCancelled(Exception):
    pass


@retried_on_contention
def dispatch_cancel(*, actor: User, dispatch: Dispatch) -> int:
    """Cancel every task of the dispatch that nobody has started; returns how many."""
    dispatch = Dispatch.objects.select_for_update().get(pk=dispatch.pk)
    if dispatch.cancelled_at is not None:
        raise DispatchAlreadyCancelled
    open_tasks = Task.objects.filter(dispatch=dispatch, deleted=False, status__in=CANCELLABLE)
    cancelled = 0
    batch: list[Mutation] = []
    for task_id, version in open_tasks.order_by("pk").values_list("pk", "version").iterator():
        batch.append(task_status_mutation(task_id, version, TaskStatus.CANCELLED))
        if len(batch) == CANCEL_BATCH:
            cancelled += _apply_cancel(actor, dispatch, batch)
            batch = []
    cancelled += _apply_cancel(actor, dispatch, batch)
    dispatch.cancelled_at = timezone.now()
    dispatch.cancelled_by = actor
    dispatch.save(update_fields=["cancelled_at", "cancelled_by"])
    return cancelled


def _apply_cancel(actor: User, dispatch: Dispatch, batch: list[Mutation]) -> int:
    results = apply_mutations(
        actor=actor,
        mutations=batch,
        device_id=f"dispatch-{dispatch.pk}",
        source=ChangeSource.DISPATCH,
    )
    return sum(1 for result in results if result.status != "rejected")


# --- fix tasks of survey reviews --------------------------------------------------------
# Handed to the surveys app (tasks/apps.py): a review that sends a survey back opens one,
# a review that approves it closes those earlier reviews opened.


def review_fix_task_open(
    *,
    actor: User,
    store_id: uuid.UUID,
    assignee_id: int,
    title: str,
    priority: int,
    notes: str,
    at: dt.datetime,
) -> uuid.UUID:
    """A `review_fix` task for the store's owner, through the bulk write path."""
    task_id = uuid.uuid4()
    bulk_create_records(
        entity="task",
        rows=[
            {
                "id": task_id,
                "store": store_id,
                "assignee": assignee_id,
                "type": TaskType.REVIEW_FIX,
                "title": title,
                "status": TaskStatus.OPEN,
                "priority": priority,
                "notes": notes,
            }
        ],
        actor=actor,
        source=ChangeSource.REST,
        device_id="review",
        at=at,
        extra={"created_by": actor},
    )
    return task_id


def review_fix_tasks_close(*, actor: User, task_ids: Sequence[uuid.UUID]) -> int:
    """Mark done those of `task_ids` still open; returns how many."""
    open_tasks = Task.objects.filter(
        pk__in=task_ids, deleted=False, status__in=OPEN_TASK_STATUSES
    ).values_list("pk", "version")
    mutations = [task_status_mutation(pk, version, TaskStatus.DONE) for pk, version in open_tasks]
    results = apply_mutations(
        actor=actor, mutations=mutations, device_id="review", source=ChangeSource.REST
    )
    return sum(1 for result in results if result.status != Status.REJECTED)
