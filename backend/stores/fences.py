"""Where a store is and how far its geofence reaches, as plain data for geo checks."""

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from fieldline.conf import fieldline_settings
from geo.geofence import (
    GeofenceMode,
    GeofenceVerdict,
    geofence_radius,
    geofence_verdict,
)
from geo.point import Point
from stores.models import Store

FENCE_COLUMNS = ("pk", "lat", "lon", "geofence_radius_m", "trade_area_type", "opening_hours")


@dataclass(frozen=True)
class StoreFence:
    id: uuid.UUID
    point: Point
    radius_m: float
    opening_hours: Mapping[str, Any]


def geofence_mode() -> GeofenceMode:
    return GeofenceMode(fieldline_settings.GEOFENCE_MODE)


def _fence(pk, lat, lon, radius_m, trade_area_type, opening_hours) -> StoreFence:
    config = fieldline_settings
    radius = geofence_radius(
        store_radius_m=radius_m,
        trade_area_type=trade_area_type or None,
        radius_by_trade_area=config.GEOFENCE_RADIUS_BY_TRADE_AREA,
        default_radius_m=config.GEOFENCE_RADIUS_M,
    )
    return StoreFence(
        id=pk,
        point=Point(lat=lat, lon=lon),
        radius_m=radius,
        opening_hours=opening_hours if isinstance(opening_hours, dict) else {},
    )


def store_fence(store: Store) -> StoreFence:
    """The fence of a store held in memory (e.g. one created earlier in the same write)."""
    return _fence(*(getattr(store, name) for name in FENCE_COLUMNS))


def store_fences(*, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, StoreFence]:
    """Fences of these stores, in one query."""
    if not ids:
        return {}
    rows = Store.objects.filter(pk__in=list(ids)).values_list(*FENCE_COLUMNS)
    return {row[0]: _fence(*row) for row in rows}


def fence_verdict(
    *, fence: StoreFence, lat: float, lon: float, accuracy_m: float | None
) -> GeofenceVerdict:
    """The verdict on one fix at this store, under the configured mode and slack."""
    config = fieldline_settings
    return geofence_verdict(
        store=fence.point,
        fix=Point(lat=lat, lon=lon),
        accuracy_m=accuracy_m,
        radius_m=fence.radius_m,
        mode=geofence_mode(),
        accuracy_factor=config.GEOFENCE_ACCURACY_FACTOR,
        max_slack_m=config.GEOFENCE_MAX_SLACK_M,
    )


def as_uuid(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None
