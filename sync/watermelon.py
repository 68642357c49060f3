"""WatermelonDB's sync protocol, spoken over the sync engine.

A stock WatermelonDB app syncs with `GET`/`POST /api/sync/watermelon` and its own
`synchronize()`: tables are entity names pluralized, columns are wire field names, and list
or object fields travel as JSON strings (WatermelonDB columns hold strings, numbers and
booleans only). Everything written goes through `apply_mutations`.

Timestamp. A pull reads every change whose transaction id is below the watermark W (see
`sync.positions`) and answers `timestamp = W`. Everything below W is final, so W alone is
a complete cursor: the next pull reads positions with `last_pulled_at <= txid < W'`. W is
a transaction id (PostgreSQL) or a sequence number (SQLite), never a clock, and stays far
below 2**53. A `last_pulled_at` above the current watermark was issued by another database
(a restored backup, a reset): that pull sends the whole scope with WatermelonDB's
`experimentalStrategy: "replacement"`, so the phone drops what the server no longer has and
keeps its unpushed records.

Created or updated. A first pull sends everything in `created`. Later pulls send in
`created` the records the phone cannot have yet: created in the window by another device,
or moved into the user's scope in the window (the window's first scope exit of the record
is not the user's); everything else goes in `updated`. Echoes of the phone's own pushes are
`updated`, so a stock client (without `sendCreatedAsUpdated`) logs no diagnostics. A wrong
guess is harmless: the client upserts either way.

Deletes. Tombstones and scope exits in the window go in `deleted`; a first pull has none.
A table's deletes are read before its rows, and an exit whose record is back in scope is
skipped: a change committed meanwhile gets a position at or above W, so no id lands in two
lists of one answer.

Streaming. The answer is built as it is sent: keyset pages over positions, rendered with
orjson, `created` rows written out at once and `updated` rows spooled to a temporary file
(in memory up to a few MB), so memory does not grow with the scope.

Schema version and migrations. The server sends every table and column it has; the client
skips tables it does not know and drops unknown columns, so `schema_version` is only
checked. When the client reports a migration (`migration={"from", "tables", "columns"}`),
tables it created are sent whole in `created`, and tables that gained columns are sent
whole too (every record in scope, `updated` unless first seen) with the window's deletes,
so the new columns get filled.

Push. Each table's `created`, `updated` and `deleted` become mutations, parents before
children, deletes last. Rows arrive whole; each is diffed against the record as that phone
last pulled it, reconstructed from the changelog: current values with the `old_values` of
every change at or after `last_pulled_at` undone, and `base_version` the version it had
then (or the `version` column the row carries, when that is older: the phone never saw the
later changes). Only fields that differ from that base are sent, so a manager's concurrent
edit of another field survives and fields a rep may not write (a survey's review status)
come back untouched. A `created` row whose id exists is an update of it. A new record's
columns that hold only WatermelonDB's placeholders (null where the field cannot be null,
'' where it cannot be blank) or the server's defaults are left to the defaults. Mutation
ids are derived from the request, so a retry of the same push is answered from the
engine's log; after a new pull, what was applied no longer differs from the base. Refused
mutations make the answer a 409 listing them (with WatermelonDB's `experimentalRejectedIds`),
and the stock client keeps its local changes; accepted ones stay applied. A delete of a
record the user cannot see any more counts as done.
"""

import copy
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, reduce
from operator import or_
from typing import Any, Literal

import orjson
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Role, User
from accounts.scope import scope_filter
from sync.merge import Policy, Status, canonical_set
from sync.models import ChangeLog, ChangeSource, ScopeExit
from sync.pull import watermark
from sync.registry import EntitySpec, all_entities, get_entity
from sync.services import Mutation, MutationResult, apply_mutations
from sync.wire import dumps, format_datetime, parse_uuid, to_ms, wire_value

MAX_SAFE_INTEGER = 2**53 - 1
MAX_DEVICE_ID = 64
PAGE_ROWS = 2000
SPOOL_MEMORY_BYTES = 4 * 1024 * 1024
SPOOL_READ_BYTES = 256 * 1024
KINDS = ("created", "updated", "deleted")
# Columns that are WatermelonDB's or the server's own bookkeeping, never written by a push.
BOOKKEEPING_COLUMNS = frozenset(
    {"id", "_status", "_changed", "version", "created_at", "updated_at", "deleted"}
)
MUTATION_NAMESPACE = uuid.UUID("1f0c6a52-3c1e-5d0b-9a57-6e2b8a4c7d13")

