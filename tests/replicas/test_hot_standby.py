"""Past one machine, proven on real engines: a PostgreSQL primary with a hot standby,
PgBouncer in transaction mode in front of the primary, two gunicorn app servers sharing
a database cache, and phones that alternate between the servers.

- the fleet simulation converges with nothing lost or duplicated;
- with replay paused on the standby, a phone that pushed and then pulls sees its own
  change, and after replay resumes no pull has skipped a change;
- the login brake holds across the two servers;
- the standby stopped mid-run: reads fall back to the primary, no phone sees an error.
"""

import itertools
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.db import connection
from knox.models import AuthToken

from accounts.models import Region, Role, User
from accounts.scope import scope_filter
from surveys.models import SiteSurvey
from sync.mutations import record_wire
from sync.registry import all_entities
from tests.live_client import LiveClient
from tests.replicas.conftest import django_on, unavailable
from tests.sync.phone import Phone
from tests.sync.test_fleet_simulation import Fleet, check_no_lost_or_duplicated_edits, make_stores

PASSWORD = "fieldline-replica-pw"
READ_FROM = "X-Fieldline-Read-From"


class Alternating:
    """One device's client that sends each request to the next app server in turn, and
    counts which database answered its reads."""

    served: Counter = Counter()
    lock = threading.Lock()

    def __init__(self, urls: list[str], token: str | None = None) -> None:
        self.clients = [LiveClient(url, token=token) for url in urls]
        self.turn = itertools.cycle(range(len(urls)))
        self.last: Any = None
        self.last_sent = 0.0

    def _next(self) -> LiveClient:
        self.last_sent = time.monotonic()
        return self.clients[next(self.turn)]

    def _seen(self, response):
        self.last = response
        where = response.headers.get(READ_FROM)
        if where:
            with Alternating.lock:
                Alternating.served[where] += 1
        return response

    def get(self, path, params=None):
        return self._seen(self._next().get(path, params))

    def post(self, path, data=None, format="json"):  # noqa: A002
        return self._seen(self._next().post(path, data))

    def patch(self, path, data=None, format="json"):  # noqa: A002
        return self._seen(self._next().patch(path, data))


@pytest.fixture(scope="module")
def fleet_people(deployment, django_db_blocker) -> dict[str, User]:
    """The people of the fleet, on the temporary primary."""
    with django_on(deployment.cluster.primary, django_db_blocker):
        regions = {
            code: Region.objects.create(code=code, name=code.title()) for code in ("north", "south")
        }
        people = {}
        for key, name, role, region in [
            ("rep_north", "rep-north-1", Role.REP, "north"),
            ("rep_north_2", "rep-north-2", Role.REP, "north"),
            ("rep_south", "rep-south-1", Role.REP, "south"),
            ("manager_north", "manager-north", Role.MANAGER, "north"),
            ("manager_south", "manager-south", Role.MANAGER, "south"),
        ]:
            people[key] = User.objects.create_user(
                username=name, password=None, role=role, region=regions[region]
            )
        make_stores(people, random.Random(19))
    return people


def token_for(user: User) -> str:
    return AuthToken.objects.create(user=user)[1]


def expected_scope(user: User) -> dict[tuple[str, str], dict]:
    out = {}
    for spec in all_entities():
        for record in spec.model.objects.filter(scope_filter(user=user), deleted=False):
            out[(spec.name, str(record.pk))] = record_wire(spec=spec, record=record)
    return out


def assert_holds_its_scope(phone: Phone, user: User) -> None:
    expected = expected_scope(user)
    assert set(phone.replica) == set(expected)
    for key, record in expected.items():
        assert phone.replica[key] == record, key


def test_fleet_on_two_app_servers_with_a_replica_loses_nothing(
    deployment, fleet_people, django_db_blocker
):
    if not deployment.through_bouncer:
        unavailable("pgbouncer is not installed (make pgbouncer): the fleet runs through it")
    cluster = deployment.cluster
    with django_on(cluster.primary, django_db_blocker):
        cluster.wait_replayed()
        rng = random.Random(20261204)
        fleet = Fleet(deployment.urls[0], fleet_people, rng)
        fleet.phones = fleet.phones[::2]  # 11 phones of three reps: quick, still crowded
        for _, phone in fleet.phones:
            phone.client = Alternating(deployment.urls, token=phone.client.token)
        fleet.managers = {
            region: Alternating(deployment.urls, token=client.token)
            for region, client in fleet.managers.items()
        }
        Alternating.served.clear()
        for _, phone in fleet.phones:
            phone.pull()
        for _ in range(4):
            seeds = [rng.getrandbits(32) for _ in fleet.phones]
            with ThreadPoolExecutor(max_workers=6) as pool:
                futures = [pool.submit(fleet.phone_round, i, s) for i, s in enumerate(seeds)]
                fleet.manager_round(fleet_people, rng)
                for future in futures:
                    future.result()
        figures = check_no_lost_or_duplicated_edits(fleet, fleet_people)
    served = dict(Alternating.served)
    print(
        f"\nfleet on 2 app servers{' via pgbouncer' if deployment.through_bouncer else ''}: "
        f"{len(fleet.phones)} phones, {figures['mutations']} mutations, {fleet.retries} lost "
        f"answers, {figures['conflicts']} conflicts; reads served by {served}"
    )
    assert figures["lost"] == 0
    assert figures["duplicated"] == 0
    assert figures["mutations"] > 60
    assert served.get("replica_1", 0) > 0  # the replica took reads


