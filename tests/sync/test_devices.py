"""Device headers: too-old apps refused with 426, and each device's sync health as its
own requests report it (GET /api/sync/devices, the HQ page, sync_state)."""

import datetime as dt
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sync.app_versions import AppVersion, AppVersionInvalid
from sync.models import AppliedMutation, ChangeLog, Device
from tests.conftest import create, push_one
from visits.models import FollowUp

# Pulls read only committed changes (see sync.positions), so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def headers(device_id: str, version: str | None = "2.1.0", pending: int | None = None):
    given = {"HTTP_X_DEVICE_ID": device_id}
    if version is not None:
        given["HTTP_X_APP_VERSION"] = version
    if pending is not None:
        given["HTTP_X_PENDING_MUTATIONS"] = str(pending)
    return given


def followup_update(followup, note: str, *, device_id: str, base_version: int = 1) -> dict:
    return {
        "device_id": device_id,
        "mutations": [
            {
                "mutation_id": str(uuid.uuid4()),
                "entity": "followup",
                "op": "update",
                "record_id": str(followup),
                "base_version": base_version,
                "client_ts": "2026-11-30T08:15:02Z",
                "fields": {"note": note},
            }
        ],
    }


def pull_all(client, **extra) -> str:
    cursor = None
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/sync/pull", query, **extra)
        assert page.status_code == 200, page.content
        body = page.json()
        cursor = body["cursor"]
        if not body["has_more"]:
            return cursor


def devices_of(client, **query) -> dict[str, dict]:
    response = client.get("/api/sync/devices", query)
    assert response.status_code == 200, response.content
    return {row["device_id"]: row for row in response.json()["results"]}


# --- app versions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("1.9.9", "2.0.0"),
        ("2.0.0-beta.1", "2.0.0"),
        ("2.0.0-alpha", "2.0.0-alpha.1"),
        ("2.0.0-alpha.2", "2.0.0-alpha.10"),
        ("2.0.0-1", "2.0.0-alpha"),
        ("1.10.0", "1.11.0"),
        ("1.2.3", "1.2.10"),
    ],
)
def test_app_versions_compare_as_semver(older, newer):
    assert AppVersion.parse(older) < AppVersion.parse(newer)
    assert AppVersion.parse(newer + "+build.5") == AppVersion.parse(newer)


@pytest.mark.parametrize("text", ["2", "2.1", "v2.1.0", "2.1.0.4", "02.1.0", "2.1.0-", "x" * 80])
def test_malformed_app_versions_are_refused(text):
    with pytest.raises(AppVersionInvalid):
        AppVersion.parse(text)


# --- 426 ----------------------------------------------------------------------------------


def test_an_app_older_than_the_minimum_gets_426_and_changes_nothing(client_for, world, settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "MIN_APP_VERSION": "2.0.0"}
    client = client_for("rep_north")
    followup = world["rep_north"]["followup"]
    logged = ChangeLog.objects.count()

    push = client.post(
        "/api/sync/push",
        followup_update(followup, "old app", device_id="old-phone"),
        format="json",
        **headers("old-phone", "2.0.0-rc.1"),
    )
    pull = client.get("/api/sync/pull", **headers("old-phone", "1.9.9"))
    melon = client.get(
        "/api/sync/watermelon",
        {"last_pulled_at": "null", "schema_version": 1},
        **headers("old-phone", "1.0.0"),
    )

    for response in (push, pull, melon):
        assert response.status_code == 426
        assert response.json() == {"detail": "upgrade", "min_version": "2.0.0"}
    assert FollowUp.objects.get(pk=followup).note == "call back"
    assert ChangeLog.objects.count() == logged
    assert not AppliedMutation.objects.exists()
    # The refused phone shows up in its user's devices, with why.
    device = Device.objects.get(device_id="old-phone")
    assert device.last_error == "426 upgrade"
    assert (device.last_push_at, device.last_pull_at) == (None, None)


def test_apps_at_the_minimum_or_without_the_header_are_served(client_for, world, settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "MIN_APP_VERSION": "2.0.0"}
    client = client_for("rep_north")

    assert client.get("/api/sync/pull", **headers("p1", "2.0.0")).status_code == 200
    assert client.get("/api/sync/pull", **headers("p1", "2.0.1+7")).status_code == 200
    assert client.get("/api/sync/pull").status_code == 200


def test_a_malformed_version_header_is_400_and_changes_nothing(client_for, world, settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "MIN_APP_VERSION": "2.0.0"}
    client = client_for("rep_north")
    followup = world["rep_north"]["followup"]

    response = client.post(
        "/api/sync/push",
        followup_update(followup, "bad header", device_id="p"),
        format="json",
        **headers("p", "two point one"),
    )
    pending = client.get(
        "/api/sync/pull", **headers("p", "2.1.0", pending=None) | {"HTTP_X_PENDING_MUTATIONS": "-3"}
    )

    assert response.status_code == 400
    assert "X-App-Version" in response.json()
    assert pending.status_code == 400
    assert "X-Pending-Mutations" in pending.json()
    assert FollowUp.objects.get(pk=followup).note == "call back"
    assert not AppliedMutation.objects.exists()
    assert not Device.objects.exists()


# --- health -------------------------------------------------------------------------------


