"""Distances between positions.

Two models, on purpose:

- `geodesic_m` is the distance on the WGS-84 ellipsoid (Karney's algorithm via geopy),
  accurate to well under a millimetre. Use it where a single verdict depends on the
  number: geofences, the distance a survey records to its store.
- `haversine_m` / `haversine_m_array` are great-circle distances on a sphere of the mean
  Earth radius. They differ from the geodesic by up to about 0.56 % (the sphere is too
  long north-south near the equator and too short near the poles), but are cheap and
  vectorise, so they serve bulk and ranking work: spatial indexes, route ordering.
"""

from __future__ import annotations

import math

import numpy as np
from geopy.distance import geodesic
from numpy.typing import ArrayLike, NDArray

from geo.point import InvalidCoordinateError, Point, validate_coordinates

__all__ = [
    "EARTH_MEAN_RADIUS_M",
    "InvalidCoordinateError",
    "Point",
    "destination",
    "geodesic_m",
    "haversine_m",
    "haversine_m_array",
    "validate_coordinates",
]

EARTH_MEAN_RADIUS_M = 6_371_008.8
"""IUGG mean Earth radius R1 = (2a + b) / 3, the sphere that best fits WGS-84 on average."""


def geodesic_m(*, a: Point, b: Point) -> float:
    """Distance in metres along the WGS-84 ellipsoid; the reference for single verdicts."""
    return float(geodesic((a.lat, a.lon), (b.lat, b.lon)).meters)


def destination(*, origin: Point, bearing_deg: float, distance_m: float) -> Point:
    """The point `distance_m` metres from `origin` along the WGS-84 geodesic at a bearing.

    Solves the direct geodesic problem, so `geodesic_m(a=origin, b=result)` returns
    `distance_m` again; used to build test fixtures and search rings with known distances.
    """
    if not (math.isfinite(distance_m) and distance_m >= 0.0):
        raise ValueError(f"distance_m must be >= 0, got {distance_m!r}")
    moved = geodesic(meters=distance_m).destination((origin.lat, origin.lon), bearing=bearing_deg)
    lon = ((moved.longitude + 180.0) % 360.0) - 180.0
    return Point(lat=moved.latitude, lon=lon)


def haversine_m(*, a: Point, b: Point) -> float:
    """Great-circle metres on the mean-radius sphere: fast, within ~0.56 % of the geodesic."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlambda = math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2.0) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2.0) ** 2
    return EARTH_MEAN_RADIUS_M * 2.0 * math.asin(math.sqrt(min(max(h, 0.0), 1.0)))


def haversine_m_array(
    *, lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> NDArray[np.float64]:
    """Vectorised great-circle distances (degrees in, metres out), broadcasting like numpy.

    Inputs are not range-checked here: bulk callers validate once when data enters
    (see `geo.point.validate_coordinate_arrays`), not on every distance computation.
    """
    phi1 = np.radians(np.asarray(lat1, dtype=np.float64))
    phi2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dphi = phi2 - phi1
    dlambda = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    h = np.sin(dphi / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlambda / 2.0) ** 2
    # Rounding can push h a hair above 1 for antipodal points; arcsin would return NaN.
    angle = 2.0 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return np.asarray(EARTH_MEAN_RADIUS_M * angle, dtype=np.float64)
