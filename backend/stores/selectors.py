"""Reads of stores: stores around a point, and stores that look like duplicates."""

import difflib
import heapq
import math
import uuid
from dataclasses import dataclass
from typing import Any

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
from fieldline.conf import fieldline_settings
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
    max_candidates: int | None = None,
) -> list[NearbyDuplicate]:
    """Pairs of live stores in the actor's scope within `radius_m` whose names are alike.

    Blocking, so that the work grows with the number of stores and not with its square:
    one query reads each store's id, place and name; stores are put in grid cells of
    `radius_m` (latitude bands, longitude widened by the latitude), and each store is
    measured only against the stores of its own and the 8 neighbouring cells, and has
    its name compared with at most `max_candidates` of them, the nearest (by name key
    first: same first letters, then distance). 300 similar prospects on one spot are
    300 x max_candidates name comparisons, not 45,000.
    """
    limit = max_candidates or fieldline_settings.DUPLICATES_MAX_CANDIDATES
    rows = list(live_stores(actor=actor).values_list("pk", "lat", "lon", "name"))
    if len(rows) < 2:
        return []
    lat_step = math.degrees(radius_m / EARTH_RADIUS_M)
    # One longitude width for all cells, wide enough at the stores' highest latitude.
    widest = max(abs(row[1]) for row in rows) + lat_step
    lon_step = lat_step / max(math.cos(math.radians(min(widest, 90.0))), 1e-6)
    cells: dict[tuple[int, int], list[tuple[Any, float, float, str]]] = {}
    for row in rows:
        cells.setdefault(_cell(row[1], row[2], lat_step, lon_step), []).append(row)
    pairs_found: dict[tuple[Any, Any], tuple[float, float]] = {}
    for pk, lat, lon, name in rows:
        row_lat, row_lon = _cell(lat, lon, lat_step, lon_step)
        key = _name_key(name)
        near = []
        for dlat in (-1, 0, 1):
            for dlon in (-1, 0, 1):
                for other in cells.get((row_lat + dlat, row_lon + dlon), ()):
                    if other[0] == pk:
                        continue
                    distance = great_circle_m(lat, lon, other[1], other[2])
                    if distance <= radius_m:
                        near.append((_name_key(other[3]) != key, distance, str(other[0]), other))
        for _, distance, _, other in heapq.nsmallest(limit, near):
            pair = (pk, other[0]) if str(pk) < str(other[0]) else (other[0], pk)
            if pair in pairs_found:
                continue
            similarity = name_similarity(name, other[3])
            if similarity >= min_similarity:
                pairs_found[pair] = (distance, similarity)
    if not pairs_found:
        return []
    ids = {pk for pair in pairs_found for pk in pair}
    stores = {store.pk: store for store in Store.objects.filter(pk__in=ids)}
    pairs = [
        NearbyDuplicate(
            first=stores[first_id],
            second=stores[second_id],
            distance_m=distance,
            name_similarity=similarity,
        )
        for (first_id, second_id), (distance, similarity) in pairs_found.items()
    ]
    return sorted(
        pairs, key=lambda pair: (pair.distance_m, str(pair.first.pk), str(pair.second.pk))
    )


def _cell(lat: float, lon: float, lat_step: float, lon_step: float) -> tuple[int, int]:
    """A grid cell at least the radius wide both ways: two stores within the radius are
    in the same or adjacent cells."""
    return math.floor(lat / lat_step), math.floor(lon / lon_step)


def _name_key(name: str) -> str:
    """A blocking key: the first three letters or digits of a name, case folded."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())[:3]


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
