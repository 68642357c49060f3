"""The one write path: every change to a syncable record goes through `apply_mutations`.

Phones' pushes, managers' REST edits, bulk jobs and imports all end here, so each
accepted change is validated, scoped, merged field by field, versioned, stamped, given a
position in the change stream and appended to the changelog.

A batch is applied set-based: one query finds earlier answers to the same mutation ids,
one per entity locks the targeted rows (in id order, so concurrent pushes cannot
deadlock), one per referenced entity reads the records they point at; the mutations are
then applied in order in memory — each whole or not at all — and written back with a
handful of bulk statements per entity, in one transaction.
"""

import contextlib
import datetime as dt
import gc
import random
import threading
import time
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import (
    DatabaseError,
    IntegrityError,
    OperationalError,
    connection,
    models,
    transaction,
)
from django.db.models import Q
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from accounts.models import Region, Role, User
from accounts.scope import record_in_scope, scope_filter
from sync.merge import (
    FieldConflict,
    Kept,
    Stamp,
    Status,
    clamp_client_ts,
    merge_fields,
)
from sync.models import AppliedMutation, ChangeLog, ChangeSource, ConflictLog, ScopeExit
from sync.positions import (
    allocate_positions,
    bump_positions,
    insert_rows,
    key_share_lock,
    update_rows,
)
from sync.registry import (
    Candidate,
    EntitySpec,
    RefKind,
    Touched,
    WriteContext,
    get_entity,
    in_lock_order,
    scope_children,
)
from sync.serializers import partial_validator
from sync.wire import parse_uuid, storable_json, to_ms, wire_value

NOT_FOUND = {"detail": "not found"}
OPS = ("create", "update", "delete")


@dataclass(frozen=True)
class Mutation:
    entity: str
    op: str
    record_id: uuid.UUID
    fields: Mapping[str, Any] = field(default_factory=dict)
    mutation_id: uuid.UUID | None = None
    base_version: int | None = None
    client_ts: dt.datetime | None = None


@dataclass(frozen=True)
class MutationResult:
    mutation_id: uuid.UUID | None
    status: Status
    record: dict[str, Any] | None = None
    conflicts: tuple[dict[str, Any], ...] = ()
    errors: dict[str, Any] | None = None
    # Why a rejection happened, for REST status codes: "invalid", "not_found", "forbidden".
    reason: str = ""

    def as_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "mutation_id": str(self.mutation_id) if self.mutation_id else None,
            "status": str(self.status),
        }
        if self.status == Status.REJECTED:
            body["errors"] = self.errors or {}
        else:
            body["record"] = self.record
            if self.conflicts:
                body["conflicts"] = list(self.conflicts)
        return body


class MutationRejected(Exception):
    def __init__(self, errors: dict[str, Any], reason: str = "invalid") -> None:
        super().__init__(errors)
        self.errors = errors
        self.reason = reason