Kind = Literal["created", "updated", "deleted"]


class WatermelonInvalid(Exception):
    """A request the protocol cannot read: {field: [messages]}."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(errors)
        self.errors = errors


class WatermelonResync(Exception):
    """A push based on a timestamp this database never issued: pull again first."""


# --- tables and columns -------------------------------------------------------------------


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


# --- query parameters ---------------------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    """What WatermelonDB reports after a local schema migration."""

    from_version: int
    tables: frozenset[str]
    columns: frozenset[str]  # tables that gained columns


def _absent(raw: str | None) -> bool:
    return raw is None or raw in ("", "null", "undefined")


def _integer(raw: str, *, name: str, message: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 16 or int(raw) > MAX_SAFE_INTEGER:
        raise WatermelonInvalid({name: [message]})
    return int(raw)


def parse_last_pulled_at(raw: str | None) -> int | None:
    """A timestamp from an earlier pull, or None for a first sync (`null` in the URL)."""
    if _absent(raw):
        return None
    assert raw is not None
    value = _integer(
        raw, name="last_pulled_at", message="A timestamp from an earlier pull, or null."
    )
    return value or None


def parse_schema_version(raw: str | None) -> int | None:
    if _absent(raw):
        return None
    assert raw is not None
    return _integer(raw, name="schema_version", message="A positive integer.")


def parse_migration(raw: str | None) -> Migration | None:
    """`migration` as WatermelonDB's `pullChanges` gets it, JSON-encoded in the URL."""
    if _absent(raw):
        return None
    assert raw is not None
    invalid = WatermelonInvalid(
        {"migration": ['JSON: {"from": n, "tables": [...], "columns": [{"table", "columns"}]}.']}
    )
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise invalid from error
    if body is None:
        return None
    if not isinstance(body, dict):
        raise invalid
    from_version, tables, columns = (
        body.get("from"),
        body.get("tables", []),
        body.get("columns", []),
    )
    if (
        isinstance(from_version, bool)
        or not isinstance(from_version, int)
        or not isinstance(tables, list)
        or not all(isinstance(table, str) for table in tables)
        or not isinstance(columns, list)
        or not all(isinstance(c, dict) and isinstance(c.get("table"), str) for c in columns)
    ):
        raise invalid
    return Migration(
        from_version=from_version,
        tables=frozenset(tables),
        columns=frozenset(c["table"] for c in columns),
    )


def device_id_for(*, user: User, given: str | None) -> str:
    """The device a request speaks for; one per user when the app does not say."""
    if not given:
        return f"watermelon-{user.pk}"
    if len(given) > MAX_DEVICE_ID:
        raise WatermelonInvalid({"device_id": [f"At most {MAX_DEVICE_ID} characters."]})
    return given


# --- pull ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PullPlan:
    user: User
    device_id: str
    below: int  # the watermark: read txids below it; also the answer's timestamp
    since: int | None  # last_pulled_at; None: the whole scope
    replacement: bool
    migration: Migration | None = None


@dataclass(frozen=True)
class TablePass:
    """What one table's part of a pull reads."""

    spec: EntitySpec
    rows_since: int  # rows with txid >= this
    deletes_since: int | None  # tombstones and exits with txid >= this; None: none
    classify_since: int | None  # None: every row is `created`


def plan_pull(
    *, user: User, last_pulled_at: int | None, migration: Migration | None, device_id: str
) -> PullPlan:
    below = watermark()
    if below > MAX_SAFE_INTEGER:
        raise OverflowError("The watermark is beyond what a JavaScript number holds.")
    replacement = last_pulled_at is not None and last_pulled_at > below
    return PullPlan(
        user=user,
        device_id=device_id,
        below=below,
        since=None if replacement else last_pulled_at,
        replacement=replacement,
        migration=None if replacement or last_pulled_at is None else migration,
    )


def table_passes(plan: PullPlan) -> list[TablePass]:
    passes = []
    migration = plan.migration
    for spec in ordered_specs():
        if plan.since is None or (migration is not None and spec.table in migration.tables):
            passes.append(TablePass(spec, rows_since=0, deletes_since=None, classify_since=None))
        elif migration is not None and spec.table in migration.columns:
            passes.append(TablePass(spec, 0, plan.since, plan.since))
        else:
            passes.append(TablePass(spec, plan.since, plan.since, plan.since))
    return passes


