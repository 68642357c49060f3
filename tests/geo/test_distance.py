import math
import random

import numpy as np
import pytest

from geo.distance import (
    EARTH_MEAN_RADIUS_M,
    destination,
    geodesic_m,
    haversine_m,
    haversine_m_array,
)
from geo.point import InvalidCoordinateError, Point, validate_coordinate_arrays

HAMBURG_HBF = Point(lat=53.5530, lon=10.0066)
MUNICH_HBF = Point(lat=48.1402, lon=11.5600)

WGS84_A = 6_378_137.0
WGS84_MERIDIAN_QUADRANT_M = 10_001_965.729


def test_hamburg_to_munich_is_about_612_km_geodesic():
    assert geodesic_m(a=HAMBURG_HBF, b=MUNICH_HBF) == pytest.approx(612_000, abs=1_000)


def test_geodesic_is_symmetric():
    assert geodesic_m(a=HAMBURG_HBF, b=MUNICH_HBF) == pytest.approx(
        geodesic_m(a=MUNICH_HBF, b=HAMBURG_HBF), abs=1e-6
    )


def test_geodesic_one_degree_along_the_equator_is_the_ellipsoid_radius_arc():
    # The equator is a circle of radius a, so one degree is exactly a * pi / 180.
    one_degree = geodesic_m(a=Point(lat=0.0, lon=0.0), b=Point(lat=0.0, lon=1.0))
    assert one_degree == pytest.approx(WGS84_A * math.pi / 180.0, abs=1e-3)


def test_geodesic_equator_to_pole_is_the_wgs84_meridian_quadrant():
    quadrant = geodesic_m(a=Point(lat=0.0, lon=0.0), b=Point(lat=90.0, lon=0.0))
    assert quadrant == pytest.approx(WGS84_MERIDIAN_QUADRANT_M, abs=1e-2)


def test_haversine_one_degree_on_the_equator_uses_the_mean_radius():
    one_degree = haversine_m(a=Point(lat=0.0, lon=0.0), b=Point(lat=0.0, lon=1.0))
    assert one_degree == pytest.approx(EARTH_MEAN_RADIUS_M * math.pi / 180.0, rel=1e-12)


def test_haversine_of_antipodes_is_half_the_circumference():
    assert haversine_m(a=Point(lat=0.0, lon=0.0), b=Point(lat=0.0, lon=180.0)) == pytest.approx(
        math.pi * EARTH_MEAN_RADIUS_M, rel=1e-12
    )
    assert haversine_m(a=Point(lat=90.0, lon=0.0), b=Point(lat=-90.0, lon=0.0)) == pytest.approx(
        math.pi * EARTH_MEAN_RADIUS_M, rel=1e-12
    )


def test_haversine_across_the_antimeridian_is_short():
    east = Point(lat=0.0, lon=179.9995)
    west = Point(lat=0.0, lon=-179.9995)
    assert haversine_m(a=east, b=west) == pytest.approx(111.2, abs=0.1)
    assert geodesic_m(a=east, b=west) == pytest.approx(111.3, abs=0.1)


def test_haversine_stays_within_0_56_percent_of_the_geodesic():
    rng = random.Random(7)
    for _ in range(500):
        a = Point(lat=rng.uniform(-89.0, 89.0), lon=rng.uniform(-180.0, 180.0))
        b = destination(
            origin=a, bearing_deg=rng.uniform(0.0, 360.0), distance_m=rng.uniform(50.0, 50_000.0)
        )
        ratio = haversine_m(a=a, b=b) / geodesic_m(a=a, b=b)
        assert 0.9955 < ratio < 1.0057


def test_haversine_array_matches_the_scalar_and_broadcasts():
    rng = np.random.default_rng(3)
    lats = rng.uniform(-90.0, 90.0, 50)
    lons = rng.uniform(-180.0, 180.0, 50)
    distances = haversine_m_array(lat1=HAMBURG_HBF.lat, lon1=HAMBURG_HBF.lon, lat2=lats, lon2=lons)
    assert distances.shape == (50,)
    for lat, lon, d in zip(lats, lons, distances, strict=True):
        assert d == pytest.approx(haversine_m(a=HAMBURG_HBF, b=Point(lat=lat, lon=lon)), rel=1e-12)


def test_destination_lands_at_the_requested_geodesic_distance():
    for bearing in (0.0, 45.0, 90.0, 200.0, 359.0):
        moved = destination(origin=HAMBURG_HBF, bearing_deg=bearing, distance_m=1234.5)
        assert geodesic_m(a=HAMBURG_HBF, b=moved) == pytest.approx(1234.5, abs=1e-6)


def test_destination_across_the_antimeridian_wraps_the_longitude():
    moved = destination(origin=Point(lat=0.0, lon=179.999), bearing_deg=90.0, distance_m=1_000.0)
    assert -180.0 <= moved.lon < -179.99


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (90.0001, 0.0),
        (-90.0001, 0.0),
        (0.0, 180.0001),
        (0.0, -180.0001),
        (math.nan, 0.0),
        (0.0, math.nan),
        (math.inf, 0.0),
        (0.0, -math.inf),
        ("53.5", 10.0),
        (None, 10.0),
        (True, 10.0),
    ],
)
def test_invalid_coordinates_raise_a_value_error_subclass(lat, lon):
    with pytest.raises(InvalidCoordinateError):
        Point(lat=lat, lon=lon)
    assert issubclass(InvalidCoordinateError, ValueError)


def test_the_edges_of_the_ranges_are_valid():
    for lat, lon in ((90.0, 180.0), (-90.0, -180.0), (90, -180)):
        point = Point(lat=lat, lon=lon)
        assert isinstance(point.lat, float)
        assert isinstance(point.lon, float)


def test_points_are_frozen():
    with pytest.raises(AttributeError):
        HAMBURG_HBF.lat = 0.0  # type: ignore[misc]


def test_array_validation_names_the_first_bad_row():
    with pytest.raises(InvalidCoordinateError, match=r"lats\[2\]"):
        validate_coordinate_arrays(lats=[0.0, 1.0, 91.0, 95.0], lons=[0.0, 0.0, 0.0, 0.0])
    with pytest.raises(InvalidCoordinateError, match=r"lons\[1\]"):
        validate_coordinate_arrays(lats=[0.0, 1.0], lons=[0.0, math.nan])
    with pytest.raises(InvalidCoordinateError, match="equal length"):
        validate_coordinate_arrays(lats=[0.0, 1.0], lons=[0.0])
