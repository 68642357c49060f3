"""A first sync in tiers: today's work first (tier 0), then the rest of the scope (tier 1),
nothing twice, nothing skipped, with progress; resumable from any cursor received; the
survey templates in force as a read-only entity."""

import base64
import datetime as dt
import socket
import uuid
from collections import Counter
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson
import pytest
from django.core import signing
from django.utils import timezone

from surveys.models import SurveyTemplate
from sync.cursors import Cursor
from sync.pull import sync_epoch
from tests.conftest import create, push_one
from tests.row_locks import held

# Pulls read only committed changes (see sync.positions), so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def day(people, world) -> dict[str, Any]:
    """rep-north-1's scope: one store with today's work, others without, and templates."""
    rep, hq = people["rep_north"], people["hq"]
    ids: dict[str, Any] = {"world": world["rep_north"]}

    def store(name: str) -> uuid.UUID:
        return create(
            "store",
            name=name,
            lat=53.55,
            lon=9.99,
            region="north",
            owner=rep.pk,
            trade_area_type="office",
        )

    ids["today_store"] = store("Today")
    ids["old_survey"] = create(
        "survey", store=ids["today_store"], captured_at="2026-10-01T09:00:00Z", notes="old"
    )
    ids["latest_survey"] = create(
        "survey", store=ids["today_store"], captured_at="2026-11-01T09:00:00Z", notes="latest"
    )
    ids["open_followup"] = create(
        "followup", store=ids["today_store"], due_date="2026-12-05", note="open"
    )
    ids["done_followup"] = create(
        "followup", store=ids["today_store"], due_date="2026-11-05", note="done", done=True
    )
    ids["open_task"] = create(
        "task",
        store=ids["today_store"],
        assignee=rep.pk,
        type="visit",
        title="Today",
        status="in_progress",
    )
    ids["closed_store"] = store("Closed work")
    ids["done_task"] = create(
        "task",
        store=ids["closed_store"],
        assignee=rep.pk,
        type="visit",
        title="Done",
        status="done",
    )
    ids["cancelled_task"] = create(
        "task",
        store=ids["closed_store"],
        assignee=rep.pk,
        type="visit",
        title="Cancelled",
        status="cancelled",
    )
    ids["closed_survey"] = create("survey", store=ids["closed_store"], notes="not today")
    ids["visit"] = create(
        "visit", store=ids["today_store"], check_in_at="2026-11-02T09:00:00Z", purpose="routine"
    )
    for n in range(6):
        create("store", name=f"Other {n}", lat=53.5, lon=9.9, region="north", owner=rep.pk)
    now = timezone.now()
    for trade_area, version in (("office", 1), ("office", 2), ("transit", 1)):
        template = SurveyTemplate.objects.create(
            trade_area_type=trade_area,
            version=version,
            required_fields=["footfall_weekday"],
            created_by=hq,
            created_at=now - dt.timedelta(days=10 - version),
        )
        ids[f"template_{trade_area}_{version}"] = template.pk
    return ids


def page(client, cursor: str | None, limit: int) -> dict[str, Any]:
    query = {"limit": limit} | ({"cursor": cursor} if cursor else {})
    response = client.get("/api/sync/pull", query)
    assert response.status_code == 200, response.content
    return response.json()


def key(change: dict[str, Any]) -> tuple[str, str]:
    return change["entity"], change["id"] if change["op"] == "delete" else change["record"]["id"]


def walk(client, *, limit: int, cursor: str | None = None) -> list[dict[str, Any]]:
    pages = []
    while True:
        body = page(client, cursor, limit)
        pages.append(body)
        cursor = body["cursor"]
        if not body["has_more"]:
            return pages


def scope_of(client) -> set[tuple[str, str]]:
    """Every live record in the user's scope, by REST."""
    found = set()
    for entity in ("store", "survey", "visit", "task", "photo", "followup"):
        response = client.get(f"/api/{entity}s/", {"page_size": 1000})
        found |= {(entity, row["id"]) for row in response.json()["results"]}
    return found


def today_expected(day) -> set[tuple[str, str]]:
    world = day["world"]  # its store has an open task of the rep's too
    return {
        ("store", str(world["store"])),
        ("survey", str(world["survey"])),
        ("followup", str(world["followup"])),
        ("task", str(world["task"])),
        ("store", str(day["today_store"])),
        ("survey", str(day["latest_survey"])),
        ("followup", str(day["open_followup"])),
        ("task", str(day["open_task"])),
        ("template", str(day["template_office_2"])),
        ("template", str(day["template_transit_1"])),
    }