def record_wire(
    *, spec: EntitySpec, record: models.Model, values: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The wire form of one record. `values`: its fields' wire values, when the caller
    already holds them all (an update's merge does)."""
    body: dict[str, Any] = {"id": str(record.pk)}
    if values is not None:
        body.update(values)
    else:
        for f in spec.fields:
            body[f.name] = wire_value(getattr(record, f.attname))
    for name in spec.readonly:
        body[name] = wire_value(getattr(record, name))
    body["version"] = record.version
    body["updated_at"] = wire_value(record.updated_at)
    body["deleted"] = record.deleted
    return body


def apply_mutation(
    *,
    actor: User,
    mutation: Mutation,
    device_id: str = "",
    source: str = ChangeSource.PUSH,
    received_at: dt.datetime | None = None,
) -> MutationResult:
    """Apply one mutation whole or not at all; a seen `mutation_id` answers as the first time."""
    (result,) = apply_mutations(
        actor=actor,
        mutations=[mutation],
        device_id=device_id,
        source=source,
        received_at=received_at,
    )
    return result


def apply_mutations(
    *,
    actor: User,
    mutations: Sequence[Mutation],
    device_id: str = "",
    source: str = ChangeSource.PUSH,
    received_at: dt.datetime | None = None,
) -> list[MutationResult]:
    """Apply mutations in order, set-based, in one transaction; each one whole or not at all.

    When the batch collides with a concurrent one (the same mutation ids committed first,
    or a deadlock), it runs again and the earlier answers are replayed. Should the database
    refuse the batch for another reason, each mutation is tried on its own, so that one bad
    mutation cannot hold the others back. A lost connection (backend killed, database
    restarting), or contention that outlasts the retries (lock timeouts, deadlocks), is
    raised as it is (the API answers 503 with Retry-After): nothing was committed, and
    answering each mutation `rejected` would make phones drop edits a retry would apply.
    """
    if not mutations:
        return []
    received_at = received_at or timezone.now()

    def run(batch: Sequence[Mutation]) -> list[MutationResult]:
        with collection_paused(), transaction.atomic():
            return _Batch(
                actor=actor, device_id=device_id, source=source, received_at=received_at
            ).run(batch)

    for attempt in range(1, BATCH_ATTEMPTS + 1):
        try:
            return run(mutations)
        except IntegrityError:
            if attempt == BATCH_ATTEMPTS:
                break
        except OperationalError as error:
            if connection_lost(error) or attempt == BATCH_ATTEMPTS:
                raise
            # A deadlock or a lock timeout: let the other side finish first.
            time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311
    return [_isolated(run, mutation) for mutation in mutations]


BATCH_ATTEMPTS = 3


_gc_lock = threading.Lock()
_gc_pausers = 0


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection while a batch runs.

    A batch allocates tens of thousands of short-lived objects (rows, wire values, log
    dicts), all freed by reference counting; each allocation burst set off collections that
    walked the whole heap of a Django process, a fifth of a push's CPU. The count lets
    concurrent batches in one process (threaded workers) overlap: collection resumes when
    the last one ends.
    """
    global _gc_pausers
    with _gc_lock:
        _gc_pausers += 1
        if _gc_pausers == 1:
            gc.disable()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0:
                gc.enable()


def connection_lost(error: DatabaseError) -> bool:
    """Did the connection break (backend killed, server shutting down or unreachable),
    rather than the batch fail? PostgreSQL says so with SQLSTATE class 08 or 57P, or with
    no SQLSTATE at all when the socket is gone. (Django reconnects behind the failed
    transaction, so the connection itself cannot tell.)"""
    if connection.vendor != "postgresql" or not isinstance(error, OperationalError):
        return False
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(("08", "57P"))


def _isolated(run, mutation: Mutation) -> MutationResult:
    """One mutation of a batch the database refused, on its own: its answer, or
    `rejected` if the database refuses it too (a constraint no validator knows of)."""
    try:
        return run([mutation])[0]
    except DatabaseError as error:
        if isinstance(error, OperationalError):
            raise
        return MutationResult(
            mutation_id=mutation.mutation_id,
            status=Status.REJECTED,
            errors={"detail": "The database refused this mutation."},
            reason="invalid",
        )


RecordKey = tuple[str, Any]


class _Batch:
    """One transaction's worth of mutations: read in bulk, apply in memory, write in bulk."""

    def __init__(
        self, *, actor: User, device_id: str, source: str, received_at: dt.datetime
    ) -> None:
        self.actor = actor
        self.device_id = device_id[:64]
        self.source = source
        self.received_at = received_at
        self.received_ms = to_ms(received_at)
        self.records: dict[RecordKey, models.Model] = {}
        self.new: set[RecordKey] = set()
        self.dirty: set[RecordKey] = set()
        self.ref_rows: dict[RecordKey, tuple[Any, Any, bool]] = {}
        self.users: dict[int, tuple[str, Any]] = {}
        self.regions: set[str] = set()
        # The log rows of the batch, as plain dicts by attribute name (`insert_rows`).
        self.changes: list[tuple[models.Model, dict[str, Any]]] = []
        self.conflicts: list[dict[str, Any]] = []
        self.applied: list[dict[str, Any]] = []
        self.moves: list[tuple[str, Any, tuple[Any, Any], tuple[Any, Any]]] = []
        self.answered: dict[uuid.UUID, MutationResult] = {}
        self.changed: set[tuple[str, str]] = set()
        self.validators: dict[tuple[str, bool], Any] = {}
        # Per record this batch creates or changes, the wire fields it set (for `derive`).
        self.touched: dict[RecordKey, set[str]] = {}
        self.prefetched: dict[str, Any] = {}
        self.context = WriteContext(
            actor=actor,
            held=lambda entity, pk: self.records.get((entity, parse_uuid(pk))),
            held_of=lambda entity: [r for (e, _), r in self.records.items() if e == entity],
        )

    # --- reading ------------------------------------------------------------------------

    def run(self, mutations: Sequence[Mutation]) -> list[MutationResult]:
        replays = self.load_replays(mutations)
        fresh = [m for m in mutations if m.mutation_id not in replays]
        self.lock_targets(fresh)
        self.load_references(fresh)
        self.prefetch(fresh)
        results = []
        for mutation in mutations:
            if mutation.mutation_id in replays:
                results.append(replays[mutation.mutation_id])
            elif mutation.mutation_id in self.answered:
                results.append(self.answered[mutation.mutation_id])
            else:
                results.append(self.apply(mutation))
        derived = self.derive()
        self.write(derived)
        for mutation, result in zip(mutations, results, strict=True):
            # Answers carry the fields `derive` set, as the records now stand.
            names = derived.get(mutation.entity)
            record = self.records.get((mutation.entity, mutation.record_id))
            if names and result.record is not None and record is not None:
                spec = get_entity(mutation.entity)
                assert spec is not None
                wire = {*spec.readonly, *spec.field_names}
                result.record.update(
                    {
                        name: wire_value(getattr(record, name))
                        for name in wire
                        if name in spec.readonly or name in names
                    }
                )
        return results

    def load_replays(self, mutations: Sequence[Mutation]) -> dict[uuid.UUID, MutationResult]:
        ids = [m.mutation_id for m in mutations if m.mutation_id is not None]
        if not ids:
            return {}
        priors = AppliedMutation.objects.filter(pk__in=ids)
        wanted: dict[str, list[Any]] = {}
        for prior in priors:
            if prior.user_id == self.actor.pk and prior.status != Status.REJECTED:
                wanted.setdefault(prior.entity, []).append(prior.record_id)
        current: dict[RecordKey, dict[str, Any]] = {}
        for entity, record_ids in wanted.items():
            spec = get_entity(entity)
            if spec is None:
                continue
            visible = spec.model.objects.filter(scope_filter(user=self.actor), pk__in=record_ids)
            for record in visible:
                current[(entity, record.pk)] = record_wire(spec=spec, record=record)
        replays = {}
        for prior in priors:
            if prior.user_id != self.actor.pk:
                # Another user's mutation id: reveal nothing about it.
                replays[prior.pk] = MutationResult(
                    mutation_id=prior.pk,
                    status=Status.REJECTED,
                    errors=NOT_FOUND,
                    reason="not_found",
                )
                continue
            replays[prior.pk] = MutationResult(
                mutation_id=prior.pk,
                status=Status(prior.status),
                record=current.get((prior.entity, prior.record_id)),
                conflicts=tuple(prior.result.get("conflicts") or ()),
                errors=prior.result.get("errors"),
                reason=prior.result.get("reason", ""),
            )
        return replays

    def lock_targets(self, mutations: Sequence[Mutation]) -> None:
        """Lock the records these mutations write, and the parents they put records
        under, all in lock order.

        An edit locks FOR NO KEY UPDATE, which leaves inserts of children under the
        record free (their foreign-key checks take KEY SHARE). A write that may move a
        record to another scope locks FOR UPDATE, as `move_scope` locks what follows it,
        and a record created or moved under a parent holds the parent FOR KEY SHARE.
        The two wait for each other, so a record never takes the scope of a parent that
        is moving, and a move sees every child committed before it.
        """
        targets: dict[str, set[Any]] = {}
        movers: set[str] = set()
        parents: dict[str, set[Any]] = {}
        for mutation in mutations:
            spec = get_entity(mutation.entity)
            if spec is None:
                continue
            targets.setdefault(spec.name, set()).add(mutation.record_id)
            fields = mutation.fields if isinstance(mutation.fields, dict) else {}
            if spec.scope_rule.fields.isdisjoint(fields):
                continue
            movers.add(spec.name)
            for ref in spec.scope_rule.parents:
                parent_id, parent = parse_uuid(fields.get(ref)), spec.field(ref).ref_entity
                if parent_id is not None and parent is not None:
                    parents.setdefault(parent, set()).add(parent_id)
        for entity in in_lock_order(targets.keys() | parents.keys()):
            spec = get_entity(entity)
            if spec is None:
                continue
            shared = parents.get(entity, set()) - targets.get(entity, set())
            key_share_lock(model=spec.model, record_ids=shared)
            if entity not in targets:
                continue
            rows = spec.model.objects.select_for_update(no_key=entity not in movers)
            for record in rows.filter(pk__in=targets[entity]).order_by("pk"):
                self.records[(entity, record.pk)] = record

    def load_references(self, mutations: Sequence[Mutation]) -> None:
        """The records, users and regions these mutations point at, in one query each.

        Records are read whatever their scope: a reference a mutation sets must be visible
        to the actor (checked in memory), while a parent the record already has only gives
        it its scope.
        """
        wanted: dict[str, set[Any]] = {}
        users: set[int] = set()
        regions: set[str] = set()
        for mutation in mutations:
            spec = get_entity(mutation.entity)
            if spec is None:
                continue
            current = self.records.get((mutation.entity, mutation.record_id))
            fields = mutation.fields if isinstance(mutation.fields, dict) else {}
            # The records a record points at now matter only to a write that may move it.
            moves = not spec.scope_rule.fields.isdisjoint(fields)
            for f in spec.ref_fields:
                values = [fields.get(f.name)]
                if current is not None and (moves or f.ref != RefKind.RECORD):
                    values.append(getattr(current, f.attname))
                for value in values:
                    if f.ref == RefKind.RECORD:
                        parsed = parse_uuid(value)
                        if parsed is not None:
                            wanted.setdefault(f.ref_entity or "", set()).add(parsed)
                    elif f.ref == RefKind.USER and _is_user_id(value):
                        users.add(value)
                    elif f.ref == RefKind.REGION and isinstance(value, str):
                        regions.add(value)
        for entity, ids in wanted.items():
            target = get_entity(entity)
            if target is None:
                continue
            found = target.model.objects.filter(pk__in=ids).values_list(
                "pk", "scope_owner_id", "scope_region_id", "deleted"
            )
            for pk, owner, region, deleted in found:
                self.ref_rows[(entity, pk)] = (owner, region, deleted)
        if users:
            found_users = User.objects.filter(pk__in=users, is_active=True)
            self.users = {
                pk: (role, region)
                for pk, role, region in found_users.values_list("pk", "role", "region_id")
            }
        if regions:
            self.regions = set(Region.objects.filter(pk__in=regions).values_list("pk", flat=True))

    def prefetch(self, mutations: Sequence[Mutation]) -> None:
        """Each entity's `prefetch` hook, once, over the mutations of that entity."""
        items: dict[str, list[tuple[Mapping[str, Any], models.Model | None]]] = {}
        for mutation in mutations:
            spec = get_entity(mutation.entity)
            if spec is None or spec.prefetch is None:
                continue
            fields = mutation.fields if isinstance(mutation.fields, dict) else {}
            current = self.records.get((spec.name, mutation.record_id))
            items.setdefault(spec.name, []).append((fields, current))
        for entity, entity_items in items.items():
            spec = get_entity(entity)
            assert spec is not None
            assert spec.prefetch is not None
            self.prefetched[entity] = spec.prefetch(entity_items, self.context)

    # --- applying, in memory ------------------------------------------------------------

    def apply(self, mutation: Mutation) -> MutationResult:
        try:
            result = _Apply(batch=self, mutation=mutation).run()
        except MutationRejected as rejection:
            result = MutationResult(
                mutation_id=mutation.mutation_id,
                status=Status.REJECTED,
                errors=rejection.errors,
                reason=rejection.reason,
            )
        if mutation.mutation_id is not None:
            self.answered[mutation.mutation_id] = result
            self.applied.append(
                {
                    "mutation_id": mutation.mutation_id,
                    "user_id": self.actor.pk,
                    "device_id": self.device_id,
                    "entity": mutation.entity[:32],
                    "record_id": mutation.record_id,
                    "status": str(result.status),
                    "result": storable_json(
                        {
                            "conflicts": list(result.conflicts),
                            "errors": result.errors,
                            "reason": result.reason,
                        }
                    ),
                    "at": self.received_at,
                }
            )
        return result

    def reference_scope(
        self, entity: str, pk: Any, *, must_be_visible: bool = True
    ) -> tuple[Any, Any] | None:
        """A referenced record's scope; with `must_be_visible`, only if the actor may see it
        and it is not deleted. Records written earlier in this batch count as they are now."""
        parsed = parse_uuid(pk)
        in_batch = self.records.get((entity, parsed))
        if in_batch is not None:
            row = (in_batch.scope_owner_id, in_batch.scope_region_id, in_batch.deleted)
        else:
            row = self.ref_rows.get((entity, parsed))
        if row is None:
            return None
        owner, region, deleted = row
        if must_be_visible and (
            deleted or not record_in_scope(user=self.actor, owner_id=owner, region_id=region)
        ):
            return None
        return owner, region

    def validator(self, spec: EntitySpec, *, partial: bool) -> Any:
        """One serializer per entity and mode for the whole batch: building its fields is
        most of what validation costs, and `run_validation` keeps no state between calls.
        Updates validate only the fields they carry (`partial_validator`)."""
        key = (spec.name, partial)
        if key not in self.validators:
            serializer = spec.serializer(partial=partial)
            fast = partial_validator(serializer) if partial else None
            self.validators[key] = fast or serializer.run_validation
        return self.validators[key]

    # --- writing ------------------------------------------------------------------------

    def derive(self) -> dict[str, set[str]]:
        """Each entity's `derive` hook, once, over the live records this batch touched;
        returns the fields each hook set, by entity."""
        touched: dict[str, list[Touched]] = {}
        for key, names in self.touched.items():
            record = self.records[key]
            if not record.deleted:
                touched.setdefault(key[0], []).append(
                    Touched(record=record, created=key in self.new, changed=frozenset(names))
                )
        derived: dict[str, set[str]] = {}
        for entity, entity_touched in touched.items():
            spec = get_entity(entity)
            assert spec is not None
            if spec.derive is not None:
                derived[entity] = set(
                    spec.derive(entity_touched, self.prefetched.get(entity), self.context)
                )
        return derived

    def write(self, derived: Mapping[str, Collection[str]]) -> None:
        positions = allocate_positions(len(self.changes))
        for (record, change), position in zip(self.changes, positions, strict=True):
            change["txid"], change["seq"] = position.txid, position.seq
            record.sync_txid, record.sync_seq = position.txid, position.seq
        by_entity: dict[str, tuple[list[models.Model], list[models.Model]]] = {}
        for key, record in self.records.items():
            created, updated = by_entity.setdefault(key[0], ([], []))
            if key in self.new:
                created.append(record)
            elif key in self.dirty:
                updated.append(record)
        for entity, (created, updated) in sorted(by_entity.items()):
            spec = get_entity(entity)
            assert spec is not None
            if created:
                spec.model.objects.bulk_create(created, batch_size=500)
            if updated:
                changed = [name for name in spec.field_names if (entity, name) in self.changed]
                changed += sorted(derived.get(entity, ()))
                update_rows(
                    model=spec.model, records=updated, field_names=[*changed, *UPDATED_META]
                )
        insert_rows(model=ChangeLog, rows=[change for _, change in self.changes])
        insert_rows(model=ConflictLog, rows=self.conflicts)
        insert_rows(model=AppliedMutation, rows=self.applied)
        for entity, pk, old_scope, new_scope in self.moves:
            move_scope(entity=entity, record_ids=[pk], old_scope=old_scope, new_scope=new_scope)


UPDATED_META = (
    "version",
    "updated_at",
    "deleted",
    "field_stamps",
    "sync_txid",
    "sync_seq",
    "scope_owner",
    "scope_region",
)


class _Apply:
    """One mutation against the batch's in-memory state."""

    def __init__(self, *, batch: _Batch, mutation: Mutation) -> None:
        self.batch = batch
        self.actor = batch.actor
        self.mutation = mutation
        spec = get_entity(mutation.entity)
        if spec is None:
            raise MutationRejected({"entity": [f"Unknown entity '{mutation.entity}'."]})
        self.spec = spec
        self.key: RecordKey = (spec.name, mutation.record_id)

    @property
    def client_ts_ms(self) -> int:
        client = to_ms(self.mutation.client_ts) if self.mutation.client_ts else None
        return clamp_client_ts(client_ts_ms=client, received_ms=self.batch.received_ms)

    def run(self) -> MutationResult:
        mutation, spec = self.mutation, self.spec
        if mutation.op not in OPS:
            raise MutationRejected({"op": [f"Must be one of {', '.join(OPS)}."]})
        if mutation.op == "create" and self.actor.role not in spec.creators:
            raise MutationRejected(
                {"detail": "Your role may not create this record."}, reason="forbidden"
            )
        record = self.batch.records.get(self.key)
        if record is not None and not record_in_scope(user=self.actor, record=record):
            raise MutationRejected(NOT_FOUND, reason="not_found")
        op, base_version = mutation.op, mutation.base_version
        if op == "create" and record is not None:
            # A create seen again (a lost answer): an update of what is there, from nothing.
            op, base_version = "update", 0
        if op != "create" and record is None:
            raise MutationRejected(NOT_FOUND, reason="not_found")
        if op == "delete":
            return self.delete(record)
        if record is not None and record.deleted:
            return self.update_tombstone(record)
        values = self.validate(partial=op == "update")
        if op == "create":
            return self.create(values)
        if base_version is None:
            raise MutationRejected({"base_version": ["Required for an update."]})
        return self.update(record, values, base_version=base_version)

    # --- validation -------------------------------------------------------------------

    def validate(self, *, partial: bool) -> dict[str, Any]:
        """Types, ranges and enums by the entity's serializer; then the actor's role."""
        raw = dict(self.mutation.fields)
        unknown = sorted(set(raw) - self.spec.field_name_set)
        if unknown:
            raise MutationRejected({name: ["Unknown field."] for name in unknown})
        try:
            validated = self.batch.validator(self.spec, partial=partial)(raw)
        except ValidationError as error:
            raise MutationRejected(_plain_errors(error.detail)) from error
        values = {name: wire_value(value) for name, value in validated.items()}
        role = self.actor.role
        denied = [
            name
            for name in values
            if not (
                role in self.spec.field(name).writers
                if partial
                else self.spec.field(name).may_create(role)
            )
        ]
        if denied:
            raise MutationRejected(
                {name: ["Your role may not change this field."] for name in denied},
                reason="forbidden",
            )
        return values

    def check_references(
        self, values: Mapping[str, Any], *, kept_parents: Mapping[str, Any] | None = None
    ) -> dict[str, tuple[Any, Any]]:
        """References a write sets must exist in the actor's scope; parents the record keeps
        only lend it their scope. Returns the parents' scopes by field."""
        parent_scopes: dict[str, tuple[Any, Any]] = {}
        errors: dict[str, list[str]] = {}
        for name, value in (kept_parents or {}).items():
            found = self.batch.reference_scope(
                self.spec.field(name).ref_entity or "", value, must_be_visible=False
            )
            if found is not None:
                parent_scopes[name] = found
        for f in self.spec.ref_fields:
            value = values.get(f.name)
            if value is None:
                continue
            if f.ref == RefKind.RECORD:
                found = self.batch.reference_scope(f.ref_entity or "", value)
                if found is None:
                    errors[f.name] = ["Not found."]
                else:
                    parent_scopes[f.name] = found
            elif (f.ref == RefKind.USER and value not in self.batch.users) or (
                f.ref == RefKind.REGION and value not in self.batch.regions
            ):
                errors[f.name] = ["Not found."]
        if errors:
            raise MutationRejected(errors)
        return parent_scopes

    def scope_of(
        self, values: Mapping[str, Any], parent_scopes: Mapping[str, tuple[Any, Any]]
    ) -> tuple[Any, Any]:
        return self.spec.scope_rule.derive(values, lambda parent, _pk: parent_scopes[parent])

    def check_record(
        self, values: Mapping[str, Any], scope: tuple[Any, Any], *, changed: Collection[str]
    ) -> None:
        errors: dict[str, list[str]] = {}
        for check in self.spec.record_checks:
            errors.update(check(values))
        if errors:
            raise MutationRejected(errors)
        owner, region = scope
        rule = self.spec.scope_rule
        if rule.owner and owner is not None:
            role, owner_region = self.batch.users.get(owner, (None, None))
            if role != Role.REP:
                raise MutationRejected({rule.owner: ["Must be a rep."]})
            if owner_region != region:
                raise MutationRejected({rule.owner: ["Must work in the record's region."]})
        if not record_in_scope(user=self.actor, owner_id=owner, region_id=region):
            # The write would move the record out of the actor's own reach: name the field
            # that did it.
            moved_by = [name for name in (rule.owner, rule.region) if name and name in changed]
            raise MutationRejected({(moved_by or ["detail"])[0]: ["Outside your scope."]})
        # Last: a check may note what this write does (it is not refused from here on).
        if self.spec.write_checks:
            candidate = Candidate(
                record_id=self.mutation.record_id,
                values=values,
                changed=frozenset(changed),
                current=self.batch.records.get(self.key),
            )
            prefetched = self.batch.prefetched.get(self.spec.name)
            for write_check in self.spec.write_checks:
                errors.update(write_check(candidate, prefetched, self.batch.context))
            if errors:
                raise MutationRejected(errors)

    # --- writes -----------------------------------------------------------------------

    def create(self, values: dict[str, Any]) -> MutationResult:
        values = self.with_create_defaults(values)
        current = self.defaults() | values
        parent_scopes = self.check_references(current)
        scope = self.scope_of(current, parent_scopes)
        self.check_record(current, scope, changed=current)
        stamp = Stamp(version=1, ts_ms=self.client_ts_ms, device=self.batch.device_id)
        record = self.spec.model(
            pk=self.mutation.record_id,
            version=1,
            created_at=self.batch.received_at,
            updated_at=self.batch.received_at,
            field_stamps={name: stamp.as_list() for name in values},
            scope_owner_id=scope[0],
            scope_region_id=scope[1],
        )
        self.assign(record, current)
        self.batch.records[self.key] = record
        self.batch.new.add(self.key)
        self.batch.touched[self.key] = set(current)
        self.log_change(record, op="create", new_values=values, old_values={})
        return self.result(record, Status.APPLIED)

    def update(
        self, record: models.Model, values: dict[str, Any], *, base_version: int
    ) -> MutationResult:
        server_values = {f.name: wire_value(getattr(record, f.attname)) for f in self.spec.fields}
        stamps = {name: Stamp.from_list(raw) for name, raw in record.field_stamps.items()}
        new_version = record.version + 1
        outcome = merge_fields(
            server_values=server_values,
            server_stamps=stamps,
            base_values=self.base_values(record, values, stamps, base_version),
            client_values=values,
            policies=self.spec.policies,
            base_version=base_version,
            new_version=new_version,
            client_ts_ms=self.client_ts_ms,
            device=self.batch.device_id,
        )
        if not outcome.values:
            self.log_conflicts(record, outcome.conflicts)
            return self.result(record, outcome.status, outcome.conflicts)
        merged = server_values | outcome.values
        old_scope = (record.scope_owner_id, record.scope_region_id)
        if self.spec.scope_rule.fields.isdisjoint(outcome.values):
            # Nothing that decides the scope changes: the record keeps its own (a move of
            # a parent reaches it through `move_scope`).
            self.check_references(outcome.values)
            scope = old_scope
        else:
            kept_parents = {
                name: value
                for name, value in self.parent_refs(merged).items()
                if name not in outcome.values
            }
            parent_scopes = self.check_references(outcome.values, kept_parents=kept_parents)
            scope = self.scope_of(merged, parent_scopes)
        self.check_record(merged, scope, changed=outcome.values)
        self.assign(record, outcome.values)
        self.batch.changed.update((self.spec.name, name) for name in outcome.values)
        self.batch.touched.setdefault(self.key, set()).update(outcome.values)
        record.version = new_version
        record.updated_at = self.batch.received_at
        record.field_stamps = record.field_stamps | {
            name: stamp.as_list() for name, stamp in outcome.stamps.items()
        }
        record.scope_owner_id, record.scope_region_id = scope
        self.mark_dirty()
        self.log_change(
            record,
            op="update",
            new_values=outcome.values,
            old_values={name: server_values[name] for name in outcome.values},
        )
        self.log_conflicts(record, outcome.conflicts)
        if tuple(scope) != tuple(old_scope):
            self.batch.moves.append((self.spec.name, record.pk, old_scope, tuple(scope)))
        return self.result(record, outcome.status, outcome.conflicts, values=merged)

    def update_tombstone(self, record: models.Model) -> MutationResult:
        """Deletes win: the record stays deleted and the phone's edit is logged."""
        known = set(self.spec.field_names)
        conflicts = tuple(
            FieldConflict(
                field=name,
                policy=self.spec.field(name).policy if name in known else "lww",
                client_value=value,
                server_value=wire_value(getattr(record, self.spec.field(name).attname))
                if name in known
                else None,
                resolved_value=None,
                kept=Kept.SERVER,
            )
            for name, value in dict(self.mutation.fields).items()
        ) or (
            FieldConflict(
                field="deleted",
                policy="lww",
                client_value=False,
                server_value=True,
                resolved_value=True,
                kept=Kept.SERVER,
            ),
        )
        self.log_conflicts(record, conflicts)
        return self.result(record, Status.CONFLICT, conflicts)

    def delete(self, record: models.Model) -> MutationResult:
        if self.actor.role not in self.spec.deleters:
            raise MutationRejected(
                {"detail": "Your role may not delete this record."}, reason="forbidden"
            )
        if self.mutation.fields:
            raise MutationRejected({"fields": ["A delete carries no fields."]})
        if record.deleted:
            return self.result(record, Status.APPLIED)
        record.deleted = True
        record.version += 1
        record.updated_at = self.batch.received_at
        stamp = Stamp(version=record.version, ts_ms=self.client_ts_ms, device=self.batch.device_id)
        record.field_stamps = record.field_stamps | {"deleted": stamp.as_list()}
        self.mark_dirty()
        self.log_change(record, op="delete", new_values={"deleted": True}, old_values={})
        return self.result(record, Status.APPLIED)

    # --- pieces -----------------------------------------------------------------------

    def mark_dirty(self) -> None:
        if self.key not in self.batch.new:
            self.batch.dirty.add(self.key)

    def defaults(self) -> dict[str, Any]:
        meta = self.spec.model._meta
        return {f.name: wire_value(meta.get_field(f.name).get_default()) for f in self.spec.fields}

    def with_create_defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        """A rep's new record is theirs: owner and region default to the rep's own."""
        rule = self.spec.scope_rule
        values = dict(values)
        if rule.owner and values.get(rule.owner) is None and self.actor.is_rep:
            values[rule.owner] = self.actor.pk
            self.batch.users.setdefault(self.actor.pk, (self.actor.role, self.actor.region_id))
        if rule.region and values.get(rule.region) is None and self.actor.region_id:
            values[rule.region] = self.actor.region_id
            self.batch.regions.add(self.actor.region_id)
        return values

    def parent_refs(self, merged: Mapping[str, Any]) -> dict[str, Any]:
        return {
            parent: merged[parent]
            for parent in self.spec.scope_rule.parents
            if merged.get(parent) is not None
        }

    def base_values(
        self,
        record: models.Model,
        values: Mapping[str, Any],
        stamps: Mapping[str, Stamp],
        base_version: int,
    ) -> dict[str, Any]:
        """The values a phone started from, for set-like fields changed on both sides."""
        wanted = [
            name
            for name in values
            if name in stamps
            and stamps[name].version > base_version
            and self.spec.field(name).policy == "union"
        ]
        if not wanted:
            return {}
        found: dict[str, Any] = {}
        # Changes of this batch are not in the table yet: newest first, they come first.
        pending = [
            change["new_values"]
            for written, change in reversed(self.batch.changes)
            if written is record and change["version"] <= base_version
        ]
        history = ChangeLog.objects.filter(
            entity=self.spec.name, record_id=record.pk, version__lte=base_version
        ).order_by("-version")
        stored = history.values_list("new_values", flat=True).iterator()
        for new_values in [*pending, *stored]:
            for name in wanted:
                if name not in found and name in new_values:
                    found[name] = new_values[name]
            if len(found) == len(wanted):
                break
        return found

    def assign(self, record: models.Model, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            setattr(record, self.spec.field(name).attname, value)

    def log_change(
        self,
        record: models.Model,
        *,
        op: str,
        new_values: dict[str, Any],
        old_values: dict[str, Any],
    ) -> None:
        change = {
            "seq": 0,
            "txid": 0,
            "entity": self.spec.name,
            "record_id": record.pk,
            "version": record.version,
            "op": op,
            "new_values": new_values,
            "old_values": old_values,
            "actor_id": self.actor.pk,
            "device_id": self.batch.device_id,
            "mutation_id": self.mutation.mutation_id,
            "source": str(self.batch.source),
            "at": self.batch.received_at,
        }
        self.batch.changes.append((record, change))

    def log_conflicts(self, record: models.Model, conflicts: tuple[FieldConflict, ...]) -> None:
        self.batch.conflicts.extend(
            {
                "entity": self.spec.name,
                "record_id": record.pk,
                "field": conflict.field,
                "policy": str(conflict.policy),
                "client_value": storable_json(conflict.client_value),
                "server_value": conflict.server_value,
                "resolved_value": conflict.resolved_value,
                "kept": str(conflict.kept),
                "actor_id": self.actor.pk,
                "device_id": self.batch.device_id,
                "mutation_id": self.mutation.mutation_id,
                "client_ts": self.mutation.client_ts,
                "at": self.batch.received_at,
                "scope_owner_id": record.scope_owner_id,
                "scope_region_id": record.scope_region_id,
            }
            for conflict in conflicts
        )

    def result(
        self,
        record: models.Model,
        status: Status,
        conflicts: tuple[FieldConflict, ...] = (),
        *,
        values: Mapping[str, Any] | None = None,
    ) -> MutationResult:
        return MutationResult(
            mutation_id=self.mutation.mutation_id,
            status=status,
            record=record_wire(spec=self.spec, record=record, values=values),
            conflicts=tuple(
                {
                    "field": c.field,
                    "client_value": c.client_value,
                    "server_value": c.server_value,
                    "kept": str(c.kept),
                }
                for c in conflicts
            ),
        )


MAX_ID = 2**63 - 1


def _is_user_id(value: Any) -> bool:
    """A value that can be a user's id (and that the database driver can take)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def move_scope(
    *,
    entity: str,
    record_ids: list[Any],
    old_scope: tuple[Any, Any],
    new_scope: tuple[Any, Any],
) -> None:
    """Records moved to another owner or region: the old side's phones get deletes, and
    every record whose scope is inherited from them follows, set-based, level by level.

    Each level's records are locked FOR UPDATE before they change, entity by entity in
    lock order and by primary key, as a push locks them: a move and a push touching the
    same records wait for each other instead of deadlocking, and a record being created
    under one of them waits for the move (`_Batch.lock_targets`). A record with two
    parents that moved (a photo of a survey and of a visit) moves once.
    """
    spec = get_entity(entity)
    assert spec is not None
    _record_exits(spec=spec, record_ids=record_ids, old_scope=old_scope, new_scope=new_scope)
    moved = {entity: (record_ids, old_scope, new_scope)}
    while moved:
        following: dict[str, tuple[EntitySpec, Q, tuple[Any, Any], tuple[Any, Any]]] = {}
        for parent, (parent_ids, parent_old, parent_new) in moved.items():
            for child, ref in scope_children(parent):
                child_old, child_new = (None, parent_old[1]), (None, parent_new[1])
                if child.scope_rule.owner is None:
                    child_old, child_new = parent_old, parent_new
                if child_old == child_new:
                    continue
                points_at = Q(**{f"{ref}__in": parent_ids})
                if child.name in following:
                    # Its parents all moved with one record, so from and to one scope.
                    assert following[child.name][2:] == (child_old, child_new)
                    points_at |= following[child.name][1]
                following[child.name] = (child, points_at, child_old, child_new)
        moved = {}
        for name in in_lock_order(following):
            child, points_at, child_old, child_new = following[name]
            child_ids = list(
                child.model.objects.select_for_update()
                .filter(points_at)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            if not child_ids:
                continue
            update: dict[str, Any] = {"scope_region_id": child_new[1]}
            if child.scope_rule.owner is None:
                update["scope_owner_id"] = child_new[0]
            child.model.objects.filter(pk__in=child_ids).update(**update)
            bump_positions(model=child.model, record_ids=child_ids)
            _record_exits(
                spec=child, record_ids=child_ids, old_scope=child_old, new_scope=child_new
            )
            moved[name] = (child_ids, child_old, child_new)


def _record_exits(
    *,
    spec: EntitySpec,
    record_ids: list[Any],
    old_scope: tuple[Any, Any],
    new_scope: tuple[Any, Any],
) -> None:
    old_owner, old_region = old_scope
    owner_left = old_owner if old_owner is not None and old_owner != new_scope[0] else None
    region_left = old_region if old_region is not None and old_region != new_scope[1] else None
    if owner_left is None and region_left is None:
        return
    positions = allocate_positions(len(record_ids))
    ScopeExit.objects.bulk_create(
        ScopeExit(
            entity=spec.name,
            record_id=pk,
            owner_id=owner_left,
            region_id=region_left,
            sync_txid=position.txid,
            sync_seq=position.seq,
        )
        for pk, position in zip(record_ids, positions, strict=True)
    )


def _plain_errors(errors: Any) -> dict[str, Any]:
    """DRF's ErrorDetail objects as plain strings, ready for JSON."""
    if isinstance(errors, dict):
        return {str(key): _plain_errors(value) for key, value in errors.items()}
    if isinstance(errors, list):
        return [_plain_errors(item) for item in errors]
    return str(errors)


__all__ = [
    "Mutation",
    "MutationRejected",
    "MutationResult",
    "apply_mutation",
    "apply_mutations",
    "move_scope",
    "record_wire",
]
