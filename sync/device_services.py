"""What the server learns of a phone from its sync requests, written as one upsert."""

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from accounts.models import User
from sync.models import Device


@dataclass(frozen=True)
class DeviceReport:
    """One sync request as device health sees it."""

    device_id: str
    app_version: str  # "" when the app did not say
    pending_mutations: int | None
    kind: str  # "push" or "pull"
    status_code: int
    error: str  # "" for a success
    cursor: tuple[int, int] | None  # the position of the cursor the answer handed out


def device_seen(*, user: User, report: DeviceReport, at: dt.datetime) -> None:
    """Record a sync request of a device: one INSERT ... ON CONFLICT DO UPDATE, whatever
    the device's history, so that health costs each request one write and no read."""
    ok = 200 <= report.status_code < 300
    table = Device._meta.db_table
    sql = f"""
        INSERT INTO {table} (user_id, device_id, app_version, first_seen, last_seen,
            last_push_at, last_pull_at, cursor_txid, cursor_seq, pending_mutations,
            last_error, last_error_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (user_id, device_id) DO UPDATE SET
            app_version = CASE WHEN excluded.app_version <> '' THEN excluded.app_version
                ELSE {table}.app_version END,
            last_seen = excluded.last_seen,
            last_push_at = COALESCE(excluded.last_push_at, {table}.last_push_at),
            last_pull_at = COALESCE(excluded.last_pull_at, {table}.last_pull_at),
            cursor_txid = COALESCE(excluded.cursor_txid, {table}.cursor_txid),
            cursor_seq = CASE WHEN excluded.cursor_txid IS NULL THEN {table}.cursor_seq
                ELSE excluded.cursor_seq END,
            pending_mutations = COALESCE(excluded.pending_mutations, {table}.pending_mutations),
            last_error = CASE WHEN excluded.last_error <> '' THEN excluded.last_error
                ELSE {table}.last_error END,
            last_error_at = COALESCE(excluded.last_error_at, {table}.last_error_at)
    """  # noqa: S608
    cursor_txid, cursor_seq = report.cursor if report.cursor is not None else (None, None)
    when = connection.ops.adapt_datetimefield_value(at)
    params = [
        user.pk,
        report.device_id,
        report.app_version,
        when,
        when,
        when if ok and report.kind == "push" else None,
        when if ok and report.kind == "pull" else None,
        cursor_txid if ok else None,
        cursor_seq if ok else None,
        report.pending_mutations,
        report.error[:300],
        when if report.error else None,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
