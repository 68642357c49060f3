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
import threading
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeGuard

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts.models import Region, User
from accounts.scope import record_in_scope, scope_filter
from sync.merge import Status
from sync.models import AppliedMutation, ChangeSource, ConflictLog
from sync.mutation_rules import MutationRules
from sync.mutations import NOT_FOUND, Mutation, MutationRejected, MutationResult, record_wire
from sync.positions import insert_rows, key_share_lock
from sync.record_writer import RecordKey, RecordWriter
from sync.registry import (
    EntitySpec,
    RefKind,
    Touched,
    WriteContext,
    Written,
    after_write_hooks,
    get_entity,
    in_lock_order,
)
from sync.retries import isolated
from sync.scope_moves import move_scope
from sync.serializers import partial_validator
from sync.wire import parse_uuid, storable_json, to_ms, wire_value


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

    The engine's unit of work, and no more: it never waits and runs again on contention.
    Called inside a transaction, it is a savepoint of it; a deadlock or a lock timeout is
    raised at once, for the outermost transaction to run again as a whole
    (`sync.retries.retried_on_contention`) instead of sleeping here with the caller's locks
    held. When the batch collides with a concurrent one on the same mutation ids (committed
    first), it runs again at once and the earlier answers are replayed. Should the database
    refuse the batch for another reason, each mutation is tried on its own, so that one bad
    mutation cannot hold the others back.
    """
    if not mutations:
        return []
    received_at = received_at or timezone.now()

    def run(batch: Sequence[Mutation]) -> list[MutationResult]:
        with collection_paused(), transaction.atomic():
            return Batch(
                actor=actor, device_id=device_id, source=source, received_at=received_at
            ).run(batch)

    for _ in range(REPLAY_ATTEMPTS):
        try:
            return run(mutations)
        except IntegrityError:
            continue
    return [isolated(run, mutation) for mutation in mutations]


# Runs of a batch that collides on mutation ids before its mutations are tried one by one.
REPLAY_ATTEMPTS = 3

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


class Batch:
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
        # Versions, stamps, positions and log rows of what the batch creates and changes.
        self.writer = RecordWriter(
            actor_id=actor.pk, device_id=self.device_id, source=source, at=received_at
        )
        self.ref_rows: dict[RecordKey, tuple[Any, Any, bool]] = {}
        self.users: dict[int, tuple[str, Any]] = {}
        self.regions: set[str] = set()
        self.conflicts: list[dict[str, Any]] = []
        self.applied: list[dict[str, Any]] = []
        self.moves: list[tuple[str, Any, tuple[Any, Any], tuple[Any, Any]]] = []
        self.answered: dict[uuid.UUID, MutationResult] = {}
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
                # The same id twice in one push: the second is answered as a replay.
                results.append(replace(self.answered[mutation.mutation_id], replayed=True))
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
                replayed=True,
                code=prior.result.get("code", ""),
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
            result = MutationRules(batch=self, mutation=mutation).run()
        except MutationRejected as rejection:
            result = MutationResult(
                mutation_id=mutation.mutation_id,
                status=Status.REJECTED,
                errors=rejection.errors,
                reason=rejection.reason,
                code=rejection.code,
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
                            "code": result.code,
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
        row: tuple[Any, Any, Any] | None
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
                    Touched(record=record, created=key in self.writer.new, changed=frozenset(names))
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
        self.writer.write(derived=derived)
        insert_rows(model=ConflictLog, rows=self.conflicts)
        insert_rows(model=AppliedMutation, rows=self.applied)
        for entity, pk, old_scope, new_scope in self.moves:
            move_scope(entity=entity, record_ids=[pk], old_scope=old_scope, new_scope=new_scope)
        self.after_write()

    def after_write(self) -> None:
        """The hooks apps installed for the entities this batch wrote (`after_write`)."""
        written: dict[str, list[Written]] = {}
        for record, change in self.writer.changes:
            written.setdefault(change["entity"], []).append(
                Written(record=record, op=change["op"], changed=frozenset(change["new_values"]))
            )
        for entity, items in written.items():
            for hook in after_write_hooks(entity):
                hook(items, self.context)


MAX_ID = 2**63 - 1


def _is_user_id(value: Any) -> TypeGuard[int]:
    """A value that can be a user's id (and that the database driver can take)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


__all__ = ["Batch", "apply_mutation", "apply_mutations", "collection_paused"]
