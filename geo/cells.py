"""H3 hexagon cells for coarse bucketing: "stores in these cells" before any exact distance.

A cell id is a stable string that can be stored on a row and indexed by any database,
which is how radius pre-filters work without PostGIS.
"""

from __future__ import annotations

import math
from collections import deque

import h3

from geo.distance import haversine_m
from geo.point import Point

__all__ = [
    "cell_center",
    "cell_of",
    "cells_within",
]

# The disk is tested with great-circle distances; a caller's radius may be geodesic, which
# differs by up to ~0.56 %. This margin keeps the cover a superset under either model.
_RADIUS_MARGIN = 1.01
_ABSOLUTE_MARGIN_M = 1.0


def _check_resolution(resolution: int) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, int):
        raise ValueError(f"resolution must be an int in [0, 15], got {resolution!r}")
    if not 0 <= resolution <= 15:
        raise ValueError(f"resolution must be in [0, 15], got {resolution}")
    return resolution


def cell_of(*, point: Point, resolution: int) -> str:
    """The H3 cell (hex string) containing the point at a resolution (9 ~ 0.1 km^2)."""
    return str(h3.latlng_to_cell(point.lat, point.lon, _check_resolution(resolution)))


def cell_center(cell: str) -> Point:
    lat, lon = h3.cell_to_latlng(cell)
    return Point(lat=lat, lon=lon)


def _circumradius_m(cell: str, center: Point) -> float:
    """The farthest a point of the cell can be from its centre: the farthest vertex.

    H3 cell edges are great-circle arcs (straight in the face's gnomonic projection), and
    along such an arc the distance from an inside point peaks at an end, so the vertices
    bound the whole cell.
    """
    return max(
        haversine_m(a=center, b=Point(lat=lat, lon=lon)) for lat, lon in h3.cell_to_boundary(cell)
    )


def cells_within(
    *, point: Point, radius_m: float, resolution: int, max_cells: int = 100_000
) -> set[str]:
    """Cells that together cover every position within `radius_m` of the point.

    A superset: a cell whose bounding circle reaches the disk is kept even if only that
    circle (not the hexagon) does, so callers still filter candidates by exact distance.
    Found by a flood fill from the point's own cell, which is exact where a fixed
    `grid_disk(k)` would have to guess k from an average edge length (H3 cells vary in
    size by a factor of ~2 across the globe, and pentagons break the ring pattern).
    `max_cells` stops a radius far too large for the resolution before it eats memory.
    """
    radius = float(radius_m)
    if not math.isfinite(radius) or radius < 0.0:
        raise ValueError(f"radius_m must be a finite number >= 0, got {radius_m!r}")
    reach = radius * _RADIUS_MARGIN + _ABSOLUTE_MARGIN_M

    start = cell_of(point=point, resolution=resolution)
    found = {start}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        for neighbour in h3.grid_disk(cell, 1):
            if neighbour in found:
                continue
            center = cell_center(neighbour)
            gap = haversine_m(a=point, b=center) - _circumradius_m(neighbour, center)
            if gap <= reach:
                found.add(neighbour)
                if len(found) > max_cells:
                    raise ValueError(
                        f"more than {max_cells} cells at resolution {resolution} for "
                        f"{radius:.0f} m; use a coarser resolution"
                    )
                queue.append(neighbour)
    return found
