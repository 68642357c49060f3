"""A WatermelonDB push: rows diffed against what the phone last pulled, applied by the
engine as mutations (see the package's docstring)."""

import copy
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, reduce
from operator import or_
from typing import Any

import orjson
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from accounts.scope import scope_filter
from fieldline.inputs import json_problems, safe_label
from sync.batch import apply_mutations
from sync.merge import LoggedChange, Status, canonical_set, values_at, version_before
from sync.models import ChangeLog, ChangeSource
from sync.mutations import Mutation, MutationResult
from sync.pull import watermark
from sync.registry import EntitySpec, get_entity
from sync.retries import retried_on_contention
from sync.watermelon.parameters import WatermelonInvalid, WatermelonResync
from sync.watermelon.schema import (
    BOOKKEEPING_COLUMNS,
    KINDS,
    Column,
    Kind,
    columns_of,
    ordered_specs,
    table_specs,
)
from sync.watermelon.timestamps import issued_here
from sync.wire import format_datetime, parse_uuid, wire_value

MUTATION_NAMESPACE = uuid.UUID("1f0c6a52-3c1e-5d0b-9a57-6e2b8a4c7d13")


@dataclass(frozen=True)
class PushedRow:
    """One record of a push, its columns read back into wire values."""

    table: str
    spec: EntitySpec
    record_id: uuid.UUID
    kind: Kind
    values: Mapping[str, Any] = field(default_factory=dict)
    version: int | None = None  # the `version` column the phone holds, if it has one


class WatermelonTooLarge(Exception):
    """More records than one push may hold (the protocol push's cap): a 413."""


@dataclass(frozen=True)
class Refusal:
    table: str
    id: str
    errors: Mapping[str, Any]
    code: str = ""  # the rule that refused it, when one names itself

    def as_wire(self) -> dict[str, Any]:
        body = {"table": self.table, "id": self.id, "errors": self.errors}
        if self.code:
            body["code"] = self.code
        return body


@dataclass(frozen=True)
class Unknown:
    """Tables and columns of a push that the server does not have: a typo or an app
    schema ahead of the server's. Rows that carry them are refused, and a push that names
    no table the server has applies nothing: both are answered 409, listing them."""

    tables: tuple[str, ...] = ()
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    known_tables: int = 0  # tables of the push the server has

    def __bool__(self) -> bool:
        return bool(self.tables or self.columns)

    @property
    def refuses_push(self) -> bool:
        """Nothing of the push is the server's: a 200 would say "synced" with nothing done."""
        return bool(self.tables) and self.known_tables == 0

    def as_wire(self) -> dict[str, Any]:
        return {
            "tables": list(self.tables),
            "columns": {table: list(names) for table, names in self.columns.items()},
            "known_tables": sorted(table_specs()),
        }

    def detail(self) -> str:
        parts = []
        if self.tables:
            parts.append(f"unknown tables: {', '.join(self.tables)}")
        if self.columns:
            named = [f"{t}.{c}" for t, names in self.columns.items() for c in names]
            parts.append(f"unknown columns: {', '.join(named)}")
        return (
            f"The push names what the server does not have ({'; '.join(parts)}). The "
            f"tables are {', '.join(sorted(table_specs()))}, with the columns of the API "
            "schema's records; correct the app's schema or table names and sync again."
        )


@dataclass(frozen=True)
class PushOutcome:
    accepted: int
    refused: tuple[Refusal, ...]
    conflicts: tuple[dict[str, Any], ...]
    unknown: Unknown = field(default_factory=Unknown)

    @property
    def refused_any(self) -> bool:
        """Answered 409: rows were refused, or nothing of the push was the server's."""
        return bool(self.refused) or self.unknown.refuses_push

    def as_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"accepted": self.accepted, "conflicts": list(self.conflicts)}
        if self.refused_any:
            detail = (
                "Some records were refused and nothing of them was applied; the others "
                "were. Keep the refused ones, correct them and sync again."
            )
            if self.unknown:
                detail = f"{self.unknown.detail()} {detail if self.refused else ''}".strip()
            body = {
                "detail": detail,
                **body,
                "rejected": [refusal.as_wire() for refusal in self.refused],
                # WatermelonDB's own name: a pushChanges that returns this body marks
                # every other record as synced.
                "experimentalRejectedIds": _ids_by_table(self.refused),
            }
        if self.unknown:
            body["unknown"] = self.unknown.as_wire()
        return body


