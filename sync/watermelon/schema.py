"""WatermelonDB's tables and columns: entity names pluralized, wire field names, and how
each field travels in a column that holds only strings, numbers and booleans."""

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from django.db import models

from sync.merge import Policy
from sync.registry import EntitySpec, all_entities, get_entity
from sync.wire import wire_value

KINDS: tuple["Kind", ...] = ("created", "updated", "deleted")
# Columns that are WatermelonDB's or the server's own bookkeeping, never written by a push.
BOOKKEEPING_COLUMNS = frozenset(
    {"id", "_status", "_changed", "version", "created_at", "updated_at", "deleted"}
)

Kind = Literal["created", "updated", "deleted"]


def ordered_specs() -> tuple[EntitySpec, ...]:
    """Entities with the records they reference first: the order a push is applied in."""
    depth: dict[str, int] = {}

    def depth_of(spec: EntitySpec, seen: frozenset[str] = frozenset()) -> int:
        if spec.name not in depth:
            parents = [
                get_entity(f.ref_entity or "")
                for f in spec.record_refs
                if f.ref_entity not in seen | {spec.name}
            ]
            depth[spec.name] = 1 + max(
                (depth_of(p, seen | {spec.name}) for p in parents if p is not None), default=-1
            )
        return depth[spec.name]

    return tuple(sorted(all_entities(), key=lambda spec: (depth_of(spec), spec.name)))


def table_specs() -> dict[str, EntitySpec]:
    return {spec.table: spec for spec in ordered_specs()}


@dataclass(frozen=True)
class Column:
    """How a field travels in a WatermelonDB column."""

    json: bool  # a list or object, as a JSON string
    datetime: bool
    nullable: bool
    blank: bool  # '' is a value of it
    empty_is_null: bool  # '' (a non-optional string column's empty value) stands for null
    union: bool
    default: Any


@cache
def columns_of(entity: str) -> dict[str, Column]:
    spec = get_entity(entity)
    assert spec is not None, entity
    columns = {}
    for f in spec.fields:
        model_field = spec.model._meta.get_field(f.name)
        text = isinstance(model_field, models.CharField | models.TextField)
        columns[f.name] = Column(
            json=isinstance(model_field, models.JSONField),
            datetime=isinstance(model_field, models.DateTimeField),
            nullable=model_field.null,
            blank=model_field.blank,
            empty_is_null=model_field.null and not text,
            union=f.policy == Policy.UNION,
            default=wire_value(model_field.get_default()),
        )
    return columns
