"""Dispatch: one task for every store a selection matches, assigned to the store's owner.

Tasks are created set-based through the sync engine's bulk path (so they are versioned,
in the changelog and pulled by phones), and the whole dispatch is one transaction: a
failure leaves no half-done dispatch. Cancelling cancels every task of it still open.
"""

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from surveys.selectors import StoreSelection, store_selection
from sync.batch import apply_mutations
from sync.bulk import bulk_create_records
from sync.merge import Status
from sync.models import ChangeSource
from sync.mutations import Mutation
from sync.retries import retried_on_contention
from tasks.models import OPEN_TASK_STATUSES, Dispatch, Task, TaskStatus, TaskType

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


@dataclass(frozen=True)
class DispatchPreview:
    count: int
    unowned: int
    sample: list[dict[str, Any]]


def dispatch_preview(
    *, actor: User, selection: StoreSelection, sample_size: int = 10
) -> DispatchPreview:
    """What a dispatch would do: how many tasks, and a few of the stores."""
    stores = store_selection(actor=actor, selection=selection)
    owned = stores.filter(owner__isnull=False)
    sample = list(
        owned.order_by("name", "id").values("id", "name", "owner", "region")[:sample_size]
    )
    return DispatchPreview(
        count=owned.count(),
        unowned=stores.filter(owner__isnull=True).count(),
        sample=[{**row, "id": str(row["id"])} for row in sample],
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
) -> Dispatch:
    """One task per matching store that has an owner, assigned to that owner.

    With a `request_id`, a retry (the client lost the answer) returns the dispatch that id
    made instead of making a second one; two requests with the same id at once make one.
    """
    if request_id is not None:
        earlier = _dispatch_of_request(actor, request_id, selection_wire, template)
        if earlier is not None:
            return earlier
    try:
        return _dispatch_tasks(
            actor=actor,
            selection=selection,
            selection_wire=selection_wire,
            template=template,
            request_id=request_id,
        )
    except IntegrityError:
        # A request with the same id committed while this one ran: its dispatch stands.
        earlier = request_id and _dispatch_of_request(actor, request_id, selection_wire, template)
        if not earlier:
            raise
        return earlier


def _dispatch_of_request(
    actor: User, request_id: uuid.UUID, selection_wire: dict[str, Any], template: TaskTemplate
) -> Dispatch | None:
    earlier = Dispatch.objects.filter(created_by=actor, request_id=request_id).first()
    if earlier is not None and (
        earlier.store_filter != selection_wire or earlier.task_template != template.wire()
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
) -> Dispatch:
    now = timezone.now()
    dispatch = Dispatch.objects.create(
        created_by=actor,
        created_at=now,
        store_filter=selection_wire,
        task_template=template.wire(),
        request_id=request_id,
    )
    stores = store_selection(actor=actor, selection=selection).filter(owner__isnull=False)
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
