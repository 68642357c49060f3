"""Pull: the changes in a user's scope after a cursor, one keyset page at a time.

A record's position is the position of its latest change, so reading records (and the
scope exits of records that left the user) in position order is already compact: a
record changed many times since the cursor comes once, at its latest state. Each page is
one query for the positions plus one per entity for the rows, rendered without
per-object serializers; memory is bounded by the page size, not by the scope.
"""

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import orjson
from django.db import connection, models, transaction

from accounts.models import Role, User
from fieldline.replicas import ReplicaBehind, current_replica, read_connection
from sync.cursors import (
    REST,
    TODAY,
    TODAY_ENTITIES,
    Cursor,
    CursorExpired,
    RestorePoint,
)
from sync.feeds import feed_state
from sync.models import ScopeExit, SyncCounter, WatermelonTimestamp
from sync.positions import SEQUENCE_NAME, is_postgresql
from sync.registry import EntitySpec, all_entities, get_entity
from sync.wire import wire_value


@dataclass(frozen=True)
class Progress:
    """How far a walk has come, for an honest progress bar (version 1.1)."""

    tier: int
    tier_complete: bool
    received: int
    estimated_total: int


@dataclass(frozen=True)
class PullPage:
    changes: list[dict[str, Any]]
    cursor: str
    has_more: bool
    # (txid, seq) the cursor handed out stands at: how far the phone has come.
    position: tuple[int, int] = (0, 0)
    progress: Progress | None = None


def sync_epoch() -> int:
    """This database's sync epoch; changing it (a reset of history) expires every cursor."""
    row, _ = SyncCounter.objects.get_or_create(
        name="epoch", defaults={"value": random.SystemRandom().getrandbits(48)}
    )
    return row.value


def restore_point() -> RestorePoint | None:
    rows = dict(
        SyncCounter.objects.filter(name__in=["restored_epoch", "restored_seq"]).values_list(
            "name", "value"
        )
    )
    if len(rows) < 2:
        return None
    return RestorePoint(epoch=rows["restored_epoch"], seq=rows["restored_seq"])


