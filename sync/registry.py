"""The registry of syncable entities: each declares its fields, their merge policies,
which roles may write them, and where its scope comes from.

Apps register their entities in `AppConfig.ready()` (see each app's `syncing.py`).
"""

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType
from typing import Any

from django.db.models import Model
from rest_framework.serializers import Serializer

from sync.merge import Policy

ALL_ROLES = frozenset({"rep", "manager", "hq"})
OFFICE_ROLES = frozenset({"manager", "hq"})
# Who captures field data (surveys, visits, photos, follow-ups): reps, and HQ to correct it.
FIELD_ROLES = frozenset({"rep", "hq"})


class RefKind(StrEnum):
    """What a reference field points at."""

    RECORD = "record"
    USER = "user"
    REGION = "region"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    policy: Policy = Policy.LWW
    # Roles that may change the field on an existing record, and set it on a new one.
    writers: frozenset[str] = ALL_ROLES
    creators: frozenset[str] | None = None
    ref: RefKind | None = None
    ref_entity: str | None = None
    # What a role outside `writers` is told when it sets the field (a generic message
    # when empty): say what to do instead.
    denied: str = ""

    @property
    def attname(self) -> str:
        return f"{self.name}_id" if self.ref else self.name

    def may_create(self, role: str) -> bool:
        return role in (self.writers if self.creators is None else self.creators)


@dataclass(frozen=True)
class ScopeRule:
    """Where a record's scope comes from: its own owner/region fields, or a parent's.

    `parents` are reference fields tried in order; the first set one gives the scope.
    `owner` and `region` name the record's own fields that override the parent's.
    """

    parents: tuple[str, ...] = ()
    owner: str | None = None
    region: str | None = None

    @cached_property
    def fields(self) -> frozenset[str]:
        """The fields that decide a record's scope: a write that sets none keeps it."""
        return frozenset(name for name in (self.owner, self.region, *self.parents) if name)

    def derive(
        self, values: Mapping[str, Any], parent_scope: Callable[[str, Any], tuple[Any, Any]]
    ) -> tuple[Any, Any]:
        """(owner, region) of a record with these values; `parent_scope(field, id)` gives a
        referenced record's scope."""
        owner, region = None, None
        for parent in self.parents:
            if values.get(parent) is not None:
                owner, region = parent_scope(parent, values[parent])
                break
        if self.owner:
            owner = values.get(self.owner)
        if self.region:
            region = values.get(self.region)
        return owner, region


# Cross-field checks on the record as it would be after the write: {field: [messages]}.
RecordCheck = Callable[[Mapping[str, Any]], dict[str, list[str]]]


@dataclass(frozen=True)
class WriteContext:
    """What an entity's hooks see of one write: who makes it, and the records the write
    already holds in memory (created or changed earlier in it, not yet stored), so that a
    hook reading the database can overlay the write's own changes."""

    actor: Any
    held: Callable[[str, Any], Model | None] = lambda _entity, _pk: None
    held_of: Callable[[str], Iterable[Model]] = lambda _entity: ()


@dataclass(frozen=True)
class Candidate:
    """A record as one mutation would leave it, checked before anything is applied."""

    record_id: Any
    values: Mapping[str, Any]  # wire values after the write
    changed: frozenset[str]  # the fields this mutation sets (all of them for a create)
    current: Model | None  # the record as it is (None for a create)


@dataclass(frozen=True)
class Touched:
    """A record a write creates or changes, in memory, before it is stored."""

    record: Model
    created: bool
    changed: frozenset[str]  # the wire fields the write set on it


@dataclass(frozen=True)
class Refusal:
    """A rule's refusal of one mutation: its errors, the reason (for REST status codes:
    "invalid" 400, "forbidden" 403, "conflict" 409) and a code naming the rule."""

    errors: Mapping[str, Any]
    reason: str = "invalid"
    code: str = ""


# Once per write and entity, before mutations apply: given each mutation's raw fields and
# the record it targets (None for a create), read what the checks and `derive` need, in
# one query or two for the whole write.
Prefetch = Callable[[Sequence[tuple[Mapping[str, Any], Model | None]], WriteContext], Any]
# Per mutation, with what `prefetch` returned: {field: [messages]}; non-empty rejects it.
# A check may answer a `Refusal` instead, to give the rejection its reason and code.
WriteCheck = Callable[[Candidate, Any, WriteContext], "dict[str, list[str]] | Refusal"]
# Per delete of a live record, before it is applied: a `Refusal`, or None to let it pass.
DeleteCheck = Callable[[Model, WriteContext], Refusal | None]
# Once per write and entity, before anything is stored: sets server-computed fields on the
# records the write creates or changes, and returns the names of the fields it sets.
Derive = Callable[[Sequence[Touched], Any, WriteContext], Collection[str]]