def pull_stream(*, plan: PullPlan, page_rows: int = PAGE_ROWS) -> Iterator[bytes]:
    """The pull answer as bytes, table by table: `{"changes": {...}, "timestamp": W}`."""
    yield b'{"changes":{'
    for index, table_pass in enumerate(table_passes(plan)):
        if index:
            yield b","
        yield from _table_json(plan=plan, table_pass=table_pass, page_rows=page_rows)
    tail = b'},"timestamp":' + str(plan.below).encode()
    if plan.replacement:
        tail += b',"experimentalStrategy":"replacement"'
    yield tail + b"}"


def _table_json(*, plan: PullPlan, table_pass: TablePass, page_rows: int) -> Iterator[bytes]:
    spec = table_pass.spec
    yield dumps(spec.table) + b':{"deleted":['
    if table_pass.deletes_since is not None:
        yield from _joined(
            _deleted_ids(plan=plan, spec=spec, since=table_pass.deletes_since, page_rows=page_rows)
        )
    yield b'],"created":['
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES) as updated:
        created_any = updated_any = False
        for created, changed in _row_pages(plan=plan, table_pass=table_pass, page_rows=page_rows):
            if created:
                yield (b"," if created_any else b"") + _items(created)
                created_any = True
            if changed:
                updated.write((b"," if updated_any else b"") + _items(changed))
                updated_any = True
            del created, changed  # a page at a time
        yield b'],"updated":['
        updated.seek(0)
        while chunk := updated.read(SPOOL_READ_BYTES):
            yield chunk
    yield b"]}"


def _items(values: list[Any]) -> bytes:
    """JSON of a list's items without its brackets, in one call."""
    return dumps(values)[1:-1]


def _joined(pages: Iterable[list[Any]]) -> Iterator[bytes]:
    first = True
    for items in pages:
        if items:
            yield (b"" if first else b",") + _items(items)
            first = False


def _position_pages(
    queryset: models.QuerySet, *, columns: Sequence[str], page_rows: int
) -> Iterator[list[tuple[Any, ...]]]:
    """Keyset pages in position order, one query each; each row ends with (txid, seq)."""
    after: tuple[int, int] | None = None
    while True:
        page = queryset
        if after is not None:
            page = page.filter(sync_txid__gte=after[0]).filter(
                Q(sync_txid__gt=after[0]) | Q(sync_seq__gt=after[1])
            )
        rows = list(
            page.order_by("sync_txid", "sync_seq").values_list(*columns, "sync_txid", "sync_seq")[
                :page_rows
            ]
        )
        if rows:
            yield rows
        if len(rows) < page_rows:
            return
        after = (rows[-1][-2], rows[-1][-1])


def _in_window(plan: PullPlan, spec: EntitySpec, since: int) -> models.QuerySet:
    return spec.model.objects.filter(
        scope_filter(user=plan.user), sync_txid__gte=since, sync_txid__lt=plan.below
    )


def _exit_scope(user: User) -> tuple[str, Any] | None:
    """The ScopeExit column that records leaving this user's scope, and its value."""
    if user.role == Role.REP:
        return "owner_id", user.pk
    if user.role == Role.MANAGER and user.region_id is not None:
        return "region_id", user.region_id
    return None


def _deleted_ids(
    *, plan: PullPlan, spec: EntitySpec, since: int, page_rows: int
) -> Iterator[list[str]]:
    tombstones = _in_window(plan, spec, since).filter(deleted=True)
    for rows in _position_pages(tombstones, columns=["id"], page_rows=page_rows):
        yield [str(row[0]) for row in rows]
    scope = _exit_scope(plan.user)
    if scope is None:
        return
    column, mine = scope
    back_in_scope = spec.model.objects.filter(
        scope_filter(user=plan.user), pk=OuterRef("record_id")
    )
    exits = ScopeExit.objects.filter(
        ~Exists(back_in_scope),
        entity=spec.name,
        sync_txid__gte=since,
        sync_txid__lt=plan.below,
        **{column: mine},
    )
    after = None
    while True:
        page = exits if after is None else exits.filter(record_id__gt=after)
        ids = list(
            page.order_by("record_id").values_list("record_id", flat=True).distinct()[:page_rows]
        )
        if ids:
            yield [str(record_id) for record_id in ids]
        if len(ids) < page_rows:
            return
        after = ids[-1]


