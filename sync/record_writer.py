"""The one record writer: what every accepted change to a syncable record gets — a raised
version, stamped fields, a position in the change stream, its scope and a changelog row —
and how it is stored, set-based.

Pushes and REST edits (`sync.batch`) and server bulk work (`sync.bulk`) both write through
a `RecordWriter`: they decide what changes, it does the bookkeeping and the statements.
"""

import datetime as dt
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from django.db import models

from sync.merge import Stamp
from sync.models import ChangeLog
from sync.positions import allocate_positions, insert_records, insert_rows, update_rows
from sync.registry import EntitySpec, get_entity
from sync.wire import to_ms, wire_value

RecordKey = tuple[str, Any]

# The bookkeeping columns an update writes back along with the fields that changed.
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


def field_defaults(spec: EntitySpec) -> dict[str, Any]:
    """The wire values a new record of this entity has where a write sets nothing."""
    meta = spec.model._meta
    return {f.name: wire_value(meta.get_field(f.name).get_default()) for f in spec.fields}


class RecordWriter:
    """The records one transaction creates and changes, held in memory until `write`.

    `actor_id`, `device_id`, `source` and `at` are the same for every change it logs;
    stamps take `at` as their clock unless the caller gives one (a phone's clamped clock,
    or the stamps a merge decided).
    """

    def __init__(
        self, *, actor_id: int | None, device_id: str, source: str, at: dt.datetime
    ) -> None:
        self.actor_id = actor_id
        self.device_id = device_id
        self.source = str(source)
        self.at = at
        self.at_ms = to_ms(at)
        self.new: dict[RecordKey, models.Model] = {}
        self.dirty: dict[RecordKey, models.Model] = {}
        # The log rows, as plain dicts by attribute name (`insert_rows`), with their record.
        self.changes: list[tuple[models.Model, dict[str, Any]]] = []
        # Per entity, the columns its updates set beyond the bookkeeping ones.
        self.columns: dict[str, set[str]] = {}

    # --- changes, in memory ---------------------------------------------------------------

    def create(
        self,
        *,
        spec: EntitySpec,
        record_id: Any,
        values: Mapping[str, Any],
        logged: Mapping[str, Any],
        scope: tuple[Any, Any],
        ts_ms: int | None = None,
        mutation_id: Any = None,
        attrs: Mapping[str, Any] | None = None,
    ) -> models.Model:
        """A new record with every field's `values`; `logged` are the ones the write set,
        which are stamped and logged (the rest are defaults)."""
        stamp = self.stamp(version=1, ts_ms=ts_ms).as_list()
        record = spec.model(
            pk=record_id,
            version=1,
            created_at=self.at,
            updated_at=self.at,
            field_stamps={name: stamp for name in logged},
            scope_owner_id=scope[0],
            scope_region_id=scope[1],
            **(attrs or {}),
        )
        for name, value in values.items():
            setattr(record, spec.field(name).attname, value)
        key = (spec.name, record.pk)
        if key in self.new:
            raise ValueError(f"{spec.name} {record.pk} is created twice in one write")
        self.new[key] = record
        self.log(spec, record, op="create", new_values=dict(logged), mutation_id=mutation_id)
        return record

    def update(
        self,
        *,
        spec: EntitySpec,
        record: models.Model,
        values: Mapping[str, Any],
        old_values: Mapping[str, Any],
        stamps: Mapping[str, Stamp] | None = None,
        scope: tuple[Any, Any] | None = None,
        mutation_id: Any = None,
        attrs: Mapping[str, Any] | None = None,
    ) -> None:
        """Set `values` (wire fields, or the entity's read-only server fields) on a record;
        `stamps` by field, or stamped now. `attrs` are model attributes off the wire (a
        stored file's name), written along but neither stamped nor logged."""
        record.version += 1
        record.updated_at = self.at
        if stamps is None:
            now = self.stamp(version=record.version)
            stamps = dict.fromkeys(values, now)
        record.field_stamps = record.field_stamps | {
            name: stamp.as_list() for name, stamp in stamps.items()
        }
        for name, value in values.items():
            setattr(record, spec.attname(name), value)
        for name, value in (attrs or {}).items():
            setattr(record, name, value)
        if scope is not None:
            record.scope_owner_id, record.scope_region_id = scope
        self.columns.setdefault(spec.name, set()).update(values, attrs or ())
        self.mark_dirty(spec, record)
        self.log(
            spec,
            record,
            op="update",
            new_values=dict(values),
            old_values=dict(old_values),
            mutation_id=mutation_id,
        )

    def delete(
        self,
        *,
        spec: EntitySpec,
        record: models.Model,
        ts_ms: int | None = None,
        mutation_id: Any = None,
    ) -> None:
        """A tombstone: the record stays, deleted, so that phones learn of it."""
        record.deleted = True
        record.version += 1
        record.updated_at = self.at
        stamp = self.stamp(version=record.version, ts_ms=ts_ms)
        record.field_stamps = record.field_stamps | {"deleted": stamp.as_list()}
        self.mark_dirty(spec, record)
        self.log(spec, record, op="delete", new_values={"deleted": True}, mutation_id=mutation_id)

    def stamp(self, *, version: int, ts_ms: int | None = None) -> Stamp:
        return Stamp(
            version=version, ts_ms=self.at_ms if ts_ms is None else ts_ms, device=self.device_id
        )

    def mark_dirty(self, spec: EntitySpec, record: models.Model) -> None:
        key = (spec.name, record.pk)
        if key not in self.new:
            self.dirty[key] = record

    def log(
        self,
        spec: EntitySpec,
        record: models.Model,
        *,
        op: str,
        new_values: dict[str, Any],
        old_values: dict[str, Any] | None = None,
        mutation_id: Any = None,
    ) -> None:
        change = {
            "seq": 0,
            "txid": 0,
            "entity": spec.name,
            "record_id": record.pk,
            "version": record.version,
            "op": op,
            "new_values": new_values,
            "old_values": old_values or {},
            "actor_id": self.actor_id,
            "device_id": self.device_id,
            "mutation_id": mutation_id,
            "source": self.source,
            "at": self.at,
        }
        self.changes.append((record, change))

    def pending_values(
        self, record: models.Model, *, up_to_version: int
    ) -> Iterator[dict[str, Any]]:
        """The `new_values` of this writer's changes of `record` at or below a version,
        newest first: they are not in the changelog table yet."""
        return (
            change["new_values"]
            for written, change in reversed(self.changes)
            if written is record and change["version"] <= up_to_version
        )

    # --- storing ----------------------------------------------------------------------------

    def write(self, *, derived: Mapping[str, Collection[str]] | None = None) -> None:
        """Give each change a position, store the records and append the log rows.
        `derived`: by entity, the server-computed fields hooks set on the records."""
        positions = allocate_positions(len(self.changes))
        for (record, change), position in zip(self.changes, positions, strict=True):
            change["txid"], change["seq"] = position.txid, position.seq
            record.sync_txid, record.sync_seq = position.txid, position.seq
        by_entity: dict[str, tuple[list[models.Model], list[models.Model]]] = {}
        for (entity, _), record in self.new.items():
            by_entity.setdefault(entity, ([], []))[0].append(record)
        for (entity, _), record in self.dirty.items():
            by_entity.setdefault(entity, ([], []))[1].append(record)
        for entity, (created, updated) in sorted(by_entity.items()):
            spec = get_entity(entity)
            assert spec is not None
            if created:
                insert_records(model=spec.model, records=created)
            if updated:
                columns = self.columns.get(entity, set())
                changed = [name for name in spec.field_names if name in columns]
                changed += sorted(columns.difference(spec.field_names))
                changed += sorted(set((derived or {}).get(entity, ())).difference(changed))
                updated.sort(key=lambda record: record.pk)
                update_rows(
                    model=spec.model, records=updated, field_names=[*changed, *UPDATED_META]
                )
        insert_rows(model=ChangeLog, rows=[change for _, change in self.changes])
