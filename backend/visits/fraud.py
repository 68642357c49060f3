"""Fraud flags on visits: signs that a check-in may not be what it claims.

The server sets them (the visit's read-only `flags`) as part of every write, from the
visit entity's `derive` hook (`visits.geofencing.visit_derive`):

- `outside_geofence`: the geofence verdict is `flagged`;
- `impossible_travel`: between this check-in and the rep's previous or next one (a phone
  that was offline may send an earlier check-in after a later one), the distance exceeds
  a small tolerance and was covered faster than `VISIT_MAX_TRAVEL_KMH`;
- `outside_opening_hours`: the check-in time, in the stores' time zone, falls outside
  the store's opening hours (a store without hours is never flagged);
- `photo_reused`: a photo of the visit was already used at another store. The photo's own
  write flags it (`photos.flags`); the visit learns it from `visit_mark_photo_reused`
  run after that write commits. A recomputation keeps it.

Flags are computed on the visit being written, against the rep's other check-ins as they
stand then; once that write commits, its stored neighbours are judged again
(`visit_travel_flags_refresh`), so the same check-ins end with the same flags whatever
order they reached the server in (a phone that was offline sends its day late).

Visits without a rep (logged by the office, or imported) get the geofence and
opening-hours checks; impossible travel compares a rep's own check-ins, so it does not
apply to them.
"""

import bisect
import datetime as dt
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils.dateparse import parse_datetime

from geo.distance import geodesic_m
from geo.point import Point
from stores.fences import as_uuid
from stores.selectors import json_list_has
from stores.serializers import WEEKDAYS
from surveys.models import Photo, PhotoFlag
from sync.bulk import bulk_update_records
from sync.models import ChangeSource
from visits.models import GeofenceVerdict, Visit, VisitFlag

# Flags the visit's own fields decide, recomputed whenever one of these changes.
FLAG_FIELDS = frozenset(
    {"store", "check_in_at", "check_in_lat", "check_in_lon", "check_in_accuracy_m"}
)
COMPUTED_FLAGS = frozenset(
    {VisitFlag.OUTSIDE_GEOFENCE, VisitFlag.IMPOSSIBLE_TRAVEL, VisitFlag.OUTSIDE_OPENING_HOURS}
)


@dataclass(frozen=True, order=True)
class CheckIn:
    """One check-in of a rep, as impossible travel compares them."""

    at: dt.datetime
    visit_id: uuid.UUID
    point: Point | None


@dataclass(frozen=True)
class TravelLimits:
    max_kmh: float
    tolerance_m: float

    @classmethod
    def configured(cls) -> "TravelLimits":
        config = settings.FIELDLINE
        return cls(
            max_kmh=float(config.get("VISIT_MAX_TRAVEL_KMH", 120.0)),
            tolerance_m=float(config.get("VISIT_TRAVEL_TOLERANCE_M", 500.0)),
        )


