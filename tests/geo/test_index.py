import uuid

import numpy as np
import pytest

from geo.distance import EARTH_MEAN_RADIUS_M, haversine_m, haversine_m_array
from geo.index import Hit, StoreIndex
from geo.point import InvalidCoordinateError, Point

HAMBURG = Point(lat=53.5511, lon=9.9937)


def around_hamburg(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.normal(HAMBURG.lat, 0.05, n), rng.normal(HAMBURG.lon, 0.08, n)


def worldwide(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform on the sphere, with extra stores packed at the antimeridian and the poles."""
    k = n // 5
    lats = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n - 3 * k)))
    lons = rng.uniform(-180.0, 180.0, n - 3 * k)
    seam_lats = rng.uniform(-60.0, 60.0, k)
    seam_lons = np.where(rng.random(k) < 0.5, 1.0, -1.0) * rng.uniform(179.9, 180.0, k)
    north_lats, north_lons = rng.uniform(89.9, 90.0, k), rng.uniform(-180.0, 180.0, k)
    south_lats, south_lons = rng.uniform(-90.0, -89.9, k), rng.uniform(-180.0, 180.0, k)
    return (
        np.concatenate((lats, seam_lats, north_lats, south_lats)),
        np.concatenate((lons, seam_lons, north_lons, south_lons)),
    )


QUERIES = [
    HAMBURG,
    Point(lat=53.60, lon=10.10),
    Point(lat=0.0, lon=180.0),
    Point(lat=12.5, lon=-179.99),
    Point(lat=-33.0, lon=179.95),
    Point(lat=90.0, lon=0.0),
    Point(lat=89.95, lon=-120.0),
    Point(lat=-90.0, lon=45.0),
    Point(lat=-45.0, lon=-60.0),
]


def brute_force(lats, lons, point):
    distances = haversine_m_array(lat1=point.lat, lon1=point.lon, lat2=lats, lon2=lons)
    return distances, np.argsort(distances, kind="stable")


@pytest.mark.parametrize("layout", [around_hamburg, worldwide])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nearest_matches_a_brute_force_scan(layout, seed):
    rng = np.random.default_rng(seed)
    lats, lons = layout(rng, 5_000)
    ids = np.arange(5_000) * 7 + 1
    index = StoreIndex.build(ids=ids, lats=lats, lons=lons)

    queries = [
        *QUERIES,
        *(Point(lat=lat, lon=lon) for lat, lon in zip(lats[:20], lons[:20], strict=True)),
    ]
    for point in queries:
        for k in (1, 10, 37):
            hits = index.nearest(point, k=k)
            distances, order = brute_force(lats, lons, point)

            assert len(hits) == k
            assert [hit.id for hit in hits] == ids[order[:k]].tolist()
            np.testing.assert_allclose(
                [hit.distance_m for hit in hits], distances[order[:k]], rtol=0, atol=1e-6
            )


@pytest.mark.parametrize("layout", [around_hamburg, worldwide])
@pytest.mark.parametrize("seed", [4, 5])
def test_within_matches_a_brute_force_scan(layout, seed):
    rng = np.random.default_rng(seed)
    lats, lons = layout(rng, 5_000)
    ids = np.arange(5_000)
    index = StoreIndex.build(ids=ids, lats=lats, lons=lons)

    for point in QUERIES:
        for radius_m in (0.0, 50.0, 500.0, 2_000.0, 25_000.0, 1_500_000.0):
            hits = index.within(point, radius_m=radius_m)
            distances, order = brute_force(lats, lons, point)
            expected = [i for i in order.tolist() if distances[i] <= radius_m]

            assert [hit.id for hit in hits] == expected
            assert all(hit.distance_m <= radius_m for hit in hits)
            assert [hit.distance_m for hit in hits] == sorted(hit.distance_m for hit in hits)


def test_within_finds_something_in_every_query_of_the_dense_city():
    rng = np.random.default_rng(9)
    lats, lons = around_hamburg(rng, 5_000)
    index = StoreIndex.build(ids=np.arange(5_000), lats=lats, lons=lons)
    assert len(index.within(HAMBURG, radius_m=500.0)) > 10


def test_within_with_a_limit_is_the_nearest_prefix():
    rng = np.random.default_rng(6)
    lats, lons = around_hamburg(rng, 5_000)
    index = StoreIndex.build(ids=np.arange(5_000), lats=lats, lons=lons)

    everything = index.within(HAMBURG, radius_m=3_000.0)
    assert len(everything) > 25
    assert index.within(HAMBURG, radius_m=3_000.0, limit=25) == everything[:25]
    assert index.within(HAMBURG, radius_m=3_000.0, limit=0) == []


def test_a_radius_beyond_half_the_earth_returns_every_store():
    rng = np.random.default_rng(8)
    lats, lons = worldwide(rng, 1_000)
    index = StoreIndex.build(ids=np.arange(1_000), lats=lats, lons=lons)
    hits = index.within(HAMBURG, radius_m=np.pi * EARTH_MEAN_RADIUS_M * 1.01)
    assert len(hits) == 1_000


def test_neighbours_across_the_antimeridian_are_near():
    index = StoreIndex.build(
        ids=["east", "west", "far"], lats=[0.0, 0.0, 0.0], lons=[179.9999, -179.9999, 179.0]
    )
    hits = index.nearest(Point(lat=0.0, lon=-179.9999), k=2)
    assert [hit.id for hit in hits] == ["west", "east"]
    assert hits[1].distance_m == pytest.approx(22.24, abs=0.01)
    on_the_seam = index.within(Point(lat=0.0, lon=180.0), radius_m=20.0)
    assert {hit.id for hit in on_the_seam} == {"east", "west"}


def test_stores_around_the_pole_are_all_near_it():
    lons = np.linspace(-180.0, 170.0, 36)
    index = StoreIndex.build(ids=np.arange(36), lats=np.full(36, 89.9999), lons=lons)
    hits = index.within(Point(lat=90.0, lon=0.0), radius_m=12.0)
    assert len(hits) == 36
    assert all(hit.distance_m == pytest.approx(11.12, abs=0.01) for hit in hits)


def test_ids_come_back_as_given():
    store_ids = [uuid.uuid4() for _ in range(3)]
    index = StoreIndex.build(
        ids=np.array(store_ids, dtype=object), lats=[53.55, 53.56, 53.60], lons=[10.0, 10.0, 10.0]
    )
    hits = index.nearest(Point(lat=53.55, lon=10.0), k=3)
    assert [hit.id for hit in hits] == store_ids
    assert hits[0] == Hit(id=store_ids[0], distance_m=0.0)
    assert hits[1].distance_m == pytest.approx(
        haversine_m(a=Point(lat=53.55, lon=10.0), b=Point(lat=53.56, lon=10.0))
    )


def test_k_larger_than_the_index_returns_everything():
    index = StoreIndex.build(ids=[1, 2], lats=[0.0, 1.0], lons=[0.0, 1.0])
    assert [hit.id for hit in index.nearest(Point(lat=0.0, lon=0.0), k=5)] == [1, 2]
    assert len(index) == 2


def test_an_empty_index_answers_empty():
    index = StoreIndex.build(ids=[], lats=[], lons=[])
    assert len(index) == 0
    assert index.nearest(HAMBURG, k=3) == []
    assert index.within(HAMBURG, radius_m=1_000.0) == []


def test_bad_input_raises():
    with pytest.raises(InvalidCoordinateError):
        StoreIndex.build(ids=[1, 2], lats=[0.0, np.nan], lons=[0.0, 0.0])
    with pytest.raises(ValueError, match="one entry per position"):
        StoreIndex.build(ids=[1], lats=[0.0, 1.0], lons=[0.0, 1.0])
    index = StoreIndex.build(ids=[1], lats=[0.0], lons=[0.0])
    with pytest.raises(ValueError, match="k must be"):
        index.nearest(HAMBURG, k=0)
    with pytest.raises(ValueError, match="radius_m"):
        index.within(HAMBURG, radius_m=-1.0)
    with pytest.raises(ValueError, match="limit"):
        index.within(HAMBURG, radius_m=1.0, limit=-1)
