"""Reads of stores: the selection a manager makes by sales and site features.

Every criterion becomes SQL on the store table (site features from each store's latest
survey through a correlated subquery), so a selection of fifty thousand stores is one
query, not a loop.
"""

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db.models import (
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import ASin, Cos, Power, Radians, Sin, Sqrt
from django.utils import timezone

from accounts.models import User
from accounts.scope import scope_filter
from stores.models import Store
from surveys.models import SiteSurvey

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True)
class StoreSelection:
    """Which stores: each criterion narrows; an empty one does not apply."""

    regions: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    trade_area_types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    equipment: tuple[str, ...] = ()
    footfall_min: int | None = None
    footfall_max: int | None = None
    no_survey_days: int | None = None
    near: Near | None = None
    owners: tuple[int, ...] = field(default=())


def json_list_has(field_name: str, item: str) -> Q:
    """A JSON list column holds this string item (works on SQLite and PostgreSQL alike:
    lists are stored as JSON text, where each string item is quoted)."""
    return Q(**{f"{field_name}__icontains": f'"{item}"'})


def store_selection(*, actor: User, selection: StoreSelection) -> QuerySet[Store]:
    """Live stores in the actor's scope that match every criterion of `selection`."""
    stores = Store.objects.filter(scope_filter(user=actor), deleted=False)
    for name, values in (
        ("region_id__in", selection.regions),
        ("grade__in", selection.grades),
        ("segment__in", selection.segments),
        ("status__in", selection.statuses),
        ("trade_area_type__in", selection.trade_area_types),
        ("owner_id__in", selection.owners),
    ):
        if values:
            stores = stores.filter(**{name: values})
    for tag in selection.tags:
        stores = stores.filter(json_list_has("tags", tag))
    latest = SiteSurvey.objects.filter(store=OuterRef("pk"), deleted=False).order_by(
        F("captured_at").desc(nulls_last=True), "-created_at"
    )
    if (
        selection.equipment
        or selection.footfall_min is not None
        or (selection.footfall_max is not None)
    ):
        stores = stores.annotate(latest_survey=Subquery(latest.values("pk")[:1]))
        surveyed = SiteSurvey.objects.filter(pk=OuterRef("latest_survey"))
        for item in selection.equipment:
            surveyed = surveyed.filter(json_list_has("equipment", item))
        if selection.footfall_min is not None:
            surveyed = surveyed.filter(footfall_weekday__gte=selection.footfall_min)
        if selection.footfall_max is not None:
            surveyed = surveyed.filter(footfall_weekday__lte=selection.footfall_max)
        stores = stores.filter(Exists(surveyed))
    if selection.no_survey_days is not None:
        since = timezone.now() - dt.timedelta(days=selection.no_survey_days)
        recent = SiteSurvey.objects.filter(
            store=OuterRef("pk"), deleted=False, captured_at__gte=since
        )
        stores = stores.filter(~Exists(recent))
    if selection.near is not None:
        stores = within_radius(stores, near=selection.near)
    return stores


def within_radius(stores: QuerySet[Store], *, near: Near) -> QuerySet[Store]:
    """Stores within `near.radius_m` (great circle), with `distance_m` annotated.

    A bounding box first, so that an index on lat/lon can narrow the rows the haversine
    formula then measures exactly.
    """
    lat_delta = math.degrees(near.radius_m / EARTH_RADIUS_M)
    cos_lat = max(math.cos(math.radians(near.lat)), 1e-6)
    lon_delta = min(180.0, lat_delta / cos_lat)
    stores = stores.filter(
        lat__gte=near.lat - lat_delta,
        lat__lte=near.lat + lat_delta,
    )
    if near.lon - lon_delta >= -180 and near.lon + lon_delta <= 180:
        stores = stores.filter(lon__gte=near.lon - lon_delta, lon__lte=near.lon + lon_delta)
    half_dlat = Radians(F("lat") - near.lat) / 2
    half_dlon = Radians(F("lon") - near.lon) / 2
    a = Power(Sin(half_dlat), 2) + math.cos(math.radians(near.lat)) * Cos(
        Radians(F("lat"))
    ) * Power(Sin(half_dlon), 2)
    distance = ExpressionWrapper(2 * EARTH_RADIUS_M * ASin(Sqrt(a)), output_field=FloatField())
    return stores.annotate(distance_m=distance).filter(distance_m__lte=near.radius_m)


def stores_nearby(*, actor: User, near: Near, limit: int) -> list[Store]:
    """The live stores in the actor's scope within `near`, nearest first, each with
    `distance_m` (great circle)."""
    stores = Store.objects.filter(scope_filter(user=actor), deleted=False)
    return list(within_radius(stores, near=near).order_by("distance_m", "pk")[:limit])
