"""Fraud flags on visits: computed by the server on every write, read-only for phones."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from geo.distance import destination, geodesic_m
from geo.point import Point
from sync.models import ChangeLog
from tests.conftest import create
from tests.sync.phone import Phone
from visits.models import Visit

HAMBURG = Point(lat=53.5511, lon=9.9937)  # Jungfernstieg
HAMBURG_RATHAUS = Point(lat=53.5503, lon=9.9920)  # 140 m away
MUNICH = Point(lat=48.1374, lon=11.5755)  # Marienplatz
OPEN_7_TO_22 = {day: [["07:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}


def new_store(people, point: Point, name: str, owner: str = "rep_north", **extra) -> str:
    return str(
        create(
            "store",
            name=name,
            lat=point.lat,
            lon=point.lon,
            region="north",
            owner=people[owner].pk,
            **extra,
        )
    )


@pytest.fixture
def stores(people) -> dict[str, str]:
    return {
        "hamburg": new_store(people, HAMBURG, "Kiosk Jungfernstieg"),
        "rathaus": new_store(people, HAMBURG_RATHAUS, "Kiosk Rathaus"),
        "munich": new_store(people, MUNICH, "Kiosk Marienplatz"),
        "pinneberg": new_store(
            people, destination(origin=HAMBURG, bearing_deg=300, distance_m=20_000), "Kiosk 20 km"
        ),
    }


def check_in(phone: Phone, store: str, at: str, point: Point, out: str | None = None) -> str:
    """Queue a visit (checked out, so the rep may check in at the next store)."""
    return phone.create(
        "visit",
        store=store,
        check_in_at=at,
        check_out_at=out or at.replace(":00Z", ":01Z"),
        check_in_lat=point.lat,
        check_in_lon=point.lon,
        check_in_accuracy_m=10,
    )


def flags_of(visit_id: str) -> list[str]:
    return Visit.objects.get(pk=visit_id).flags


def test_hamburg_then_munich_half_an_hour_later_is_impossible_travel(client_for, stores):
    assert geodesic_m(a=HAMBURG, b=MUNICH) == pytest.approx(612_000, rel=0.01)
    phone = Phone(client_for("rep_north"))
    hamburg = check_in(phone, stores["hamburg"], "2026-11-02T09:00:00Z", HAMBURG)
    (first,) = phone.push()
    munich = check_in(phone, stores["munich"], "2026-11-02T09:30:00Z", MUNICH)

    (second,) = phone.push()

    assert first["record"]["flags"] == []
    assert second["record"]["flags"] == ["impossible_travel"]
    assert (flags_of(hamburg), flags_of(munich)) == ([], ["impossible_travel"])
    served = client_for("manager_north").get(f"/api/visits/{munich}/")
    assert served.status_code == 200
    assert served.json()["flags"] == ["impossible_travel"]


def test_twenty_km_in_two_hours_is_not_flagged(client_for, stores):
    phone = Phone(client_for("rep_north"))
    far = destination(origin=HAMBURG, bearing_deg=300, distance_m=20_000)
    check_in(phone, stores["hamburg"], "2026-11-02T09:00:00Z", HAMBURG)
    second = check_in(phone, stores["pinneberg"], "2026-11-02T11:00:00Z", far)
    phone.push()
    assert flags_of(second) == []


def test_twenty_km_in_five_minutes_is_flagged(client_for, stores):
    phone = Phone(client_for("rep_north"))
    far = destination(origin=HAMBURG, bearing_deg=300, distance_m=20_000)
    check_in(phone, stores["hamburg"], "2026-11-02T09:00:00Z", HAMBURG)
    second = check_in(phone, stores["pinneberg"], "2026-11-02T09:05:00Z", far)
    phone.push()
    assert flags_of(second) == ["impossible_travel"]


def test_gps_jitter_at_neighbouring_stores_within_the_tolerance_is_not_flagged(client_for, stores):
    # 140 m in 3 seconds is 168 km/h, but within the 500 m tolerance.
    phone = Phone(client_for("rep_north"))
    check_in(phone, stores["hamburg"], "2026-11-02T09:00:00Z", HAMBURG)
    second = check_in(phone, stores["rathaus"], "2026-11-02T09:00:03Z", HAMBURG_RATHAUS)
    phone.push()
    assert flags_of(second) == []


def test_the_speed_and_tolerance_are_settings(settings, client_for, stores):
    settings.FIELDLINE = {**settings.FIELDLINE, "VISIT_TRAVEL_TOLERANCE_M": 50.0}
    phone = Phone(client_for("rep_north"))
    check_in(phone, stores["hamburg"], "2026-11-02T09:00:00Z", HAMBURG)
    phone.push()
    second = check_in(phone, stores["rathaus"], "2026-11-02T09:00:03Z", HAMBURG_RATHAUS)
    phone.push()
    assert flags_of(second) == ["impossible_travel"]

    settings.FIELDLINE = {**settings.FIELDLINE, "VISIT_MAX_TRAVEL_KMH": 1500.0}
    third = check_in(phone, stores["munich"], "2026-11-02T09:30:00Z", MUNICH)
    phone.push()
    assert flags_of(third) == []


def test_a_check_in_sent_late_is_compared_with_the_next_one(client_for, stores):
    """Offline: the 09:30 Munich check-in reached the server first; the 09:00 Hamburg one
    arrives later and is flagged against its successor as it is written."""
    phone = Phone(client_for("rep_north"))
    check_in(phone, stores["munich"], "2026-11-02T09:30:00Z", MUNICH)
    phone.push()
    hamburg = check_in(phone, stores["hamburg"], "2026-11-02T09:00:00Z", HAMBURG)
    (result,) = phone.push()
    assert result["record"]["flags"] == ["impossible_travel"]
    assert flags_of(hamburg) == ["impossible_travel"]


@pytest.mark.django_db(transaction=True)
def test_a_late_check_in_re_flags_the_stored_neighbour_it_contradicts(client_for, stores):
    """The stored 09:30 Munich check-in was fine alone; the 09:00 Hamburg one that arrives
    late makes it impossible too, once its push commits, and phones pull the new verdict."""
    phone = Phone(client_for("rep_north"))
    munich = check_in(phone, stores["munich"], "2026-11-02T09:30:00Z", MUNICH)
    phone.push()
    phone.pull()
    assert flags_of(munich) == []
    hamburg = check_in(phone, stores["hamburg"], "2026-11-02T09:00:00Z", HAMBURG)

    phone.push()

    assert (flags_of(munich), flags_of(hamburg)) == (["impossible_travel"], ["impossible_travel"])
    phone.pull()
    assert phone.replica[("visit", munich)]["flags"] == ["impossible_travel"]
    change = ChangeLog.objects.filter(entity="visit", record_id=munich).latest("seq")
    assert change.source == "system"


def test_a_neighbour_cleared_by_a_corrected_check_in_loses_the_flag(
    client_for, stores, django_capture_on_commit_callbacks
):
    """A check-in typed with the wrong time made its neighbour look impossible; correcting
    it clears the neighbour's flag too."""
    phone = Phone(client_for("rep_north"))
    hamburg = check_in(phone, stores["hamburg"], "2026-11-02T09:00:00Z", HAMBURG)
    with django_capture_on_commit_callbacks(execute=True):
        phone.push()
    munich = check_in(phone, stores["munich"], "2026-11-02T09:30:00Z", MUNICH)
    with django_capture_on_commit_callbacks(execute=True):
        phone.push()
    assert (flags_of(hamburg), flags_of(munich)) == (["impossible_travel"], ["impossible_travel"])
    phone.pull()

    phone.update(
        "visit", munich, check_in_at="2026-11-02T19:30:00Z", check_out_at="2026-11-02T19:31:00Z"
    )
    with django_capture_on_commit_callbacks(execute=True):
        phone.push()

    assert (flags_of(hamburg), flags_of(munich)) == ([], [])


