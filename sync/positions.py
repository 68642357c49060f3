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

from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection, connections

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


def bump_positions(*, model: type, record_ids: list) -> None:
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


def update_rows(*, model: type, records: list, field_names: list[str]) -> None:
    """Write these fields of these records back, set-based.

    PostgreSQL gets one `UPDATE ... FROM unnest(<one array per column>)` per 1,000 rows;
    elsewhere an `executemany` of single-row updates, which SQLite runs in-process at the
    same speed. (Django's bulk_update builds a CASE expression per field and row, which
    costs seconds for a few hundred rows.)
    """
    if not records:
        return
    fields = [model._meta.get_field(name) for name in field_names]
    pk_field = model._meta.pk
    # The connection itself, not the thread-local proxy: values are prepared field by field,
    # and each lookup through the proxy costs more than the preparing.
    db = connections[DEFAULT_DB_ALIAS]
    table = db.ops.quote_name(model._meta.db_table)
    columns = [db.ops.quote_name(f.column) for f in fields]

    def prepared(record) -> list:
        return [f.get_db_prep_save(getattr(record, f.attname), db) for f in fields]

    with db.cursor() as cursor:
        if not is_postgresql():
            assignments = ", ".join(f"{column} = %s" for column in columns)
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE {pk_field.column} = %s",  # noqa: S608
                [
                    [*prepared(record), pk_field.get_db_prep_value(record.pk, db)]
                    for record in records
                ],
            )
            return
        # One array per column, unnested server-side: a dozen parameters per statement
        # instead of one per value, whose placeholders the driver would have to parse.
        types = [pk_field.db_type(db), *(f.db_type(db) for f in fields)]
        arrays = ", ".join(f"%s::{db_type}[]" for db_type in types)
        assignments = ", ".join(f"{column} = v.{column}" for column in columns)
        names = ", ".join(["id", *columns])
        sql = (
            f"UPDATE {table} AS t SET {assignments} "  # noqa: S608
            f"FROM unnest({arrays}) AS v({names}) WHERE t.{pk_field.column} = v.id"
        )
        for start in range(0, len(records), UPDATE_CHUNK):
            chunk = records[start : start + UPDATE_CHUNK]
            values = [prepared(record) for record in chunk]
            params = [[pk_field.get_db_prep_value(record.pk, db) for record in chunk]]
            params += [[row[i] for row in values] for i in range(len(fields))]
            cursor.execute(sql, params)


def insert_rows(*, model: type, records: list) -> None:
    """Insert new rows (the change, conflict and mutation logs of a batch), set-based.

    PostgreSQL gets one COPY: the values are prepared as bulk_create prepares them, but no
    INSERT text with thousands of placeholders is built and parsed per 500 rows, which was
    most of what writing the logs cost. Elsewhere bulk_create.
    """
    if not records:
        return
    if not is_postgresql():
        model.objects.bulk_create(records, batch_size=500)
        return
    meta = model._meta
    db = connections[DEFAULT_DB_ALIAS]
    fields = [f for f in meta.concrete_fields if not (f.primary_key and f.db_returning)]
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    table = db.ops.quote_name(meta.db_table)
    sql = f"COPY {table} ({columns}) FROM STDIN"
    # The raw driver cursor raises the driver's own errors: wrapped, a duplicate mutation id
    # from a concurrent retry is Django's IntegrityError, which the batch retries on.
    with db.wrap_database_errors, db.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for record in records:
            copy.write_row([f.get_db_prep_save(f.pre_save(record, True), db) for f in fields])
