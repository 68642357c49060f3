"""GET /api/stores/nearby: the caller's stores around a point, by distance."""

import random

import pytest

from geo.distance import destination, haversine_m
from geo.point import Point
from tests.conftest import create

CENTRE = Point(lat=53.5511, lon=9.9937)


@pytest.fixture
def scattered(people):
    """40 stores of rep_north within ~6 km, one of rep_south nearby, one deleted-free."""
    rng = random.Random(7)
    ids = {}
    for i in range(40):
        point = destination(
            origin=CENTRE, bearing_deg=rng.uniform(0, 360), distance_m=rng.uniform(0, 6000)
        )
        pk = create(
            "store",
            name=f"S{i}",
            lat=point.lat,
            lon=point.lon,
            region="north",
            owner=people["rep_north"].pk,
        )
        ids[str(pk)] = point
    create(
        "store",
        name="Theirs",
        lat=CENTRE.lat,
        lon=CENTRE.lon,
        region="south",
        owner=people["rep_south"].pk,
    )
    return ids


def test_nearby_matches_a_brute_force_haversine(client_for, scattered):
    response = client_for("rep_north").get(
        "/api/stores/nearby", {"lat": CENTRE.lat, "lon": CENTRE.lon, "radius_m": 3000}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    expected = sorted(
        (haversine_m(a=CENTRE, b=point), pk)
        for pk, point in scattered.items()
        if haversine_m(a=CENTRE, b=point) <= 3000
    )
    assert [row["id"] for row in body] == [pk for _, pk in expected]
    for row, (distance, _) in zip(body, expected, strict=True):
        assert row["distance_m"] == pytest.approx(distance, abs=0.01)
    assert "Theirs" not in {row["name"] for row in body}


def test_nearby_limit(client_for, scattered):
    body = (
        client_for("rep_north")
        .get(
            "/api/stores/nearby",
            {"lat": CENTRE.lat, "lon": CENTRE.lon, "radius_m": 50000, "limit": 5},
        )
        .json()
    )
    assert len(body) == 5
    assert [row["distance_m"] for row in body] == sorted(row["distance_m"] for row in body)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": 91, "lon": 0, "radius_m": 100}, "lat"),
        ({"lat": 0, "lon": -181, "radius_m": 100}, "lon"),
        ({"lat": 0, "lon": 0, "radius_m": 0}, "radius_m"),
        ({"lat": 0, "lon": 0, "radius_m": 50001}, "radius_m"),
        ({"lat": "x", "lon": 0}, "lat"),
        ({"lat": "nan", "lon": 0}, "lat"),
        ({"lat": 0, "lon": "inf"}, "lon"),
        ({"lat": 0, "lon": 0, "radius_m": "nan"}, "radius_m"),
        ({"lon": 0}, "lat"),
    ],
)
def test_nearby_validation(client_for, people, params, field):
    response = client_for("rep_north").get("/api/stores/nearby", params)
    assert response.status_code == 400
    assert field in response.json()


def test_nearby_needs_a_login(db, client):
    assert client.get("/api/stores/nearby", {"lat": 0, "lon": 0}).status_code == 401