def _ids_by_table(refused: Iterable[Refusal]) -> dict[str, list[str]]:
    by_table: dict[str, list[str]] = {}
    for refusal in refused:
        by_table.setdefault(refusal.table, []).append(refusal.id)
    return by_table


def check_push_timestamp(last_pulled_at: int | None) -> None:
    """A push merges against what the phone pulled up to `last_pulled_at`: one this
    database did not issue (another database's, or lost by a restore) asks for a pull."""
    if last_pulled_at is not None and (
        last_pulled_at > watermark() or not issued_here(last_pulled_at)
    ):
        raise WatermelonResync


def push_changes(
    *,
    actor: User,
    body: Any,
    last_pulled_at: int | None,
    device_id: str,
    chunk_size: int,
    max_mutations: int,
) -> PushOutcome:
    """Apply a WatermelonDB push; see the module docstring for how rows become mutations."""
    rows_sent = count_rows(body)
    if rows_sent > max_mutations:
        raise WatermelonTooLarge(
            f"A push holds at most {max_mutations} records; this one has {rows_sent}. "
            "Push in parts of at most that many."
        )
    check_push_timestamp(last_pulled_at)
    rows, refused, unknown = parse_push(body)
    planned = plan_mutations(
        actor=actor, rows=rows, last_pulled_at=last_pulled_at, device_id=device_id
    )
    mutations = [mutation for _, mutation in planned if mutation is not None]
    results: list[MutationResult] = []
    received_at = timezone.now()
    for start in range(0, len(mutations), chunk_size):
        # Each chunk is a transaction of its own.
        results += retried_on_contention(apply_mutations)(
            actor=actor,
            mutations=mutations[start : start + chunk_size],
            device_id=device_id,
            source=ChangeSource.PUSH,
            received_at=received_at,
        )
    answers = iter(results)
    accepted = 0
    conflicts: list[dict[str, Any]] = []
    for row, mutation in planned:
        result = next(answers) if mutation is not None else None
        if result is None or result.status != Status.REJECTED:
            accepted += 1
            conflicts += [
                {"table": row.table, "id": str(row.record_id), **conflict}
                for conflict in (result.conflicts if result else ())
            ]
        elif row.kind == "deleted" and result.reason == "not_found":
            accepted += 1  # Nothing of it is left for this user: the delete has happened.
        else:
            refused.append(
                Refusal(row.table, str(row.record_id), result.errors or {}, code=result.code)
            )
    return PushOutcome(
        accepted=accepted, refused=tuple(refused), conflicts=tuple(conflicts), unknown=unknown
    )


