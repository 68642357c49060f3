"""Faults in the middle of a write: the database connection killed, the server process
killed, an answer lost. Whatever breaks, a retry ends exactly as if each mutation (each
dispatch, each import) had been applied once: no half-applied change, no duplicate.

"Mid-push" is made deterministic with a lock: another transaction inserts, uncommitted,
the idempotency row the write will insert last, so the server's transaction waits at its
final statement with everything else written. Then the test kills that backend
(`pg_terminate_backend`) or the whole server process (SIGKILL).
"""

import time
import uuid
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone
from knox.models import AuthToken

from crm.models import Order, OrderLine
from stores.models import Store
from sync.models import AppliedMutation, ChangeLog, ChangeSource
from sync.registry import get_entity
from tasks.models import Dispatch, Task
from tests.conftest import create
from tests.live_client import LiveClient
from tests.row_locks import held, in_background
from tests.server_process import ServerProcess, current_database_url
from tests.sync.phone import Phone, PushFailed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: kills a server backend with pg_terminate_backend")


def device_client(url: str, user, timeout_s: float = 30.0) -> LiveClient:
    _, token = AuthToken.objects.create(user=user)
    return LiveClient(url, token=token, timeout_s=timeout_s)


def held_mutation_id(*, user, mutation_id: str):
    """An uncommitted AppliedMutation row with this id: a push carrying it waits at its
    last insert, with its records and changelog rows already written."""
    return held(
        lambda: AppliedMutation.objects.create(
            mutation_id=mutation_id,
            user=user,
            entity="followup",
            status="applied",
            at=timezone.now(),
        )
    )


def held_store(store_id):
    """A store row locked FOR UPDATE: a transaction that inserted rows referencing it (a
    task, an order) waits at COMMIT, where PostgreSQL runs Django's deferred foreign-key
    checks — with every row of it already written."""
    return held(lambda: Store.objects.select_for_update().get(pk=store_id))


def waiting_backend(*, query_prefix: str, timeout_s: float = 15.0) -> int:
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
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT state, wait_event_type, left(query, 60) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        activity = cursor.fetchall()
    raise AssertionError(f"no backend waits on {query_prefix!r}: {activity}")


def terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0] is True


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


