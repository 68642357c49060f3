"""Verified visits: distance and geofence verdict computed by the server on every path."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from geo.distance import destination, geodesic_m
from geo.point import Point
from surveys.models import SiteSurvey
from sync.bulk import bulk_create_records
from tests.conftest import create
from tests.sync.phone import Phone
from visits.models import Visit

STORE = Point(lat=53.5511, lon=9.9937)  # Hamburg, Jungfernstieg


def at(distance_m: float, bearing: float = 40.0) -> Point:
    return destination(origin=STORE, bearing_deg=bearing, distance_m=distance_m)


@pytest.fixture
def store(people):
    rep = people["rep_north"]
    return create(
        "store",
        name="Kiosk",
        lat=STORE.lat,
        lon=STORE.lon,
        region="north",
        owner=rep.pk,
        trade_area_type="office",
    )


def set_mode(settings, mode: str) -> None:
    settings.FIELDLINE = {**settings.FIELDLINE, "GEOFENCE_MODE": mode}


def check_in(phone: Phone, store, point: Point, accuracy_m: float, **extra):
    phone.create(
        "visit",
        store=str(store),
        check_in_at="2026-11-02T09:00:00Z",
        check_in_lat=point.lat,
        check_in_lon=point.lon,
        check_in_accuracy_m=accuracy_m,
        **extra,
    )
    (result,) = phone.push()
    return result


# radius 150 m; slack = accuracy, capped at 100 m: 155 m allowed at 5 m, 230 m at 80 m.
CASES = [
    (100, 5, True),
    (160, 5, False),
    (2000, 5, False),
    (100, 80, True),
    (160, 80, True),
    (2000, 80, False),
]


# Pulls see committed transactions only (on PostgreSQL), so these tests commit.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("distance", "accuracy", "inside"), CASES)
@pytest.mark.parametrize("mode", ["off", "soft", "hard"])
def test_check_in_verdict_through_a_push(
    settings, client_for, people, store, mode, distance, accuracy, inside
):
    set_mode(settings, mode)
    phone = Phone(client_for("rep_north"))
    result = check_in(phone, store, at(distance), accuracy)

    if mode == "hard" and not inside:
        assert result["status"] == "rejected"
        assert "Outside the store's geofence" in result["errors"]["check_in_lat"][0]
        assert not Visit.objects.filter(store_id=store).exists()
        return
    assert result["status"] == "applied"
    expected = {"off": "unknown", "soft": "pass" if inside else "flagged", "hard": "pass"}[mode]
    record = result["record"]
    assert record["geofence"] == expected
    assert record["distance_m"] == pytest.approx(distance, abs=0.01)
    visit = Visit.objects.get(pk=record["id"])
    assert (visit.geofence, visit.rep_id) == (expected, people["rep_north"].pk)
    assert visit.distance_m == pytest.approx(distance, abs=0.01)
    other_phone = Phone(client_for("rep_north"))
    other_phone.pull()
    pulled = other_phone.records("visit")[record["id"]]
    assert (pulled["geofence"], pulled["distance_m"]) == (expected, visit.distance_m)


def test_a_transit_hub_has_a_wider_fence_and_a_store_radius_overrides_it(
    settings, client_for, people
):
    rep = people["rep_north"]
    hub = create(
        "store",
        name="Hbf",
        lat=STORE.lat,
        lon=STORE.lon,
        region="north",
        owner=rep.pk,
        trade_area_type="transit",
    )
    narrow = create(
        "store",
        name="Hbf kiosk",
        lat=STORE.lat,
        lon=STORE.lon,
        region="north",
        owner=rep.pk,
        trade_area_type="transit",
        geofence_radius_m=50.0,
    )
    phone = Phone(client_for("rep_north"))
    wide = check_in(phone, hub, at(250), 5, check_out_at="2026-11-02T09:10:00Z")
    tight = check_in(phone, narrow, at(100), 5, check_out_at="2026-11-02T09:20:00Z")
    assert (wide["record"]["geofence"], tight["record"]["geofence"]) == ("pass", "flagged")


def test_rest_create_and_moving_the_check_in_recompute(client_for, store):
    client = client_for("rep_north")
    response = client.post(
        "/api/visits/",
        {
            "store": str(store),
            "check_in_at": "2026-11-02T09:00:00Z",
            "check_in_lat": at(100).lat,
            "check_in_lon": at(100).lon,
            "check_in_accuracy_m": 5,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["geofence"] == "pass"
    moved = client.patch(
        f"/api/visits/{response.json()['id']}/",
        {"check_in_lat": at(2000).lat, "check_in_lon": at(2000).lon},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["geofence"] == "flagged"
    assert moved.json()["distance_m"] == pytest.approx(2000, abs=0.01)
    visit = Visit.objects.get(pk=response.json()["id"])
    assert (visit.geofence, round(visit.distance_m)) == ("flagged", 2000)
    notes = client.patch(f"/api/visits/{visit.pk}/", {"notes": "ok"}, format="json")
    assert notes.json()["geofence"] == "flagged"


def test_hard_mode_rest_refusal_is_a_field_error(settings, client_for, store):
    set_mode(settings, "hard")
    response = client_for("rep_north").post(
        "/api/visits/",
        {
            "store": str(store),
            "check_in_at": "2026-11-02T09:00:00Z",
            "check_in_lat": at(2000).lat,
            "check_in_lon": at(2000).lon,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "check_in_lat" in response.json()
    assert not Visit.objects.exists()


def test_bulk_created_visits_are_measured_too(store):
    pk = create(
        "visit",
        store=store,
        check_in_at="2026-11-02T09:00:00Z",
        check_in_lat=at(160).lat,
        check_in_lon=at(160).lon,
        check_in_accuracy_m=5,
    )
    visit = Visit.objects.get(pk=pk)
    assert visit.geofence == "flagged"
    assert visit.distance_m == pytest.approx(160, abs=0.01)
    bare = Visit.objects.get(pk=create("visit", store=store, check_in_at="2026-11-02T10:00:00Z"))
    assert (bare.geofence, bare.distance_m) == ("unknown", None)


def test_a_store_created_in_the_same_push_is_measured_against(client_for, people):
    phone = Phone(client_for("rep_north"))
    new_store = phone.create(
        "store",
        name="New",
        lat=STORE.lat,
        lon=STORE.lon,
        region="north",
        owner=people["rep_north"].pk,
    )
    phone.create(
        "visit",
        store=new_store,
        check_in_at="2026-11-02T09:00:00Z",
        check_in_lat=at(120).lat,
        check_in_lon=at(120).lon,
    )
    results = phone.push()
    assert [r["status"] for r in results] == ["applied", "applied"], results
    assert results[1]["record"]["geofence"] == "pass"
    assert results[1]["record"]["distance_m"] == pytest.approx(120, abs=0.01)


def test_a_second_open_visit_of_a_rep_is_refused(client_for, people, store):
    phone = Phone(client_for("rep_north"))
    first = check_in(phone, store, at(10), 5)
    assert first["status"] == "applied"
    second = check_in(phone, store, at(10), 5)
    assert second["status"] == "rejected"
    assert "check out of it first" in second["errors"]["check_out_at"][0]
    assert Visit.objects.filter(rep=people["rep_north"], check_out_at__isnull=True).count() == 1
    # Another rep may be checked in at the same time.
    theirs = create(
        "store",
        name="Next door",
        lat=STORE.lat,
        lon=STORE.lon,
        region="north",
        owner=people["rep_north_2"].pk,
    )
    other = Phone(client_for("rep_north_2"))
    assert check_in(other, theirs, at(10), 5)["status"] == "applied"


def test_checking_out_and_in_again_in_one_push(client_for, store):
    phone = Phone(client_for("rep_north"))
    first = check_in(phone, store, at(10), 5)
    phone.update("visit", first["record"]["id"], check_out_at="2026-11-02T09:30:00Z")
    phone.create("visit", store=str(store), check_in_at="2026-11-02T10:00:00Z")
    phone.create("visit", store=str(store), check_in_at="2026-11-02T10:05:00Z")
    statuses = [r["status"] for r in phone.push()]
    assert statuses == ["applied", "applied", "rejected"]
    assert Visit.objects.filter(check_out_at__isnull=True).count() == 1


def test_the_database_refuses_two_open_visits_too(people, store):
    """The rule holds even for trusted bulk writes, which skip the write checks."""
    rep = people["rep_north"]

    def open_visit():
        bulk_create_records(
            entity="visit",
            rows=[{"id": uuid.uuid4(), "store": store, "check_in_at": "2026-11-02T10:00:00Z"}],
            extra={"rep_id": rep.pk},
        )

    open_visit()
    with pytest.raises(IntegrityError), transaction.atomic():
        open_visit()
    assert Visit.objects.filter(rep=rep).count() == 1


def test_push_queries_do_not_grow_with_the_number_of_visits(client_for, store, people):
    def push_visits(phone: Phone, count: int) -> int:
        for i in range(count):
            phone.create(
                "visit",
                store=str(store),
                check_in_at="2026-11-02T09:00:00Z",
                check_out_at="2026-11-02T09:05:00Z",
                check_in_lat=at(10 * i).lat,
                check_in_lon=at(10 * i).lon,
            )
        with CaptureQueriesContext(connection) as queries:
            results = phone.push()
        assert {r["status"] for r in results} == {"applied"}
        return len(queries)

    phone = Phone(client_for("rep_north"))
    assert push_visits(phone, 2) == push_visits(phone, 25)


def test_survey_distance_is_measured_from_its_gps(client_for, store):
    phone = Phone(client_for("rep_north"))
    point = at(160, bearing=200)
    phone.create("survey", store=str(store), lat=point.lat, lon=point.lon)
    (result,) = phone.push()
    expected = geodesic_m(a=STORE, b=point)
    assert result["record"]["distance_m"] == pytest.approx(expected, abs=0.01)
    survey = SiteSurvey.objects.get(pk=result["record"]["id"])
    assert survey.distance_m == pytest.approx(160, abs=0.01)
    phone.update("survey", survey.pk.__str__(), lat=STORE.lat, lon=STORE.lon)
    phone.push()
    survey.refresh_from_db()
    assert survey.distance_m == pytest.approx(0, abs=0.01)


def test_a_refused_check_in_does_not_hold_the_rep_open(settings, client_for, store):
    set_mode(settings, "hard")
    phone = Phone(client_for("rep_north"))
    for point in (at(2000), at(20)):
        phone.create(
            "visit",
            store=str(store),
            check_in_at="2026-11-02T09:00:00Z",
            check_in_lat=point.lat,
            check_in_lon=point.lon,
        )
    assert [r["status"] for r in phone.push()] == ["rejected", "applied"]
