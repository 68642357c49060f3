"""Reads of visit planning: rules per region, overloaded days."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Avg

from accounts.models import Region, User
from planning.models import PlanRules
from planning.planner import day_minutes_needed
from planning.services import RegionRules, default_rules, region_rules, rules_of
from stores.models import Store
from tasks.models import Task, TaskStatus


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
