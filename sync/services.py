"""The one write path: every change to a syncable record goes through `apply_mutation`.

Phones' pushes, managers' REST edits, bulk jobs and imports all end here, so each
accepted change is validated, scoped, merged field by field, versioned, stamped, given a
position in the change stream and appended to the changelog in one transaction.
"""

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts.models import Region, User
from accounts.scope import record_in_scope, scope_filter
from sync.merge import (
    FieldConflict,
    Kept,
    MergeOutcome,
    Stamp,
    Status,
    clamp_client_ts,
    merge_fields,
)
from sync.models import AppliedMutation, ChangeLog, ChangeSource, ConflictLog, ScopeExit
from sync.positions import allocate_positions, bump_positions
from sync.registry import EntitySpec, RefKind, get_entity, scope_children
from sync.wire import to_ms, wire_value

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


def record_wire(*, spec: EntitySpec, record: models.Model) -> dict[str, Any]:
    """The wire form of one record."""
    body: dict[str, Any] = {"id": str(record.pk)}
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
    received_at = received_at or timezone.now()
    if mutation.mutation_id is not None:
        replay = _replay(actor=actor, mutation_id=mutation.mutation_id)
        if replay is not None:
            return replay
    try:
        with transaction.atomic():
            result = _apply(
                actor=actor,
                mutation=mutation,
                device_id=device_id,
                source=source,
                received_at=received_at,
            )
            _remember(actor=actor, mutation=mutation, device_id=device_id, result=result)
        return result
    except MutationRejected as rejection:
        result = MutationResult(
            mutation_id=mutation.mutation_id,
            status=Status.REJECTED,
            errors=rejection.errors,
            reason=rejection.reason,
        )
    except IntegrityError:
        # The same mutation_id committed by a concurrent retry: answer as it did.
        replay = _replay(actor=actor, mutation_id=mutation.mutation_id)
        if replay is not None:
            return replay
        raise
    try:
        with transaction.atomic():
            _remember(actor=actor, mutation=mutation, device_id=device_id, result=result)
    except IntegrityError:
        replay = _replay(actor=actor, mutation_id=mutation.mutation_id)
        if replay is not None:
            return replay
    return result


def _remember(*, actor: User, mutation: Mutation, device_id: str, result: MutationResult) -> None:
    if mutation.mutation_id is None:
        return
    AppliedMutation.objects.create(
        mutation_id=mutation.mutation_id,
        user=actor,
        device_id=device_id[:64],
        entity=mutation.entity[:32],
        record_id=mutation.record_id,
        status=result.status,
        result={
            "conflicts": list(result.conflicts),
            "errors": result.errors,
            "reason": result.reason,
        },
        at=timezone.now(),
    )


def _replay(*, actor: User, mutation_id: uuid.UUID | None) -> MutationResult | None:
    if mutation_id is None:
        return None
    prior = AppliedMutation.objects.filter(pk=mutation_id).first()
    if prior is None:
        return None
    if prior.user_id != actor.pk:
        # Another user's mutation id: reveal nothing about it.
        return MutationResult(
            mutation_id=mutation_id, status=Status.REJECTED, errors=NOT_FOUND, reason="not_found"
        )
    record = None
    spec = get_entity(prior.entity)
    if prior.status != Status.REJECTED and spec is not None:
        current = spec.model.objects.filter(scope_filter(user=actor), pk=prior.record_id).first()
        record = record_wire(spec=spec, record=current) if current is not None else None
    return MutationResult(
        mutation_id=mutation_id,
        status=Status(prior.status),
        record=record,
        conflicts=tuple(prior.result.get("conflicts") or ()),
        errors=prior.result.get("errors"),
        reason=prior.result.get("reason", ""),
    )


