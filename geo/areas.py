"""Trade-area polygons: which drawn area a store or a fix falls in.

Geometry is planar in lon/lat degrees (shapely), which is exact for the question asked
here, "is the point inside the ring as drawn on a map". Areas must not cross the
antimeridian; give such an area as a MultiPolygon of its two halves.
A point on an area's boundary counts as inside it, so a store drawn on the line is
never left without an area.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import shapely
from numpy.typing import ArrayLike
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from geo.point import Point, validate_coordinate_arrays

__all__ = [
    "AreaShape",
    "InvalidAreaError",
    "TradeArea",
    "TradeAreaIndex",
    "point_in_polygon",
    "polygon_from",
]

Ring: TypeAlias = Sequence[Sequence[float]]
AreaShape: TypeAlias = Ring | Sequence[Ring] | Mapping[str, Any] | Polygon | MultiPolygon
"""One ring of (lon, lat) pairs; or [exterior, *holes]; or a GeoJSON Polygon/MultiPolygon
geometry or Feature; or a shapely polygon."""


class InvalidAreaError(ValueError):
    """A polygon that cannot be used: wrong shape, self-intersecting, or out of range."""


@dataclass(frozen=True, slots=True)
class TradeArea:
    name: str
    polygon: Polygon | MultiPolygon


def _ring_depth(value: Any) -> int:
    """1 for a coordinate pair, 2 for a ring, 3 for a list of rings."""
    depth = 0
    while isinstance(value, Sequence) and not isinstance(value, str):
        if not value:
            raise InvalidAreaError("empty coordinate list")
        value = value[0]
        depth += 1
    return depth


def polygon_from(area: AreaShape) -> Polygon | MultiPolygon:
    """Build and check a polygon from any accepted input, so every area is valid up front
    rather than silently matching nothing (or everything) later."""
    geometry: BaseGeometry
    if isinstance(area, np.ndarray):
        area = area.tolist()
    if isinstance(area, Polygon | MultiPolygon):
        geometry = area
    elif isinstance(area, Mapping):
        data = area.get("geometry", area) if area.get("type") == "Feature" else area
        if not isinstance(data, Mapping) or data.get("type") not in ("Polygon", "MultiPolygon"):
            raise InvalidAreaError("expected a GeoJSON Polygon or MultiPolygon")
        try:
            geometry = shape(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidAreaError(f"unreadable GeoJSON polygon: {exc}") from exc
    else:
        depth = _ring_depth(area)
        rings: Sequence[Ring]
        if depth == 2:
            rings = [area]  # type: ignore[list-item]
        elif depth == 3:
            rings = area  # type: ignore[assignment]
        else:
            raise InvalidAreaError("expected a ring of (lon, lat) pairs or a list of rings")
        try:
            geometry = Polygon(rings[0], rings[1:])
        except (TypeError, ValueError) as exc:
            raise InvalidAreaError(f"unreadable ring: {exc}") from exc

    if not isinstance(geometry, Polygon | MultiPolygon) or geometry.is_empty:
        raise InvalidAreaError("an area must be a non-empty polygon")
    if not geometry.is_valid:
        raise InvalidAreaError(f"invalid polygon: {shapely.is_valid_reason(geometry)}")
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    if min_lon < -180.0 or max_lon > 180.0 or min_lat < -90.0 or max_lat > 90.0:
        raise InvalidAreaError("polygon coordinates must be (lon, lat) within range")
    return geometry


def point_in_polygon(*, point: Point, polygon: Polygon | MultiPolygon) -> bool:
    """Inside or on the boundary (see the module note on boundaries)."""
    return bool(polygon.covers(shapely.Point(point.lon, point.lat)))


class TradeAreaIndex:
    """Named polygons behind an STRtree, for "which area is this store in" at any count."""

    def __init__(self, *, trade_areas: Iterable[TradeArea]) -> None:
        self._areas: tuple[TradeArea, ...] = tuple(trade_areas)
        names = [area.name for area in self._areas]
        if len(set(names)) != len(names):
            raise InvalidAreaError("area names must be unique")
        self._by_name = {area.name: area for area in self._areas}
        polygons = [area.polygon for area in self._areas]
        self._tree = shapely.STRtree(polygons)
        # Overlaps resolve to the smallest area: the more specific one (a station inside
        # a district) is the better description of the spot. Ties fall back to name.
        # Areas in square degrees are fine for this: overlapping areas share a latitude.
        self._rank = np.empty(len(self._areas), dtype=np.int64)
        order = sorted(
            range(len(self._areas)),
            key=lambda i: (self._areas[i].polygon.area, self._areas[i].name),
        )
        self._rank[order] = np.arange(len(order))

    @classmethod
    def build(cls, *, areas: Mapping[str, AreaShape]) -> TradeAreaIndex:
        """From a mapping name -> shape; every shape is validated."""
        built = []
        for name, area in areas.items():
            try:
                built.append(TradeArea(name=name, polygon=polygon_from(area)))
            except InvalidAreaError as exc:
                raise InvalidAreaError(f"area {name!r}: {exc}") from exc
        return cls(trade_areas=built)

    def __len__(self) -> int:
        return len(self._areas)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(area.name for area in self._areas)

    def contains(self, *, name: str, point: Point) -> bool:
        """Point-in-polygon for one named area; KeyError for an unknown name."""
        return point_in_polygon(point=point, polygon=self._by_name[name].polygon)

    def areas_of(self, point: Point) -> list[str]:
        """Every area containing the point, most specific (smallest) first."""
        hits = self._tree.query(shapely.Point(point.lon, point.lat), predicate="covered_by")
        return [self._areas[i].name for i in sorted(hits.tolist(), key=lambda i: self._rank[i])]

    def area_of(self, point: Point) -> str | None:
        """The most specific area containing the point, or None when it is in none."""
        hits = self.areas_of(point)
        return hits[0] if hits else None

    def area_of_many(self, *, lats: ArrayLike, lons: ArrayLike) -> list[str | None]:
        """`area_of` for many points in one tree query (e.g. tagging every store)."""
        lat_arr, lon_arr = validate_coordinate_arrays(lats=lats, lons=lons)
        result: list[str | None] = [None] * len(lat_arr)
        if not len(lat_arr) or not self._areas:
            return result
        points = shapely.points(lon_arr, lat_arr)
        point_idx, area_idx = self._tree.query(points, predicate="covered_by")
        if not len(point_idx):
            return result
        # For each point keep the hit with the lowest rank: sort by (point, rank), take firsts.
        order = np.lexsort((self._rank[area_idx], point_idx))
        point_idx, area_idx = point_idx[order], area_idx[order]
        first = np.ones(len(point_idx), dtype=bool)
        first[1:] = point_idx[1:] != point_idx[:-1]
        for p, a in zip(point_idx[first].tolist(), area_idx[first].tolist(), strict=True):
            result[p] = self._areas[a].name
        return result
