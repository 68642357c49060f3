"""In-memory spatial index over stores: nearest-k and "within R metres" at millions of rows.

Positions are stored as 3-D unit vectors in a k-d tree (scipy's cKDTree). The straight
chord between two unit vectors grows monotonically with the great-circle angle
(chord = 2 sin(angle / 2)), so ranking and radius tests by chord are exact on the sphere,
with no seam at the antimeridian and no singularity at the poles, unlike a tree over raw
lat/lon. Every candidate's distance is then recomputed with haversine from the stored
lat/lon, so reported distances equal `geo.distance.haversine_m`.

Distances are great-circle on the mean-radius sphere, not geodesic: they can differ from
`geo.distance.geodesic_m` by up to ~0.56 % (under 3 m at 500 m). That is fine for
ranking and dispatch radii; a check whose verdict hinges on metres (a geofence) uses the
geodesic on the few points it returns.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from geo.distance import EARTH_MEAN_RADIUS_M, haversine_m_array
from geo.point import Point, validate_coordinate_arrays

__all__ = ["Hit", "StoreIndex", "unit_vectors"]

# Slack on the chord radius so float rounding in the vectors never drops a point whose
# haversine distance is within the radius; those extra candidates are filtered exactly.
_CHORD_REL_SLACK = 1e-9
_CHORD_ABS_SLACK = 1e-12  # about 6 micrometres on the Earth's surface


@dataclass(frozen=True, slots=True)
class Hit:
    id: Hashable
    distance_m: float


def unit_vectors(*, lats: ArrayLike, lons: ArrayLike) -> NDArray[np.float64]:
    """(n, 3) unit vectors (x towards lon 0 on the equator, z towards the north pole)."""
    phi = np.radians(np.asarray(lats, dtype=np.float64))
    lam = np.radians(np.asarray(lons, dtype=np.float64))
    cos_phi = np.cos(phi)
    return np.column_stack((cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)))


def _chord_for(radius_m: float) -> float:
    angle = radius_m / EARTH_MEAN_RADIUS_M
    if angle >= math.pi:
        return 2.0  # the whole sphere
    return 2.0 * math.sin(angle / 2.0)


class StoreIndex:
    """Immutable once built; rebuild it when stores change (a million take about 0.5 s)."""

    def __init__(
        self,
        *,
        ids: NDArray[np.generic],
        lats: NDArray[np.float64],
        lons: NDArray[np.float64],
        tree: cKDTree,
    ) -> None:
        self._ids = ids
        self._lats = lats
        self._lons = lons
        self._tree = tree

    @classmethod
    def build(cls, *, ids: ArrayLike, lats: ArrayLike, lons: ArrayLike) -> StoreIndex:
        """Index stores by position; `ids` are returned as given (ints, strings, UUIDs)."""
        lat_arr, lon_arr = validate_coordinate_arrays(lats=lats, lons=lons)
        # Own copies, read-only, so a caller reusing its arrays cannot shift the index.
        lat_arr, lon_arr, id_arr = np.array(lat_arr), np.array(lon_arr), np.array(ids)
        for array in (lat_arr, lon_arr, id_arr):
            array.setflags(write=False)
        if id_arr.shape != lat_arr.shape:
            raise ValueError(
                f"ids must have one entry per position, got {id_arr.shape} for {lat_arr.shape}"
            )
        # Sliding-midpoint splits without node compaction build twice as fast as the
        # defaults (0.25 s against 0.5 s for a million stores) and cost a few microseconds
        # per query, small next to the ~50 us a query spends in Python around the tree.
        tree = cKDTree(
            unit_vectors(lats=lat_arr, lons=lon_arr),
            leafsize=16,
            balanced_tree=False,
            compact_nodes=False,
        )
        return cls(ids=id_arr, lats=lat_arr, lons=lon_arr, tree=tree)

    def __len__(self) -> int:
        return int(self._lats.shape[0])

    def _distances(self, rows: NDArray[np.intp], point: Point) -> NDArray[np.float64]:
        return haversine_m_array(
            lat1=point.lat, lon1=point.lon, lat2=self._lats[rows], lon2=self._lons[rows]
        )

    def _ranked(self, rows: NDArray[np.intp], distances: NDArray[np.float64]) -> list[Hit]:
        # Re-sorted by the haversine value itself so the output order agrees exactly with
        # the distances reported, even where chord rounding would swap near-ties.
        order = np.argsort(distances, kind="stable")
        ids = self._ids[rows[order]].tolist()
        return [
            Hit(id=i, distance_m=d) for i, d in zip(ids, distances[order].tolist(), strict=True)
        ]

    def nearest(self, point: Point, *, k: int = 1) -> list[Hit]:
        """The k stores closest to the point, nearest first (fewer if the index is smaller)."""
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        n = len(self)
        if n == 0:
            return []
        k = min(k, n)
        vec = unit_vectors(lats=[point.lat], lons=[point.lon])[0]
        _, found = self._tree.query(vec, k=k)
        rows = np.atleast_1d(np.asarray(found, dtype=np.intp))
        return self._ranked(rows, self._distances(rows, point))

    def within(self, point: Point, *, radius_m: float, limit: int | None = None) -> list[Hit]:
        """Stores within `radius_m` (great-circle) of the point, nearest first.

        `limit` cuts the sorted list; all candidates in the radius are still measured, so
        a huge radius over a dense area costs what it returns.
        """
        if not math.isfinite(radius_m) or radius_m < 0.0:
            raise ValueError(f"radius_m must be a finite number >= 0, got {radius_m!r}")
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        if len(self) == 0 or limit == 0:
            return []
        vec = unit_vectors(lats=[point.lat], lons=[point.lon])[0]
        chord = _chord_for(radius_m) * (1.0 + _CHORD_REL_SLACK) + _CHORD_ABS_SLACK
        rows = np.asarray(self._tree.query_ball_point(vec, r=chord), dtype=np.intp)
        if rows.size == 0:
            return []
        distances = self._distances(rows, point)
        keep = distances <= radius_m
        hits = self._ranked(rows[keep], distances[keep])
        return hits if limit is None else hits[:limit]
