"""Faults in the middle of a write: the database connection killed, the server process
killed, an answer lost. Whatever breaks, a retry ends exactly as if each mutation (each
dispatch, each import) had been applied once: no half-applied change, no duplicate.

"Mid-push" is made deterministic with a lock: another transaction inserts, uncommitted,
the idempotency row the write will insert last, so the server's transaction waits at its
final statement with everything else written. Then the test kills that backend
(`pg_terminate_backend`) or the whole server process (SIGKILL).
"""

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from knox.models import AuthToken

from sync.models import AppliedMutation, ChangeLog
from sync.registry import get_entity
from tests.live_client import LiveClient
from tests.sync.phone import Phone, PushFailed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: kills a server backend with pg_terminate_backend")


def device_client(url: str, user, timeout_s: float = 30.0) -> LiveClient:
    _, token = AuthToken.objects.create(user=user)
    return LiveClient(url, token=token, timeout_s=timeout_s)


@contextmanager
def held_mutation_id(*, user, mutation_id: str) -> Iterator[None]:
    """Hold an uncommitted AppliedMutation row with this id in another transaction: a push
    carrying the id waits on it at its last insert, then goes on when this rolls back."""
    ready, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                AppliedMutation.objects.create(
                    mutation_id=mutation_id,
                    user=user,
                    entity="followup",
                    status="applied",
                    at=timezone.now(),
                )
                ready.set()
                release.wait(timeout=60)
                transaction.set_rollback(True)
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


def waiting_backend(*, query_prefix: str, timeout_s: float = 30.0) -> int:
    """The pid of the backend of this database waiting on a lock while running a statement
    that starts with `query_prefix`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE %s AND pid <> pg_backend_pid()",
                [query_prefix + "%"],
            )
            row = cursor.fetchone()
        if row:
            return row[0]
        time.sleep(0.02)
    raise AssertionError(f"no backend waits on {query_prefix!r}")


def terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0] is True


def in_background(call) -> tuple[threading.Thread, dict[str, Any]]:
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


def offline_edits(phone: Phone, store_id: str, survey_id: str, n: int = 6) -> None:
    """Creates, a double update of one record and a delete: each must land exactly once."""
    for i in range(n):
        phone.create("followup", store=store_id, due_date="2026-12-24", note=f"call {i}")
    phone.update("survey", survey_id, notes="first", footfall_weekday=111)
    phone.update("survey", survey_id, notes="second")
    phone.create("visit", store=store_id, check_in_at="2026-11-30T09:00:00Z", purpose="routine")


def assert_exactly_once(phone: Phone, *, survey_id: str, survey_version: int) -> None:
    ids = [uuid.UUID(m["mutation_id"]) for m in phone.history]
    applied = AppliedMutation.objects.filter(pk__in=ids)
    assert applied.count() == len(ids)
    assert set(applied.values_list("status", flat=True)) == {"applied"}
    per_mutation = Counter(
        ChangeLog.objects.filter(mutation_id__in=ids).values_list("mutation_id", flat=True)
    )
    assert per_mutation == dict.fromkeys(ids, 1)
    survey = get_entity("survey").model.objects.get(pk=survey_id)
    assert (survey.version, survey.notes, survey.footfall_weekday) == (
        survey_version + 2,
        "second",
        111,
    )


def nothing_applied(phone: Phone) -> bool:
    ids = [uuid.UUID(m["mutation_id"]) for m in phone.history]
    return not (
        AppliedMutation.objects.filter(pk__in=ids).exists()
        or ChangeLog.objects.filter(mutation_id__in=ids).exists()
    )


def test_database_connection_killed_mid_push(postgres_only, live_server, people, world):
    rep = people["rep_north"]
    store, survey = str(world["rep_north"]["store"]), str(world["rep_north"]["survey"])
    phone = Phone(device_client(live_server.url, rep))
    phone.pull()
    version = phone.replica[("survey", survey)]["version"]
    offline_edits(phone, store, survey)
    last = phone.queue[-1]["mutation_id"]

    with held_mutation_id(user=rep, mutation_id=last):
        pushing, outcome = in_background(phone.push)
        backend = waiting_backend(query_prefix='INSERT INTO "sync_appliedmutation"')
        terminate(backend)
        pushing.join(timeout=60)
    # A clean answer at once, not a 500 and not per-mutation rejections a phone would drop.
    error = outcome.get("error")
    assert isinstance(error, PushFailed), outcome
    assert error.status_code == 503
    assert nothing_applied(phone)
    assert len(phone.queue) == 9

    phone.push()  # the phone retries the same push
    assert not phone.queue
    assert_exactly_once(phone, survey_id=survey, survey_version=version)
    phone.push()  # and an answer it lost would be replayed, nothing applied twice
