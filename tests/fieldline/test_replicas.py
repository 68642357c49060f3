"""Read routing to replicas (fieldline/replicas.py), with a replica alias that is the test
database itself (Django's test mirror): which alias each read goes to, when a replica is
out of rotation, and read-your-writes. The real hot standby is in tests/replicas/."""

import json

import pytest
from django.db import DatabaseError, OperationalError, connections, transaction
from django.test.utils import CaptureQueriesContext

from fieldline import replicas
from fieldline.replicas import (
    PRIMARY,
    ReplicaBehind,
    ReplicaHealth,
    ReplicaRead,
    ReplicaRouter,
    choose_replica,
    note_seen,
    read_on_replica,
    reading_from,
    seen_lsn,
)
from stores.models import Store
from sync import pull as sync_pull
from sync.models import SyncCounter
from sync.pull import pull_page
from tests.sync.phone import Phone

MIRROR = "replica_mirror"
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", MIRROR])


@pytest.fixture
def with_replica(settings):
    settings.DATABASE_REPLICAS = [MIRROR]
    replicas.forget_health()
    yield MIRROR
    replicas.forget_health()


def test_reads_go_to_the_replica_only_inside_a_read_context():
    router = ReplicaRouter()
    assert router.db_for_read(Store) == PRIMARY
    with reading_from(MIRROR):
        assert router.db_for_read(Store) == MIRROR
        # The database cache (login brake, read-your-writes notes) is the primary's.
        from django.core.cache.backends.db import DatabaseCache

        cache_model = DatabaseCache("t", {}).cache_model_class
        assert router.db_for_read(cache_model) == PRIMARY
    assert router.db_for_read(Store) == PRIMARY
    assert router.allow_migrate(MIRROR, "stores") is False
    assert router.allow_migrate(PRIMARY, "stores") is True


def test_a_write_and_every_read_after_it_go_to_the_primary(world):
    router = ReplicaRouter()
    with reading_from(MIRROR):
        assert router.db_for_read(Store) == MIRROR
        with transaction.atomic():
            assert router.db_for_read(Store) == PRIMARY  # a read inside a transaction
        assert router.db_for_read(Store) == MIRROR
        with CaptureQueriesContext(connections[PRIMARY]) as on_primary:
            SyncCounter.objects.create(name="probe", value=1)
            assert SyncCounter.objects.filter(name="probe").exists()
        assert len(on_primary) == 2  # the write, then the read after it
        assert router.db_for_read(Store) == PRIMARY


def test_a_pull_reads_from_the_replica_and_answers_what_the_primary_would(
    with_replica, client_for, world
):
    on_primary = Phone(client_for("rep_north"))
    on_primary.pull()
    phone = Phone(client_for("rep_north"))
    answer = phone.client.get("/api/sync/pull", {"limit": 2})
    assert answer.status_code == 200
    assert answer["X-Fieldline-Read-From"] == MIRROR
    phone.pull()
    assert phone.replica == on_primary.replica
    assert len(phone.replica) > 3


def test_out_of_rotation_when_lagging_or_down(with_replica, settings, monkeypatch):
    assert choose_replica() == MIRROR
    settings.FIELDLINE = {**settings.FIELDLINE, "REPLICA_MAX_LAG_S": -1.0}
    replicas.forget_health()
    health = replicas.check_replica(MIRROR)
    assert not health.ok
    assert "lag" in health.reason
    assert choose_replica() == PRIMARY
    settings.FIELDLINE = {**settings.FIELDLINE, "REPLICA_MAX_LAG_S": 10.0}
    replicas.forget_health()
    assert choose_replica() == MIRROR

    # A replica that does not answer: out, and remembered so (no new try within the TTL).
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections[MIRROR], "ensure_connection", refuse)
    connections[MIRROR].close()
    replicas.forget_health()
    assert choose_replica() == PRIMARY
    monkeypatch.undo()
    assert choose_replica() == PRIMARY  # still out until its health is asked again
    replicas.forget_health()
    assert choose_replica() == MIRROR


def test_a_replica_failing_mid_read_is_taken_out_and_the_primary_answers(with_replica, monkeypatch):
    calls = []

    def read():
        calls.append(replicas.current_replica())
        if replicas.current_replica():
            raise OperationalError("terminating connection due to administrator command")
        return "answer"

    assert replicas.replica_health(MIRROR).ok  # in rotation; asked again after the failure
    monkeypatch.setattr(
        replicas,
        "check_replica",
        lambda alias: ReplicaHealth(ok=False, lag_s=float("inf"), replay_lsn=None, checked_at=0),
    )
    outcome = ReplicaRead()
    assert read_on_replica(read, outcome=outcome) == "answer"
    assert calls == [MIRROR, None]
    assert outcome.alias == PRIMARY
    assert outcome.fell_back == "down"
    assert replicas._health[MIRROR].ok is False


def test_an_error_of_a_replica_that_still_answers_is_not_hidden(with_replica):
    def read():
        raise OperationalError("a real error")

    with pytest.raises(DatabaseError):
        read_on_replica(read)


