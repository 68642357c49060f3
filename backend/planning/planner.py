"""The visit planner: which rep visits which store on which day, over weeks — pure Python,
no Django, so that its rules can be tested over thousands of random cases.

How it plans, per rep (reps are independent):

1. Each store's period is its grade's frequency in weeks (prospects their own setting);
   over `weeks` weeks it needs ceil(weeks / frequency) visits.
2. The rep's stores are swept by angle around their centre and cut into one sector per
   working weekday, of about equal workload: a weekday's visits then lie in one part of
   the territory, so its route is short, and every weekday carries about the same load.
   A store closed on its sector's weekday goes to the least loaded weekday it is open.
3. Stores are placed most constrained first (short periods, few open days). A store's
   first visit goes to the least loaded of its weekday's dates within its first period;
   each next one to the previous visit + the period, or the working day just before or
   after it (the spacing rule: within the frequency ±1 working day), never on a holiday,
   a non-working weekday or a day the store is closed.
4. A day takes a visit only if its visit minutes plus the travel between its stops, in
   nearest-neighbour order from the first stop (the one nearest the rep's centre), stay
   within the working minutes. A visit that fits nowhere allowed is listed unplanned with
   its reason — never dropped.

Distances are straight lines on a local flat projection of the rep's territory (km);
over the tens of kilometres a rep covers, that is within a fraction of a percent of the
great circle, and far cheaper to evaluate thousands of times.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

EARTH_RADIUS_KM = 6371.0088
GRADES = ("A", "B", "C")


class Reason(StrEnum):
    """Why a required visit is not in the plan."""

    NO_REP = "no_rep"  # the store has no owner rep
    CLOSED_ON_WORKING_DAYS = "closed_on_working_days"  # never open on a working weekday
    NO_OPEN_DAY = "no_open_day"  # no allowed day open (holidays, closed days, the horizon)
    VISIT_LONGER_THAN_DAY = "visit_longer_than_day"  # the visit alone exceeds the day
    DAY_FULL = "day_full"  # every allowed day is full


@dataclass(frozen=True, slots=True)
class PlanStore:
    """A store to plan: `open_days` are ISO weekdays (Monday = 1); None = open every day."""

    id: Hashable
    rep: Hashable | None
    lat: float
    lon: float
    grade: str = ""
    prospect: bool = False
    open_days: frozenset[int] | None = None
    # Days in the horizon it already has a visit on that stays (started or done): they
    # count as planned, take their day's time, and the cadence continues from them.
    kept: tuple[dt.date, ...] = ()


@dataclass(frozen=True)
class PlanRules:
    """One region's rules. `frequency_weeks` by grade (a store without grade counts as C);
    prospects every `prospect_weeks` weeks, or not at all when None."""

    frequency_weeks: Mapping[str, int] = field(default_factory=lambda: {"A": 1, "B": 2, "C": 4})
    prospect_weeks: int | None = None
    visit_minutes: Mapping[str, int] = field(default_factory=lambda: {"A": 30, "B": 20, "C": 15})
    day_minutes: int = 420
    work_days: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    travel_kmh: float = 25.0
    holidays: frozenset[dt.date] = frozenset()

    def grade_of(self, store: PlanStore) -> str:
        return store.grade if store.grade in GRADES else "C"

    def period_weeks(self, store: PlanStore) -> int | None:
        if store.prospect:
            return self.prospect_weeks
        return self.frequency_weeks[self.grade_of(store)]

    def minutes_of(self, store: PlanStore) -> int:
        return self.visit_minutes[self.grade_of(store)]

    def is_working_day(self, day: dt.date) -> bool:
        return day.isoweekday() in self.work_days and day not in self.holidays


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    """`position`: the visit's place in its day's route (0 first); `kept`: one of the
    store's kept visits, not a new one."""

    store: Hashable
    rep: Hashable
    day: dt.date
    position: int
    minutes: int
    kept: bool = False


@dataclass(frozen=True, slots=True)
class UnplannedVisit:
    """`target`: the day the visit was wanted on (None where no day could be named)."""

    store: Hashable
    rep: Hashable | None
    target: dt.date | None
    reason: Reason


@dataclass(frozen=True, slots=True)
class DayLoad:
    rep: Hashable
    day: dt.date
    visits: int
    visit_minutes: int
    travel_minutes: float

    @property
    def minutes(self) -> float:
        return self.visit_minutes + self.travel_minutes


@dataclass(frozen=True)
class PlanResult:
    required: int
    planned: tuple[PlannedVisit, ...]
    unplanned: tuple[UnplannedVisit, ...]
    days: tuple[DayLoad, ...]

    def worst_day_share(self, day_minutes: int) -> float:
        """The fullest rep day as a share of the working minutes (0 when nothing planned)."""
        return max((load.minutes for load in self.days), default=0.0) / day_minutes


