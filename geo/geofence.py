"""Is a GPS fix at the store? The geofence verdict for visit check-ins and surveys.

A fix is accepted when its geodesic distance to the store is at most

    radius + min(accuracy_factor x accuracy, max_slack)

The reported accuracy widens the fence because a phone indoors or between tall
buildings honestly reports a worse fix; the cap keeps a fix that claims "somewhere
within 2 km" from verifying a visit anyway.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from geo.distance import geodesic_m
from geo.point import Point

__all__ = [
    "DEFAULT_GEOFENCE_RADIUS_M",
    "DEFAULT_RADIUS_BY_TRADE_AREA",
    "GeofenceMode",
    "GeofenceOutcome",
    "GeofenceVerdict",
    "geofence_radius",
    "geofence_verdict",
]

DEFAULT_GEOFENCE_RADIUS_M = 150.0

DEFAULT_RADIUS_BY_TRADE_AREA: Mapping[str, float] = MappingProxyType({"transit": 300.0})
"""Suggested per-trade-area radii: stations and hubs are large, with shops inside the
concourse and poor satellite visibility, so their fence is wider than a street shop's."""


class GeofenceMode(StrEnum):
    """How strictly a region enforces the fence (a setting, not a per-visit choice)."""

    OFF = "off"  # never blocks; distance is still measured and reported
    SOFT = "soft"  # outside the fence is allowed but flagged for review
    HARD = "hard"  # outside the fence is refused


class GeofenceOutcome(StrEnum):
    PASS = "pass"  # inside the fence, in soft or hard mode
    FLAGGED = "flagged"  # outside, soft mode: accepted, marked for a manager
    REFUSED = "refused"  # outside, hard mode: the check-in must be rejected
    UNCHECKED = "unchecked"  # mode off: accepted without a verdict


@dataclass(frozen=True, slots=True)
class GeofenceVerdict:
    """What the visit records: the measured distance and what was decided from it."""

    distance_m: float
    allowed_radius_m: float
    inside: bool
    outcome: GeofenceOutcome

    @property
    def allowed(self) -> bool:
        """Whether the caller may go ahead (only a hard-mode miss blocks)."""
        return self.outcome is not GeofenceOutcome.REFUSED


def _non_negative(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0.0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def geofence_verdict(
    *,
    store: Point,
    fix: Point,
    accuracy_m: float | None,
    radius_m: float,
    mode: GeofenceMode,
    accuracy_factor: float = 1.0,
    max_slack_m: float = 100.0,
) -> GeofenceVerdict:
    """Judge one fix against one store's fence.

    `accuracy_m` is the phone's reported horizontal accuracy (68 % radius); None means
    the phone did not say, which earns no slack rather than unlimited slack.
    `inside` is always the geometric answer, even in mode off, so reports can show how
    far off unchecked visits were.
    """
    mode = GeofenceMode(mode)
    radius = _positive("radius_m", radius_m)
    factor = _non_negative("accuracy_factor", accuracy_factor)
    cap = _non_negative("max_slack_m", max_slack_m)
    accuracy = 0.0 if accuracy_m is None else _non_negative("accuracy_m", accuracy_m)

    allowed_radius = radius + min(factor * accuracy, cap)
    distance = geodesic_m(a=store, b=fix)
    inside = distance <= allowed_radius

    if mode is GeofenceMode.OFF:
        outcome = GeofenceOutcome.UNCHECKED
    elif inside:
        outcome = GeofenceOutcome.PASS
    elif mode is GeofenceMode.SOFT:
        outcome = GeofenceOutcome.FLAGGED
    else:
        outcome = GeofenceOutcome.REFUSED
    return GeofenceVerdict(
        distance_m=distance, allowed_radius_m=allowed_radius, inside=inside, outcome=outcome
    )


def geofence_radius(
    *,
    store_radius_m: float | None,
    trade_area_type: str | None,
    radius_by_trade_area: Mapping[str, float],
    default_radius_m: float = DEFAULT_GEOFENCE_RADIUS_M,
) -> float:
    """The fence radius for a store: its own override, else its trade-area type's, else the
    default; so a manager can fix one odd store without changing the rule for all."""
    if store_radius_m is not None:
        return _positive("store_radius_m", store_radius_m)
    if trade_area_type and trade_area_type in radius_by_trade_area:
        return _positive(
            f"radius_by_trade_area[{trade_area_type!r}]", radius_by_trade_area[trade_area_type]
        )
    return _positive("default_radius_m", default_radius_m)