def test_the_flags_do_not_depend_on_the_order_check_ins_arrive_in(
    client_for, stores, django_capture_on_commit_callbacks
):
    day = [
        (stores["hamburg"], "2026-11-02T08:00:00Z", HAMBURG),
        (stores["rathaus"], "2026-11-02T09:00:00Z", HAMBURG_RATHAUS),
        (stores["munich"], "2026-11-02T09:30:00Z", MUNICH),
        (stores["munich"], "2026-11-02T18:00:00Z", MUNICH),
    ]
    phone = Phone(client_for("rep_north"))
    ids = {}
    for store, at, point in reversed(day):
        ids[at] = check_in(phone, store, at, point)
        with django_capture_on_commit_callbacks(execute=True):
            phone.push()

    flags = [flags_of(ids[at]) for _, at, _ in day]

    assert flags == [[], ["impossible_travel"], ["impossible_travel"], []]


def test_other_reps_check_ins_are_not_re_flagged(
    client_for, people, stores, django_capture_on_commit_callbacks
):
    colleague = Phone(client_for("rep_north_2"))
    their_store = new_store(people, MUNICH, "Kiosk Viktualienmarkt", owner="rep_north_2")
    theirs = check_in(colleague, their_store, "2026-11-02T09:30:00Z", MUNICH)
    colleague.push()
    phone = Phone(client_for("rep_north"))
    check_in(phone, stores["hamburg"], "2026-11-02T09:00:00Z", HAMBURG)
    with django_capture_on_commit_callbacks(execute=True):
        phone.push()
    assert flags_of(theirs) == []
    assert not ChangeLog.objects.filter(entity="visit", record_id=theirs, source="system").exists()


