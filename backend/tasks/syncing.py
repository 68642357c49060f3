"""The task as a syncable entity: managers own its terms, the rep its progress."""

from sync.merge import Policy
from sync.registry import (
    ALL_ROLES,
    OFFICE_ROLES,
    EntitySpec,
    FieldSpec,
    RefKind,
    ScopeRule,
    register,
)
from tasks.models import Task
from tasks.serializers import TaskWireSerializer


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
    )
)
