"""A WatermelonDB pull: every change below the watermark in the user's scope, streamed
table by table as `{"changes": {...}, "timestamp": W}`."""

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import models
from django.db.models import Exists, OuterRef, Q

from accounts.models import Role, User
from accounts.scope import scope_filter
from fieldline.replicas import ReplicaBehind, current_replica
from sync.models import ChangeLog, ScopeExit
from sync.pull import watermark
from sync.registry import EntitySpec
from sync.watermelon.parameters import MAX_SAFE_INTEGER, Migration
from sync.watermelon.schema import columns_of, ordered_specs
from sync.watermelon.timestamps import issued_here, record_issued
from sync.wire import dumps, to_ms, wire_value

PAGE_ROWS = 2000
SPOOL_MEMORY_BYTES = 4 * 1024 * 1024
SPOOL_READ_BYTES = 256 * 1024


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
    on_replica = current_replica()
    if on_replica and last_pulled_at is not None and last_pulled_at >= below:
        # The phone has pulled from further on than this replica has replayed.
        raise ReplicaBehind
    # A timestamp beyond the watermark is another database's; one the history lost by a
    # restore is too (`timestamps`): both are answered from scratch, as a replacement.
    replacement = last_pulled_at is not None and (
        last_pulled_at > below or not issued_here(last_pulled_at)
    )
    if not on_replica:
        # A read served by a replica writes nothing (a write would send the rest of the
        # request to the primary). Its timestamp goes unrecorded, which is the safe side:
        # after a restore, such a phone gets a replacement pull, as a phone with a cursor
        # from before the restore gets a resync.
        record_issued(below)
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
        created: list[dict[str, Any]] = []
        updated: list[dict[str, Any]] = []
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
