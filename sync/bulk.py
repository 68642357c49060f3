"""Set-based writes for server-side bulk work (seeding, dispatch, imports, recomputes).

Trusted server code skips what a push needs (replays, validation, merging, write checks)
and writes through the engine's one record writer, `sync.record_writer`, in chunks of
thousands of records: the same versions, stamps, positions, scope and changelog rows as
`apply_mutations`, in a handful of statements per chunk.
"""

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from itertools import islice
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from sync.models import ChangeSource
from sync.record_writer import RecordWriter, field_defaults
from sync.registry import EntitySpec, Touched, WriteContext, get_entity
from sync.wire import wire_value

CHUNK = 2000


def parent_scopes(*, spec: EntitySpec, rows: Sequence[Mapping[str, Any]]) -> dict[Any, tuple]:
    """Scopes of the records these rows reference, fetched once per parent entity."""
    scopes: dict[Any, tuple] = {}
    for parent in spec.scope_rule.parents:
        target = get_entity(spec.field(parent).ref_entity or "")
        assert target is not None
        ids = list({row[parent] for row in rows if row.get(parent) is not None})
        for start in range(0, len(ids), CHUNK):
            found = target.model.objects.filter(pk__in=ids[start : start + CHUNK]).values_list(
                "pk", "scope_owner_id", "scope_region_id"
            )
            scopes.update({str(pk): (owner, region) for pk, owner, region in found})
    return scopes


def bulk_create_records(
    *,
    entity: str,
    rows: Iterable[Mapping[str, Any]],
    actor: User | None = None,
    source: str = ChangeSource.SYSTEM,
    device_id: str = "server",
    at: dt.datetime | None = None,
    extra: Mapping[str, Any] | None = None,
) -> int:
    """Insert new records of one entity from trusted, already valid wire values.

    Each row holds `id` and any of the entity's fields; rows may reference records created
    in an earlier call. `extra` sets model attributes that are not on the wire (the same
    for every row). Rows are consumed in chunks, so a generator of any length keeps memory
    flat. Returns how many were created.
    """
    spec = get_entity(entity)
    assert spec is not None, entity
    at = at or timezone.now()
    defaults = field_defaults(spec)
    created = 0
    rows_iter = iter(rows)
    with transaction.atomic():
        while chunk := list(islice(rows_iter, CHUNK)):
            scopes = parent_scopes(spec=spec, rows=chunk)

            def scope_lookup(_field: str, pk: Any, scopes: dict = scopes) -> tuple:
                return scopes[str(pk)]

            writer = _writer(actor=actor, source=source, device_id=device_id, at=at)
            touched = []
            for row in chunk:
                values = {name: wire_value(value) for name, value in row.items() if name != "id"}
                current = defaults | values
                record = writer.create(
                    spec=spec,
                    record_id=row["id"],
                    values=current,
                    logged=values,
                    scope=spec.scope_rule.derive(current, scope_lookup),
                    attrs=extra,
                )
                touched.append(Touched(record=record, created=True, changed=frozenset(current)))
            run_derive(spec=spec, touched=touched, actor=actor)
            writer.write()
            created += len(touched)
    return created


def _writer(*, actor: User | None, source: str, device_id: str, at: dt.datetime) -> RecordWriter:
    return RecordWriter(
        actor_id=actor.pk if actor is not None else None,
        device_id=device_id,
        source=source,
        at=at,
    )


def run_derive(*, spec: EntitySpec, touched: Sequence[Touched], actor: User | None) -> None:
    """The entity's `prefetch` and `derive` hooks over one chunk of new records, as a push
    runs them (bulk writes come from trusted server code, so write checks do not run)."""
    if spec.derive is None:
        return
    context = WriteContext(actor=actor)
    prefetched = None
    if spec.prefetch is not None:
        prefetched = spec.prefetch(
            [
                ({name: getattr(t.record, spec.field(name).attname) for name in t.changed}, None)
                for t in touched
            ],
            context,
        )
    spec.derive(touched, prefetched, context)


def bulk_update_records(
    *,
    entity: str,
    values_by_id: Mapping[Any, Mapping[str, Any]],
    actor: User | None = None,
    source: str = ChangeSource.SYSTEM,
    device_id: str = "server",
    at: dt.datetime | None = None,
    attrs_by_id: Mapping[Any, Mapping[str, Any]] | None = None,
) -> int:
    """Set server-computed fields on many existing records (a recomputed segment or grade).

    Values may name wire fields and read-only server fields (`EntitySpec.readonly`).
    `attrs_by_id` sets model attributes that are not on the wire along with a record's
    change (a stored file's name); they neither count as a change nor are logged.

    Each record that really changes gets its version raised, the fields stamped, a new
    position and a changelog row, in a few statements per chunk; unchanged and deleted
    records are left alone. Fields that decide a record's scope cannot be set here (a move
    must take the record's children along: use `apply_mutations`). Returns how many
    records changed.
    """
    spec = get_entity(entity)
    assert spec is not None, entity
    for values in values_by_id.values():
        assert spec.scope_rule.fields.isdisjoint(values), (
            f"scope fields go through apply_mutations: {values}"
        )
    values_by_id = {uuid.UUID(str(pk)): values for pk, values in values_by_id.items()}
    attrs = {uuid.UUID(str(pk)): extra for pk, extra in (attrs_by_id or {}).items()}

    at = at or timezone.now()
    ids = list(values_by_id)
    changed_count = 0
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            chunk = spec.model.objects.select_for_update(no_key=True).filter(
                pk__in=ids[start : start + CHUNK], deleted=False
            )
            writer = _writer(actor=actor, source=source, device_id=device_id, at=at)
            for record in chunk.order_by("pk"):
                wanted = {name: wire_value(v) for name, v in values_by_id[record.pk].items()}
                old = {name: wire_value(getattr(record, spec.attname(name))) for name in wanted}
                new = {name: value for name, value in wanted.items() if old[name] != value}
                if new:
                    writer.update(
                        spec=spec,
                        record=record,
                        values=new,
                        old_values={name: old[name] for name in new},
                        attrs=attrs.get(record.pk),
                    )
            writer.write()
            changed_count += len(writer.dirty)
    return changed_count
