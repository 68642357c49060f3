"""Timing of StoreIndex against a numpy brute-force scan; run by hand, not by pytest.

.venv/bin/python -m tests.geo.bench_index [--stores 1000000] [--queries 500]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from geo.distance import haversine_m_array
from geo.index import StoreIndex
from geo.point import Point


def layout(name: str, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    if name == "germany":  # ~2.8 stores per km2, about Germany's bounding box
        return rng.uniform(47.3, 55.0, n), rng.uniform(6.0, 15.0, n)
    lats = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))  # uniform on the sphere
    return lats, rng.uniform(-180.0, 180.0, n)


def per_query_us(run, points) -> float:
    start = time.perf_counter()
    for point in points:
        run(point)
    return (time.perf_counter() - start) / len(points) * 1e6


def bench(name: str, rng: np.random.Generator, stores: int, queries: int, brute: int) -> None:
    lats, lons = layout(name, rng, stores)
    start = time.perf_counter()
    index = StoreIndex.build(ids=np.arange(stores), lats=lats, lons=lons)
    build_s = time.perf_counter() - start

    q_lats, q_lons = layout(name, rng, queries)
    points = [Point(lat=a, lon=b) for a, b in zip(q_lats, q_lons, strict=True)]
    brute_points = points[:brute]

    def brute_nearest(point: Point) -> np.ndarray:
        d = haversine_m_array(lat1=point.lat, lon1=point.lon, lat2=lats, lon2=lons)
        top = np.argpartition(d, 10)[:10]
        return top[np.argsort(d[top])]

    def brute_within(point: Point) -> np.ndarray:
        d = haversine_m_array(lat1=point.lat, lon1=point.lon, lat2=lats, lon2=lons)
        inside = np.flatnonzero(d <= 500.0)
        return inside[np.argsort(d[inside])]

    for point in brute_points:  # the two must agree before their times mean anything
        assert [h.id for h in index.nearest(point, k=10)] == brute_nearest(point).tolist()
        assert [h.id for h in index.within(point, radius_m=500.0)] == brute_within(point).tolist()

    nearest_us = per_query_us(lambda p: index.nearest(p, k=10), points)
    within_us = per_query_us(lambda p: index.within(p, radius_m=500.0), points)
    brute_nearest_us = per_query_us(brute_nearest, brute_points)
    brute_within_us = per_query_us(brute_within, brute_points)
    found = np.mean([len(index.within(p, radius_m=500.0)) for p in points])

    print(f"{name}: {stores:,} stores, build {build_s:.2f} s")
    print(
        f"  nearest-10 : index {nearest_us:8.1f} us/query   "
        f"brute force {brute_nearest_us / 1000:7.1f} ms/query"
    )
    print(
        f"  within 500m: index {within_us:8.1f} us/query   "
        f"brute force {brute_within_us / 1000:7.1f} ms/query   ({found:.1f} stores found)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--brute-queries", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for name in ("germany", "world"):
        bench(name, rng, args.stores, args.queries, args.brute_queries)


if __name__ == "__main__":
    main()