def parse_push(body: Any) -> tuple[list[PushedRow], list[Refusal], Unknown]:
    """Rows of a push body (`{"changes": {...}}` or the changes themselves), the rows
    refused before reaching the engine (unknown table, bad id, unreadable JSON column),
    and the tables and columns the server does not have (rows with an unknown column go on
    to the engine, which refuses them field by field)."""
    changes = body.get("changes") if isinstance(body, dict) else None
    if not isinstance(changes, dict):
        changes = body
    if not isinstance(changes, dict):
        raise WatermelonInvalid({"changes": ["An object of tables is required."]})
    tables = table_specs()
    rows: list[PushedRow] = []
    refused: list[Refusal] = []
    unknown_tables: list[str] = []
    unknown_columns: dict[str, tuple[str, ...]] = {}
    known = 0
    for index, (table, change_set) in enumerate(changes.items()):
        lists = change_set if isinstance(change_set, dict) else {}
        if not isinstance(change_set, dict) or any(
            not isinstance(lists.get(kind, []), list) for kind in KINDS
        ):
            raise WatermelonInvalid(
                {safe_label(table, index): ["Lists `created`, `updated`, `deleted`."]}
            )
        spec = tables.get(table)
        if spec is None:
            # Named as the answer may repeat it: a hostile name is shown by its place.
            unknown_tables.append(safe_label(table, index))
        else:
            known += 1
            columns = columns_of(spec.name)
            names = {
                str(name)
                for kind in ("created", "updated")
                for raw in lists.get(kind, [])
                if isinstance(raw, dict)
                for name in raw
                if name not in columns
                and name not in BOOKKEEPING_COLUMNS
                and name not in spec.readonly
            }
            if names:
                unknown_columns[table] = tuple(
                    safe_label(name, place) for place, name in enumerate(sorted(names))
                )
        for kind in KINDS:
            for raw in lists.get(kind, []):
                raw_id = raw.get("id", "") if isinstance(raw, dict) else raw
                record_id = parse_uuid(raw_id)
                shown_id = str(record_id) if record_id else _id_label(raw_id)
                if spec is None:
                    label = safe_label(table, index)
                    refused.append(Refusal(label, shown_id, {"detail": "Unknown table."}))
                elif record_id is None or (kind != "deleted" and not isinstance(raw, dict)):
                    refused.append(Refusal(table, shown_id, {"id": ["A UUID is required."]}))
                elif kind == "deleted":
                    rows.append(PushedRow(table, spec, record_id, kind))
                else:
                    # The one input check (fieldline.inputs), per row: a value no column
                    # can hold refuses this row, never the push.
                    values, errors = column_values(spec=spec, raw=raw)
                    errors = json_problems(raw) or errors or json_problems(values)
                    if errors:
                        refused.append(Refusal(table, str(record_id), errors))
                    else:
                        rows.append(PushedRow(table, spec, record_id, kind, values, _version(raw)))
    unknown = Unknown(tables=tuple(unknown_tables), columns=unknown_columns, known_tables=known)
    return rows, refused, unknown


def _id_label(raw_id: Any) -> str:
    """A refused row's id as the answer repeats it: as sent when short and clean."""
    if isinstance(raw_id, str) and safe_label(raw_id, 0) == raw_id:
        return raw_id
    return "(invalid id)"


def count_rows(body: Any) -> int:
    """How many records a push body holds (its mutations, before any is read)."""
    changes = body.get("changes") if isinstance(body, dict) else None
    if not isinstance(changes, dict):
        changes = body
    if not isinstance(changes, dict):
        return 0
    return sum(
        len(lists.get(kind) or ())
        for lists in changes.values()
        if isinstance(lists, dict)
        for kind in KINDS
        if isinstance(lists.get(kind), list)
    )