def _apply(
    *,
    actor: User,
    mutation: Mutation,
    device_id: str,
    source: str,
    received_at: dt.datetime,
) -> MutationResult:
    spec = get_entity(mutation.entity)
    if spec is None:
        raise MutationRejected({"entity": [f"Unknown entity '{mutation.entity}'."]})
    if mutation.op not in OPS:
        raise MutationRejected({"op": [f"Must be one of {', '.join(OPS)}."]})
    record = spec.model.objects.select_for_update().filter(pk=mutation.record_id).first()
    if record is not None and not record_in_scope(user=actor, record=record):
        raise MutationRejected(NOT_FOUND, reason="not_found")
    op, base_version = mutation.op, mutation.base_version
    if op == "create" and record is not None:
        # A create seen again (a lost answer): an update of what is there, from nothing.
        op, base_version = "update", 0
    if op != "create" and record is None:
        raise MutationRejected(NOT_FOUND, reason="not_found")
    context = _WriteContext(
        actor=actor,
        spec=spec,
        mutation=mutation,
        device_id=device_id,
        source=source,
        received_at=received_at,
    )
    if op == "delete":
        return context.delete(record)
    if op == "update" and record.deleted:
        return context.update_tombstone(record)
    values = context.validate(partial=op == "update")
    if op == "create":
        return context.create(values)
    if base_version is None:
        raise MutationRejected({"base_version": ["Required for an update."]})
    return context.update(record, values, base_version=base_version)


