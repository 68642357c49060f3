"""The rules one mutation is held to, and what it changes, against a batch's records in
memory: validation, roles, references, scope, and the create, update, delete or edit of a
tombstone it becomes."""

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from django.db import models
from rest_framework.exceptions import ValidationError

from accounts.models import Role
from accounts.scope import record_in_scope
from fieldline.inputs import bounded_messages, safe_label
from sync.merge import (
    FieldConflict,
    Stamp,
    Status,
    clamp_client_ts,
    effective_op,
    fields_needing_base,
    merge_fields,
    tombstone_conflicts,
    values_as_of,
)
from sync.models import ChangeLog
from sync.mutations import NOT_FOUND, OPS, Mutation, MutationRejected, MutationResult, record_wire
from sync.record_writer import field_defaults
from sync.registry import Candidate, RefKind, Refusal, get_entity
from sync.wire import bounded_json, storable_json, to_ms, wire_value

if TYPE_CHECKING:
    from sync.batch import Batch, RecordKey


class MutationRules:
    """One mutation against the batch's in-memory state."""

    def __init__(self, *, batch: "Batch", mutation: Mutation) -> None:
        self.batch = batch
        self.actor = batch.actor
        self.mutation = mutation
        spec = get_entity(mutation.entity)
        if spec is None:
            shown = safe_label(mutation.entity, 0)
            raise MutationRejected({"entity": [f"Unknown entity {shown!r}."]})
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
        op, base_version = effective_op(
            op=mutation.op, base_version=mutation.base_version, exists=record is not None
        )
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
            raise MutationRejected(bounded_messages(_plain_errors(error.detail))) from error
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
                {
                    name: [self.spec.field(name).denied or "Your role may not change this field."]
                    for name in denied
                },
                reason="forbidden",
                code=next(
                    (f"{name}_denied" for name in denied if self.spec.field(name).denied), ""
                ),
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
                found = write_check(candidate, prefetched, self.batch.context)
                if isinstance(found, Refusal):
                    raise MutationRejected(dict(found.errors), reason=found.reason, code=found.code)
                errors.update(found)
            if errors:
                raise MutationRejected(errors)

    # --- writes -----------------------------------------------------------------------

    def create(self, values: dict[str, Any]) -> MutationResult:
        values = self.with_create_defaults(values)
        current = field_defaults(self.spec) | values
        parent_scopes = self.check_references(current)
        scope = self.scope_of(current, parent_scopes)
        self.check_record(current, scope, changed=current)
        record = self.batch.writer.create(
            spec=self.spec,
            record_id=self.mutation.record_id,
            values=current,
            logged=values,
            scope=scope,
            ts_ms=self.client_ts_ms,
            mutation_id=self.mutation.mutation_id,
        )
        self.batch.records[self.key] = record
        self.batch.touched[self.key] = set(current)
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
        self.batch.writer.update(
            spec=self.spec,
            record=record,
            values=outcome.values,
            old_values={name: server_values[name] for name in outcome.values},
            stamps=outcome.stamps,
            scope=scope,
            mutation_id=self.mutation.mutation_id,
        )
        self.batch.touched.setdefault(self.key, set()).update(outcome.values)
        self.log_conflicts(record, outcome.conflicts)
        if tuple(scope) != tuple(old_scope):
            self.batch.moves.append((self.spec.name, record.pk, old_scope, tuple(scope)))
        return self.result(record, outcome.status, outcome.conflicts, values=merged)

    def update_tombstone(self, record: models.Model) -> MutationResult:
        """Deletes win: the record stays deleted and the phone's edit is logged.

        The edit is validated like any other (unknown fields, types, ranges, roles): an
        invalid one is rejected on its own, and what the conflict log keeps of a valid one
        is values of the entity's known fields, in their stored form."""
        sent = self.validate(partial=True)
        conflicts = tombstone_conflicts(
            sent=sent,
            server_values={
                name: wire_value(getattr(record, self.spec.field(name).attname)) for name in sent
            },
            policies=self.spec.policies,
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
        for check in self.spec.delete_checks:
            refusal = check(record, self.batch.context)
            if refusal is not None:
                raise MutationRejected(
                    dict(refusal.errors), reason=refusal.reason, code=refusal.code
                )
        self.batch.writer.delete(
            spec=self.spec,
            record=record,
            ts_ms=self.client_ts_ms,
            mutation_id=self.mutation.mutation_id,
        )
        return self.result(record, Status.APPLIED)

    # --- pieces -----------------------------------------------------------------------

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
        """The values a phone started from, for set-like fields changed on both sides: from
        the record's changes up to its base version, newest first."""
        wanted = fields_needing_base(
            client_values=values,
            server_stamps=stamps,
            base_version=base_version,
            policies=self.spec.policies,
        )
        if not wanted:
            return {}
        # Changes of this batch are not in the table yet: newest first, they come first.
        pending = list(self.batch.writer.pending_values(record, up_to_version=base_version))
        history = ChangeLog.objects.filter(
            entity=self.spec.name, record_id=record.pk, version__lte=base_version
        ).order_by("-version")
        stored = history.values_list("new_values", flat=True).iterator()
        return values_as_of(wanted=wanted, newest_first=[*pending, *stored])

    def log_conflicts(self, record: models.Model, conflicts: tuple[FieldConflict, ...]) -> None:
        self.batch.conflicts.extend(
            {
                "entity": self.spec.name,
                "record_id": record.pk,
                "field": conflict.field,
                "policy": str(conflict.policy),
                "client_value": bounded_json(storable_json(conflict.client_value)),
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


def _plain_errors(errors: Any) -> Any:
    """DRF's ErrorDetail objects as plain strings, ready for JSON."""
    if isinstance(errors, dict):
        return {str(key): _plain_errors(value) for key, value in errors.items()}
    if isinstance(errors, list):
        return [_plain_errors(item) for item in errors]
    return str(errors)
