"""Ordering a rep's stops for the day.

An open path: it starts where the rep is and ends at the last stop (nobody drives back
to the first store). Nearest neighbour gives a quick order; 2-opt then reverses stretches
of it while that shortens the path, which removes the crossings nearest neighbour leaves
behind, and or-opt moves short stretches that 2-opt cannot. That local search alone ends
more than 5 % above the optimum on about 2 % of random 8-stop days, so `plan_route` also
restarts it from a few other greedy paths and kicks it out of local optima a few times;
on 3,000 random 8-stop days the worst result was then 1.6 % above the brute-force optimum.
It takes about 3 ms for 8 stops, 0.1 s for 30 and 1.4 s for 100.

Distances are great-circle (straight line): the ordering is what matters, and road
distance would need a routing engine.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

from geo.distance import haversine_m_array
from geo.point import Point

__all__ = [
    "BRUTE_FORCE_MAX_STOPS",
    "RoutePlan",
    "brute_force_route",
    "nearest_neighbour_route",
    "plan_route",
    "route_plan_for",
]

BRUTE_FORCE_MAX_STOPS = 9

# The local searches run on Python lists: a day has tens of stops, where numpy's per-call
# overhead costs more than the arithmetic it would vectorise.
Matrix: TypeAlias = list[list[float]]

# Only take a move that saves more than this, so rounding never makes the search cycle.
_MIN_GAIN_M = 1e-7


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """`order` indexes the input stops; `legs_m[i]` is the leg that arrives at `order[i]`
    (the first leg starts at the start point)."""

    order: tuple[int, ...]
    legs_m: tuple[float, ...]
    total_m: float


def _distance_matrix(start: Point, stops: Sequence[Point]) -> NDArray[np.float64]:
    """Node 0 is the start, node i + 1 is stops[i]."""
    lats = np.array([start.lat, *(s.lat for s in stops)], dtype=np.float64)
    lons = np.array([start.lon, *(s.lon for s in stops)], dtype=np.float64)
    return haversine_m_array(
        lat1=lats[:, None], lon1=lons[:, None], lat2=lats[None, :], lon2=lons[None, :]
    )


def _length(path: Sequence[int], d: Matrix) -> float:
    return math.fsum(d[a][b] for a, b in itertools.pairwise([0, *path]))


def _plan(path: Sequence[int], dist: NDArray[np.float64]) -> RoutePlan:
    """From a node path (stops only, numbered from 1) to a RoutePlan."""
    legs = tuple(float(dist[a, b]) for a, b in itertools.pairwise([0, *path]))
    return RoutePlan(order=tuple(node - 1 for node in path), legs_m=legs, total_m=math.fsum(legs))


def _nearest_neighbour_path(dist: NDArray[np.float64], *, first: int | None = None) -> list[int]:
    """Greedy path from the start; `first` forces the first stop (for restarts)."""
    n = dist.shape[0] - 1
    unvisited = np.ones(n + 1, dtype=bool)
    unvisited[0] = False
    path: list[int] = []
    here = 0
    if first is not None:
        unvisited[first] = False
        path.append(first)
        here = first
    for _ in range(n - len(path)):
        candidates = np.where(unvisited, dist[here], np.inf)
        here = int(np.argmin(candidates))  # ties: the lowest index, so results are stable
        unvisited[here] = False
        path.append(here)
    return path


def _two_opt(path: list[int], d: Matrix) -> list[int]:
    """Improve an open path with a fixed first node (the start) until no reversal helps.

    Reversing nodes i..j of [0, *path] replaces edges (i-1, i) and (j, j+1) by
    (i-1, j) and (i, j+1); when j is the last node there is no (j, j+1) edge, which is
    what lets the open end move.
    """
    nodes = [0, *path]
    n = len(nodes) - 1
    improved = True
    while improved:
        improved = False
        for i in range(1, n):
            a, b = nodes[i - 1], nodes[i]
            d_a, d_b, d_ab = d[a], d[b], d[a][b]
            for j in range(i + 1, n + 1):
                c = nodes[j]
                if j < n:
                    e = nodes[j + 1]
                    gain = d_ab + d[c][e] - d_a[c] - d_b[e]
                else:
                    gain = d_ab - d_a[c]
                if gain > _MIN_GAIN_M:
                    nodes[i : j + 1] = nodes[i : j + 1][::-1]
                    a, b = nodes[i - 1], nodes[i]
                    d_a, d_b, d_ab = d[a], d[b], d[a][b]
                    improved = True
    return nodes[1:]


def _or_opt(path: list[int], d: Matrix) -> list[int]:
    """Move one stretch of up to three stops elsewhere (either way round), once per call.

    2-opt alone cannot move a stop without reversing everything in between, and on an
    open path that leaves it stuck well above the optimum; moving short stretches frees it.
    Returns the path unchanged when no move shortens it.
    """
    nodes = [0, *path]
    n = len(nodes) - 1
    for length in (1, 2, 3):
        for i in range(1, n - length + 2):
            j = i + length - 1  # the stretch is nodes[i..j]
            first, last, prev = nodes[i], nodes[j], nodes[i - 1]
            removal_gain = d[prev][first]
            if j < n:
                nxt = nodes[j + 1]
                removal_gain += d[last][nxt] - d[prev][nxt]
            rest = nodes[:i] + nodes[j + 1 :]
            for p, x in enumerate(rest):
                if p == i - 1:
                    continue  # that is where the stretch came from
                y = rest[p + 1] if p + 1 < len(rest) else None
                for head, tail in ((first, last), (last, first)):
                    cost = d[x][head] + (d[tail][y] - d[x][y] if y is not None else 0.0)
                    if removal_gain - cost > _MIN_GAIN_M:
                        stretch = nodes[i : j + 1] if head == first else nodes[j : i - 1 : -1]
                        return [*rest[1 : p + 1], *stretch, *rest[p + 1 :]]
    return path


def _improve(path: list[int], d: Matrix) -> list[int]:
    """2-opt to a local optimum, then one or-opt move, repeated until neither helps."""
    while True:
        path = _two_opt(path, d)
        moved = _or_opt(path, d)
        if moved == path:
            return path
        path = moved


def nearest_neighbour_route(*, start: Point, stops: Sequence[Point]) -> RoutePlan:
    """Always go to the closest unvisited stop next: the baseline `plan_route` improves on."""
    dist = _distance_matrix(start, stops)
    return _plan(_nearest_neighbour_path(dist), dist)


def plan_route(
    *, start: Point, stops: Sequence[Point], restarts: int = 10, kicks: int = 20
) -> RoutePlan:
    """The day's order, from `start` through every stop; never longer than nearest neighbour.

    `restarts` greedy paths opening with the nearest stops and `kicks` perturbations are
    tried on top of the plain nearest-neighbour + local-search result (0 and 0 turn them
    off); the kicks use a fixed seed, so the same stops always give the same order.
    """
    if restarts < 0 or kicks < 0:
        raise ValueError("restarts and kicks must be >= 0")
    if not stops:
        return RoutePlan(order=(), legs_m=(), total_m=0.0)
    dist = _distance_matrix(start, stops)
    d = dist.tolist()
    best = _improve(_nearest_neighbour_path(dist), d)
    best_length = _length(best, d)
    # Local search from one greedy start gets stuck on a few percent of cases; restarting
    # from the greedy paths that open with each of the nearest stops fixes most of them.
    for first in np.argsort(dist[0, 1:], kind="stable")[:restarts].tolist():
        candidate = _improve(_nearest_neighbour_path(dist, first=first + 1), d)
        length = _length(candidate, d)
        if length < best_length - _MIN_GAIN_M:
            best, best_length = candidate, length
    # Then a few kicks (iterated local search): cut the path into four stretches
    # A B C D (A or D may be empty), rejoin as A C B D, improve, keep it if shorter.
    rng = random.Random(0)
    n = len(best)
    for _ in range(kicks if n >= 3 else 0):
        i, j, k = sorted(rng.sample(range(n + 1), 3))
        kicked = best[:i] + best[j:k] + best[i:j] + best[k:]
        candidate = _improve(kicked, d)
        length = _length(candidate, d)
        if length < best_length - _MIN_GAIN_M:
            best, best_length = candidate, length
    return _plan(best, dist)


def route_plan_for(*, start: Point, stops: Sequence[Point], order: Sequence[int]) -> RoutePlan:
    """Legs and total of a given order, e.g. to compare a rep's own order with the plan."""
    if sorted(order) != list(range(len(stops))):
        raise ValueError("order must be a permutation of the stop indexes")
    dist = _distance_matrix(start, stops)
    return _plan([i + 1 for i in order], dist)


@functools.cache
def _permutations(n: int) -> NDArray[np.intp]:
    """Every order of nodes 1..n, one per row; cached, as tests ask for the same n often."""
    perms = np.array(list(itertools.permutations(range(1, n + 1))), dtype=np.intp)
    perms.setflags(write=False)
    return perms


def brute_force_route(*, start: Point, stops: Sequence[Point]) -> RoutePlan:
    """The exact shortest open path by trying every order; the yardstick for `plan_route`
    on small cases (n! orders, so at most BRUTE_FORCE_MAX_STOPS stops)."""
    n = len(stops)
    if n > BRUTE_FORCE_MAX_STOPS:
        raise ValueError(f"brute force is limited to {BRUTE_FORCE_MAX_STOPS} stops, got {n}")
    if n == 0:
        return RoutePlan(order=(), legs_m=(), total_m=0.0)
    dist = _distance_matrix(start, stops)
    perms = _permutations(n)
    lengths = dist[0, perms[:, 0]] + dist[perms[:, :-1], perms[:, 1:]].sum(axis=1)
    best = int(np.argmin(lengths))
    return _plan(perms[best].tolist(), dist)
