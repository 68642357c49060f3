"""A pull never moves its cursor past a change that has not committed yet.

Writers hold transactions open and commit out of the order in which they took their
positions, while a phone pulls through a live server; every change must reach it.
"""

import random
import threading
import time
import uuid

import pytest
from django.db import connection, transaction

from sync.batch import apply_mutation
from sync.mutations import Mutation
from tests.conftest import PASSWORD
from tests.live_client import LiveClient
from tests.sync.phone import Phone

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: commit order is position order there")


def create_followup(actor, store_id, note: str) -> str:
    record_id = uuid.uuid4()
    result = apply_mutation(
        actor=actor,
        mutation=Mutation(
            entity="followup",
            op="create",
            record_id=record_id,
            fields={"store": str(store_id), "due_date": "2026-12-24", "note": note},
        ),
        device_id="writer",
    )
    assert result.status == "applied", result
    return str(record_id)


def test_late_commit_with_an_earlier_position_is_not_skipped(
    postgres_only, live_server, people, world
):
    rep = people["rep_north"]
    store = world["rep_north"]["store"]
    phone = Phone(LiveClient(live_server.url).login(rep.username, PASSWORD))
    phone.pull()
    holding, release = threading.Event(), threading.Event()
    late: dict[str, str] = {}

    def slow_writer():
        try:
            with transaction.atomic():
                late["id"] = create_followup(rep, store, "took its position first")
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert holding.wait(timeout=30)
    early = create_followup(rep, store, "committed first")  # a later position, committed now
    phone.pull()
    # The cursor may not pass the in-flight change: the early commit waits behind it.
    assert ("followup", early) not in phone.replica
    release.set()
    writer.join(timeout=30)
    phone.pull()
    assert ("followup", late["id"]) in phone.replica
    assert ("followup", early) in phone.replica


def test_many_writers_committing_out_of_order_lose_nothing(
    postgres_only, live_server, people, world
):
    rep = people["rep_north"]
    store = world["rep_north"]["store"]
    phone = Phone(LiveClient(live_server.url).login(rep.username, PASSWORD))
    phone.pull()
    written: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    rng = random.Random(7)
    delays = [[rng.uniform(0, 0.05) for _ in range(15)] for _ in range(4)]

    def writer(index: int):
        try:
            for n, delay in enumerate(delays[index]):
                with transaction.atomic():
                    record_id = create_followup(rep, store, f"writer {index} #{n}")
                    time.sleep(delay)  # hold the position while others commit
                with lock:
                    written.append(record_id)
        finally:
            connection.close()

    pulls = 0

    def puller():
        nonlocal pulls
        while not stop.is_set():
            phone.pull(limit=7)
            pulls += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    pulling = threading.Thread(target=puller)
    pulling.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    stop.set()
    pulling.join(timeout=60)
    phone.pull()
    received = {pk for (entity, pk) in phone.replica if entity == "followup"}
    assert set(written) <= received
    assert len(written) == 60
    assert pulls > 3  # the puller really ran while writers were committing