def test_a_visit_logged_without_a_rep_gets_the_checks_that_apply(people, stores):
    """Office-logged visits have no rep, so no travel to judge; geofence and opening hours
    still apply."""
    store = new_store(people, HAMBURG, "Kiosk", opening_hours=OPEN_7_TO_22)
    far = destination(origin=HAMBURG, bearing_deg=90, distance_m=2_000)
    visit = create(
        "visit",
        store=store,
        check_in_at="2026-11-02T23:00:00Z",
        check_in_lat=far.lat,
        check_in_lon=far.lon,
    )
    stored = Visit.objects.get(pk=visit)
    assert stored.rep_id is None
    assert stored.flags == ["outside_geofence", "outside_opening_hours"]


def test_only_the_reps_own_neighbours_count(client_for, people, stores):
    north = Phone(client_for("rep_north"))
    check_in(north, stores["hamburg"], "2026-11-02T09:00:00Z", HAMBURG)
    north.push()
    colleague = Phone(client_for("rep_north_2"))
    their_store = new_store(people, MUNICH, "Kiosk Viktualienmarkt", owner="rep_north_2")
    munich = check_in(colleague, their_store, "2026-11-02T09:30:00Z", MUNICH)
    (result,) = colleague.push()
    assert result["status"] == "applied", result
    assert flags_of(munich) == []


def test_several_check_ins_of_one_rep_in_one_push(client_for, stores):
    phone = Phone(client_for("rep_north"))
    # Stored before: Hamburg at 07:00.
    stored = check_in(phone, stores["hamburg"], "2026-11-02T07:00:00Z", HAMBURG)
    phone.push()
    ids = [
        # 08:00 Rathaus: 140 m after 07:30 Hamburg (below), 612 km before 15:00 Munich (87 km/h).
        check_in(phone, stores["rathaus"], "2026-11-02T08:00:00Z", HAMBURG_RATHAUS),
        # 15:00 Munich: between 08:00 Rathaus and 16:00 Munich, both of this push: fine.
        check_in(phone, stores["munich"], "2026-11-02T15:00:00Z", MUNICH),
        # 16:00 Munich: the next check-in, 16:20 in Hamburg (this push), is 612 km away.
        check_in(phone, stores["munich"], "2026-11-02T16:00:00Z", MUNICH),
        # 07:30 Hamburg, sent out of order: between the stored 07:00 and 08:00 Rathaus.
        check_in(phone, stores["hamburg"], "2026-11-02T07:30:00Z", HAMBURG),
        # 16:20 Hamburg: 612 km in 20 minutes after 16:00 Munich.
        check_in(phone, stores["hamburg"], "2026-11-02T16:20:00Z", HAMBURG),
    ]

    results = phone.push()

    assert [r["status"] for r in results] == ["applied"] * 5
    expected = [[], [], ["impossible_travel"], [], ["impossible_travel"]]
    assert [r["record"]["flags"] for r in results] == expected
    assert [flags_of(pk) for pk in ids] == expected
    assert flags_of(stored) == []