def column_values(
    *, spec: EntitySpec, raw: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A pushed row's columns as wire values; unknown columns pass, for the engine to refuse."""
    columns = columns_of(spec.name)
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in raw.items():
        if name in BOOKKEEPING_COLUMNS or name in spec.readonly:
            continue
        column = columns.get(name)
        if column is None:
            values[name] = value
            continue
        if column.json and isinstance(value, str):
            if value == "":
                values[name] = copy.deepcopy(column.default)
                continue
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError:
                errors[name] = ["Not a JSON string."]
                continue
        if value == "" and column.empty_is_null:
            value = None
        if column.datetime and isinstance(value, str):
            value = _normalized_datetime(value)
        values[name] = value
    return values, errors


def _normalized_datetime(text: str) -> str:
    """The wire form of an ISO 8601 time, so an unchanged value compares equal."""
    try:
        parsed = parse_datetime(text)
    except ValueError:
        return text
    if parsed is None or parsed.tzinfo is None:
        return text
    try:
        return format_datetime(parsed)
    except OverflowError:
        return text


@dataclass(frozen=True)
class _Current:
    version: int
    values: dict[str, Any]


RecordKey = tuple[str, uuid.UUID]


def plan_mutations(
    *, actor: User, rows: Sequence[PushedRow], last_pulled_at: int | None, device_id: str
) -> list[tuple[PushedRow, Mutation | None]]:
    """Each row with the mutation it becomes (None: nothing differs from its base), in the
    order they apply: parents before children, deletes last and children first."""
    since = last_pulled_at or 0
    current = _current_records(actor=actor, rows=rows)
    history = _changes_since(keys=set(current), since=since)
    bases: dict[RecordKey, int] = {}
    older: dict[RecordKey, int] = {}
    for row in rows:
        key = (row.spec.name, row.record_id)
        if key not in current or row.kind == "deleted":
            continue
        bases[key] = version_before(current[key].version, history.get(key, []))
        if row.version is not None and 1 <= row.version < bases[key]:
            bases[key] = older[key] = row.version
    for key, changes in _changes_before(versions=older, since=since).items():
        history.setdefault(key, []).extend(changes)
    order = {spec.name: index for index, spec in enumerate(ordered_specs())}
    planned = []
    for row in rows:
        key = (row.spec.name, row.record_id)
        if row.kind == "deleted":
            mutation: Mutation | None = _mutation(
                actor=actor, device_id=device_id, since=since, row=row, op="delete"
            )
        elif key in current:
            base = values_at(current[key].values, history.get(key, []), bases[key])
            fields = _differing(row=row, base=base)
            mutation = None
            if fields:
                mutation = _mutation(
                    actor=actor,
                    device_id=device_id,
                    since=since,
                    row=row,
                    op="update",
                    fields=fields,
                    base_version=bases[key],
                )
        elif row.kind == "created":
            defaults = {name: column.default for name, column in columns_of(key[0]).items()}
            fields = _differing(row=row, base=defaults, creating=True)
            # A value equal to the default is still sent where the entity requires it (a
            # photo's content_type "image/jpeg"): left out, it would be "required" for ever.
            columns = columns_of(key[0])
            for name in _required_fields(row.spec.name):
                value = row.values.get(name)
                if (
                    name not in fields
                    and name in row.values
                    and name in columns
                    and not _placeholder(columns[name], value, creating=True)
                ):
                    fields[name] = value
            mutation = _mutation(
                actor=actor, device_id=device_id, since=since, row=row, op="create", fields=fields
            )
        else:  # An update of a record this user cannot see: the engine says "not found".
            mutation = _mutation(
                actor=actor,
                device_id=device_id,
                since=since,
                row=row,
                op="update",
                fields=dict(row.values),
                base_version=row.version or 0,
            )
        planned.append((row, mutation))

    def apply_order(item: tuple[PushedRow, Mutation | None]) -> tuple[int, int]:
        row = item[0]
        depth = order[row.spec.name]
        return (1, -depth) if row.kind == "deleted" else (0, depth)

    return sorted(planned, key=apply_order)


def _current_records(*, actor: User, rows: Sequence[PushedRow]) -> dict[RecordKey, _Current]:
    """Records of this push the actor can see, one query per entity."""
    wanted: dict[str, set[uuid.UUID]] = {}
    for row in rows:
        if row.kind != "deleted":
            wanted.setdefault(row.spec.name, set()).add(row.record_id)
    found: dict[RecordKey, _Current] = {}
    for entity, ids in wanted.items():
        spec = get_entity(entity)
        assert spec is not None
        records = spec.model.objects.filter(scope_filter(user=actor), pk__in=ids).values_list(
            "id", "version", *(f.attname for f in spec.fields)
        )
        for record_id, version, *values in records:
            found[(entity, record_id)] = _Current(
                version=version,
                values={
                    f.name: wire_value(value) for f, value in zip(spec.fields, values, strict=True)
                },
            )
    return found


def _by_entity(keys: Iterable[RecordKey]) -> Q | None:
    ids: dict[str, list[uuid.UUID]] = {}
    for entity, record_id in keys:
        ids.setdefault(entity, []).append(record_id)
    if not ids:
        return None
    return reduce(or_, (Q(entity=entity, record_id__in=found) for entity, found in ids.items()))


def _read_changes(condition: Q, **filters: Any) -> dict[RecordKey, list[LoggedChange]]:
    changes: dict[RecordKey, list[LoggedChange]] = {}
    rows = ChangeLog.objects.filter(condition, **filters).values_list(
        "entity", "record_id", "version", "op", "old_values"
    )
    for entity, record_id, version, op, old_values in rows:
        changes.setdefault((entity, record_id), []).append(
            LoggedChange(version, op, old_values or {})
        )
    return changes


def _changes_since(*, keys: set[RecordKey], since: int) -> dict[RecordKey, list[LoggedChange]]:
    """Changes at or after `since` of these records, in one query."""
    condition = _by_entity(keys)
    return {} if condition is None else _read_changes(condition, txid__gte=since)


def _changes_before(
    *, versions: Mapping[RecordKey, int], since: int
) -> dict[RecordKey, list[LoggedChange]]:
    """Changes before `since` newer than the version each phone says it has, in one query."""
    condition = _by_entity(versions)
    if condition is None:
        return {}
    found = _read_changes(condition, txid__lt=since, version__gt=min(versions.values()))
    return {
        key: [change for change in changes if change.version > versions[key]]
        for key, changes in found.items()
    }


@cache
def _required_fields(entity: str) -> frozenset[str]:
    """The fields a create of `entity` must carry (its serializer requires them)."""
    spec = get_entity(entity)
    assert spec is not None
    return frozenset(
        name
        for name, serializer_field in spec.serializer().fields.items()
        if serializer_field.required and not serializer_field.read_only
    )


def _differing(
    *, row: PushedRow, base: Mapping[str, Any], creating: bool = False
) -> dict[str, Any]:
    """The row's fields that differ from `base`. A null where the field cannot be null means
    the phone has no value, and so does '' in a new record's field that cannot be blank (a
    non-optional string column the app left empty): both are left out. Unknown columns
    stay, for the engine to refuse."""
    columns = columns_of(row.spec.name)
    return {
        name: value
        for name, value in row.values.items()
        if name not in columns or _changed(columns[name], value, base.get(name), creating)
    }


def _changed(column: Column, value: Any, base: Any, creating: bool) -> bool:
    return not _placeholder(column, value, creating=creating) and not _same(column, value, base)


def _placeholder(column: Column, value: Any, *, creating: bool) -> bool:
    """A value WatermelonDB holds for "nothing" in a column that cannot have nothing."""
    if value is None:
        return not column.nullable
    return creating and value == "" and not column.blank


def _same(column: Column, pushed: Any, base: Any) -> bool:
    if column.union and isinstance(pushed, list) and isinstance(base, list):
        return canonical_set(pushed) == canonical_set(base)
    if isinstance(pushed, bool) or isinstance(base, bool):
        return type(pushed) is type(base) and pushed == base  # True is not 1 here
    return pushed == base


def _mutation(
    *,
    actor: User,
    device_id: str,
    since: int,
    row: PushedRow,
    op: str,
    fields: Mapping[str, Any] | None = None,
    base_version: int | None = None,
) -> Mutation:
    """A mutation whose id is derived from what was asked, so a retried push replays."""
    fields = dict(fields or {})
    key = orjson.dumps(
        [actor.pk, device_id, row.spec.name, str(row.record_id), op, base_version, since, fields],
        option=orjson.OPT_SORT_KEYS,
        default=str,
    )
    return Mutation(
        entity=row.spec.name,
        op=op,
        record_id=row.record_id,
        fields=fields,
        mutation_id=uuid.uuid5(MUTATION_NAMESPACE, key.decode()),
        base_version=base_version,
    )


def _version(raw: Mapping[str, Any]) -> int | None:
    version = raw.get("version")
    if isinstance(version, bool) or not isinstance(version, int | float):
        return None
    return int(version) if version == int(version) else None
