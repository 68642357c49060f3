"""A fleet of phones works offline, syncs over a live server, and converges.

21 phones of three reps in two regions make random creates, edits and deletes for many
rounds; some push answers are lost and retried; managers edit stores and reassign them
between reps meanwhile. At the end every phone's replica equals the server state of its
scope, nothing is duplicated, and every value a phone sent is in the changelog, in the
conflict log, or was answered `rejected`.
"""

import random
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from knox.models import AuthToken

from accounts.scope import scope_filter
from sync.models import AppliedMutation, ChangeLog, ConflictLog, ScopeExit
from sync.mutations import record_wire
from sync.registry import all_entities
from tests.conftest import create
from tests.live_client import LiveClient
from tests.sync.phone import Phone, now_iso

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

ROUNDS = 8
PHONES_PER_REP = 7
EQUIPMENT = ["microwave", "freezer", "oven", "coffee_machine", "open_chiller"]


def make_stores(people, rng: random.Random) -> None:
    for who in ("rep_north", "rep_north_2", "rep_south"):
        rep = people[who]
        for n in range(4):
            store = create(
                "store",
                name=f"{who} kiosk {n}",
                lat=53.55 if rep.region_id == "north" else 48.14,
                lon=9.99 if rep.region_id == "north" else 11.58,
                region=rep.region_id,
                owner=rep.pk,
            )
            create("survey", store=store, footfall_weekday=rng.randint(50, 500), equipment=[])


def canonical(value):
    return sorted(value) if isinstance(value, list) else value


def device_client(live_url: str, user) -> LiveClient:
    """A client with a token of its own, as each phone has (minted directly: logging in
    21 devices at once would trip the login rate limit, which is not under test here)."""
    _, token = AuthToken.objects.create(user=user)
    return LiveClient(live_url, token=token)


class Fleet:
    def __init__(self, live_url: str, people, rng: random.Random) -> None:
        self.rng = rng
        self.counter = 0
        self.lock = threading.Lock()
        self.phones: list[tuple[str, Phone]] = []
        for who in ("rep_north", "rep_north_2", "rep_south"):
            for _ in range(PHONES_PER_REP):
                self.phones.append((who, Phone(device_client(live_url, people[who]))))
        self.managers = {
            region: device_client(live_url, people[f"manager_{region}"])
            for region in ("north", "south")
        }
        self.retries = 0

    def unique(self) -> int:
        with self.lock:
            self.counter += 1
            return self.counter

    def offline_work(self, phone: Phone, rng: random.Random) -> None:
        stores = list(phone.records("store"))
        surveys = list(phone.records("survey"))
        for _ in range(rng.randint(1, 5)):
            roll = rng.random()
            if roll < 0.45 and surveys:
                survey = rng.choice(surveys)
                fields = {"notes": f"{phone.device_id} note {self.unique()}"}
                if rng.random() < 0.5:
                    fields["footfall_weekday"] = 10_000 + self.unique()
                if rng.random() < 0.4:
                    fields["equipment"] = rng.sample(EQUIPMENT, rng.randint(0, 3))
                phone.update("survey", survey, **fields)
            elif roll < 0.65 and stores:
                phone.create(
                    "visit",
                    store=rng.choice(stores),
                    check_in_at=now_iso(),
                    purpose="routine",
                    notes=f"{phone.device_id} visit {self.unique()}",
                )
            elif roll < 0.85 and stores:
                phone.create(
                    "followup",
                    store=rng.choice(stores),
                    due_date="2026-12-24",
                    note=f"{phone.device_id} follow-up {self.unique()}",
                )
            else:
                followups = list(phone.records("followup"))
                if followups:
                    phone.delete("followup", rng.choice(followups))

    def phone_round(self, index: int, seed: int) -> None:
        _, phone = self.phones[index]
        rng = random.Random(seed)
        try:
            self.offline_work(phone, rng)
            if rng.random() < 0.25:
                phone.push(lose_answer=True)
                with self.lock:
                    self.retries += 1
            phone.push()
            phone.pull(limit=rng.choice([5, 50, 1000]))
        finally:
            connection.close()

    def manager_round(self, people, rng: random.Random) -> None:
        north = self.managers["north"]
        stores = north.get("/api/stores/", {"page_size": 100}).json()["results"]
        for store in rng.sample(stores, 2):
            north.patch(f"/api/stores/{store['id']}/", {"grade": rng.choice("ABC")})
        moved = rng.choice(stores)
        target = (
            people["rep_north_2"]
            if moved["owner"] == people["rep_north"].pk
            else people["rep_north"]
        )
        response = north.patch(f"/api/stores/{moved['id']}/", {"owner": target.pk})
        assert response.status_code == 200, response.body
        south = self.managers["south"]
        for store in south.get("/api/stores/").json()["results"][:2]:
            south.patch(f"/api/stores/{store['id']}/", {"grade": rng.choice("ABC")})