def wait_until(condition, *, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_lost_push_answer_is_replayed_on_retry(postgres_only, live_server, people, world):
    """The server commits after the phone gave up waiting (its connection aborted)."""
    rep = people["rep_north"]
    store, survey = str(world["rep_north"]["store"]), str(world["rep_north"]["survey"])
    phone = Phone(device_client(live_server.url, rep, timeout_s=0.5))
    phone.pull()
    version = phone.replica[("survey", survey)]["version"]
    offline_edits(phone, store, survey)
    sent = len(phone.queue)
    last = phone.queue[-1]["mutation_id"]
    # The phone times out and drops the connection: the answer never arrives.
    with held_mutation_id(user=rep, mutation_id=last), pytest.raises(TimeoutError):
        phone.push()
    wait_until(lambda: AppliedMutation.objects.filter(user=rep).count() >= sent)
    assert len(phone.queue) == sent

    phone.client = device_client(live_server.url, rep)
    first = phone.push()
    assert [r["status"] for r in first] == ["applied"] * sent
    # The server had applied them: the retry's answers are the earlier ones, and say so.
    assert all(r["replayed"] for r in first)
    assert_exactly_once(phone, survey_id=survey, survey_version=version)
    replay = Phone(phone.client, device_id=phone.device_id, queue=list(phone.history)).push()
    assert replay == first  # the same answer again, nothing applied twice
    assert_exactly_once(phone, survey_id=survey, survey_version=version)


def test_push_survives_a_killed_server_process(postgres_only, people, world, tmp_path):
    """SIGKILL of the whole server (master and worker) during a 500-mutation push."""
    rep = people["rep_north"]
    store, survey = str(world["rep_north"]["store"]), str(world["rep_north"]["survey"])
    server = ServerProcess(current_database_url(), log_path=tmp_path / "server.log").start()
    try:
        phone = Phone(device_client(server.url, rep))
        phone.pull()
        version = phone.replica[("survey", survey)]["version"]
        for i in range(491):
            phone.create("followup", store=store, due_date="2026-12-24", note=f"offline {i}")
        offline_edits(phone, store, survey)
        assert len(phone.queue) == 500
        with held_mutation_id(user=rep, mutation_id=phone.queue[-1]["mutation_id"]):
            pushing, outcome = in_background(phone.push)
            waiting_backend(query_prefix='INSERT INTO "sync_appliedmutation"')
            server.kill()
            pushing.join(timeout=60)
        assert isinstance(outcome.get("error"), OSError), outcome  # connection dropped
        # The killed server's backend rolls back once it finds its client gone.
        wait_until(lambda: server_backends() == 0)
        assert nothing_applied(phone)

        server.start()  # restarted (same port, same database)
        results = phone.push()
        assert len(results) == 500
        assert {r["status"] for r in results} == {"applied"}
        assert_exactly_once(phone, survey_id=survey, survey_version=version)
    finally:
        server.stop()


def server_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return cursor.fetchone()[0]


# --- bulk dispatch and orders import ---------------------------------------------------


@pytest.fixture
def many_stores(people):
    """30 north stores: enough for several write chunks of a dispatch or an import."""
    return sorted(
        create(
            "store",
            name=f"Kiosk {n}",
            lat=53.55,
            lon=9.99,
            region="north",
            owner=(people["rep_north"] if n % 2 else people["rep_north_2"]).pk,
        )
        for n in range(30)
    )


DISPATCH = {"filter": {"region": "north"}, "task": {"type": "visit", "title": "Autumn check"}}


def dispatch_written() -> tuple[int, int, int]:
    return (
        Dispatch.objects.count(),
        Task.objects.filter(dispatch__isnull=False).count(),
        ChangeLog.objects.filter(source=ChangeSource.DISPATCH).count(),
    )


def test_dispatch_killed_midway_leaves_nothing_and_a_retry_makes_one(
    postgres_only, live_server, people, many_stores, monkeypatch
):
    from sync import bulk

    monkeypatch.setattr(bulk, "CHUNK", 10)  # several chunks (the server runs in-process)
    manager = device_client(live_server.url, people["manager_north"])
    body = {**DISPATCH, "request_id": str(uuid.uuid4())}
    # All three chunks of tasks are written; the commit waits on the locked store.
    with held_store(many_stores[25]):
        posting, outcome = in_background(lambda: manager.post("/api/tasks/dispatch", body))
        terminate(waiting_backend(query_prefix="COMMIT"))
        posting.join(timeout=60)
    assert outcome["value"].status_code == 503, outcome
    assert dispatch_written() == (0, 0, 0)  # all tasks or none: none

    answer = manager.post("/api/tasks/dispatch", body)
    assert answer.status_code == 201, answer.body
    assert answer.json()["created"] == 30
    assert dispatch_written() == (1, 30, 30)


def test_lost_dispatch_answer_retried_answers_the_same_dispatch(
    postgres_only, live_server, people, many_stores
):
    impatient = device_client(live_server.url, people["manager_north"], timeout_s=0.5)
    body = {**DISPATCH, "request_id": str(uuid.uuid4())}
    with held_store(many_stores[-1]), pytest.raises(TimeoutError):
        impatient.post("/api/tasks/dispatch", body)
    wait_until(lambda: dispatch_written() == (1, 30, 30))

    manager = device_client(live_server.url, people["manager_north"])
    retry = manager.post("/api/tasks/dispatch", body)
    assert retry.status_code == 201, retry.body
    dispatch = Dispatch.objects.get()
    assert retry.json()["id"] == str(dispatch.pk)
    assert retry.json()["created"] == 30
    assert manager.post("/api/tasks/dispatch", body).json() == retry.json()
    assert dispatch_written() == (1, 30, 30)
    # The same id for another dispatch is refused, and changes nothing.
    other = {**body, "task": {"type": "visit", "title": "Something else"}}
    refused = manager.post("/api/tasks/dispatch", other)
    assert refused.status_code == 409, refused.body
    assert dispatch_written() == (1, 30, 30)


def orders_csv(stores) -> bytes:
    rows = ["order_id,store_id,order_date,sku,quantity,amount"]
    for n, store in enumerate(stores):
        rows.append(f"ORD-{n:03d},{store},2026-11-02,SKU-A,2,10.00")
        rows.append(f"ORD-{n:03d},{store},2026-11-02,SKU-B,1,4.50")
    return ("\n".join(rows) + "\n").encode()


def test_import_killed_midway_leaves_nothing_and_a_lost_answer_is_harmless(
    postgres_only, live_server, people, many_stores, settings
):
    settings.FIELDLINE = {**settings.FIELDLINE, "ORDER_IMPORT_CHUNK_ROWS": 10}
    hq = device_client(live_server.url, people["hq"])
    body = orders_csv(many_stores)

    def send(client):
        return client.post_raw("/api/imports/orders", body, "text/csv")

    # Six chunks of five orders are written; the commit waits on the locked store.
    with held_store(many_stores[12]):
        posting, outcome = in_background(lambda: send(hq))
        terminate(waiting_backend(query_prefix="COMMIT"))
        posting.join(timeout=60)
    assert outcome["value"].status_code == 503, outcome
    assert (Order.objects.count(), OrderLine.objects.count()) == (0, 0)

    impatient = device_client(live_server.url, people["hq"], timeout_s=0.5)
    with held_store(many_stores[-1]), pytest.raises(TimeoutError):
        send(impatient)
    wait_until(lambda: Order.objects.count() == 30)

    retry = send(hq)
    assert retry.status_code == 200, retry.body
    assert (retry.json()["orders_created"], retry.json()["orders_skipped"]) == (0, 30)
    assert (Order.objects.count(), OrderLine.objects.count()) == (30, 60)