def test_paused_replay_a_phone_reads_its_own_writes_and_skips_nothing_after(
    deployment, fleet_people, django_db_blocker
):
    cluster = deployment.cluster
    urls = deployment.urls
    with django_on(cluster.primary, django_db_blocker):
        rep, manager = fleet_people["rep_south"], fleet_people["manager_south"]
        writer = Phone(Alternating(urls, token=token_for(rep)))
        bystander = Phone(Alternating(urls, token=token_for(manager)))
        writer.pull()
        bystander.pull()
        cluster.wait_replayed()
        cluster.sql(cluster.standby, "SELECT pg_wal_replay_pause()")
        try:
            survey_id = next(iter(writer.records("survey")))
            writer.update("survey", survey_id, notes="written while replay is paused")
            writer.push()  # to one app server ...
            writer.pull()  # ... and the pull to the other
            assert writer.client.last.headers[READ_FROM] == "default"
            server = SiteSurvey.objects.get(pk=survey_id)
            assert writer.replica[("survey", survey_id)]["notes"] == server.notes
            assert writer.replica[("survey", survey_id)]["version"] == server.version

            # A WatermelonDB pull of the writer also comes from the primary, with the write.
            melon = writer.client.get("/api/sync/watermelon", {"last_pulled_at": "null"})
            assert melon.headers[READ_FROM] == "default"
            surveys = melon.json()["changes"]["surveys"]
            mine = next(r for r in surveys["created"] + surveys["updated"] if r["id"] == survey_id)
            assert mine["version"] == server.version

            # A reader that has not seen the write reads the paused replica: behind, allowed.
            bystander.pull()
            assert bystander.client.last.headers[READ_FROM] == "replica_1"
            assert bystander.replica[("survey", survey_id)]["version"] < server.version
            stale = bystander.client.get("/api/sync/watermelon", {"last_pulled_at": "null"})
            assert stale.headers[READ_FROM] == "replica_1"

            # The shared cache lost the writer's note: its cursor alone keeps it on the
            # primary (not a resync, not less than it knows).
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM fieldline_cache")
            writer.update("survey", survey_id, notes="second, still paused")
            writer.push()
            writer.pull()
            assert writer.client.last.headers[READ_FROM] == "default"
            for n in range(3):
                writer.create("followup", store=next(iter(writer.records("store"))),
                              due_date="2026-12-24", note=f"paused {n}")  # fmt: skip
            writer.push()
            bystander.pull()
        finally:
            cluster.sql(cluster.standby, "SELECT pg_wal_replay_resume()")
        cluster.wait_replayed()
        # Replay resumed: the bystander's next pulls (from the replica) skip nothing.
        Alternating.served.clear()
        bystander.pull()
        writer.pull()
        assert_holds_its_scope(writer, rep)
        assert_holds_its_scope(bystander, manager)
        assert Alternating.served["replica_1"] >= 1


def test_login_brake_holds_across_two_app_servers(deployment, django_db_blocker):
    with django_on(deployment.cluster.primary, django_db_blocker):
        User.objects.create(
            username="brake-me",
            role=Role.HQ,
            password=make_password(PASSWORD, hasher=PBKDF2PasswordHasher()),
        )
    door = Alternating(deployment.urls)
    assert door.post("/api/auth/token", {"username": "brake-me", "password": PASSWORD}).json()
    for _ in range(5):  # LOGIN_FAILURE_LIMIT, spread over both servers
        wrong = door.post("/api/auth/token", {"username": "brake-me", "password": "guess"})
        assert wrong.status_code == 400
    for _ in range(2):  # locked out on both, even with the right password
        right = door.post("/api/auth/token", {"username": "brake-me", "password": PASSWORD})
        assert right.status_code == 429, right.body
        assert b"failed logins" in right.body
    # The per-address login throttle (10 a minute) counts across both servers too: the
    # eleventh request from this address is refused whatever name it tries.
    for n in range(2):
        other = door.post("/api/auth/token", {"username": f"nobody-{n}", "password": "x"})
        assert other.status_code == 400, other.body
    throttled = door.post("/api/auth/token", {"username": "nobody-2", "password": "x"})
    assert throttled.status_code == 429
    assert b"failed logins" not in throttled.body


def test_standby_stopped_mid_run_reads_fall_back_with_no_error(
    deployment, fleet_people, django_db_blocker
):
    cluster = deployment.cluster
    with django_on(cluster.primary, django_db_blocker):
        phones = [
            (who, Phone(Alternating(deployment.urls, token=token_for(fleet_people[who]))))
            for who in ("rep_north", "rep_north_2", "rep_south", "manager_north")
        ]
    for _, phone in phones:
        phone.pull()
    stopped_at: list[float] = []
    errors: list[BaseException] = []
    served_after_stop: Counter = Counter()

    def work(phone: Phone, seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(12):
                surveys = list(phone.records("survey"))
                if surveys:
                    phone.update("survey", rng.choice(surveys), notes=f"n{rng.random()}")
                phone.push()
                phone.pull(limit=rng.choice([5, 1000]))
                if stopped_at and phone.client.last_sent > stopped_at[0]:
                    # Sent once the standby was down: answered from the primary.
                    served_after_stop[phone.client.last.headers.get(READ_FROM)] += 1
                time.sleep(0.05)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [
        threading.Thread(target=work, args=(phone, n)) for n, (_, phone) in enumerate(phones)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.8)
    cluster.stop_standby()
    stopped_at.append(time.monotonic())
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert errors == []
        assert set(served_after_stop) == {"default"}
        with django_on(cluster.primary, django_db_blocker):
            for who, phone in phones:
                phone.pull()
                assert_holds_its_scope(phone, fleet_people[who])
    finally:
        cluster.restart_standby()