def test_flag_queries_do_not_grow_with_the_push(client_for, stores):
    phone = Phone(client_for("rep_north"))

    def push_check_ins(count: int, hour: int) -> int:
        for minute in range(count):
            at = f"2026-11-02T{hour:02d}:{minute:02d}:00Z"
            check_in(phone, stores["hamburg" if minute % 2 else "munich"], at, HAMBURG)
        with CaptureQueriesContext(connection) as queries:
            results = phone.push()
        assert {r["status"] for r in results} == {"applied"}
        return len(queries)

    assert push_check_ins(2, 8) == push_check_ins(20, 12)


@pytest.mark.parametrize(
    ("check_in_at", "flagged"),
    [
        # November: Berlin is UTC+1. Monday 2 November 2026.
        ("2026-11-02T22:00:00Z", True),  # 23:00 local, closed at 22:00
        ("2026-11-02T20:59:00Z", False),  # 21:59 local
        ("2026-11-02T21:00:00Z", True),  # 22:00 local: closing time is closed
        ("2026-11-02T06:00:00Z", False),  # 07:00 local: opening time is open
        ("2026-11-02T05:59:00Z", True),  # 06:59 local
        ("2026-11-01T12:00:00Z", True),  # Sunday noon: no hours on Sundays
        # Summer time (UTC+2): 20:30 UTC is 22:30 local, closed (it would be open in winter).
        ("2026-07-06T20:30:00Z", True),
    ],
)
def test_check_in_outside_opening_hours(client_for, people, check_in_at, flagged):
    store = new_store(people, HAMBURG, "Kiosk", opening_hours=OPEN_7_TO_22)
    phone = Phone(client_for("rep_north"))
    visit = check_in(phone, store, check_in_at, HAMBURG)
    (result,) = phone.push()
    expected = ["outside_opening_hours"] if flagged else []
    assert result["record"]["flags"] == expected
    assert flags_of(visit) == expected


def test_a_store_without_hours_is_never_outside_them(client_for, people):
    store = new_store(people, HAMBURG, "Kiosk")
    phone = Phone(client_for("rep_north"))
    visit = check_in(phone, store, "2026-11-02T02:00:00Z", HAMBURG)
    phone.push()
    assert flags_of(visit) == []


def test_the_stores_time_zone_is_a_setting(settings, client_for, people):
    settings.FIELDLINE = {**settings.FIELDLINE, "STORE_TIME_ZONE": "America/New_York"}
    store = new_store(people, HAMBURG, "Kiosk", opening_hours=OPEN_7_TO_22)
    phone = Phone(client_for("rep_north"))
    # 23:00 in Berlin, 17:00 in New York.
    visit = check_in(phone, store, "2026-11-02T22:00:00Z", HAMBURG)
    phone.push()
    assert flags_of(visit) == []


def test_bulk_writes_flag_too(people):
    store = new_store(people, HAMBURG, "Kiosk", opening_hours=OPEN_7_TO_22)
    visit = create("visit", store=store, check_in_at="2026-11-02T22:00:00Z")
    assert Visit.objects.get(pk=visit).flags == ["outside_opening_hours"]


def test_a_check_in_outside_the_geofence_is_flagged(settings, client_for, stores):
    settings.FIELDLINE = {**settings.FIELDLINE, "GEOFENCE_MODE": "soft"}
    phone = Phone(client_for("rep_north"))
    away = destination(origin=HAMBURG, bearing_deg=90, distance_m=2000)
    visit = check_in(phone, stores["hamburg"], "2026-11-02T09:00:00Z", away)
    (result,) = phone.push()
    assert result["record"]["geofence"] == "flagged"
    assert flags_of(visit) == ["outside_geofence"]


