"""Reads of stores: stores around a point, and stores that look like duplicates."""

import difflib
import math
import uuid
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    QuerySet,
)
from django.db.models.functions import ASin, Cos, Power, Radians, Sin, Sqrt

from accounts.models import User
from accounts.scope import scope_filter
from stores.models import Store

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    radius_m: float


def json_list_has(field_name: str, item: str) -> Q:
    """A JSON list column holds this string item (works on SQLite and PostgreSQL alike:
    lists are stored as JSON text, where each string item is quoted)."""
    return Q(**{f"{field_name}__icontains": f'"{item}"'})


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


# Two stores this close with names this alike are probably one shop entered twice.
DUPLICATE_RADIUS_M = 30.0
DUPLICATE_NAME_SIMILARITY = 0.8


@dataclass(frozen=True)
class PhoneDuplicates:
    phone: str
    stores: tuple[Store, ...]


@dataclass(frozen=True)
class NearbyDuplicate:
    first: Store
    second: Store
    distance_m: float
    name_similarity: float


def live_stores(*, actor: User) -> QuerySet[Store]:
    return Store.objects.filter(scope_filter(user=actor), deleted=False)


def duplicate_phone_groups(*, actor: User) -> list[PhoneDuplicates]:
    """Live stores in the actor's scope sharing a phone number, grouped by it.

    Phones are stored in E.164 (every write path normalizes them), so equal numbers are
    equal strings: one GROUP BY finds the shared ones, as a subquery of the single query
    that reads their stores.
    """
    scoped = live_stores(actor=actor).exclude(phone="")
    shared = scoped.values("phone").annotate(stores=Count("pk")).filter(stores__gt=1)
    members = scoped.filter(phone__in=shared.values("phone")).order_by("phone", "created_at", "pk")
    groups: dict[str, list[Store]] = {}
    for store in members:
        groups.setdefault(store.phone, []).append(store)
    return [PhoneDuplicates(phone=phone, stores=tuple(stores)) for phone, stores in groups.items()]


def duplicate_nearby_pairs(
    *,
    actor: User,
    radius_m: float = DUPLICATE_RADIUS_M,
    min_similarity: float = DUPLICATE_NAME_SIMILARITY,
) -> list[NearbyDuplicate]:
    """Pairs of live stores in the actor's scope within `radius_m` whose names are alike.

    One self-join on a bounding box (latitude band, longitude band widened by the
    latitude) finds the candidate pairs in SQL; only those are measured exactly and have
    their names compared.
    """
    scoped_sql, scoped_params = live_stores(actor=actor).values("pk").query.sql_with_params()
    table = connection.ops.quote_name(Store._meta.db_table)
    lat_delta = math.degrees(radius_m / EARTH_RADIUS_M)
    # Longitude degrees shrink with latitude: the band widens by 1 / cos(lat), floored.
    cos_lat = "(CASE WHEN COS(RADIANS(a.lat)) < 1e-6 THEN 1e-6 ELSE COS(RADIANS(a.lat)) END)"
    sql = (
        f"SELECT a.id, b.id FROM {table} a JOIN {table} b"  # noqa: S608
        " ON a.id < b.id"
        " AND b.lat BETWEEN a.lat - %s AND a.lat + %s"
        f" AND b.lon BETWEEN a.lon - %s / {cos_lat} AND a.lon + %s / {cos_lat}"
        f" WHERE a.id IN ({scoped_sql}) AND b.id IN ({scoped_sql})"
    )
    params = [lat_delta, lat_delta, lat_delta, lat_delta, *scoped_params, *scoped_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        candidates = cursor.fetchall()
    if not candidates:
        return []
    ids = {pk for pair in candidates for pk in pair}
    stores = {str(store.pk): store for store in Store.objects.filter(pk__in=ids)}
    pairs = []
    for first_id, second_id in candidates:
        first, second = stores[_uuid_text(first_id)], stores[_uuid_text(second_id)]
        distance = great_circle_m(first.lat, first.lon, second.lat, second.lon)
        if distance > radius_m:
            continue
        similarity = name_similarity(first.name, second.name)
        if similarity >= min_similarity:
            pairs.append(
                NearbyDuplicate(
                    first=first,
                    second=second,
                    distance_m=distance,
                    name_similarity=similarity,
                )
            )
    return sorted(pairs, key=lambda pair: (pair.distance_m, str(pair.first.pk)))


def _uuid_text(value) -> str:
    """A UUID as read back by a raw query: a uuid on PostgreSQL, 32 hex digits on SQLite."""
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


def name_similarity(first: str, second: str) -> float:
    return difflib.SequenceMatcher(
        None, first.casefold().strip(), second.casefold().strip()
    ).ratio()


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    half_dlat = math.radians(lat2 - lat1) / 2
    half_dlon = math.radians(lon2 - lon1) / 2
    a = (
        math.sin(half_dlat) ** 2
        + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(half_dlon) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))
