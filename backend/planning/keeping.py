"""Changes keep the plan true: hooks the sync engine runs after a store or task write
(`sync.registry.after_write`), in the same transaction.

- A store given to another rep takes its future planned visits along (the new rep's days
  can then be over: `selectors.overloaded_days` reports them).
- A store closed (churned), left without a rep, or deleted (merged into another) loses its
  future planned visits: they are cancelled.
- A planned visit moved to another store (a merge moves the loser's tasks to the winner)
  is cancelled: it was planned for the store it left, and the winner has its own.

Grades are not followed here: a grade change applies from the next generation.
"""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from planning.services import REPLACEABLE, plan_tasks_cancel
from stores.models import StoreStatus
from sync.batch import apply_mutations
from sync.models import ChangeSource
from sync.mutations import Mutation
from sync.registry import WriteContext, Written, after_write
from tasks.models import Task


def future_planned_visits(*, today: dt.date, **filters: Any):
    """Planned visits from today on that nobody has started."""
    return Task.objects.filter(
        plan__isnull=False,
        deleted=False,
        status__in=REPLACEABLE,
        due_date__gte=today,
        **filters,
    )


def store_written(written: Sequence[Written], context: WriteContext) -> None:
    today = timezone.localdate()
    gone: set[Any] = set()
    moved: dict[Any, int] = {}
    for item in written:
        store = item.record
        closed = "status" in item.changed and store.status == StoreStatus.CHURNED
        unowned = "owner" in item.changed and store.owner_id is None
        if item.op == "delete" or store.deleted or closed or unowned:
            gone.add(store.pk)
        elif item.op == "update" and "owner" in item.changed:
            moved[store.pk] = store.owner_id
    if gone:
        plan_tasks_cancel(
            actor=context.actor, tasks=future_planned_visits(today=today, store_id__in=gone)
        )
    moved = {pk: owner for pk, owner in moved.items() if pk not in gone}
    if moved:
        follow_owner(actor=context.actor, owners=moved, today=today)


def follow_owner(*, actor: Any, owners: dict[Any, int], today: dt.date) -> None:
    """Give each store's future planned visits to its new owner, through the engine (the
    assignee decides a task's scope: the old rep's phone is told to drop them)."""
    tasks = (
        future_planned_visits(today=today, store_id__in=list(owners))
        .order_by("pk")
        .values_list("pk", "version", "store_id", "assignee_id")
    )
    mutations = [
        Mutation(
            entity="task",
            op="update",
            record_id=pk,
            base_version=version,
            fields={"assignee": owners[store_id]},
        )
        for pk, version, store_id, assignee in tasks
        if assignee != owners[store_id]
    ]
    if mutations:
        apply_mutations(
            actor=actor, mutations=mutations, device_id="plan", source=ChangeSource.REST
        )


def task_written(written: Sequence[Written], context: WriteContext) -> None:
    left = [
        item.record.pk
        for item in written
        if item.op == "update" and "store" in item.changed and item.record.plan is not None
    ]
    if left:
        plan_tasks_cancel(
            actor=context.actor,
            tasks=future_planned_visits(today=timezone.localdate(), pk__in=left),
        )


def install() -> None:
    after_write("store", store_written)
    after_write("task", task_written)