def test_moving_the_check_in_recomputes_the_flags(client_for, stores):
    phone = Phone(client_for("rep_north"))
    check_in(phone, stores["hamburg"], "2026-11-02T09:00:00Z", HAMBURG)
    munich = check_in(phone, stores["munich"], "2026-11-02T09:30:00Z", MUNICH)
    phone.push()
    assert flags_of(munich) == ["impossible_travel"]

    phone.update(
        "visit", munich, check_in_at="2026-11-02T17:00:00Z", check_out_at="2026-11-02T17:30:00Z"
    )
    (result,) = phone.push()

    assert result["status"] == "applied", result
    assert result["record"]["flags"] == []
    assert flags_of(munich) == []


def test_editing_notes_leaves_the_flags_alone(client_for, stores):
    phone = Phone(client_for("rep_north"))
    check_in(phone, stores["hamburg"], "2026-11-02T09:00:00Z", HAMBURG)
    munich = check_in(phone, stores["munich"], "2026-11-02T09:30:00Z", MUNICH)
    phone.push()
    phone.update("visit", munich, notes="Met the owner")
    (result,) = phone.push()
    assert result["record"]["flags"] == ["impossible_travel"]


def test_a_push_may_not_set_flags(client_for, stores):
    phone = Phone(client_for("rep_north"))
    visit = check_in(phone, stores["hamburg"], "2026-11-02T09:00:00Z", HAMBURG)
    phone.queue[-1]["fields"]["flags"] = []
    (result,) = phone.push()
    assert result["status"] == "rejected"
    assert result["errors"] == {"flags": ["Unknown field."]}
    assert not Visit.objects.filter(pk=visit).exists()

    phone = Phone(client_for("rep_north"))
    check_in(phone, stores["hamburg"], "2026-11-02T09:00:00Z", HAMBURG)
    munich = check_in(phone, stores["munich"], "2026-11-02T09:30:00Z", MUNICH)
    phone.push()
    changes = ChangeLog.objects.filter(record_id=munich).count()
    phone.update("visit", munich, flags=[])
    (result,) = phone.push()
    assert result["status"] == "rejected"
    assert flags_of(munich) == ["impossible_travel"]
    assert ChangeLog.objects.filter(record_id=munich).count() == changes


def test_rest_refuses_flags_in_a_request(client_for, stores):
    client = client_for("rep_north")
    response = client.post(
        "/api/visits/",
        {
            "store": stores["munich"],
            "check_in_at": "2026-11-02T09:00:00Z",
            "check_in_lat": MUNICH.lat,
            "check_in_lon": MUNICH.lon,
            "check_out_at": "2026-11-02T09:10:00Z",
            "flags": [],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"flags": ["Unknown field."]}
    assert not Visit.objects.exists()


def test_managers_filter_visits_by_flag(client_for, stores):
    phone = Phone(client_for("rep_north"))
    hamburg = check_in(phone, stores["hamburg"], "2026-11-02T09:00:00Z", HAMBURG)
    phone.push()
    munich = check_in(phone, stores["munich"], "2026-11-02T09:30:00Z", MUNICH)
    phone.push()

    for who in ("manager_north", "hq"):
        client = client_for(who)
        flagged = client.get("/api/visits/", {"flag": "impossible_travel"})
        assert flagged.status_code == 200
        assert [v["id"] for v in flagged.json()["results"]] == [munich]
        assert flagged.json()["results"][0]["flags"] == ["impossible_travel"]
        everything = {v["id"] for v in client.get("/api/visits/").json()["results"]}
        assert {hamburg, munich} <= everything
    assert (
        client_for("manager_south")
        .get("/api/visits/", {"flag": "impossible_travel"})
        .json()["results"]
        == []
    )
    unknown = client_for("hq").get("/api/visits/", {"flag": "teleported"})
    assert unknown.status_code == 400
    assert "flag" in unknown.json()


@pytest.mark.django_db(transaction=True)
def test_phones_pull_the_flags(client_for, stores):
    phone = Phone(client_for("rep_north"))
    check_in(phone, stores["hamburg"], "2026-11-02T09:00:00Z", HAMBURG)
    munich = check_in(phone, stores["munich"], "2026-11-02T09:30:00Z", MUNICH)
    phone.push()
    other = Phone(client_for("rep_north"))
    other.pull()
    assert other.records("visit")[munich]["flags"] == ["impossible_travel"]
