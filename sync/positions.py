"""Positions in the change stream, and how they are written.

PostgreSQL hands out sequence numbers before commit, so paging on the sequence alone
could skip a change that commits late with a lower number. Each change therefore also
records its transaction id; transaction ids are assigned in start order. A pull reads
only changes whose transaction id is below the oldest one still in flight in this
database (the watermark, `sync.pull.watermark`), ordered by (txid, seq): everything below
it is final, and any transaction that commits later has a larger id, so it lands after
the cursor, never behind it.

SQLite runs one writing transaction at a time, so the sequence alone is in commit order;
the txid column repeats the sequence number there.
"""

import contextlib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
import psycopg
from django.db import DEFAULT_DB_ALIAS, connection, connections, models

from sync.models import SyncCounter

SEQUENCE_NAME = "sync_position_seq"
UPDATE_CHUNK = 1000


@dataclass(frozen=True)
class Position:
    txid: int
    seq: int


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def allocate_positions(count: int) -> list[Position]:
    """Reserve `count` consecutive positions for the current transaction."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        if is_postgresql():
            cursor.execute(
                "SELECT pg_current_xact_id()::text::bigint, nextval(%s) "
                "FROM generate_series(1, %s)",
                [SEQUENCE_NAME, count],
            )
            return [Position(txid=txid, seq=seq) for txid, seq in cursor.fetchall()]
    counter, _ = SyncCounter.objects.get_or_create(name="position")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sync_synccounter SET value = value + %s WHERE name = %s RETURNING value",
            [count, "position"],
        )
        last = cursor.fetchone()[0]
    first = last - count + 1
    return [Position(txid=seq, seq=seq) for seq in range(first, last + 1)]


def bump_positions(*, model: type[models.Model], record_ids: list) -> None:
    """Give records new positions so that the next pulls carry them again."""
    if not record_ids:
        return
    table = model._meta.db_table
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET sync_txid = pg_current_xact_id()::text::bigint, "  # noqa: S608
                "sync_seq = nextval(%s) WHERE id = ANY(%s)",
                [SEQUENCE_NAME, list(record_ids)],
            )
        return
    positions = allocate_positions(len(record_ids))
    rows = [
        model(pk=pk, sync_txid=position.txid, sync_seq=position.seq)
        for pk, position in zip(record_ids, positions, strict=True)
    ]
    model.objects.bulk_update(rows, ["sync_txid", "sync_seq"], batch_size=500)


def key_share_lock(*, model: type[models.Model], record_ids: Collection[Any]) -> None:
    """Hold these rows FOR KEY SHARE, by primary key, until the transaction ends: as a
    foreign key to them would at commit, but before the transaction reads them. Only a
    FOR UPDATE lock (a scope move) is waited for. SQLite runs one writing transaction at
    a time and needs nothing."""
    if not record_ids or not is_postgresql():
        return
    db = connections[DEFAULT_DB_ALIAS]
    table = db.ops.quote_name(model._meta.db_table)
    pk_column = db.ops.quote_name(model._meta.pk.column)
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE {pk_column} = ANY(%s) "  # noqa: S608
            f"ORDER BY {pk_column} FOR KEY SHARE",
            [sorted(record_ids)],
        )


def update_rows(*, model: type[models.Model], records: list, field_names: list[str]) -> None:
    """Write these fields of these records back, set-based.

    PostgreSQL gets one `UPDATE ... FROM json_to_recordset(<one JSON document>)` per
    UPDATE_CHUNK rows: the rows are serialized by orjson in one call and unpacked
    server-side, where the driver would otherwise adapt every value on its own. Elsewhere
    an `executemany` of single-row updates, which SQLite runs in-process at the same speed.
    (Django's bulk_update builds a CASE expression per field and row, which costs seconds
    for a few hundred rows.)
    """
    if not records:
        return
    fields = [model._meta.get_field(name) for name in field_names]
    pk_field = model._meta.pk
    # The connection itself, not the thread-local proxy: values are prepared field by field,
    # and each lookup through the proxy costs more than the preparing.
    db = connections[DEFAULT_DB_ALIAS]
    table = db.ops.quote_name(model._meta.db_table)
    if not is_postgresql():
        columns = [db.ops.quote_name(f.column) for f in fields]
        assignments = ", ".join(f"{column} = %s" for column in columns)
        with db.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE {pk_field.column} = %s",  # noqa: S608
                [
                    [
                        *(f.get_db_prep_save(getattr(record, f.attname), db) for f in fields),
                        pk_field.get_db_prep_value(record.pk, db),
                    ]
                    for record in records
                ],
            )
        return
    assignments = ", ".join(
        f"{db.ops.quote_name(f.column)} = v.{db.ops.quote_name(f.column)}" for f in fields
    )
    pk_column = db.ops.quote_name(pk_field.column)
    sql = (
        f"UPDATE {table} AS t SET {assignments} "  # noqa: S608
        f"FROM json_to_recordset(%s::json) AS v({_column_types(db, [pk_field, *fields])}) "
        f"WHERE t.{pk_column} = v.{pk_column}"
    )
    _execute_documents(
        db=db,
        sql=sql,
        items=records,
        fields=[pk_field, *fields],
        value=lambda record, f: getattr(record, f.attname),
    )


def _execute_documents(
    *, db, sql: str, items: list, fields: list, value: Callable[[Any, Any], Any]
) -> None:
    """Run `sql` once per UPDATE_CHUNK items, given those items as one JSON document of
    rows by column (`value(item, field)` reads a field's value from an item)."""
    plain = [f for f in fields if _is_plain(f)]
    prepared = [f for f in fields if not _is_plain(f)]
    with bound_cursor(db) as cursor:
        for start in range(0, len(items), UPDATE_CHUNK):
            document = [
                {f.column: value(item, f) for f in plain}
                | {f.column: f.get_prep_value(value(item, f)) for f in prepared}
                for item in items[start : start + UPDATE_CHUNK]
            ]
            cursor.execute(sql, [_json_rows(document)])


@contextlib.contextmanager
def bound_cursor(db) -> Iterator[psycopg.Cursor]:
    """A PostgreSQL cursor that sends parameters apart from the query (server-side binding).

    Django's cursors bind client-side: a JSON document of a few hundred kilobytes would be
    escaped into the query text, and the server would parse it back out. Errors are
    Django's, as from any cursor.
    """
    db.ensure_connection()
    with db.wrap_database_errors, psycopg.Cursor(db.connection) as cursor:
        yield cursor


def insert_rows(*, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Insert new rows (the change, conflict and mutation logs of a batch), set-based.

    The rows are plain dicts by attribute name: building a model instance per log row cost
    more than writing it. PostgreSQL gets one `INSERT ... SELECT FROM json_to_recordset`
    of one JSON document; elsewhere bulk_create. A unique key seen before (a concurrent
    retry's mutation id) is Django's IntegrityError, which the batch retries on.
    """
    if not rows:
        return
    if not is_postgresql():
        model.objects.bulk_create([model(**row) for row in rows], batch_size=500)
        return
    meta = model._meta
    db = connections[DEFAULT_DB_ALIAS]
    fields = [f for f in meta.concrete_fields if not (f.primary_key and f.db_returning)]
    defaults = {f.attname: f.get_default() for f in fields}
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    sql = (
        f"INSERT INTO {db.ops.quote_name(meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT {columns} FROM json_to_recordset(%s::json) AS v({_column_types(db, fields)})"
    )
    _execute_documents(
        db=db,
        sql=sql,
        items=rows,
        fields=fields,
        value=lambda row, f: row.get(f.attname, defaults[f.attname]),
    )


def insert_records(*, model: type[models.Model], records: list) -> None:
    """Insert new records (model instances a write created), set-based.

    On PostgreSQL, when every column is a plain one (`PLAIN_FIELDS`, no value computed on
    save), as `insert_rows` does: one `INSERT ... SELECT FROM json_to_recordset` per
    UPDATE_CHUNK records, the values serialized by orjson at once. Django's bulk_create
    prepares and adapts every value of every row on its own, which cost a bulk write (a
    plan's tens of thousands of tasks) more than half its time. Elsewhere, or for a model
    with other fields (files), bulk_create.
    """
    if not records:
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not (f.primary_key and f.db_returning)]
    computed = any(
        getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) for f in fields
    )
    if not is_postgresql() or computed or not all(_is_plain(f) for f in fields):
        model.objects.bulk_create(records, batch_size=500)
        return
    db = connections[DEFAULT_DB_ALIAS]
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    sql = (
        f"INSERT INTO {db.ops.quote_name(meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT {columns} FROM json_to_recordset(%s::json) AS v({_column_types(db, fields)})"
    )
    _execute_documents(
        db=db,
        sql=sql,
        items=records,
        fields=fields,
        value=lambda record, f: getattr(record, f.attname),
    )
    for record in records:
        record._state.adding = False
        record._state.db = db.alias


# Fields whose Python values orjson writes as PostgreSQL reads them (times as ISO text,
# UUIDs as text, JSON as it is); others (files, say) are prepared by the field first.
PLAIN_FIELDS = (
    models.BooleanField,
    models.CharField,
    models.DateField,
    models.FloatField,
    models.ForeignKey,
    models.IntegerField,
    models.JSONField,
    models.TextField,
    models.UUIDField,
)


def _is_plain(field) -> bool:
    return isinstance(field, PLAIN_FIELDS)


def _column_types(db, fields: list) -> str:
    return ", ".join(f"{db.ops.quote_name(f.column)} {f.db_type(db)}" for f in fields)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json_rows(rows: list[dict[str, Any]]) -> str:
    """Rows as one JSON document for `json_to_recordset`: values of JSON columns nest as
    they are, the others are cast by PostgreSQL from their JSON text (UUIDs, times, and
    decimals as strings, which lose nothing)."""
    return orjson.dumps(rows, default=_json_default).decode()
