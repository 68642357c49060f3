"""Positions in the change stream, and the watermark a pull may read up to.

PostgreSQL hands out sequence numbers before commit, so paging on the sequence alone
could skip a change that commits late with a lower number. Each change therefore also
records its transaction id; transaction ids are assigned in start order, and
`pg_snapshot_xmin` is the oldest one still in flight. A pull reads only changes whose
transaction id is below that watermark, ordered by (txid, seq): everything below it is
final, and any transaction that commits later has a larger id, so it lands after the
cursor, never behind it.

SQLite runs one writing transaction at a time, so the sequence alone is in commit order;
the txid column repeats the sequence number there.
"""

from dataclasses import dataclass

from django.db import connection

from sync.models import SyncCounter

SEQUENCE_NAME = "sync_position_seq"


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


def watermark_sql() -> str:
    """SQL for the largest txid a pull may read (exclusive), in the current statement."""
    if is_postgresql():
        return "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    return "9223372036854775807"


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
