"""Interleaving transactions on PostgreSQL at a known point: one connection holds row
locks in an open transaction while writers in background threads wait on them."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction


@contextmanager
def held(take_lock: Callable[[], Any], *, commit: bool = False) -> Iterator[None]:
    """Run `take_lock` in a transaction of another connection and hold it there, so that
    a request needing the same rows waits at a known statement; on exit the transaction
    rolls back, or commits (`commit`)."""
    ready, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                take_lock()
                ready.set()
                release.wait(timeout=60)
                transaction.set_rollback(not commit)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert ready.wait(timeout=30)
    try:
        yield
    finally:
        release.set()
        holder.join(timeout=60)


def lock_waiters(*, count: int, unless_done: dict[str, Any], timeout_s: float = 15.0) -> None:
    """Wait until `count` other backends of this database wait on a lock, or until
    `unless_done` (a writer thread's outcome) is filled because the writer did not wait."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not unless_done:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] >= count:
                return
        time.sleep(0.02)
    if not unless_done:
        raise AssertionError(f"fewer than {count} backends wait on a lock")


def in_background(call: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Run `call` in a thread with its own connection; its outcome lands in the dict, as
    `value` or `error`."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome
