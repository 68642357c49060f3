"""Reads of visit planning: rules per region, overloaded days."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Avg

from accounts.models import Region, User
from fieldline.conf import fieldline_settings
from planning.models import PlanRules
from planning.planner import day_minutes_needed
from planning.services import RegionRules, default_rules, region_rules, rules_of
from stores.models import Store
from tasks.models import Task, TaskStatus
from visits.models import GeofenceVerdict, Visit


def rules_list(*, actor: User, region: str | None = None) -> list[RegionRules]:
    """Every region's rules HQ sees, a manager their region's; a region without its own
    rules shows the defaults."""
    regions = Region.objects.order_by("code")
    if not actor.is_hq:
        regions = regions.filter(pk=actor.region_id)
    if region is not None:
        regions = regions.filter(pk=region)
    codes = list(regions.values_list("code", flat=True))
    rows = {row.region_id: row for row in PlanRules.objects.filter(region_id__in=codes)}
    return [rules_of(rows[code]) if code in rows else default_rules(code) for code in codes]


@dataclass(frozen=True)
class DayOverload:
    """A rep's planned day over the working minutes (visits plus travel in route order)."""

    rep: int
    date: dt.date
    visits: int
    minutes: float
    day_minutes: int


def overloaded_days(
    *, region: str, start: dt.date, end: dt.date, rep: int | None = None
) -> list[DayOverload]:
    """The region's rep days, in a period, whose planned visits no longer fit (a store
    given to a rep mid-plan brings its visits along): checked as a plan is made."""
    rules = region_rules(region)
    tasks = Task.objects.filter(
        scope_region_id=region,
        plan__isnull=False,
        deleted=False,
        assignee__isnull=False,
        due_date__range=(start, end),
    ).exclude(status=TaskStatus.CANCELLED)
    if rep is not None:
        tasks = tasks.filter(assignee_id=rep)
    days: dict[tuple[int, dt.date], list[tuple[float, float, int]]] = defaultdict(list)
    for assignee, day, lat, lon, grade in tasks.values_list(
        "assignee_id", "due_date", "store__lat", "store__lon", "store__grade"
    ):
        minutes = rules.visit_minutes.get(grade or "C", rules.visit_minutes["C"])
        days[assignee, day].append((lat, lon, minutes))
    centres = {
        owner: (lat, lon)
        for owner, lat, lon in Store.objects.filter(
            region_id=region, deleted=False, owner_id__in={rep for rep, _ in days}
        )
        .values("owner_id")
        .annotate(lat=Avg("lat"), lon=Avg("lon"))
        .values_list("owner_id", "lat", "lon")
    }
    over = []
    for (assignee, day), stops in sorted(days.items()):
        minutes, _ = day_minutes_needed(
            stops=stops, travel_kmh=rules.travel_kmh, base=centres.get(assignee)
        )
        if minutes > rules.day_minutes + 1e-6:
            over.append(
                DayOverload(
                    rep=assignee,
                    date=day,
                    visits=len(stops),
                    minutes=round(minutes, 1),
                    day_minutes=rules.day_minutes,
                )
            )
    return over


@dataclass(frozen=True)
class ComplianceRow:
    """Planned visits of one group, how many are done, and how many a geofence-verified
    visit to the store on the planned day ±1 backs; `rate` = verified / planned."""

    key: str
    planned: int
    done: int
    verified: int

    @property
    def rate(self) -> float | None:
        return self.verified / self.planned if self.planned else None


@dataclass(frozen=True)
class Compliance:
    region: str
    start: dt.date
    end: dt.date
    total: ComplianceRow
    by_rep: list[ComplianceRow]
    by_grade: list[ComplianceRow]
    by_week: list[ComplianceRow]
    rep_names: dict[str, str]


def plan_compliance(
    *, region: str, start: dt.date, end: dt.date, rep: int | None = None
) -> Compliance:
    """How far the plan was kept, measured on GPS: every planned visit due in the period
    (cancelled ones are not planned any more), whether its task is done, and whether a
    visit to its store with a check-in inside the geofence (verdict `pass`) took place on
    the planned day or a day either side (in the stores' time zone)."""
    tasks = Task.objects.filter(
        scope_region_id=region,
        plan__isnull=False,
        deleted=False,
        due_date__range=(start, end),
    ).exclude(status=TaskStatus.CANCELLED)
    if rep is not None:
        tasks = tasks.filter(assignee_id=rep)
    rows = list(tasks.values_list("store_id", "assignee_id", "due_date", "status", "store__grade"))
    stores = {row[0] for row in rows}
    zone = ZoneInfo(fieldline_settings.STORE_TIME_ZONE)
    window_start = dt.datetime.combine(start - dt.timedelta(days=2), dt.time(), tzinfo=zone)
    window_end = dt.datetime.combine(end + dt.timedelta(days=2), dt.time(), tzinfo=zone)
    visited: set[tuple[Any, dt.date]] = set()
    store_list = list(stores)
    for chunk_start in range(0, len(store_list), 5000):
        for store_id, at in Visit.objects.filter(
            store_id__in=store_list[chunk_start : chunk_start + 5000],
            deleted=False,
            geofence=GeofenceVerdict.PASS,
            check_in_at__gte=window_start,
            check_in_at__lt=window_end,
        ).values_list("store_id", "check_in_at"):
            visited.add((store_id, at.astimezone(zone).date()))
    one = dt.timedelta(days=1)
    groups: dict[str, dict[str, list[int]]] = {"rep": {}, "grade": {}, "week": {}}
    total = [0, 0, 0]
    for store_id, assignee, day, status, grade in rows:
        done = status == TaskStatus.DONE
        verified = any((store_id, day + one * k) in visited for k in (-1, 0, 1))
        week = (day - dt.timedelta(days=day.weekday())).isoformat()
        for kind, key in (("rep", str(assignee)), ("grade", grade or "C"), ("week", week)):
            counts = groups[kind].setdefault(key, [0, 0, 0])
            counts[0] += 1
            counts[1] += done
            counts[2] += verified
        total[0] += 1
        total[1] += done
        total[2] += verified

    def listed(kind: str) -> list[ComplianceRow]:
        return [ComplianceRow(key, *counts) for key, counts in sorted(groups[kind].items())]

    rep_ids = [int(key) for key in groups["rep"] if key != "None"]
    names = {
        str(pk): name
        for pk, name in User.objects.filter(pk__in=rep_ids).values_list("pk", "username")
    }
    return Compliance(
        region=region,
        start=start,
        end=end,
        total=ComplianceRow("all", *total),
        by_rep=listed("rep"),
        by_grade=listed("grade"),
        by_week=listed("week"),
        rep_names=names,
    )