def test_device_health_after_a_scripted_day(client_for, people, world):
    rep = people["rep_north"]
    client = client_for("rep_north")
    followup = world["rep_north"]["followup"]
    phone = headers("phone-a", "2.1.0", pending=3)

    # Morning: a first sync, then the outbox goes up: one edit applied, one that meets an
    # office edit of the same field (a conflict), one refused by validation.
    pull_all(client, **phone)
    push_one(
        people["hq"],
        "followup",
        "update",
        followup,
        base_version=1,
        fields={"note": "from the office"},
        device_id="office",
    )
    answered = client.post(
        "/api/sync/push",
        {
            "device_id": "phone-a",
            "mutations": [
                followup_update(followup, "rep's note", device_id="phone-a")["mutations"][0],
                {
                    "mutation_id": str(uuid.uuid4()),
                    "entity": "survey",
                    "op": "update",
                    "record_id": str(world["rep_north"]["survey"]),
                    "base_version": 1,
                    "fields": {"footfall_weekday": -5},
                },
            ],
        },
        format="json",
        **phone,
    )
    assert [r["status"] for r in answered.json()["results"]] == ["conflict", "rejected"]
    # A push the server cannot read: the device's last error.
    broken = client.post("/api/sync/push", {"mutations": "nope"}, format="json", **phone)
    assert broken.status_code == 400
    # Catch up, then the office changes two records in the rep's scope.
    pull_all(client, **headers("phone-a", "2.1.1", pending=0))
    create("followup", store=world["rep_north"]["store"], due_date="2026-12-09", note="new")
    create("followup", store=world["rep_north"]["store"], due_date="2026-12-10", note="new 2")
    # Another phone of the same rep, which never pushed and holds changes.
    client.get("/api/sync/pull", {"limit": 1}, **headers("phone-b", "2.0.0", pending=4))

    rows = devices_of(client)

    a = rows["phone-a"]
    assert a["user"] == rep.pk
    assert a["app_version"] == "2.1.1"
    assert a["first_seen"] <= a["last_seen"]
    assert a["last_push_at"] is not None
    assert a["last_pull_at"] is not None
    assert a["behind"] == 2
    assert a["pending_mutations"] == 0
    assert a["rejected_7d"] == 1
    assert a["conflicts_7d"] == 1
    assert a["last_error"].startswith("400 ")
    assert a["stale"] is False
    b = rows["phone-b"]
    assert b["last_push_at"] is None
    assert b["pending_mutations"] == 4
    assert b["stale"] is True  # changes waiting, never pushed
    # A rejection older than the window no longer counts.
    AppliedMutation.objects.filter(status="rejected").update(
        at=timezone.now() - dt.timedelta(days=8)
    )
    assert devices_of(client)["phone-a"]["rejected_7d"] == 0


def test_stale_means_changes_waiting_and_no_successful_push_for_a_day(client_for, world):
    client = client_for("rep_north")
    client.post(
        "/api/sync/push",
        followup_update(world["rep_north"]["followup"], "x", device_id="p"),
        format="json",
        **headers("p", pending=2),
    )
    assert devices_of(client)["p"]["stale"] is False

    Device.objects.update(last_push_at=timezone.now() - dt.timedelta(hours=25))

    assert devices_of(client)["p"]["stale"] is True
    assert set(devices_of(client, stale="true")) == {"p"}
    assert devices_of(client, stale="false") == {}
    assert client.get("/api/sync/devices", {"stale": "maybe"}).status_code == 400


def test_devices_are_scoped_like_everything_else(client_for, world):
    for who in ("rep_north", "rep_north_2", "rep_south"):
        client_for(who).get("/api/sync/pull", **headers(f"phone-{who}"))

    assert set(devices_of(client_for("rep_north"))) == {"phone-rep_north"}
    assert set(devices_of(client_for("manager_north"))) == {
        "phone-rep_north",
        "phone-rep_north_2",
    }
    assert set(devices_of(client_for("hq"))) == {
        "phone-rep_north",
        "phone-rep_north_2",
        "phone-rep_south",
    }


def test_a_request_costs_health_one_upsert(client_for, world):
    client = client_for("rep_north")
    client.get("/api/sync/pull", **headers("p"))  # the device exists from here on

    with CaptureQueriesContext(connection) as plain:
        client.get("/api/sync/pull")
    with CaptureQueriesContext(connection) as reported:
        client.get("/api/sync/pull", **headers("p", pending=1))

    extra = [q["sql"] for q in reported.captured_queries[len(plain.captured_queries) :]]
    assert len(reported.captured_queries) == len(plain.captured_queries) + 1
    assert "ON CONFLICT" in extra[0]
    assert Device.objects.get().pending_mutations == 1


def test_the_hq_devices_page_flags_stuck_phones(client_for, people, world):
    client_for("rep_north").get("/api/sync/pull", **headers("stuck-phone", pending=5))
    client_for("rep_north_2").get("/api/sync/pull", **headers("fine-phone", pending=0))
    client_for("rep_south").get("/api/sync/pull", **headers("south-phone", pending=5))
    browser = Client()
    browser.force_login(people["manager_north"])

    page = browser.get("/hq/devices/").content.decode()

    assert "1 with changes waiting and no successful push for more than 24 hours" in page
    assert 'data-device="stuck-phone" class="stale failed"' in page
    assert 'data-device="fine-phone">' in page
    assert "south-phone" not in page


def test_sync_state_shows_device_health(client_for, people, world, capsys):
    client_for("rep_north").get("/api/sync/pull", **headers("phone-a", "2.1.0", pending=5))

    call_command("sync_state", "rep-north-1")

    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("health phone-a"))
    assert "app 2.1.0" in line
    assert "pending 5" in line
    assert "last push never" in line
    assert "STALE" in line