def test_tier_0_holds_exactly_todays_work_then_tier_1_the_rest(client_for, day):
    client = client_for("rep_north")

    pages = walk(client, limit=2)

    tiers = [p["progress"]["tier"] for p in pages]
    first_rest = tiers.index(1)
    assert tiers == [0] * first_rest + [1] * (len(pages) - first_rest)
    tier_0 = [key(c) for p in pages[:first_rest] for c in p["changes"]]
    assert set(tier_0) == today_expected(day)
    assert [p["progress"]["tier_complete"] for p in pages[:first_rest]] == [False] * (
        first_rest - 1
    ) + [True]
    assert all(p["has_more"] for p in pages[:first_rest])
    # Tier 1: the rest of the scope, nothing of tier 0 again, nothing twice.
    everything = [key(c) for p in pages for c in p["changes"]]
    assert Counter(everything).most_common(1)[0][1] == 1
    templates = {k for k in everything if k[0] == "template"}
    assert set(everything) - templates == scope_of(client)
    # Progress: counts what came, against an estimate made at the start that held.
    total = len(everything)
    received = 0
    for body in pages:
        received += len(body["changes"])
        assert body["progress"]["received"] == received
        assert body["progress"]["estimated_total"] == total
    assert [p["progress"]["tier_complete"] for p in pages[first_rest:]][-1] is True
    assert not any(p["progress"]["tier_complete"] for p in pages[first_rest:-1])


def test_a_record_of_tier_0_comes_again_only_when_it_changed(client_for, people, day):
    client = client_for("rep_north")
    rep, hq = people["rep_north"], people["hq"]
    cursor, tier_0 = None, []
    while True:  # tier 0 only
        body = page(client, cursor, 3)
        cursor = body["cursor"]
        tier_0 += [key(c) for c in body["changes"]]
        if body["progress"]["tier_complete"]:
            break
    # During the first sync: an office edit of today's store, the task closed on another
    # phone, a new open task at a store of tier 1, and a new survey at today's store.
    push_one(hq, "store", "update", day["today_store"], base_version=1, fields={"grade": "A"})
    push_one(rep, "task", "update", day["open_task"], base_version=1, fields={"status": "done"})
    new_task = create(
        "task",
        store=day["closed_store"],
        assignee=rep.pk,
        type="visit",
        title="New",
        status="open",
    )
    new_survey = create("survey", store=day["today_store"], captured_at="2026-12-01T09:00:00Z")

    rest = walk(client, limit=3, cursor=cursor)

    tier_1 = {key(c): c for p in rest for c in p["changes"]}
    assert tier_1[("store", str(day["today_store"]))]["record"]["grade"] == "A"
    assert tier_1[("task", str(day["open_task"]))]["record"]["status"] == "done"
    assert ("task", str(new_task)) in tier_1
    assert ("survey", str(new_survey)) in tier_1
    # Unchanged, and still today's work: not sent again. (Today's store changed, so what
    # came in tier 0 because of it comes again.)
    world = day["world"]
    for entity in ("store", "survey", "followup", "task"):
        assert (entity, str(world[entity])) in tier_0
        assert (entity, str(world[entity])) not in tier_1
    assert ("followup", str(day["open_followup"])) in tier_1
    # After the walk the phone holds every live record, and the next pull is empty.
    replica = set(tier_0) | set(tier_1)
    assert scope_of(client) <= replica
    assert page(client, rest[-1]["cursor"], 100)["changes"] == []


def test_a_change_in_flight_during_the_first_sync_is_delivered(
    postgres_only, client_for, people, day
):
    """A transaction that took its position before the walk began and commits after tier
    0 and part of tier 1 were served: the walk or the next pull brings it."""
    rep = people["rep_north"]
    client = client_for("rep_north")

    def edit() -> None:
        push_one(
            rep,
            "followup",
            "update",
            day["open_followup"],
            base_version=1,
            fields={"note": "in flight"},
        )

    with held(edit, commit=True):
        first = page(client, None, 2)
        second = page(client, first["cursor"], 2)
    rest = walk(client, limit=2, cursor=second["cursor"])
    after = walk(client, limit=100, cursor=rest[-1]["cursor"])

    notes = [
        c["record"]["note"]
        for p in [first, second, *rest, *after]
        for c in p["changes"]
        if c["entity"] == "followup" and c["record"]["id"] == str(day["open_followup"])
    ]
    assert notes[-1] == "in flight"


def test_incremental_pulls_say_tier_1_complete(client_for, day):
    client = client_for("rep_north")
    pages = walk(client, limit=1000)
    create("followup", store=day["today_store"], due_date="2026-12-24", note="later")

    body = page(client, pages[-1]["cursor"], 1000)

    assert body["progress"] == {
        "tier": 1,
        "tier_complete": True,
        "received": 1,
        "estimated_total": 1,
    }


def test_templates_come_again_only_when_the_set_in_force_changes(client_for, people, day):
    client = client_for("rep_north")
    cursor = walk(client, limit=1000)[-1]["cursor"]

    assert page(client, cursor, 1000)["changes"] == []
    newer = SurveyTemplate.objects.create(
        trade_area_type="office", version=3, created_by=people["hq"], created_at=timezone.now()
    )
    body = page(client, cursor, 1000)

    templates = {c["record"]["id"]: c["record"] for c in body["changes"]}
    assert set(templates) == {str(newer.pk), str(day["template_transit_1"])}
    assert templates[str(newer.pk)]["version"] == 3
    assert {c["entity"] for c in body["changes"]} == {"template"}
    assert page(client, body["cursor"], 1000)["changes"] == []


