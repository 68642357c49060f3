"""Soak: the fleet of phones syncs against a real server process for a while, with
connections aborted mid-request and answers lost, then nothing may be lost or applied
twice, no database connection may be left behind and the server's memory stays flat.

FIELDLINE_SOAK_SECONDS sets the duration (default 20; a nightly run can give 600).
"""

import os
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from sync.models import AppliedMutation
from tests.live_client import LiveClient
from tests.server_process import ServerProcess, current_database_url
from tests.sync.phone import Phone
from tests.sync.test_fleet_simulation import Fleet, check_no_lost_or_duplicated_edits, make_stores

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

SOAK_SECONDS = float(os.environ.get("FIELDLINE_SOAK_SECONDS", "20"))
# Growth of the worker's resident memory from the end of the first round to the end that
# still counts as flat: caches and allocator arenas settle, per-request garbage must not pile up.
RSS_GROWTH_LIMIT_KB = 40 * 1024


class SoakFleet(Fleet):
    """The fleet, plus phones whose requests are cut off by short client timeouts."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.disconnects = 0

    def count_disconnect(self) -> None:
        with self.lock:
            self.disconnects += 1

    def cut_off(self, phone: Phone, rng: random.Random, call) -> None:
        """Run `call` with a client that gives up after a few milliseconds: the request may
        not arrive, or be applied with its answer lost."""
        steady = phone.client
        phone.client = LiveClient(
            steady.base_url, token=steady.token, timeout_s=rng.uniform(0.002, 0.15)
        )
        try:
            call()
        except OSError:
            self.count_disconnect()
        finally:
            phone.client = steady

    def soak_round(self, index: int, seed: int) -> None:
        _, phone = self.phones[index]
        rng = random.Random(seed)
        try:
            self.offline_work(phone, rng)
            roll = rng.random()
            if roll < 0.2:
                phone.push(lose_answer=True)
                with self.lock:
                    self.retries += 1
            elif roll < 0.5:
                self.cut_off(phone, rng, phone.push)
            phone.push()  # the retry (or the first try): answered, the queue is empty
            if rng.random() < 0.3:
                self.cut_off(phone, rng, lambda: phone.pull(limit=5))
            phone.pull(limit=rng.choice([5, 50, 1000]))
        finally:
            connection.close()


def database_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend'"
        )
        return cursor.fetchone()[0]


def settle(expected: int, timeout_s: float = 15.0) -> int:
    """Connections of requests still finishing close on their own; wait for that."""
    deadline = time.monotonic() + timeout_s
    while (count := database_connections()) > expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return count


def test_soak(people, world, tmp_path):
    rng = random.Random(20261201)
    make_stores(people, rng)
    postgres = connection.vendor == "postgresql"
    server = ServerProcess(current_database_url(), log_path=tmp_path / "server.log").start()
    try:
        fleet = SoakFleet(server.url, people, rng)
        for _, phone in fleet.phones:
            phone.pull()
        connections_before = settle(1) if postgres else None
        rss_warm = rss_peak = 0
        rounds, started = 0, time.monotonic()
        while rounds < 2 or time.monotonic() - started < SOAK_SECONDS:
            seeds = [rng.getrandbits(32) for _ in fleet.phones]
            with ThreadPoolExecutor(max_workers=6) as pool:
                futures = [pool.submit(fleet.soak_round, i, s) for i, s in enumerate(seeds)]
                fleet.manager_round(people, rng)
                for future in futures:
                    future.result()
            rounds += 1
            rss = server.worker_rss_kb()
            rss_warm = rss_warm or rss
            rss_peak = max(rss_peak, rss)
        elapsed = time.monotonic() - started
        rss_end = server.worker_rss_kb()
        connections_after = settle(connections_before) if postgres else None
        figures = check_no_lost_or_duplicated_edits(fleet, people)
        assert server.process.poll() is None, "the server died"
        reasons = Counter(
            str(result.get("errors"))[:60]
            for result in AppliedMutation.objects.filter(status="rejected").values_list(
                "result", flat=True
            )
        )
    except BaseException:
        # A failure under load is rare and hard to reproduce: keep the server's side of it
        # (tracebacks of any 500) in the test's output.
        log = (tmp_path / "server.log").read_text(errors="replace")
        print(f"\nserver log, last 8,000 characters:\n{log[-8000:]}")
        raise
    finally:
        server.stop()

    print(
        f"\nsoak: {elapsed:.0f} s, {rounds} rounds, {len(fleet.phones)} phones, "
        f"{figures['sent']} mutations sent ({figures['mutations']} stored), "
        f"{fleet.retries} lost answers retried, {fleet.disconnects} connections cut off, "
        f"lost {figures['lost']}, duplicated {figures['duplicated']}, "
        f"{figures['conflicts']} conflicts, {figures['rejected']} rejected; "
        f"server RSS {rss_warm / 1024:.0f} MB after round 1, peak {rss_peak / 1024:.0f} MB, "
        f"end {rss_end / 1024:.0f} MB; "
        + (
            f"db connections {connections_before} before, {connections_after} after"
            if postgres
            else "db connections not counted on SQLite"
        )
        + f"; rejections by reason: {dict(reasons)}"
    )
    assert figures["sent"] > 100
    assert fleet.disconnects > 0
    assert fleet.retries > 0
    assert rss_end - rss_warm < RSS_GROWTH_LIMIT_KB
    if postgres:
        assert connections_after == connections_before