@dataclass(frozen=True)
class EntitySpec:
    name: str
    model: type[Model]
    serializer: type[Serializer]
    fields: tuple[FieldSpec, ...]
    scope_rule: ScopeRule
    creators: frozenset[str] = ALL_ROLES
    deleters: frozenset[str] = ALL_ROLES
    # Fields the server computes and sends, which no client writes (a visit's distance).
    readonly: tuple[str, ...] = ()
    record_checks: tuple[RecordCheck, ...] = field(default=())
    # Server-side hooks of every write path (push, REST, bulk): see Prefetch, WriteCheck,
    # Derive. Bulk creates from trusted server code run `prefetch` and `derive`, not checks.
    prefetch: Prefetch | None = None
    write_checks: tuple[WriteCheck, ...] = ()
    delete_checks: tuple[DeleteCheck, ...] = ()
    derive: Derive | None = None

    @property
    def table(self) -> str:
        return f"{self.name}s"

    # Cached: the engine reads these once or more per mutation.
    @cached_property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @cached_property
    def field_name_set(self) -> frozenset[str]:
        return frozenset(self.field_names)

    def field(self, name: str) -> FieldSpec:
        return self._by_name[name]

    def attname(self, name: str) -> str:
        """The model attribute of a wire field or of a read-only server field."""
        return name if name in self.readonly else self._by_name[name].attname

    @cached_property
    def _by_name(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.fields}

    @cached_property
    def policies(self) -> Mapping[str, Policy]:
        return MappingProxyType({f.name: f.policy for f in self.fields})

    @cached_property
    def ref_fields(self) -> tuple[FieldSpec, ...]:
        """The fields that point at a record, a user or a region."""
        return tuple(f for f in self.fields if f.ref is not None)

    @cached_property
    def record_refs(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.ref == RefKind.RECORD)


@dataclass(frozen=True)
class Written:
    """A record as a write stored it, and what the write did to it."""

    record: Model
    op: str  # create, update, delete
    changed: frozenset[str]  # the wire fields it set ({"deleted"} for a delete)


# Once per write and entity, after its records, log rows and scope moves are stored, in
# the write's transaction: how an app above the entity's keeps its own records in step
# (a plan's visits follow their store), instead of the entity's app importing up. A hook
# may write through the engine again (a savepoint of the same transaction).
AfterWrite = Callable[[Sequence[Written], WriteContext], None]
_AFTER_WRITE: dict[str, list[AfterWrite]] = {}


def after_write(entity: str, hook: AfterWrite) -> None:
    """Install `hook` to run after every push or REST write of `entity` (`sync.batch`);
    installing it again changes nothing. Bulk server writes (`sync.bulk`) do not run it:
    they cannot change a record's scope, and their callers own the consequences."""
    hooks = _AFTER_WRITE.setdefault(entity, [])
    if hook not in hooks:
        hooks.append(hook)


def after_write_hooks(entity: str) -> tuple[AfterWrite, ...]:
    return tuple(_AFTER_WRITE.get(entity, ()))


_REGISTRY: dict[str, EntitySpec] = {}


def register(spec: EntitySpec) -> EntitySpec:
    _REGISTRY[spec.name] = spec
    return spec


def get_entity(name: str) -> EntitySpec | None:
    return _REGISTRY.get(name)


def entity_for_model(model: type[Model]) -> EntitySpec:
    for spec in _REGISTRY.values():
        if spec.model is model:
            return spec
    raise LookupError(f"{model.__name__} is not a registered syncable entity")


def all_entities() -> tuple[EntitySpec, ...]:
    return tuple(_REGISTRY.values())


def scope_depth(entity: str) -> int:
    """How many parents above `entity` its scope comes through: 0 for a store."""
    spec = _REGISTRY[entity]
    parents = [spec.field(ref).ref_entity for ref in spec.scope_rule.parents]
    return max((1 + scope_depth(parent) for parent in parents if parent), default=0)


def in_lock_order(entities: Iterable[str]) -> list[str]:
    """Entities in the order every transaction locks their records: parents before
    children, then by name (and each entity's rows by primary key). A push and a scope
    move that lock in one order can only wait on each other, never deadlock."""
    return sorted(entities, key=lambda name: (scope_depth(name), name))


def scope_children(entity: str) -> tuple[tuple[EntitySpec, str], ...]:
    """Entities whose scope is inherited from `entity`, with the field that points at it."""
    return tuple(
        (spec, ref)
        for spec in _REGISTRY.values()
        for ref in spec.scope_rule.parents
        if spec.field(ref).ref_entity == entity
    )