# --- cursors -------------------------------------------------------------------------------


def tamper(cursor: str) -> str:
    payload, signature = cursor.split(":")
    raw = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[8] += 1000  # more received than was
    forged = base64.urlsafe_b64encode(orjson.dumps(raw)).decode().rstrip("=")
    return f"{forged}:{signature}"


@pytest.mark.parametrize(
    "make",
    [
        tamper,
        lambda c: c + "x",
        lambda c: c.split(":")[0],
        lambda c: "not a cursor",
        lambda c: ":",
        lambda c: "W1siYSJdXQ",
        lambda c: signing.Signer(salt="sync.pull.cursor", algorithm="sha256").sign("!!!"),
    ],
)
def test_a_crafted_cursor_is_400_never_500(client_for, world, make):
    client = client_for("rep_north")
    cursor = page(client, None, 2)["cursor"]

    response = client.get("/api/sync/pull", {"cursor": make(cursor)})

    assert response.status_code == 400, response.content
    assert "cursor" in response.json()


@pytest.mark.parametrize(
    "values",
    [
        [2, 0, -1, 0, None, 0, 1, [-1, ""], 0, None, ""],
        [2, 0, 0, 0, None, 0, 7, [-1, ""], 0, None, ""],
        [2, 0, 0, 0, None, 0, 0, [-1, ""], 0, None, ""],  # tier 0 outside a first walk
        [2, 0, 0, 0, 5, 1, 0, [9, ""], 0, None, ""],
        [2, 0, 0, 0, 5, 1, 0, [1, "nope"], 0, None, ""],
        [2, 0, 0, 0, 5, 1, 0, [1, ""], "many", None, ""],
        [2, 0, 0, 0, 5, 1, 0, [1, ""], 0, None, 7],
        [2, 0, 0.5, 0, None, 0, 1, [-1, ""], 0, None, ""],
    ],
)
def test_a_signed_cursor_with_impossible_values_is_still_400(client_for, world, values):
    """Defence in depth: even a cursor signed with the key is checked value by value."""
    client = client_for("rep_north")
    values = [values[0], sync_epoch(), *values[2:]]
    payload = base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")
    text = signing.Signer(salt="sync.pull.cursor", algorithm="sha256").sign(payload)

    response = client.get("/api/sync/pull", {"cursor": text})

    assert response.status_code == 400, response.content


def test_a_cursor_of_another_epoch_is_410(client_for, world):
    client = client_for("rep_north")
    cursor = Cursor(txid=1, seq=1).encode(epoch=sync_epoch() + 1)

    response = client.get("/api/sync/pull", {"cursor": cursor})

    assert response.status_code == 410
    assert response.json() == {"detail": "resync"}


def test_a_version_1_cursor_is_still_served(client_for, day):
    client = client_for("rep_north")
    legacy = base64.urlsafe_b64encode(orjson.dumps([1, sync_epoch(), 0, 0, None]))
    text = legacy.decode().rstrip("=")

    body = page(client, text, 1000)

    assert {key(c) for c in body["changes"]} - {
        k for k in today_expected(day) if k[0] == "template"
    } == scope_of(client)


# --- resume after a cut -------------------------------------------------------------------


def cut_get(base_url: str, path: str, token: str, *, read_body_bytes: int) -> None:
    """A GET whose connection is closed after the headers and part of the body."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {parts.hostname}\r\n"
            f"Authorization: Token {token}\r\nConnection: close\r\n\r\n"
        )
        sock.sendall(request.encode())
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(1)
        head, body = received.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200"), head
        length = int(
            next(
                line.split(b":")[1]
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
        )
        assert read_body_bytes < length  # the cut is inside the page
        while len(body) < read_body_bytes:
            body += sock.recv(read_body_bytes - len(body))
        sock.shutdown(socket.SHUT_RDWR)


def test_a_walk_cut_in_the_middle_of_a_page_resumes_resending_at_most_that_page(
    live_server, client_for, people, day
):
    import requests
    from knox.models import AuthToken

    rep = people["rep_north"]
    _, token = AuthToken.objects.create(user=rep)
    limit, cut_after = 3, 4
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    received: list[tuple[str, str]] = []
    cursor = None
    for _ in range(cut_after):
        body = session.get(
            f"{live_server.url}/api/sync/pull",
            params={"limit": limit} | ({"cursor": cursor} if cursor else {}),
        ).json()
        received += [key(c) for c in body["changes"]]
        cursor = body["cursor"]
    cut_get(
        live_server.url,
        "/api/sync/pull?" + urlencode({"limit": limit, "cursor": cursor}),
        token,
        read_body_bytes=40,
    )
    # The phone resumes from the last cursor it received.
    resumed = walk(client_for("rep_north"), limit=limit, cursor=cursor)
    for body in resumed:
        received += [key(c) for c in body["changes"]]

    records = {k for k in received if k[0] != "template"}
    assert records == scope_of(client_for("rep_north"))
    resent = sum(n - 1 for n in Counter(received).values())
    assert resent == 0  # the cut page's records came once: the phone never read them
    assert len(received) == len(set(received))
