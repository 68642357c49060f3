"""Pull: the changes in a user's scope after a cursor, one keyset page at a time.

A record's position is the position of its latest change, so reading records (and the
scope exits of records that left the user) in position order is already compact: a
record changed many times since the cursor comes once, at its latest state. Each page is
one query for the positions plus one per entity for the rows, rendered without
per-object serializers; memory is bounded by the page size, not by the scope.
"""

import base64
import binascii
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection, models, transaction

from accounts.models import Role, User
from sync.models import ScopeExit, SyncCounter
from sync.positions import SEQUENCE_NAME, is_postgresql
from sync.registry import EntitySpec, all_entities, get_entity
from sync.wire import wire_value

CURSOR_VERSION = 1


class CursorInvalid(ValueError):
    """The cursor is not one this server wrote."""


class CursorExpired(Exception):
    """The cursor is from another epoch or beyond this database's history: resync."""


@dataclass(frozen=True)
class Cursor:
    txid: int = 0
    seq: int = 0
    # Set during a phone's first walk: the watermark it began under. Tombstones and scope
    # exits older than that are of records the phone never had, so they are left out.
    initial_below: int | None = None

    def encode(self, *, epoch: int) -> str:
        raw = [CURSOR_VERSION, epoch, self.txid, self.seq, self.initial_below]
        return base64.urlsafe_b64encode(orjson.dumps(raw)).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, *, epoch: int, restored: "RestorePoint | None" = None) -> "Cursor":
        """The cursor, if this database can serve it: of the current epoch, or of the epoch
        before a restore and no further than what the restored backup holds."""
        try:
            padded = text + "=" * (-len(text) % 4)
            version, cursor_epoch, txid, seq, initial_below = orjson.loads(
                base64.urlsafe_b64decode(padded.encode())
            )
        except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as error:
            raise CursorInvalid("Not a cursor this server issued.") from error
        ints = (txid, seq) if initial_below is None else (txid, seq, initial_below)
        if not all(isinstance(value, int) and value >= 0 for value in ints):
            raise CursorInvalid("Not a cursor this server issued.")
        if version != CURSOR_VERSION:
            raise CursorExpired
        if cursor_epoch != epoch and not (
            restored is not None and cursor_epoch == restored.epoch and seq <= restored.seq
        ):
            raise CursorExpired
        return cls(txid=txid, seq=seq, initial_below=initial_below)


@dataclass(frozen=True)
class PullPage:
    changes: list[dict[str, Any]]
    cursor: str
    has_more: bool
    # (txid, seq) the cursor handed out stands at: how far the phone has come.
    position: tuple[int, int] = (0, 0)


def sync_epoch() -> int:
    """This database's sync epoch; changing it (a reset of history) expires every cursor."""
    row, _ = SyncCounter.objects.get_or_create(
        name="epoch", defaults={"value": random.SystemRandom().getrandbits(48)}
    )
    return row.value


@dataclass(frozen=True)
class RestorePoint:
    """The epoch a restored backup was taken in, and the last position it holds."""

    epoch: int
    seq: int


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
    return point, new_epoch


def last_allocated_seq() -> int:
    with connection.cursor() as cursor:
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
WATERMARK_SQL = """
SELECT LEAST(
    pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
    (SELECT min(backend_xid::text::bigint) FROM pg_stat_activity
     WHERE datname = current_database() AND backend_xid IS NOT NULL)
)
"""


def watermark() -> int:
    """Transactions with an id below this are finished; a page reads only their changes."""
    with connection.cursor() as cursor:
        if is_postgresql():
            cursor.execute(WATERMARK_SQL)
            return cursor.fetchone()[0]
    return last_allocated_seq() + 1


def pull_page(*, user: User, cursor_text: str | None, limit: int) -> PullPage:
    epoch = sync_epoch()
    below = watermark()
    if cursor_text:
        try:
            cursor = Cursor.decode(cursor_text, epoch=epoch)
        except CursorExpired:
            cursor = Cursor.decode(cursor_text, epoch=epoch, restored=restore_point())
        if cursor.seq > last_allocated_seq():
            # Positions this database never handed out: restored from an older backup.
            raise CursorExpired
    else:
        cursor = Cursor(initial_below=below)
    positions = _page_positions(user=user, cursor=cursor, below=below, limit=limit + 1)
    has_more = len(positions) > limit
    positions = positions[:limit]
    changes = list(_render(positions))
    if positions:
        last = positions[-1]
        next_cursor = Cursor(txid=last[2], seq=last[3], initial_below=cursor.initial_below)
    else:
        next_cursor = cursor
    if not has_more:
        next_cursor = Cursor(txid=next_cursor.txid, seq=next_cursor.seq)
    return PullPage(
        changes=changes,
        cursor=next_cursor.encode(epoch=epoch),
        has_more=has_more,
        position=(next_cursor.txid, next_cursor.seq),
    )


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
    with connection.cursor() as db:
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
        parts.append(
            f"SELECT * FROM (SELECT '{spec.name}' AS entity, id{as_text} AS id, sync_txid AS txid, "  # noqa: S608
            f"sync_seq AS seq, 0 AS is_exit FROM {table} "
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
        with connection.cursor() as cursor:
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
        for pk, found in wire_rows(spec=spec, ids=ids).items():
            records[(entity, pk)] = found
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
    sql, params = _positions_sql(user=user, cursor=cursor, below=watermark(), limit=cap)
    with connection.cursor() as db:
        db.execute(f"SELECT count(*) FROM ({sql}) AS backlog", params)  # noqa: S608
        return db.fetchone()[0]