@dataclass
class _WriteContext:
    actor: User
    spec: EntitySpec
    mutation: Mutation
    device_id: str
    source: str
    received_at: dt.datetime
    user_regions: dict[Any, Any] = field(default_factory=dict)

    @property
    def client_ts_ms(self) -> int:
        client = to_ms(self.mutation.client_ts) if self.mutation.client_ts else None
        return clamp_client_ts(client_ts_ms=client, received_ms=to_ms(self.received_at))

    # --- validation -------------------------------------------------------------------

    def validate(self, *, partial: bool) -> dict[str, Any]:
        """Types, ranges and enums by the entity's serializer; then roles and references."""
        raw = dict(self.mutation.fields)
        unknown = sorted(set(raw) - set(self.spec.field_names))
        if unknown:
            raise MutationRejected({name: ["Unknown field."] for name in unknown})
        serializer = self.spec.serializer(data=raw, partial=partial)
        if not serializer.is_valid():
            raise MutationRejected(_plain_errors(serializer.errors))
        values = {name: wire_value(value) for name, value in serializer.validated_data.items()}
        role = self.actor.role
        denied = [
            name
            for name in values
            if not (
                self.spec.field(name).may_create(role)
                if not partial
                else role in self.spec.field(name).writers
            )
        ]
        if denied:
            raise MutationRejected(
                {name: ["Your role may not change this field."] for name in denied},
                reason="forbidden",
            )
        return values

    def check_references(self, values: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
        """Referenced records must exist in the actor's scope; returns their scopes."""
        parent_scopes: dict[str, tuple[Any, Any]] = {}
        errors: dict[str, list[str]] = {}
        for f in self.spec.fields:
            value = values.get(f.name)
            if value is None or f.name not in values:
                continue
            if f.ref == RefKind.RECORD:
                target = get_entity(f.ref_entity or "")
                assert target is not None
                found = (
                    target.model.objects.filter(scope_filter(user=self.actor), pk=value)
                    .filter(deleted=False)
                    .values_list("scope_owner_id", "scope_region_id")
                    .first()
                )
                if found is None:
                    errors[f.name] = ["Not found."]
                else:
                    parent_scopes[f.name] = found
            elif f.ref == RefKind.USER:
                user = User.objects.filter(pk=value, is_active=True).values("role", "region")
                found_user = user.first()
                if found_user is None:
                    errors[f.name] = ["Not found."]
                else:
                    self.user_regions[value] = found_user["region"]
            elif f.ref == RefKind.REGION and not Region.objects.filter(pk=value).exists():
                errors[f.name] = ["Not found."]
        if errors:
            raise MutationRejected(errors)
        return parent_scopes

    def scope_of(
        self, values: Mapping[str, Any], parent_scopes: Mapping[str, tuple[Any, Any]]
    ) -> tuple[Any, Any]:
        return self.spec.scope_rule.derive(values, lambda parent, _pk: parent_scopes[parent])

    def check_record(self, values: Mapping[str, Any], scope: tuple[Any, Any]) -> None:
        errors: dict[str, list[str]] = {}
        for check in self.spec.record_checks:
            errors.update(check(values))
        if errors:
            raise MutationRejected(errors)
        owner, region = scope
        rule = self.spec.scope_rule
        if rule.owner and owner is not None and self.user_regions.get(owner, region) != region:
            raise MutationRejected({rule.owner: ["Must work in the record's region."]})
        if not record_in_scope(user=self.actor, owner_id=owner, region_id=region):
            # The write would move the record out of the actor's own reach.
            field_name = self.spec.scope_rule.owner or self.spec.scope_rule.region or "detail"
            raise MutationRejected({field_name: ["Outside your scope."]})

    # --- writes -----------------------------------------------------------------------

    def create(self, values: dict[str, Any]) -> MutationResult:
        values = self.with_create_defaults(values)
        parent_scopes = self.check_references(values)
        current = self.defaults() | values
        scope = self.scope_of(current, parent_scopes)
        self.check_record(current, scope)
        stamp = Stamp(version=1, ts_ms=self.client_ts_ms, device=self.device_id)
        record = self.spec.model(
            pk=self.mutation.record_id,
            version=1,
            created_at=self.received_at,
            updated_at=self.received_at,
            field_stamps={name: stamp.as_list() for name in values},
            scope_owner_id=scope[0],
            scope_region_id=scope[1],
        )
        self.assign(record, current)
        self.stamp_position(record)
        record.save(force_insert=True)
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
            device=self.device_id,
        )
        if not outcome.values:
            self.log_conflicts(record, outcome.conflicts)
            return self.result(record, outcome.status, outcome.conflicts)
        merged = server_values | outcome.values
        parent_scopes = self.check_references(
            {name: merged[name] for name in outcome.values} | self.parent_refs(merged)
        )
        old_scope = (record.scope_owner_id, record.scope_region_id)
        scope = self.scope_of(merged, parent_scopes)
        self.check_record(merged, scope)
        self.assign(record, outcome.values)
        record.version = new_version
        record.updated_at = self.received_at
        record.field_stamps = record.field_stamps | {
            name: stamp.as_list() for name, stamp in outcome.stamps.items()
        }
        record.scope_owner_id, record.scope_region_id = scope
        self.stamp_position(record)
        record.save()
        self.log_change(
            record,
            op="update",
            new_values=outcome.values,
            old_values={name: server_values[name] for name in outcome.values},
        )
        self.log_conflicts(record, outcome.conflicts)
        if tuple(scope) != tuple(old_scope):
            move_scope(
                entity=self.spec.name,
                record_ids=[record.pk],
                old_scope=old_scope,
                new_scope=tuple(scope),
            )
        return self.result(record, outcome.status, outcome.conflicts)

    def update_tombstone(self, record: models.Model) -> MutationResult:
        """Deletes win: the record stays deleted and the phone's edit is logged."""
        raw = dict(self.mutation.fields)
        conflicts = tuple(
            FieldConflict(
                field=name,
                policy=self.spec.field(name).policy if name in self.spec.field_names else "lww",
                client_value=value,
                server_value=wire_value(getattr(record, self.spec.field(name).attname))
                if name in self.spec.field_names
                else None,
                resolved_value=None,
                kept=Kept.SERVER,
            )
            for name, value in raw.items()
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
        record.updated_at = self.received_at
        stamp = Stamp(version=record.version, ts_ms=self.client_ts_ms, device=self.device_id)
        record.field_stamps = record.field_stamps | {"deleted": stamp.as_list()}
        self.stamp_position(record)
        record.save()
        self.log_change(record, op="delete", new_values={"deleted": True}, old_values={})
        return self.result(record, Status.APPLIED)

    # --- pieces -----------------------------------------------------------------------

    def defaults(self) -> dict[str, Any]:
        meta = self.spec.model._meta
        return {f.name: wire_value(meta.get_field(f.name).get_default()) for f in self.spec.fields}

    def with_create_defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        """A rep's new record is theirs: owner and region default to the rep's own."""
        rule = self.spec.scope_rule
        values = dict(values)
        if rule.owner and values.get(rule.owner) is None and self.actor.is_rep:
            values[rule.owner] = self.actor.pk
        if rule.region and values.get(rule.region) is None and self.actor.region_id:
            values[rule.region] = self.actor.region_id
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
        """The values a phone started from, for fields changed on both sides (from history)."""
        wanted = [
            name
            for name in values
            if name in stamps
            and stamps[name].version > base_version
            and self.spec.field(name).policy == "union"
        ]
        if not wanted:
            return {}
        history = ChangeLog.objects.filter(
            entity=self.spec.name, record_id=record.pk, version__lte=base_version
        ).order_by("-version")
        found: dict[str, Any] = {}
        for new_values in history.values_list("new_values", flat=True).iterator():
            for name in wanted:
                if name not in found and name in new_values:
                    found[name] = new_values[name]
            if len(found) == len(wanted):
                break
        return found

    def assign(self, record: models.Model, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            setattr(record, self.spec.field(name).attname, value)

    def stamp_position(self, record: models.Model) -> None:
        (position,) = allocate_positions(1)
        record.sync_txid, record.sync_seq = position.txid, position.seq

    def log_change(
        self,
        record: models.Model,
        *,
        op: str,
        new_values: dict[str, Any],
        old_values: dict[str, Any],
    ) -> None:
        ChangeLog.objects.create(
            seq=record.sync_seq,
            txid=record.sync_txid,
            entity=self.spec.name,
            record_id=record.pk,
            version=record.version,
            op=op,
            new_values=new_values,
            old_values=old_values,
            actor=self.actor,
            device_id=self.device_id[:64],
            mutation_id=self.mutation.mutation_id,
            source=self.source,
            at=self.received_at,
        )

    def log_conflicts(self, record: models.Model, conflicts: tuple[FieldConflict, ...]) -> None:
        if not conflicts:
            return
        ConflictLog.objects.bulk_create(
            ConflictLog(
                entity=self.spec.name,
                record_id=record.pk,
                field=conflict.field,
                policy=str(conflict.policy),
                client_value=conflict.client_value,
                server_value=conflict.server_value,
                resolved_value=conflict.resolved_value,
                kept=str(conflict.kept),
                actor=self.actor,
                device_id=self.device_id[:64],
                mutation_id=self.mutation.mutation_id,
                client_ts=self.mutation.client_ts,
                at=self.received_at,
                scope_owner_id=record.scope_owner_id,
                scope_region_id=record.scope_region_id,
            )
            for conflict in conflicts
        )

    def result(
        self,
        record: models.Model,
        status: Status,
        conflicts: tuple[FieldConflict, ...] = (),
    ) -> MutationResult:
        return MutationResult(
            mutation_id=self.mutation.mutation_id,
            status=status,
            record=record_wire(spec=self.spec, record=record),
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


def move_scope(
    *,
    entity: str,
    record_ids: list[Any],
    old_scope: tuple[Any, Any],
    new_scope: tuple[Any, Any],
) -> None:
    """Records moved to another owner or region: the old side's phones get deletes, and
    every record whose scope is inherited from them follows, set-based, level by level."""
    spec = get_entity(entity)
    assert spec is not None
    _record_exits(spec=spec, record_ids=record_ids, old_scope=old_scope, new_scope=new_scope)
    for child, ref in scope_children(entity):
        child_ids = list(
            child.model.objects.filter(**{f"{ref}__in": record_ids}).values_list("pk", flat=True)
        )
        if not child_ids:
            continue
        update: dict[str, Any] = {"scope_region_id": new_scope[1]}
        child_old, child_new = (None, old_scope[1]), (None, new_scope[1])
        if child.scope_rule.owner is None:
            update["scope_owner_id"] = new_scope[0]
            child_old, child_new = old_scope, new_scope
        if child_old == child_new:
            continue
        child.model.objects.filter(pk__in=child_ids).update(**update)
        bump_positions(model=child.model, record_ids=child_ids)
        move_scope(
            entity=child.name, record_ids=child_ids, old_scope=child_old, new_scope=child_new
        )


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
    "MergeOutcome",
    "apply_mutation",
    "move_scope",
    "record_wire",
]