def test_fleet_converges_and_loses_nothing(live_server, people, world):
    rng = random.Random(20261130)
    make_stores(people, rng)
    fleet = Fleet(live_server.url, people, rng)
    for _, phone in fleet.phones:
        phone.pull()
    for _ in range(ROUNDS):
        seeds = [rng.getrandbits(32) for _ in fleet.phones]
        with ThreadPoolExecutor(max_workers=6) as pool:
            futures = [pool.submit(fleet.phone_round, i, s) for i, s in enumerate(seeds)]
            fleet.manager_round(people, rng)
            for future in futures:
                future.result()
    figures = check_no_lost_or_duplicated_edits(fleet, people)
    print(
        f"\nfleet: {len(fleet.phones)} phones, {ROUNDS} rounds, {figures['mutations']} "
        f"mutations, {figures['checked']} field values checked, {figures['conflicts']} "
        f"conflicts, {fleet.retries} lost answers retried, {figures['rejected']} rejected"
    )
    assert figures["mutations"] > 300
    assert figures["checked"] > 300


def check_no_lost_or_duplicated_edits(fleet: Fleet, people) -> dict[str, int]:
    """After a final push and pull of every phone: each replica equals its scope, every
    mutation a phone made was applied once (none lost, none twice), and every value sent
    was applied, logged as a conflict or answered rejected. Returns the figures."""
    for _, phone in fleet.phones:
        phone.push()
    for _, phone in fleet.phones:
        phone.pull()

    # Every phone holds exactly its scope, each record as the server has it.
    for who, phone in fleet.phones:
        user = people[who]
        expected = {}
        for spec in all_entities():
            for record in spec.model.objects.filter(scope_filter(user=user), deleted=False):
                expected[(spec.name, str(record.pk))] = record_wire(spec=spec, record=record)
        differences = set(phone.replica) ^ set(expected)
        if differences:
            print(who, phone.device_id, *explain(differences, phone), sep="\n")
        assert not differences, who
        for key, record in expected.items():
            assert phone.replica[key] == record, key

    # Nothing duplicated: each mutation applied at most once.
    applied = Counter(ChangeLog.objects.exclude(mutation_id=None).values_list("mutation_id"))
    duplicated = sum(times - 1 for times in applied.values())
    assert duplicated == 0
    # Nothing lost: every mutation any phone made has its answer stored.
    sent = {uuid.UUID(m["mutation_id"]) for _, phone in fleet.phones for m in phone.history}
    lost = len(sent - set(AppliedMutation.objects.values_list("mutation_id", flat=True)))
    assert lost == 0

    # Every value sent is applied, logged as a conflict, or was answered rejected.
    rejected = set(
        AppliedMutation.objects.filter(status="rejected").values_list("mutation_id", flat=True)
    )
    logged = set(ConflictLog.objects.values_list("mutation_id", "field"))
    changes = dict(ChangeLog.objects.values_list("mutation_id", "new_values"))
    # A value equal to the server's at the time changes nothing and needs no log entry;
    # it must then be a value the field really had.
    history: dict[tuple[str, str], list] = {}
    for record_id, new_values in ChangeLog.objects.values_list("record_id", "new_values"):
        for name, value in new_values.items():
            history.setdefault((str(record_id), name), []).append(canonical(value))
    checked = 0
    for _, phone in fleet.phones:
        for entry in phone.history:
            mutation_id = uuid.UUID(entry["mutation_id"])
            if mutation_id in rejected:
                continue
            applied_values = changes.get(mutation_id, {})
            for field, value in entry.get("fields", {}).items():
                checked += 1
                value = canonical(value)
                kept = canonical(applied_values.get(field, object()))
                assert (
                    kept == value
                    or (mutation_id, field) in logged
                    or value in history.get((entry["record_id"], field), [])
                ), (entry, field)
    return {
        "sent": len(sent),
        "lost": lost,
        "duplicated": duplicated,
        "mutations": AppliedMutation.objects.count(),
        "checked": checked,
        "conflicts": ConflictLog.objects.count(),
        "rejected": len(rejected),
    }


def explain(keys, phone: Phone) -> list[dict]:
    """For a failed convergence check: each differing record's rows, changes and exits."""
    out = []
    for entity, pk in sorted(keys):
        spec = next(spec for spec in all_entities() if spec.name == entity)
        out.append(
            {
                "record": (entity, pk),
                "on_phone": phone.replica.get((entity, pk)),
                "server": list(
                    spec.model.objects.filter(pk=pk).values(
                        "version", "deleted", "scope_owner", "sync_txid", "sync_seq"
                    )
                ),
                "changes": list(
                    ChangeLog.objects.filter(record_id=pk)
                    .order_by("seq")
                    .values_list("seq", "version", "op", "source", "device_id", "new_values")
                ),
                "exits": list(
                    ScopeExit.objects.filter(record_id=pk).values_list(
                        "owner", "sync_txid", "sync_seq"
                    )
                ),
                "sent": [m for m in phone.history if m["record_id"] == pk],
                "answers": list(
                    AppliedMutation.objects.filter(record_id=pk).values_list(
                        "mutation_id", "status", "result", "device_id"
                    )
                ),
                "rejected": [r for m, r in phone.rejected if m["record_id"] == pk],
            }
        )
    return out