def horizon(start: dt.date, weeks: int) -> list[dt.date]:
    return [start + dt.timedelta(days=offset) for offset in range(7 * weeks)]


def required_visits(period_weeks: int, weeks: int) -> int:
    return -(-weeks // period_weeks)


# --- routes -----------------------------------------------------------------------------


def project(
    points: Iterable[tuple[float, float]], centre: tuple[float, float]
) -> list[tuple[float, float]]:
    """(lat, lon) → (x, y) km on a flat projection around `centre`."""
    lat0, lon0 = centre
    kx = math.radians(1) * EARTH_RADIUS_KM * math.cos(math.radians(lat0))
    ky = math.radians(1) * EARTH_RADIUS_KM
    return [((lon - lon0) * kx, (lat - lat0) * ky) for lat, lon in points]


def route_order(points: Sequence[tuple[float, float]], base: tuple[float, float]) -> list[int]:
    """Nearest-neighbour order over projected points, from the point nearest `base`."""
    if not points:
        return []
    left = list(range(len(points)))
    bx, by = base
    current = min(left, key=lambda i: (points[i][0] - bx) ** 2 + (points[i][1] - by) ** 2)
    order = [current]
    left.remove(current)
    while left:
        cx, cy = points[current]
        current = min(left, key=lambda i: (points[i][0] - cx) ** 2 + (points[i][1] - cy) ** 2)
        order.append(current)
        left.remove(current)
    return order


def route_km(points: Sequence[tuple[float, float]], order: Sequence[int]) -> float:
    return sum(math.dist(points[a], points[b]) for a, b in zip(order, order[1:], strict=False))


def day_minutes_needed(
    *,
    stops: Sequence[tuple[float, float, int]],
    travel_kmh: float,
    base: tuple[float, float] | None = None,
) -> tuple[float, list[int]]:
    """Minutes a day of (lat, lon, visit minutes) stops takes — visits plus travel in
    nearest-neighbour order from the stop nearest `base` (lat, lon; default their centre)
    — and that order. The check a plan keeps, for re-checking a day after it changed."""
    if not stops:
        return 0.0, []
    centre = base or (
        sum(s[0] for s in stops) / len(stops),
        sum(s[1] for s in stops) / len(stops),
    )
    points = project(((s[0], s[1]) for s in stops), centre)
    order = route_order(points, (0.0, 0.0))
    travel = route_km(points, order) / travel_kmh * 60.0
    return sum(s[2] for s in stops) + travel, order


# --- planning ---------------------------------------------------------------------------


@dataclass
class _Day:
    day: dt.date
    stops: list[int] = field(default_factory=list)  # indexes into the rep's stores
    visit_minutes: int = 0
    travel_minutes: float = 0.0

    @property
    def minutes(self) -> float:
        return self.visit_minutes + self.travel_minutes


class _RepPlanner:
    """One rep's stores over the horizon."""

    def __init__(
        self,
        *,
        rep: Hashable,
        stores: Sequence[PlanStore],
        rules: PlanRules,
        days: Sequence[dt.date],
    ) -> None:
        self.rep = rep
        self.stores = stores
        self.rules = rules
        self.kmh = rules.travel_kmh
        centre = (
            sum(s.lat for s in stores) / len(stores),
            sum(s.lon for s in stores) / len(stores),
        )
        self.points = project(((s.lat, s.lon) for s in stores), centre)
        self.minutes = [rules.minutes_of(s) for s in stores]
        self.working = [d for d in days if rules.is_working_day(d)]
        self.index = {d: i for i, d in enumerate(self.working)}
        self.first, self.end = days[0], days[-1]
        self.weeks = len(days) // 7
        self.loads = {d: _Day(d) for d in self.working}
        self.planned: list[PlannedVisit] = []
        self.unplanned: list[UnplannedVisit] = []
        self.required = 0
        self.kept: set[tuple[int, dt.date]] = set()

    # Capacity -------------------------------------------------------------------------

    def travel_with(self, day: _Day, extra: int) -> float:
        stops = [*day.stops, extra]
        points = [self.points[i] for i in stops]
        return route_km(points, route_order(points, (0.0, 0.0))) / self.kmh * 60.0

    def force_add(self, day: _Day, store: int) -> None:
        day.stops.append(store)
        day.visit_minutes += self.minutes[store]
        points = [self.points[i] for i in day.stops]
        day.travel_minutes = route_km(points, route_order(points, (0.0, 0.0))) / self.kmh * 60.0

    def try_add(self, day: _Day, store: int) -> bool:
        visit = self.minutes[store]
        limit = self.rules.day_minutes
        travel = self.travel_with(day, store)
        if day.visit_minutes + visit + travel > limit:
            return False
        day.stops.append(store)
        day.visit_minutes += visit
        day.travel_minutes = travel
        return True

    # Days allowed -----------------------------------------------------------------------

    def open_on(self, store: PlanStore, day: dt.date) -> bool:
        return store.open_days is None or day.isoweekday() in store.open_days

    def around(self, target: dt.date) -> list[dt.date]:
        """The target if it is a working day, then the working days just before and after
        it (least loaded first): the days the spacing rule allows."""
        exact = [target] if target in self.index else []
        before = after = None
        # The nearest working day on each side by the calendar, kept only when it lies in
        # the plan's weeks: for a target past the end, the last working day of the plan
        # may be days earlier, with working days (outside the plan) in between.
        for offset in range(1, 15):
            candidate = target - dt.timedelta(days=offset)
            if candidate < self.first:
                break
            if self.rules.is_working_day(candidate):
                before = candidate if candidate in self.index else None
                break
        for offset in range(1, 15):
            candidate = target + dt.timedelta(days=offset)
            if candidate > self.end:
                break
            if self.rules.is_working_day(candidate):
                after = candidate if candidate in self.index else None
                break
        near = [d for d in (before, after) if d is not None]
        near.sort(key=lambda d: self.loads[d].minutes)
        return exact + near

    # The plan ---------------------------------------------------------------------------

    def sectors(self, order: Sequence[int], periods: Mapping[int, int]) -> dict[int, int]:
        """Each store's preferred ISO weekday: the angle sweep cut into equal-work sectors."""
        weekdays = sorted(self.rules.work_days)
        workload = {i: self.minutes[i] / periods[i] for i in order}
        total = sum(workload.values()) or 1.0
        share = total / len(weekdays)
        load_by_weekday = dict.fromkeys(weekdays, 0.0)
        preferred: dict[int, int] = {}
        running = 0.0
        for i in order:
            sector = weekdays[min(int(running / share), len(weekdays) - 1)]
            running += workload[i]
            store = self.stores[i]
            if store.open_days is not None and sector not in store.open_days:
                open_weekdays = [w for w in weekdays if w in store.open_days]
                if not open_weekdays:
                    continue
                sector = min(open_weekdays, key=lambda w: load_by_weekday[w])
            preferred[i] = sector
            load_by_weekday[sector] += workload[i]
        return preferred

    def run(self) -> None:
        periods: dict[int, int] = {}
        for i, store in enumerate(self.stores):
            weeks = self.rules.period_weeks(store)
            if weeks is None or weeks <= 0:
                continue  # not required (prospects not planned)
            need = required_visits(weeks, self.weeks)
            kept = [d for d in store.kept if self.first <= d <= self.end]
            if kept and store.rep is not None:
                periods[i] = weeks
                for day in kept:
                    self.kept.add((i, day))
                    if day in self.loads:
                        self.force_add(self.loads[day], i)
                continue
            self.required += need
            if store.rep is None:
                self.unplanned.extend(
                    UnplannedVisit(store.id, None, None, Reason.NO_REP) for _ in range(need)
                )
                continue
            if store.open_days is not None and not (store.open_days & self.rules.work_days):
                self.unplanned.extend(
                    UnplannedVisit(store.id, self.rep, None, Reason.CLOSED_ON_WORKING_DAYS)
                    for _ in range(need)
                )
                continue
            periods[i] = weeks
        angle = {i: math.atan2(self.points[i][1], self.points[i][0]) for i in periods}
        sweep = sorted(periods, key=lambda i: angle[i])
        preferred = self.sectors(sweep, periods)
        ranked = sorted(
            periods,
            key=lambda i: (
                periods[i],
                len(self.stores[i].open_days or range(7)),
                angle[i],
            ),
        )
        for i in ranked:
            self.place(i, periods[i] * 7, preferred.get(i))
        self.finish()

    def place(self, i: int, period: int, weekday: int | None) -> None:
        store = self.stores[i]
        need = required_visits(period // 7, self.weeks)
        kept = sorted(day for store_index, day in self.kept if store_index == i)
        if kept:
            self.place_around(i, period, kept, need)
            return
        if self.minutes[i] > self.rules.day_minutes:
            self.unplanned.extend(
                UnplannedVisit(store.id, self.rep, None, Reason.VISIT_LONGER_THAN_DAY)
                for _ in range(need)
            )
            return
        # The first visit: within the first period, late enough for the others to fit.
        last_first = min(
            self.first + dt.timedelta(days=period - 1),
            self.end - dt.timedelta(days=(need - 1) * period),
        )
        window = [d for d in self.working if d <= last_first and self.open_on(store, d)]
        by_load = sorted(window, key=lambda d: (d.isoweekday() != weekday, self.loads[d].minutes))
        placed = None
        for day in by_load:
            if self.try_add(self.loads[day], i):
                placed = day
                break
        if placed is None:
            reason = Reason.DAY_FULL if window else Reason.NO_OPEN_DAY
            target = self.first if not window else window[0]
            self.unplanned.append(UnplannedVisit(store.id, self.rep, target, reason))
            anchor = target  # later visits keep the cadence of the day wanted
        else:
            anchor = placed
        last_visit = placed
        for _ in range(need - 1):
            target = anchor + dt.timedelta(days=period)
            allowed = [
                d
                for d in self.around(target)
                if self.open_on(store, d) and (last_visit is None or d > last_visit)
            ]
            placed = None
            for day in allowed:
                if self.try_add(self.loads[day], i):
                    placed = day
                    break
            if placed is None:
                reason = Reason.DAY_FULL if allowed else Reason.NO_OPEN_DAY
                self.unplanned.append(UnplannedVisit(store.id, self.rep, target, reason))
                anchor = target
            else:
                anchor = last_visit = placed

    def place_around(self, i: int, period: int, kept: list[dt.date], need: int) -> None:
        """Visits of a store that has kept ones: the cadence goes on from its last kept
        visit, then back from its first, while the horizon allows and visits are due."""
        store = self.stores[i]
        self.required += len(kept)
        remaining = need - len(kept)
        step = dt.timedelta(days=period)
        for forward in (True, False):
            anchor = kept[-1] if forward else kept[0]
            while remaining > 0:
                target = anchor + step if forward else anchor - step
                if not self.first <= target <= self.end:
                    break
                self.required += 1
                remaining -= 1
                allowed = [
                    d
                    for d in self.around(target)
                    if self.open_on(store, d) and (d > anchor if forward else d < anchor)
                ]
                placed = next((d for d in allowed if self.try_add(self.loads[d], i)), None)
                if placed is None:
                    reason = Reason.DAY_FULL if allowed else Reason.NO_OPEN_DAY
                    self.unplanned.append(UnplannedVisit(store.id, self.rep, target, reason))
                    anchor = target
                else:
                    anchor = placed

    def finish(self) -> None:
        for day in self.loads.values():
            if not day.stops:
                continue
            points = [self.points[i] for i in day.stops]
            order = route_order(points, (0.0, 0.0))
            for position, k in enumerate(order):
                i = day.stops[k]
                self.planned.append(
                    PlannedVisit(
                        store=self.stores[i].id,
                        rep=self.rep,
                        day=day.day,
                        position=position,
                        minutes=self.minutes[i],
                        kept=(i, day.day) in self.kept,
                    )
                )
        for i, day in sorted(self.kept, key=lambda k: (k[1], k[0])):
            if day not in self.loads:  # kept on a day off: planned, outside any route
                self.planned.append(
                    PlannedVisit(self.stores[i].id, self.rep, day, 0, self.minutes[i], kept=True)
                )

    def day_loads(self) -> list[DayLoad]:
        return [
            DayLoad(
                rep=self.rep,
                day=day.day,
                visits=len(day.stops),
                visit_minutes=day.visit_minutes,
                travel_minutes=day.travel_minutes,
            )
            for day in self.loads.values()
            if day.stops
        ]


def plan_visits(
    *, stores: Iterable[PlanStore], rules: PlanRules, start: dt.date, weeks: int
) -> PlanResult:
    """Plan `weeks` weeks from `start` (any weekday) for every store's owner rep."""
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    days = horizon(start, weeks)
    by_rep: dict[Hashable | None, list[PlanStore]] = defaultdict(list)
    for store in stores:
        by_rep[store.rep].append(store)
    required = 0
    planned: list[PlannedVisit] = []
    unplanned: list[UnplannedVisit] = []
    loads: list[DayLoad] = []
    for rep in sorted(by_rep, key=lambda r: (r is None, str(r))):
        planner = _RepPlanner(rep=rep, stores=by_rep[rep], rules=rules, days=days)
        planner.run()
        required += planner.required
        planned.extend(planner.planned)
        unplanned.extend(planner.unplanned)
        loads.extend(planner.day_loads())
    return PlanResult(
        required=required,
        planned=tuple(planned),
        unplanned=tuple(unplanned),
        days=tuple(loads),
    )
