"""The task as a syncable entity: managers own its terms, the rep its progress.

Status moves (DOMAIN.md): `open` → `accepted` → `in_progress` → `done`, or `cancelled`. A
rep moves their task forward only (steps may be skipped: a visit can finish a task that
was never accepted); cancelling and reopening are for managers and HQ, who may set any
status. Held on every write path: REST, push and WatermelonDB all reach this check.
"""

from typing import Any

from accounts.models import Role
from sync.merge import Policy
from sync.registry import (
    ALL_ROLES,
    OFFICE_ROLES,
    Candidate,
    EntitySpec,
    FieldSpec,
    RefKind,
    Refusal,
    ScopeRule,
    WriteContext,
    register,
)
from tasks.models import Task, TaskStatus
from tasks.serializers import TaskWireSerializer

# The rep's way through a task, in order.
FORWARD = (TaskStatus.OPEN, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS, TaskStatus.DONE)


def rep_moves_forward(
    candidate: Candidate, _prefetched: Any, context: WriteContext
) -> dict[str, list[str]] | Refusal:
    if getattr(context.actor, "role", None) != Role.REP or candidate.current is None:
        return {}
    if "status" not in candidate.changed:
        return {}
    old, new = candidate.current.status, candidate.values.get("status")
    if old == new:
        return {}
    if old in FORWARD and new in FORWARD and FORWARD.index(new) > FORWARD.index(old):
        return {}
    if new == TaskStatus.CANCELLED:
        message = "Only a manager can cancel a task: ask yours, or leave it open."
    elif old in (TaskStatus.DONE, TaskStatus.CANCELLED):
        message = f"This task is {old}: only a manager can reopen it."
    else:
        message = f"A task moves forward only: from {old} to a later step, never back to {new}."
    return Refusal({"status": [message]}, reason="forbidden", code="task_transition")


def manager_field(name: str, **kwargs) -> FieldSpec:
    return FieldSpec(name, policy=Policy.SERVER, writers=OFFICE_ROLES, **kwargs)


TASK = register(
    EntitySpec(
        name="task",
        model=Task,
        serializer=TaskWireSerializer,
        fields=(
            manager_field("store", ref=RefKind.RECORD, ref_entity="store"),
            manager_field("assignee", ref=RefKind.USER),
            manager_field("type"),
            manager_field("title"),
            FieldSpec("status", writers=ALL_ROLES),
            manager_field("priority"),
            manager_field("due_date"),
            FieldSpec("notes", writers=ALL_ROLES),
        ),
        # A rep sees the tasks assigned to them; a manager those of the store's region.
        # The visit plan that made the task (server-set).
        readonly=("plan",),
        scope_rule=ScopeRule(parents=("store",), owner="assignee"),
        creators=OFFICE_ROLES,
        deleters=OFFICE_ROLES,
        write_checks=(rep_moves_forward,),
    )
)