def restart_epoch_after_restore() -> tuple[RestorePoint | None, int]:
    """Start a new epoch in a database just restored from a backup.

    Phones may hold cursors past the backup (the changes after it are not here); they must
    resync. A cursor of the backup's epoch no further than the last position the backup
    holds stays good, so phones that had not pulled since the backup go on incrementally.
    Restored into another PostgreSQL cluster, whose transaction ids are behind the ones
    recorded in the positions, the positions are renumbered and every cursor expires.
    Returns the restore point kept (None when every cursor expires) and the new epoch. A
    second run before anything changed keeps the first run's epoch and restore point.
    """
    old_epoch = sync_epoch()
    tables = [spec.model._meta.db_table for spec in all_entities()]
    tables.append(ScopeExit._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        highest = " UNION ALL ".join(
            f"SELECT max(sync_txid) AS txid, max(sync_seq) AS seq FROM {table}"  # noqa: S608
            for table in tables
        )
        cursor.execute(
            f"SELECT coalesce(max(txid), 0), coalesce(max(seq), 0) FROM ({highest}) AS h"  # noqa: S608
        )
        top_txid, top_seq = cursor.fetchone()
        earlier = restore_point()
        rerun = SyncCounter.objects.filter(name="restored_to_epoch", value=old_epoch).exists()
        if earlier is not None and rerun and earlier.seq >= top_seq:
            return earlier, old_epoch  # run twice for one restore: the first run stands
        point: RestorePoint | None = RestorePoint(epoch=old_epoch, seq=top_seq)
        if is_postgresql():
            cursor.execute("SELECT pg_current_xact_id()::text::bigint")
            if cursor.fetchone()[0] <= top_txid:
                # Positions order by transaction id first: rows from the other cluster would
                # sort after every new change and hide under the watermark. All history here
                # is final, so it goes before anything new, in its sequence order.
                for table in tables:
                    cursor.execute(f"UPDATE {table} SET sync_txid = 0")  # noqa: S608
                point = None
        new_epoch = old_epoch
        while new_epoch == old_epoch:
            new_epoch = random.SystemRandom().getrandbits(48)
        SyncCounter.objects.update_or_create(name="epoch", defaults={"value": new_epoch})
        if point is None:
            SyncCounter.objects.filter(name__in=["restored_epoch", "restored_seq"]).delete()
        else:
            SyncCounter.objects.update_or_create(
                name="restored_epoch", defaults={"value": point.epoch}
            )
            SyncCounter.objects.update_or_create(name="restored_seq", defaults={"value": point.seq})
        SyncCounter.objects.update_or_create(
            name="restored_to_epoch", defaults={"value": new_epoch}
        )
        # WatermelonDB timestamps of older epochs can no longer be served incrementally.
        kept = [new_epoch] if point is None else [new_epoch, point.epoch]
        WatermelonTimestamp.objects.exclude(epoch__in=kept).delete()
    return point, new_epoch


def last_allocated_seq() -> int:
    with read_connection().cursor() as cursor:
        if is_postgresql():
            cursor.execute(f"SELECT last_value, is_called FROM {SEQUENCE_NAME}")  # noqa: S608
            last_value, is_called = cursor.fetchone()
            return last_value if is_called else 0
        cursor.execute("SELECT value FROM sync_synccounter WHERE name = %s", ["position"])
        row = cursor.fetchone()
        return row[0] if row else 0


# The oldest transaction still in flight *in this database*: transaction ids are shared by
# the whole cluster, but only this database's transactions write here, so another
# database's long transaction must not hold our pulls back. A transaction that gets its id
# after the snapshot gets one at or above the snapshot's xmax.
#
# On a hot standby (a read replica) pg_stat_activity shows none of the primary's
# transactions: there the watermark is the snapshot's xmin, the oldest transaction the
# standby has seen start (in any database) and not yet seen end. Its snapshot holds every
# transaction id the replayed WAL has named, and the rows of a transaction reach the
# standby only in WAL that names it, so every id below xmin is finished there too.
WATERMARK_SQL = """
SELECT CASE WHEN pg_is_in_recovery()
    THEN pg_snapshot_xmin(pg_current_snapshot())::text::bigint
    ELSE LEAST(
        pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
        (SELECT min(backend_xid::text::bigint) FROM pg_stat_activity
         WHERE datname = current_database() AND backend_xid IS NOT NULL)
    )
END
"""


def watermark() -> int:
    """Transactions with an id below this are finished; a page reads only their changes."""
    with read_connection().cursor() as cursor:
        if is_postgresql():
            cursor.execute(WATERMARK_SQL)
            return cursor.fetchone()[0]
    return last_allocated_seq() + 1


def pull_page(*, user: User, cursor_text: str | None, limit: int) -> PullPage:
    """One page of a walk. A walk without a cursor is a first sync in tiers: tier 0 (today's
    work, see `_today_condition`) by keyset, then tier 1, the rest of the scope by position.
    Every page re-reads what it serves from the cursor alone, so a walk cut off anywhere
    resumes from the last cursor received, re-sending at most the page that was lost."""
    epoch = sync_epoch()
    below = watermark()
    if cursor_text:
        try:
            cursor = Cursor.decode(cursor_text, epoch=epoch)
        except CursorExpired:
            cursor = Cursor.decode(cursor_text, epoch=epoch, restored=restore_point())
        if current_replica() and (
            cursor.seq > last_allocated_seq()
            or (cursor.initial_below or 0) > below
            or cursor.txid >= below
        ):
            # The phone knows more than this replica has replayed: the primary answers.
            raise ReplicaBehind
        if cursor.seq > last_allocated_seq() or (cursor.initial_below or 0) > below:
            # Positions this database never handed out: restored from an older backup.
            raise CursorExpired
    else:
        cursor = Cursor(initial_below=below, tiered=True, tier=TODAY)
    feeds = feed_state()
    changes: list[dict[str, Any]] = []
    if feeds.digest != cursor.feeds:
        # In the first page of a first walk, and again whenever the set in force changes.
        changes.extend(feeds.changes)
    estimated = cursor.estimated_total
    if estimated is None:
        estimated = len(changes) + _estimate_walk(user=user, cursor=cursor, below=below)
    if cursor.tier == TODAY:
        next_cursor, has_more = _today_page(user=user, cursor=cursor, limit=limit, changes=changes)
        tier_complete = next_cursor.tier == REST
    else:
        next_cursor, has_more = _rest_page(
            user=user, cursor=cursor, below=below, limit=limit, changes=changes
        )
        # Incremental pulls are tier 1, complete; tier 1 of a first walk completes at its end.
        tier_complete = not (cursor.tiered and has_more)
    received = cursor.received + len(changes)
    progress = Progress(
        tier=cursor.tier,
        tier_complete=tier_complete,
        received=received,
        estimated_total=max(estimated, received) if has_more else received,
    )
    next_cursor = replace(next_cursor, feeds=feeds.digest)
    if has_more:
        next_cursor = replace(next_cursor, received=received, estimated_total=estimated)
    return PullPage(
        changes=changes,
        cursor=next_cursor.encode(epoch=epoch),
        has_more=has_more,
        position=(next_cursor.txid, next_cursor.seq),
        progress=progress,
    )


def _today_page(
    *, user: User, cursor: Cursor, limit: int, changes: list[dict[str, Any]]
) -> tuple[Cursor, bool]:
    """A page of tier 0; the last one hands over to tier 1 at the start of the stream."""
    assert cursor.initial_below is not None
    keys = _today_keys(
        user=user, below=cursor.initial_below, after=cursor.today_after, limit=limit + 1
    )
    more_today = len(keys) > limit
    keys = keys[:limit]
    changes.extend(_render([(entity, pk, 0, 0, False) for _rank, entity, pk in keys]))
    if more_today:
        rank, _entity, pk = keys[-1]
        return replace(cursor, today_after=(rank, pk)), True
    return replace(cursor, tier=REST, today_after=(-1, ""), txid=0, seq=0), True


def _rest_page(
    *, user: User, cursor: Cursor, below: int, limit: int, changes: list[dict[str, Any]]
) -> tuple[Cursor, bool]:
    """A page of positions: an incremental pull, or tier 1 of a first walk."""
    positions = _page_positions(user=user, cursor=cursor, below=below, limit=limit + 1)
    has_more = len(positions) > limit
    positions = positions[:limit]
    changes.extend(_render(positions))
    next_cursor = cursor
    if positions:
        last = positions[-1]
        next_cursor = replace(cursor, txid=last[2], seq=last[3])
    if not has_more:
        # The walk is over: the next pull is incremental, from here. After a tiered walk
        # "here" is past every change below the watermark, the ones tier 1 left out
        # included: all of them were committed when this page was read, and sent.
        position = (next_cursor.txid, next_cursor.seq)
        if cursor.tiered:
            # On a standby the sequence reads ahead of what the primary handed out (it is
            # WAL-logged 32 values early), and a cursor past the primary's sequence reads
            # as one from a restored backup. There the walk ends at (below - 1, 0): the
            # rows of transaction below - 1 may come once more, which repeats, not skips.
            top = 0 if current_replica() else last_allocated_seq()
            position = max(position, (below - 1, top))
        next_cursor = Cursor(txid=position[0], seq=position[1], feeds=cursor.feeds)
    return next_cursor, has_more


# Tier 0, parents first: the stores of the user's open tasks, their latest surveys and open
# follow-ups, then the tasks. (The survey templates in force come as a feed, sync.feeds.)
CLOSED_TASK_STATUSES = ("done", "cancelled")
# Counts for progress estimates stop here: the bar stays honest, the count stays cheap.
ESTIMATE_CAP = 1_000_000


def _today_condition(entity: str, alias: str, *, user: User, below: int) -> tuple[str, list[Any]]:
    """Whether the record `alias` belongs to tier 0 of a first walk begun under `below`.

    Only rows with a transaction id below `below` count, and only through rows that do:
    those were committed before the walk began and have not changed since, so the set can
    only shrink as the walk goes on. Tier 1 leaves out what the condition holds for: every
    such record was sent in tier 0 at its current state. A record that changed, or whose
    reason to be in tier 0 changed (its task closed, a newer survey), comes again.
    """

    def table(name: str) -> str:
        spec = get_entity(name)
        assert spec is not None
        return spec.model._meta.db_table

    scope, scope_params = _scope_sql(
        user, owner_column=f"{alias}.scope_owner_id", region_column=f"{alias}.scope_region_id"
    )
    head = f"{alias}.deleted = %s AND {alias}.sync_txid < %s AND {scope}"
    params: list[Any] = [False, below, *scope_params]
    if entity == "task":
        sql = f"{head} AND {alias}.assignee_id = %s AND {alias}.status NOT IN (%s, %s)"
        return f"({sql})", [*params, user.pk, *CLOSED_TASK_STATUSES]
    if entity == "store":
        task, task_params = _today_condition("task", f"{alias}_t", user=user, below=below)
        sql = (
            f"{head} AND EXISTS (SELECT 1 FROM {table('task')} {alias}_t "  # noqa: S608
            f"WHERE {alias}_t.store_id = {alias}.id AND {task})"
        )
        return f"({sql})", [*params, *task_params]
    store, store_params = _today_condition("store", f"{alias}_s", user=user, below=below)
    of_today_store = (
        f"EXISTS (SELECT 1 FROM {table('store')} {alias}_s "  # noqa: S608
        f"WHERE {alias}_s.id = {alias}.store_id AND {store})"
    )
    if entity == "followup":
        sql = f"{head} AND {alias}.done = %s AND {of_today_store}"
        return f"({sql})", [*params, False, *store_params]
    if entity == "survey":
        other = f"{alias}_o"

        def taken(a: str) -> str:
            return f"COALESCE({a}.captured_at, {a}.created_at)"

        # The latest survey of its store, and no survey of that store changed since.
        newer = (
            f"NOT EXISTS (SELECT 1 FROM {table('survey')} {other} "  # noqa: S608
            f"WHERE {other}.store_id = {alias}.store_id AND {other}.id <> {alias}.id AND "
            f"({other}.sync_txid >= %s OR ({other}.deleted = %s AND "
            f"({taken(other)} > {taken(alias)} OR "
            f"({taken(other)} = {taken(alias)} AND {other}.id > {alias}.id)))))"
        )
        sql = f"{head} AND {of_today_store} AND {newer}"
        return f"({sql})", [*params, *store_params, below, False]
    raise ValueError(f"{entity} has no tier 0")


def _today_keys(
    *, user: User, below: int, after: tuple[int, str], limit: int
) -> list[tuple[int, str, str]]:
    """(rank, entity, id) of the next records of tier 0, by entity rank and id."""
    parts: list[str] = []
    params: list[Any] = []
    as_text = "::text" if is_postgresql() else ""
    after_rank, after_id = after
    for rank, entity in enumerate(TODAY_ENTITIES):
        if rank < after_rank:
            continue
        spec = get_entity(entity)
        assert spec is not None
        condition, condition_params = _today_condition(entity, "r", user=user, below=below)
        key, key_params = "", []
        if rank == after_rank:
            key = " AND r.id > %s"
            parsed = uuid.UUID(after_id)
            key_params = [parsed if is_postgresql() else parsed.hex]
        parts.append(
            f"SELECT * FROM (SELECT {rank} AS rank, '{entity}' AS entity, r.id{as_text} AS id "  # noqa: S608
            f"FROM {spec.model._meta.db_table} r WHERE {condition}{key} "
            f"ORDER BY r.id LIMIT %s) AS today_{entity}"
        )
        params += [*condition_params, *key_params, limit]
    sql = " UNION ALL ".join(parts) + " ORDER BY rank, id LIMIT %s"
    params.append(limit)
    with read_connection().cursor() as db:
        db.execute(sql, params)
        rows = db.fetchall()
    if is_postgresql():
        return [(rank, entity, pk) for rank, entity, pk in rows]
    return [(rank, entity, str(uuid.UUID(pk))) for rank, entity, pk in rows]


def _estimate_walk(*, user: User, cursor: Cursor, below: int) -> int:
    """Records a walk starting at this cursor will carry, if nothing changes meanwhile:
    a first walk, every live record in scope; otherwise what lies after the cursor."""
    if cursor.tier == TODAY and cursor.today_after == (-1, ""):
        assert cursor.initial_below is not None
        parts, params = [], []
        for spec in all_entities():
            scope, scope_params = _scope_sql(
                user, owner_column="scope_owner_id", region_column="scope_region_id"
            )
            parts.append(
                f"(SELECT count(*) FROM (SELECT 1 FROM {spec.model._meta.db_table} "  # noqa: S608
                f"WHERE {scope} AND deleted = %s AND sync_txid < %s LIMIT %s) AS c)"
            )
            params += [*scope_params, False, cursor.initial_below, ESTIMATE_CAP]
        with read_connection().cursor() as db:
            db.execute("SELECT " + " + ".join(parts), params)
            return db.fetchone()[0]
    return cursor.received + _count_positions(
        user=user, cursor=cursor, below=below, cap=ESTIMATE_CAP
    )


def _count_positions(*, user: User, cursor: Cursor, below: int, cap: int) -> int:
    sql, params = _positions_sql(user=user, cursor=cursor, below=below, limit=cap)
    with read_connection().cursor() as db:
        db.execute(f"SELECT count(*) FROM ({sql}) AS backlog", params)  # noqa: S608
        return db.fetchone()[0]


def _scope_sql(user: User, *, owner_column: str, region_column: str) -> tuple[str, list[Any]]:
    if not user.is_active:
        return "FALSE", []
    if user.role == Role.HQ:
        return "TRUE", []
    if user.role == Role.MANAGER:
        return f"{region_column} = %s", [user.region_id]
    if user.role == Role.REP:
        return f"{owner_column} = %s", [user.pk]
    return "FALSE", []


def _after(cursor: Cursor, txid_column: str, seq_column: str) -> tuple[str, list[Any]]:
    """Positions after the cursor, as a row comparison: a range on the (scope, txid, seq)
    indexes, where the equivalent OR could only filter what an index scan returned."""
    return f"({txid_column}, {seq_column}) > (%s, %s)", [cursor.txid, cursor.seq]


def _page_positions(
    *, user: User, cursor: Cursor, below: int, limit: int
) -> list[tuple[str, str, int, int, bool]]:
    """(entity, id, txid, seq, exit) of the next changes, merged over every entity."""
    sql, params = _positions_sql(user=user, cursor=cursor, below=below, limit=limit)
    with read_connection().cursor() as db:
        db.execute(sql, params)
        rows = db.fetchall()
    if is_postgresql():
        return [(entity, pk, txid, seq, bool(x)) for entity, pk, txid, seq, x in rows]
    return [(entity, str(uuid.UUID(pk)), txid, seq, bool(x)) for entity, pk, txid, seq, x in rows]


def _positions_sql(*, user: User, cursor: Cursor, below: int, limit: int) -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    # PostgreSQL hands ids over as wire text; SQLite stores them as hex text.
    as_text = "::text" if is_postgresql() else ""
    for spec in all_entities():
        table = spec.model._meta.db_table
        scope, scope_params = _scope_sql(
            user, owner_column="scope_owner_id", region_column="scope_region_id"
        )
        after, after_params = _after(cursor, "sync_txid", "sync_seq")
        tombstones = ""
        tombstone_params: list[Any] = []
        if cursor.initial_below is not None:
            tombstones = " AND (deleted = %s OR sync_txid >= %s)"
            tombstone_params = [False, cursor.initial_below]
        if cursor.tiered and cursor.initial_below is not None and spec.name in TODAY_ENTITIES:
            # Tier 1 of a first walk: what tier 0 sent, unchanged since, is not sent again.
            sent, sent_params = _today_condition(
                spec.name, "r", user=user, below=cursor.initial_below
            )
            tombstones += f" AND NOT COALESCE({sent}, %s)"
            tombstone_params += [*sent_params, False]
        parts.append(
            f"SELECT * FROM (SELECT '{spec.name}' AS entity, id{as_text} AS id, sync_txid AS txid, "  # noqa: S608
            f"sync_seq AS seq, 0 AS is_exit FROM {table} AS r "
            f"WHERE {scope} AND {after} AND sync_txid < %s{tombstones} "
            f"ORDER BY sync_txid, sync_seq LIMIT %s) AS {spec.name}_page"
        )
        params += [*scope_params, *after_params, below, *tombstone_params, limit]
    if user.role != Role.HQ:
        scope, scope_params = _scope_sql(user, owner_column="owner_id", region_column="region_id")
        after, after_params = _after(cursor, "sync_txid", "sync_seq")
        initial = ""
        initial_params: list[Any] = []
        if cursor.initial_below is not None:
            initial, initial_params = " AND sync_txid >= %s", [cursor.initial_below]
        parts.append(
            f"SELECT * FROM (SELECT entity, record_id{as_text} AS id, sync_txid AS txid, "  # noqa: S608
            f"sync_seq AS seq, 1 AS is_exit FROM {ScopeExit._meta.db_table} "
            f"WHERE {scope} AND {after} AND sync_txid < %s{initial} "
            "ORDER BY sync_txid, sync_seq LIMIT %s) AS exit_page"
        )
        params += [*scope_params, *after_params, below, *initial_params, limit]
    sql = " UNION ALL ".join(parts) + " ORDER BY txid, seq LIMIT %s"
    params.append(limit)
    return sql, params


def _wire_columns(spec: EntitySpec) -> tuple[list[str], list[str]]:
    """(wire names, model attribute names) of a record's wire form, in order."""
    names = ["id", *(f.name for f in spec.fields), *spec.readonly, "version", "updated_at"]
    columns = ["id", *(f.attname for f in spec.fields), *spec.readonly, "version", "updated_at"]
    return [*names, "deleted"], [*columns, "deleted"]


def wire_rows(*, spec: EntitySpec, ids: list[str]) -> dict[str, tuple[bool, Any]]:
    """Wire forms of records by id, with whether each is deleted, without model instances.

    On PostgreSQL the database renders each record as JSON text (`row_to_json` over its
    columns in wire form: ids and times as text, JSON columns nested), embedded in the
    answer unparsed (orjson.Fragment), so a record costs the server no Python object per
    field. Elsewhere `.values_list()` with Python conversions. Both give the same values.
    """
    names, columns = _wire_columns(spec)
    out: dict[str, tuple[bool, Any]] = {}
    if is_postgresql():
        with read_connection().cursor() as cursor:
            # The ids as one array literal: the driver would adapt a list element by element.
            cursor.execute(_wire_select_sql(spec, names, columns), ["{" + ",".join(ids) + "}"])
            for pk, deleted, text in cursor.fetchall():
                out[pk] = (deleted, orjson.Fragment(text))
        return out
    for row in spec.model.objects.filter(pk__in=ids).values_list(*columns):
        record = {name: wire_value(value) for name, value in zip(names, row, strict=True)}
        out[record["id"]] = (record["deleted"], record)
    return out


WIRE_TIME = """'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'"""


def _wire_select_sql(spec: EntitySpec, names: list[str], columns: list[str]) -> str:
    """SELECT of (id, deleted, the record as JSON text), each column in its wire form."""
    meta = spec.model._meta
    quote = connection.ops.quote_name
    selects = []
    for name, attname in zip(names, columns, strict=True):
        model_field = next(f for f in meta.concrete_fields if f.attname == attname)
        target = model_field.target_field if model_field.is_relation else model_field
        column = quote(model_field.column)
        if isinstance(target, models.UUIDField):
            column = f"{column}::text"
        elif isinstance(target, models.DateTimeField):
            column = f"to_char({column} AT TIME ZONE 'UTC', {WIRE_TIME})"
        elif isinstance(target, models.DateField):
            column = f"to_char({column}, 'YYYY-MM-DD')"
        selects.append(f"{column} AS {quote(name)}")
    table = quote(meta.db_table)
    # One primary-key probe per id of the page: filtered by `id = ANY(...)` or joined, a few
    # thousand ids made the planner scan the whole table, once per page. (The LIMIT keeps
    # the lookup per id: the planner may not flatten it into a join.)
    return (
        "SELECT r.id, r.deleted, row_to_json(r)::text FROM unnest(%s::uuid[]) AS page(page_id) "
        f"CROSS JOIN LATERAL (SELECT {', '.join(selects)} FROM {table} "  # noqa: S608
        "WHERE id = page.page_id LIMIT 1) AS r"
    )


def _render(positions: list[tuple[str, str, int, int, bool]]) -> Iterator[dict[str, Any]]:
    wanted: dict[str, list[str]] = {}
    for entity, pk, _txid, _seq, is_exit in positions:
        if not is_exit:
            wanted.setdefault(entity, []).append(pk)
    records: dict[tuple[str, str], tuple[bool, Any]] = {}
    for entity, ids in wanted.items():
        spec = get_entity(entity)
        assert spec is not None
        records.update(((entity, pk), row) for pk, row in wire_rows(spec=spec, ids=ids).items())
    for entity, pk, _txid, _seq, is_exit in positions:
        found = records.get((entity, pk))
        if is_exit or found is None or found[0]:
            yield {"entity": entity, "op": "delete", "id": pk}
        else:
            yield {"entity": entity, "op": "upsert", "record": found[1]}


def pull_backlog(*, user: User, after: tuple[int, int] | None, cap: int) -> int:
    """How many changes in the user's scope lie between a cursor's position and the head
    (the whole live scope for a device that never pulled), counted up to `cap`."""
    if after is None:
        cursor = Cursor(initial_below=watermark())
    else:
        cursor = Cursor(txid=after[0], seq=after[1])
    return _count_positions(user=user, cursor=cursor, below=watermark(), cap=cap)
