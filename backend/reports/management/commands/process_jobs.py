"""The background worker: `manage.py process_jobs` (docker-compose's `worker` service).

Background jobs register here. A job is a plain function that takes no arguments, does
one bounded batch of work (an export, a completeness refresh, reminders that fell due)
and returns how many items it handled; add its dotted path to `JOBS` below. Each pass
runs every registered job once; when any of them did work the next pass starts right
away, otherwise the worker waits `--interval` seconds. A failing job is logged and the
others still run.

The loop holds no state of its own: whatever a job needs to resume lives in the
database, so any number of workers can run side by side as long as each job claims its
rows safely (`select_for_update(skip_locked=True)` on PostgreSQL). When the project moves
its heavy jobs onto a real queue (Django's task framework with a database backend, or
Celery), that queue's own worker replaces this command in docker-compose.yml.

SIGTERM and SIGINT end the worker cleanly: the job that is running finishes, no other
job starts, the database connection is closed and the command exits with status 0.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.utils.module_loading import import_string

logger = logging.getLogger("fieldline.worker")

# Dotted paths of the registered jobs, e.g. "reports.jobs.refresh_completeness".
JOBS: list[str] = [
    "crm.subsidy_services.coupons_expire",
]


def load_jobs(paths: list[str]) -> list[tuple[str, Callable[[], int | None]]]:
    jobs = []
    for path in paths:
        try:
            jobs.append((path, import_string(path)))
        except ImportError as exc:
            raise CommandError(f"cannot import job {path!r}: {exc}") from exc
    return jobs


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set `stop` on SIGTERM/SIGINT while inside the block; restore the old handlers."""

    def handle(signum, frame):
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def release_connections(*, obsolete_only: bool = False) -> None:
    """Close database connections (only broken or expired ones with `obsolete_only`).

    A connection inside an atomic block is left alone: closing it would poison the
    transaction, which matters when the command runs inside a test transaction.
    """
    for conn in connections.all(initialized_only=True):
        if conn.in_atomic_block:
            continue
        if obsolete_only:
            conn.close_if_unusable_or_obsolete()
        else:
            conn.close()


def run_pass(jobs: list[tuple[str, Callable[[], int | None]]], stop: threading.Event) -> int:
    """Run every job once (until `stop` is set); return the number of items handled."""
    handled = 0
    for name, job in jobs:
        if stop.is_set():
            break
        release_connections(obsolete_only=True)
        started = time.monotonic()
        try:
            count = job() or 0
        except Exception:
            logger.exception("job %s failed", name)
            continue
        handled += count
        if count:
            logger.info("job %s handled %d in %.2fs", name, count, time.monotonic() - started)
    return handled


class Command(BaseCommand):
    help = "Run the registered background jobs in a loop until SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            help="Seconds to wait after a pass in which no job had work (default: 5).",
        )
        parser.add_argument("--once", action="store_true", help="Run a single pass, then exit.")

    def handle(self, *args, interval: float, once: bool, **options):
        if interval <= 0:
            raise CommandError("--interval must be positive")
        jobs = load_jobs(JOBS)
        # Fail fast when the database is unreachable, before announcing readiness. Jobs
        # open their own connection when they need one; an idle worker holds none.
        connection.ensure_connection()
        release_connections()
        stop = threading.Event()
        with stop_on_signals(stop):
            self.log(f"worker ready ({len(jobs)} job(s) registered, {connection.vendor})")
            try:
                while not stop.is_set():
                    handled = run_pass(jobs, stop)
                    if once:
                        break
                    if not handled:
                        stop.wait(interval)
            finally:
                release_connections()
        self.log("worker stopped")

    def log(self, message: str) -> None:
        # Lifecycle lines go to stdout whatever LOG_LEVEL says: the container log
        # should always show when a worker came up and went down.
        self.stdout.write(message)
        self.stdout.flush()