def _row_pages(
    *, plan: PullPlan, table_pass: TablePass, page_rows: int
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """(created, updated) rows in WatermelonDB's form, page by page."""
    spec = table_pass.spec
    names = ["id", *(f.name for f in spec.fields), *spec.readonly, "version", "updated_at"]
    columns = ["id", *(f.attname for f in spec.fields), *spec.readonly, "version", "updated_at"]
    json_names = [name for name, column in columns_of(spec.name).items() if column.json]
    rows_query = _in_window(plan, spec, table_pass.rows_since).filter(deleted=False)
    for rows in _position_pages(rows_query, columns=columns, page_rows=page_rows):
        first_seen: set[Any] | None = None
        if table_pass.classify_since is not None:
            first_seen = _first_seen(
                plan=plan,
                spec=spec,
                ids=[row[0] for row in rows],
                since=table_pass.classify_since,
            )
        created, updated = [], []
        for row in rows:
            raw = {name: wire_value(value) for name, value in zip(names, row, strict=False)}
            for name in json_names:
                if raw[name] is not None:
                    raw[name] = orjson.dumps(raw[name]).decode()
            raw["updated_at"] = to_ms(row[len(names) - 1])
            new_to_phone = first_seen is None or row[0] in first_seen
            (created if new_to_phone else updated).append(raw)
        yield created, updated


def _first_seen(*, plan: PullPlan, spec: EntitySpec, ids: list[Any], since: int) -> set[Any]:
    """Records of this page the phone cannot have: created since by another device, or
    whose first scope exit since then is someone else's (they moved in)."""
    found = set(
        ChangeLog.objects.filter(
            entity=spec.name, record_id__in=ids, version=1, op="create", txid__gte=since
        )
        .exclude(device_id=plan.device_id)
        .values_list("record_id", flat=True)
    )
    scope = _exit_scope(plan.user)
    if scope is None:
        return found
    column, mine = scope
    exits = (
        ScopeExit.objects.filter(
            entity=spec.name,
            record_id__in=ids,
            sync_txid__gte=since,
            sync_txid__lt=plan.below,
            **{f"{column}__isnull": False},
        )
        .order_by("sync_txid", "sync_seq")
        .values_list("record_id", column)
    )
    first_exit: dict[Any, Any] = {}
    for record_id, left in exits:
        first_exit.setdefault(record_id, left)
    return found | {record_id for record_id, left in first_exit.items() if left != mine}


# --- push ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushedRow:
    """One record of a push, its columns read back into wire values."""

    table: str
    spec: EntitySpec
    record_id: uuid.UUID
    kind: Kind
    values: Mapping[str, Any] = field(default_factory=dict)
    version: int | None = None  # the `version` column the phone holds, if it has one


@dataclass(frozen=True)
class Refusal:
    table: str
    id: str
    errors: Mapping[str, Any]

    def as_wire(self) -> dict[str, Any]:
        return {"table": self.table, "id": self.id, "errors": self.errors}


@dataclass(frozen=True)
class PushOutcome:
    accepted: int
    refused: tuple[Refusal, ...]
    conflicts: tuple[dict[str, Any], ...]

    def as_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"accepted": self.accepted, "conflicts": list(self.conflicts)}
        if self.refused:
            body = {
                "detail": "Some records were refused and nothing of them was applied; "
                "the others were. Keep the refused ones, correct them and sync again.",
                **body,
                "rejected": [refusal.as_wire() for refusal in self.refused],
                # WatermelonDB's own name: a pushChanges that returns this body marks
                # every other record as synced.
                "experimentalRejectedIds": _ids_by_table(self.refused),
            }
        return body


def _ids_by_table(refused: Iterable[Refusal]) -> dict[str, list[str]]:
    by_table: dict[str, list[str]] = {}
    for refusal in refused:
        by_table.setdefault(refusal.table, []).append(refusal.id)
    return by_table


def check_push_timestamp(last_pulled_at: int | None) -> None:
    if last_pulled_at is not None and last_pulled_at > watermark():
        raise WatermelonResync


def push_changes(
    *,
    actor: User,
    body: Any,
    last_pulled_at: int | None,
    device_id: str,
    chunk_size: int,
) -> PushOutcome:
    """Apply a WatermelonDB push; see the module docstring for how rows become mutations."""
    check_push_timestamp(last_pulled_at)
    rows, refused = parse_push(body)
    planned = plan_mutations(
        actor=actor, rows=rows, last_pulled_at=last_pulled_at, device_id=device_id
    )
    mutations = [mutation for _, mutation in planned if mutation is not None]
    results: list[MutationResult] = []
    received_at = timezone.now()
    for start in range(0, len(mutations), chunk_size):
        results += apply_mutations(
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
            refused.append(Refusal(row.table, str(row.record_id), result.errors or {}))
    return PushOutcome(accepted=accepted, refused=tuple(refused), conflicts=tuple(conflicts))


def parse_push(body: Any) -> tuple[list[PushedRow], list[Refusal]]:
    """Rows of a push body (`{"changes": {...}}` or the changes themselves), and the rows
    refused before reaching the engine (unknown table, bad id, unreadable JSON column)."""
    changes = body.get("changes") if isinstance(body, dict) else None
    if not isinstance(changes, dict):
        changes = body
    if not isinstance(changes, dict):
        raise WatermelonInvalid({"changes": ["An object of tables is required."]})
    tables = table_specs()
    rows: list[PushedRow] = []
    refused: list[Refusal] = []
    for table, change_set in changes.items():
        lists = change_set if isinstance(change_set, dict) else {}
        if not isinstance(change_set, dict) or any(
            not isinstance(lists.get(kind, []), list) for kind in KINDS
        ):
            raise WatermelonInvalid({str(table): ["Lists `created`, `updated`, `deleted`."]})
        spec = tables.get(table)
        for kind in KINDS:
            for raw in lists.get(kind, []):
                raw_id = raw.get("id", "") if isinstance(raw, dict) else raw
                record_id = parse_uuid(raw_id)
                if spec is None:
                    refused.append(Refusal(str(table), str(raw_id), {"detail": "Unknown table."}))
                elif record_id is None or (kind != "deleted" and not isinstance(raw, dict)):
                    refused.append(Refusal(table, str(raw_id), {"id": ["A UUID is required."]}))
                elif kind == "deleted":
                    rows.append(PushedRow(table, spec, record_id, kind))
                else:
                    values, errors = column_values(spec=spec, raw=raw)
                    if errors:
                        refused.append(Refusal(table, str(record_id), errors))
                    else:
                        rows.append(PushedRow(table, spec, record_id, kind, values, _version(raw)))
    return rows, refused


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


@dataclass(frozen=True)
class _Change:
    version: int
    op: str
    old_values: dict[str, Any]


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
        bases[key] = _version_at(current[key].version, history.get(key, []))
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
            base = _values_at(current[key], history.get(key, []), bases[key])
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


def _read_changes(condition: Q, **filters: Any) -> dict[RecordKey, list[_Change]]:
    changes: dict[RecordKey, list[_Change]] = {}
    rows = ChangeLog.objects.filter(condition, **filters).values_list(
        "entity", "record_id", "version", "op", "old_values"
    )
    for entity, record_id, version, op, old_values in rows:
        changes.setdefault((entity, record_id), []).append(_Change(version, op, old_values or {}))
    return changes


def _changes_since(*, keys: set[RecordKey], since: int) -> dict[RecordKey, list[_Change]]:
    """Changes at or after `since` of these records, in one query."""
    condition = _by_entity(keys)
    return {} if condition is None else _read_changes(condition, txid__gte=since)


def _changes_before(
    *, versions: Mapping[RecordKey, int], since: int
) -> dict[RecordKey, list[_Change]]:
    """Changes before `since` newer than the version each phone says it has, in one query."""
    condition = _by_entity(versions)
    if condition is None:
        return {}
    found = _read_changes(condition, txid__lt=since, version__gt=min(versions.values()))
    return {
        key: [change for change in changes if change.version > versions[key]]
        for key, changes in found.items()
    }


def _version_at(version: int, changes: Sequence[_Change]) -> int:
    """The version a record had before these changes; 1 if it was created among them (the
    phone pushing it made it)."""
    if not changes:
        return version
    if any(change.op == "create" for change in changes):
        return 1
    return min(change.version for change in changes) - 1


def _values_at(current: _Current, changes: Sequence[_Change], version: int) -> dict[str, Any]:
    """A record's field values as of `version`: newer changes undone, newest first."""
    values = dict(current.values)
    for change in sorted(changes, key=lambda change: change.version, reverse=True):
        if change.version > version and change.op == "update":
            values.update({k: v for k, v in change.old_values.items() if k in values})
    return values


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


__all__ = [
    "Migration",
    "PullPlan",
    "PushOutcome",
    "WatermelonInvalid",
    "WatermelonResync",
    "check_push_timestamp",
    "device_id_for",
    "parse_last_pulled_at",
    "parse_migration",
    "parse_schema_version",
    "plan_pull",
    "pull_stream",
    "push_changes",
]