def test_read_your_writes_a_reader_goes_to_the_primary_until_the_replica_has_its_write(
    with_replica, people
):
    if connections[MIRROR].vendor != "postgresql":
        pytest.skip("WAL positions are PostgreSQL's")
    reader = people["rep_north"].pk
    replicas.note_write(reader)
    assert seen_lsn(reader) > 0
    assert choose_replica(at_least_lsn=seen_lsn(reader)) == MIRROR  # a mirror has it all
    note_seen(reader, seen_lsn(reader) + 10**12)  # a write the replica has not replayed
    outcome = ReplicaRead()
    read_on_replica(lambda: None, reader=reader, outcome=outcome)
    assert outcome.alias == PRIMARY
    # The note only rises.
    before = seen_lsn(reader)
    note_seen(reader, 1)
    assert seen_lsn(reader) == before


def test_a_pull_whose_cursor_is_past_the_replica_is_served_by_the_primary(
    with_replica, people, world, monkeypatch
):
    first = pull_page(user=people["rep_north"], cursor_text=None, limit=1000)
    while first.has_more:
        first = pull_page(user=people["rep_north"], cursor_text=first.cursor, limit=1000)
    assert first.position[0] > 0
    # The replica's watermark is at or below the cursor: it has not replayed what the
    # phone knows. (A real lagging standby does this in tests/replicas/.)
    monkeypatch.setattr("sync.pull.watermark", lambda: first.position[0])
    with reading_from(MIRROR), pytest.raises(ReplicaBehind):
        pull_page(user=people["rep_north"], cursor_text=first.cursor, limit=1000)
    outcome = ReplicaRead()
    read_on_replica(
        lambda: pull_page(user=people["rep_north"], cursor_text=first.cursor, limit=1000),
        outcome=outcome,
    )
    assert outcome.alias == PRIMARY
    assert outcome.fell_back == "behind"


def test_hq_pages_and_reports_read_from_the_replica(with_replica, client, client_for, people):
    client.force_login(people["hq"])
    assert client.get("/hq/")["X-Fieldline-Read-From"] == MIRROR
    report = client_for("manager_north").get("/api/reports/completeness", {"group_by": "region"})
    assert report.status_code == 200
    assert report["X-Fieldline-Read-From"] == MIRROR
    day = client_for("rep_north").get("/api/me/day", {"lat": 53.5, "lon": 10.0})
    assert day.status_code == 200
    assert day["X-Fieldline-Read-From"] == MIRROR


def test_any_write_request_notes_the_writers_position(with_replica, client_for, people, world):
    if connections[MIRROR].vendor != "postgresql":
        pytest.skip("WAL positions are PostgreSQL's")
    manager = client_for("manager_north")
    reader = people["manager_north"].pk
    assert seen_lsn(reader) == 0
    store = world["rep_north"]["store"]
    assert manager.patch(f"/api/stores/{store}/", {"grade": "B"}).status_code == 200
    assert seen_lsn(reader) > 0
    # A read does not (with one replica: its replay only moves forward).
    before = seen_lsn(reader)
    manager.get("/api/sync/pull")
    assert seen_lsn(reader) == before


def test_a_watermelon_pull_plans_and_streams_from_one_replica(
    with_replica, client_for, world, monkeypatch
):
    from django.test import Client

    rep = client_for("rep_north")
    token = rep._credentials["HTTP_AUTHORIZATION"]
    on_mirror = Client().get(
        "/api/sync/watermelon", {"last_pulled_at": "null"}, HTTP_AUTHORIZATION=token
    )
    assert on_mirror.status_code == 200
    assert on_mirror["X-Fieldline-Read-From"] == MIRROR
    first = json.loads(b"".join(on_mirror.streaming_content))
    # The stream's reads ran on the replica too, and equal the primary's answer.
    streamed_on = []
    original = replicas.stream_from

    def spy(alias, chunks):
        streamed_on.append(alias)
        return original(alias, chunks)

    monkeypatch.setattr("sync.watermelon_apis.stream_from", spy)
    settings_replicas = replicas.replica_aliases()
    assert settings_replicas == [MIRROR]
    again = Client().get(
        "/api/sync/watermelon", {"last_pulled_at": "null"}, HTTP_AUTHORIZATION=token
    )
    body = json.loads(b"".join(again.streaming_content))
    assert streamed_on == [MIRROR]
    assert body["changes"] == first["changes"]
    # A phone whose timestamp is past the replica's watermark is answered by the primary.
    real_watermark = sync_pull.watermark
    monkeypatch.setattr(
        "sync.watermelon.pull.watermark",
        lambda: body["timestamp"] - 1 if replicas.current_replica() else real_watermark(),
    )
    later = Client().get(
        "/api/sync/watermelon",
        {"last_pulled_at": str(body["timestamp"])},
        HTTP_AUTHORIZATION=token,
    )
    assert later.status_code == 200
    assert later["X-Fieldline-Read-From"] == "default"
    assert json.loads(b"".join(later.streaming_content))["timestamp"] >= body["timestamp"]


def test_several_replicas_share_the_reads(settings, monkeypatch):
    settings.DATABASE_REPLICAS = ["replica_a", "replica_b"]
    monkeypatch.setattr(
        replicas,
        "replica_health",
        lambda alias: ReplicaHealth(ok=True, lag_s=0.0, replay_lsn=None, checked_at=0),
    )
    chosen = {choose_replica() for _ in range(50)}
    assert chosen == {"replica_a", "replica_b"}