def as_datetime(value: Any) -> dt.datetime | None:
    """A check-in time as held in memory (a wire string during a write) or stored."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            return None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return None


def travel_too_fast(*, a: CheckIn, b: CheckIn, limits: TravelLimits) -> bool:
    """Whether going from one check-in to the other was impossibly fast."""
    if a.point is None or b.point is None:
        return False
    distance_m = geodesic_m(a=a.point, b=b.point)
    if distance_m <= limits.tolerance_m:
        return False
    hours = abs((b.at - a.at).total_seconds()) / 3600
    return hours == 0 or distance_m / 1000 / hours > limits.max_kmh


def outside_opening_hours(*, hours: Mapping[str, Any], at: dt.datetime, tz: ZoneInfo) -> bool:
    """Whether `at` falls outside these opening hours (`{"mon": [["07:00", "22:00"]]}`,
    validated by the store's serializer). No hours at all: unknown, never outside."""
    if not hours:
        return False
    local = at.astimezone(tz)
    minute = local.strftime("%H:%M")
    intervals = hours.get(WEEKDAYS[local.weekday()]) or []
    return not any(
        isinstance(interval, list | tuple)
        and len(interval) == 2
        and str(interval[0]) <= minute < str(interval[1])
        for interval in intervals
    )


def store_time_zone() -> ZoneInfo:
    return ZoneInfo(settings.FIELDLINE.get("STORE_TIME_ZONE", "Europe/Berlin"))


CHECK_IN_COLUMNS = ("rep_id", "check_in_at", "pk", "check_in_lat", "check_in_lon")


def stored_check_ins(
    *, spans: Mapping[int, tuple[dt.datetime, dt.datetime]], exclude: Collection[uuid.UUID]
) -> dict[int, list[CheckIn]]:
    """Per rep, the stored live check-ins within the rep's span, and the last one before
    and the first one after it: every check-in that can neighbour one in the span, in
    three queries for all reps. `exclude`: visits the write holds in memory."""
    if not spans:
        return {}
    live = Visit.objects.filter(deleted=False).exclude(pk__in=list(exclude))
    columns = (*CHECK_IN_COLUMNS, "store__lat", "store__lon")
    within, before, after = Q(), Q(), Q()
    for rep, (first, last) in spans.items():
        within |= Q(rep_id=rep, check_in_at__gte=first, check_in_at__lte=last)
        before |= Q(rep_id=rep, check_in_at__lt=first)
        after |= Q(rep_id=rep, check_in_at__gt=last)

    def nearest(condition: Q, *, descending: bool) -> Iterable[tuple]:
        order = [F("check_in_at").desc(), F("pk").desc()] if descending else ["check_in_at", "pk"]
        return (
            live.filter(condition)
            .annotate(rank=Window(RowNumber(), partition_by=[F("rep_id")], order_by=order))
            .filter(rank=1)
            .values_list(*columns)
        )

    found: dict[int, list[CheckIn]] = {}
    for rows in (
        live.filter(within).values_list(*columns),
        nearest(before, descending=True),
        nearest(after, descending=False),
    ):
        for rep, at, pk, lat, lon, store_lat, store_lon in rows:
            point = check_in_point(lat, lon, fallback=Point(lat=store_lat, lon=store_lon))
            found.setdefault(rep, []).append(CheckIn(at=at, visit_id=pk, point=point))
    return found


def check_in_point(lat: float | None, lon: float | None, *, fallback: Point | None) -> Point | None:
    """Where a check-in was: its GPS fix, else its store (a check-in without a fix)."""
    if lat is not None and lon is not None:
        return Point(lat=lat, lon=lon)
    return fallback


def impossible_travel(
    *,
    visits: Sequence[Visit],
    in_memory: Iterable[Visit],
    store_point: Any,
    limits: TravelLimits,
) -> set[uuid.UUID]:
    """Which of `visits` (being written) were reached from, or left for, the rep's
    neighbouring check-in impossibly fast. `in_memory`: every visit the write holds, whose
    state there wins over the stored one; `store_point(store_id)` gives a store's point."""

    def as_check_in(visit: Visit) -> CheckIn | None:
        at = as_datetime(visit.check_in_at)
        if at is None or visit.rep_id is None or visit.deleted:
            return None
        fallback = store_point(visit.store_id)
        point = check_in_point(visit.check_in_lat, visit.check_in_lon, fallback=fallback)
        return CheckIn(at=at, visit_id=as_uuid(visit.pk), point=point)

    held = {as_uuid(v.pk): v for v in in_memory} | {as_uuid(v.pk): v for v in visits}
    held_check_ins = {pk: as_check_in(visit) for pk, visit in held.items()}
    wanted = [(v, c) for v in visits if (c := held_check_ins[as_uuid(v.pk)]) is not None]
    spans: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    for visit, check_in in wanted:
        first, last = spans.get(visit.rep_id, (check_in.at, check_in.at))
        spans[visit.rep_id] = (min(first, check_in.at), max(last, check_in.at))
    by_rep = stored_check_ins(spans=spans, exclude=held.keys())
    for pk, check_in in held_check_ins.items():
        if check_in is not None:
            by_rep.setdefault(held[pk].rep_id, []).append(check_in)
    timelines = {rep: sorted(check_ins) for rep, check_ins in by_rep.items()}
    flagged = set()
    for visit, check_in in wanted:
        timeline = timelines[visit.rep_id]
        index = bisect.bisect_left(timeline, check_in)
        neighbours = timeline[max(index - 1, 0) : index] + timeline[index + 1 : index + 2]
        if any(travel_too_fast(a=other, b=check_in, limits=limits) for other in neighbours):
            flagged.add(visit.pk)
    return flagged


def visit_flags(
    *, visit: Visit, too_fast: bool, hours: Mapping[str, Any] | None, tz: ZoneInfo
) -> list[str]:
    """The visit's flags: those its fields decide, and those it keeps from its photos."""
    flags = {str(flag) for flag in visit.flags or () if flag not in COMPUTED_FLAGS}
    if visit.geofence == GeofenceVerdict.FLAGGED:
        flags.add(VisitFlag.OUTSIDE_GEOFENCE)
    if too_fast:
        flags.add(VisitFlag.IMPOSSIBLE_TRAVEL)
    at = as_datetime(visit.check_in_at)
    if at is not None and hours and outside_opening_hours(hours=hours, at=at, tz=tz):
        flags.add(VisitFlag.OUTSIDE_OPENING_HOURS)
    return sorted(str(flag) for flag in flags)


def travel_spans(visits: Iterable[Visit]) -> list[tuple[int, str, str]]:
    """Per rep, the first and last check-in among these visits (ISO text, for a job)."""
    spans: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    for visit in visits:
        at = as_datetime(visit.check_in_at)
        if at is None or visit.rep_id is None:
            continue
        first, last = spans.get(visit.rep_id, (at, at))
        spans[visit.rep_id] = (min(first, at), max(last, at))
    return [(rep, first.isoformat(), last.isoformat()) for rep, (first, last) in spans.items()]


def visit_travel_flags_refresh(*, spans: Iterable[Sequence[Any]]) -> int:
    """Judge impossible travel again for the stored check-ins within each rep's span and
    their nearest neighbours outside it, after a write added or moved check-ins there;
    changed verdicts are written through the sync engine, so phones pull them. Safe to
    repeat. Returns how many visits changed."""
    wanted: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    for rep, first, last in spans:
        start, end = as_datetime(first), as_datetime(last)
        if start is not None and end is not None:
            wanted[int(rep)] = (min(start, end), max(start, end))
    around = stored_check_ins(spans=wanted, exclude=())
    visit_ids = {check_in.visit_id for check_ins in around.values() for check_in in check_ins}
    if not visit_ids:
        return 0
    visits = list(
        Visit.objects.filter(pk__in=visit_ids, deleted=False)
        .select_related("store")
        .only(
            "pk",
            "rep_id",
            "flags",
            "deleted",
            "check_in_at",
            "check_in_lat",
            "check_in_lon",
            "store__lat",
            "store__lon",
        )
    )
    points = {
        visit.store_id: Point(lat=visit.store.lat, lon=visit.store.lon)
        for visit in visits
        if visit.store is not None and visit.store.lat is not None and visit.store.lon is not None
    }
    too_fast = impossible_travel(
        visits=visits,
        in_memory=(),
        store_point=points.get,
        limits=TravelLimits.configured(),
    )
    values = {}
    for visit in visits:
        flags = {str(flag) for flag in visit.flags or () if flag != VisitFlag.IMPOSSIBLE_TRAVEL}
        if visit.pk in too_fast:
            flags.add(VisitFlag.IMPOSSIBLE_TRAVEL)
        if flags != set(visit.flags or ()):
            values[visit.pk] = {"flags": sorted(flags)}
    if not values:
        return 0
    return bulk_update_records(entity="visit", values_by_id=values, source=ChangeSource.SYSTEM)


def visit_mark_photo_reused(*, visit_ids: Collection[Any]) -> int:
    """Flag the visits among these that hold a photo flagged as reused, through the sync
    engine; safe to repeat (visits already flagged are left alone). Returns how many
    visits changed."""
    with_reused = (
        Photo.objects.filter(visit_id__in=list(visit_ids), deleted=False)
        .filter(json_list_has("flags", PhotoFlag.REUSED))
        .values("visit_id")
    )
    visits = Visit.objects.filter(pk__in=with_reused, deleted=False).values_list("pk", "flags")
    values = {
        pk: {"flags": sorted({*(flags or ()), VisitFlag.PHOTO_REUSED})}
        for pk, flags in visits
        if VisitFlag.PHOTO_REUSED not in (flags or ())
    }
    if not values:
        return 0
    return bulk_update_records(entity="visit", values_by_id=values, source=ChangeSource.SYSTEM)
