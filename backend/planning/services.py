"""Writes of visit planning: a region's rules, and generating a plan into `visit` tasks.

A plan's visits are written through the sync engine's bulk path (`sync.bulk`), set-based,
so that they are versioned, in the changelog and pulled by the reps' phones. Generating
again for an overlapping period cancels the earlier plans' visits in it that nobody has
started, keeps the started and done ones (the cadence goes on from them), and never
plans a store twice on a day.
"""

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Region, User
from fieldline.conf import fieldline_settings
from planning.models import Plan, PlanRules
from planning.planner import PlanResult, PlanStore, plan_visits
from planning.planner import PlanRules as PlannerRules
from stores.models import Store, StoreStatus
from sync.bulk import bulk_create_records, bulk_update_records
from sync.models import ChangeSource
from tasks.models import Task, TaskStatus, TaskType

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A planned visit nobody has started yet: a new plan may replace it.
REPLACEABLE = (TaskStatus.OPEN, TaskStatus.ACCEPTED)
# Started or done: a new plan keeps it.
KEPT = (TaskStatus.IN_PROGRESS, TaskStatus.DONE)
PRIORITY_BY_GRADE = {"A": 1, "B": 2, "C": 3}
PLANNED_STATUSES = (StoreStatus.ACTIVE, StoreStatus.DORMANT)
TASK_PAGE = 5000


@dataclass(frozen=True)
class RegionRules:
    """A region's plan rules as the API carries them."""

    region: str
    frequency_weeks: dict[str, int]
    prospect_weeks: int
    visit_minutes: dict[str, int]
    day_minutes: int
    work_days: list[int]
    travel_kmh: float
    holidays: list[dt.date]

    def planner_rules(self) -> PlannerRules:
        return PlannerRules(
            frequency_weeks=self.frequency_weeks,
            prospect_weeks=self.prospect_weeks or None,
            visit_minutes=self.visit_minutes,
            day_minutes=self.day_minutes,
            work_days=frozenset(self.work_days),
            travel_kmh=self.travel_kmh,
            holidays=frozenset(self.holidays),
        )

    def wire(self) -> dict[str, Any]:
        return asdict(self) | {"holidays": [day.isoformat() for day in self.holidays]}


def default_rules(region: str) -> RegionRules:
    """The FIELDLINE defaults: the rules of a region whose manager set none."""
    settings = fieldline_settings
    return RegionRules(
        region=region,
        frequency_weeks=dict(settings.PLAN_FREQUENCY_WEEKS),
        prospect_weeks=settings.PLAN_PROSPECT_WEEKS,
        visit_minutes=dict(settings.PLAN_VISIT_MINUTES),
        day_minutes=settings.PLAN_DAY_MINUTES,
        work_days=list(settings.PLAN_WORK_DAYS),
        travel_kmh=settings.PLAN_TRAVEL_KMH,
        holidays=[],
    )


def rules_of(row: PlanRules) -> RegionRules:
    return RegionRules(
        region=row.region_id,
        frequency_weeks=row.frequency_weeks,
        prospect_weeks=row.prospect_weeks,
        visit_minutes=row.visit_minutes,
        day_minutes=row.day_minutes,
        work_days=row.work_days,
        travel_kmh=row.travel_kmh,
        holidays=sorted(dt.date.fromisoformat(day) for day in row.holidays),
    )


def region_rules(region: str) -> RegionRules:
    row = PlanRules.objects.filter(region_id=region).first()
    return rules_of(row) if row is not None else default_rules(region)


class PlanError(StrEnum):
    NOT_FOUND = "not_found"
    START_IN_PAST = "start_in_past"
    REQUEST_REUSED = "request_reused"


class PlanRefused(Exception):
    def __init__(self, code: PlanError, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def region_in_scope(*, actor: User, region: str) -> bool:
    """HQ plans every region, a manager their own."""
    if actor.is_hq:
        return Region.objects.filter(pk=region).exists()
    return actor.is_manager and actor.region_id == region


def rules_update(*, actor: User, rules: RegionRules) -> RegionRules:
    """Replace a region's rules (they apply from the next generation)."""
    if not region_in_scope(actor=actor, region=rules.region):
        raise PlanRefused(PlanError.NOT_FOUND, "Not found.")
    PlanRules.objects.update_or_create(
        region_id=rules.region,
        defaults={
            "frequency_weeks": rules.frequency_weeks,
            "prospect_weeks": rules.prospect_weeks,
            "visit_minutes": rules.visit_minutes,
            "day_minutes": rules.day_minutes,
            "work_days": sorted(set(rules.work_days)),
            "travel_kmh": rules.travel_kmh,
            "holidays": sorted({day.isoformat() for day in rules.holidays}),
            "updated_at": timezone.now(),
            "updated_by": actor,
        },
    )
    return region_rules(rules.region)


# --- generation --------------------------------------------------------------------------


def open_days(opening_hours: Any) -> frozenset[int] | None:
    """ISO weekdays a store opens on; None (every day) when its hours are not known."""
    if not isinstance(opening_hours, dict) or not opening_hours:
        return None
    return frozenset(
        number for number, key in enumerate(WEEKDAY_KEYS, start=1) if opening_hours.get(key)
    )


def plan_stores(
    *, region: str, start: dt.date, end: dt.date, with_prospects: bool
) -> Iterator[PlanStore]:
    """The region's live stores to plan, with the visits of earlier plans in the period
    that stay (started or done)."""
    kept: dict[Any, list[dt.date]] = defaultdict(list)
    for store_id, day in Task.objects.filter(
        scope_region_id=region,
        plan__isnull=False,
        deleted=False,
        status__in=KEPT,
        due_date__range=(start, end),
    ).values_list("store_id", "due_date"):
        kept[store_id].append(day)
    statuses = [*PLANNED_STATUSES, *([StoreStatus.PROSPECT] if with_prospects else [])]
    rows = (
        Store.objects.filter(region_id=region, deleted=False, status__in=statuses)
        .order_by("pk")
        .values_list("pk", "owner_id", "lat", "lon", "grade", "status", "opening_hours")
    )
    for pk, owner, lat, lon, grade, status, hours in rows.iterator(chunk_size=5000):
        yield PlanStore(
            id=pk,
            rep=owner,
            lat=lat,
            lon=lon,
            grade=grade,
            prospect=status == StoreStatus.PROSPECT,
            open_days=open_days(hours),
            kept=tuple(sorted(kept.get(pk, ()))),
        )


def plan_answer(result: PlanResult) -> dict[str, Any]:
    """The counts a manager reads: required, planned, unplanned with reasons, and per rep
    and day the visits and minutes (visits plus travel)."""
    by_rep: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for load in sorted(result.days, key=lambda load: (str(load.rep), load.day)):
        by_rep[str(load.rep)][load.day.isoformat()] = {
            "visits": load.visits,
            "minutes": round(load.minutes, 1),
        }
    return {
        "required": result.required,
        "planned": len(result.planned),
        "kept": sum(1 for visit in result.planned if visit.kept),
        "unplanned": [
            {
                "store": str(visit.store),
                "rep": visit.rep,
                "date": visit.target.isoformat() if visit.target else None,
                "reason": str(visit.reason),
            }
            for visit in result.unplanned
        ],
        "by_rep": dict(by_rep),
    }


@dataclass(frozen=True)
class PlanOutcome:
    """A generated plan (None for a dry run) and its answer."""

    plan: Plan | None
    answer: dict[str, Any]


def plan_generate(
    *,
    actor: User,
    region: str,
    start: dt.date,
    weeks: int,
    dry_run: bool = False,
    request_id: uuid.UUID | None = None,
    today: dt.date | None = None,
) -> PlanOutcome:
    """Plan `weeks` weeks from `start` for every rep of the region, and unless `dry_run`
    write the visits as `visit` tasks. A `request_id` seen before answers the plan it made
    (the client lost the answer); reused for another region, start or weeks: refused."""
    if not region_in_scope(actor=actor, region=region):
        raise PlanRefused(PlanError.NOT_FOUND, "Not found.")
    today = today or timezone.localdate()
    if start < today:
        raise PlanRefused(
            PlanError.START_IN_PAST,
            f"A plan starts today ({today.isoformat()}) or later: pick a later start.",
        )
    if dry_run:
        rules = region_rules(region)
        result = _plan(region=region, start=start, weeks=weeks, rules=rules)
        return PlanOutcome(plan=None, answer=plan_answer(result))
    if request_id is not None:
        earlier = _plan_of_request(actor, request_id, region, start, weeks)
        if earlier is not None:
            return PlanOutcome(plan=earlier, answer=earlier.answer)
    try:
        plan = _generate(
            actor=actor, region=region, start=start, weeks=weeks, request_id=request_id
        )
    except IntegrityError:
        # The same request committed while this one ran: its plan stands.
        earlier = request_id and _plan_of_request(actor, request_id, region, start, weeks)
        if not earlier:
            raise
        plan = earlier
    return PlanOutcome(plan=plan, answer=plan.answer)


def _plan_of_request(
    actor: User, request_id: uuid.UUID, region: str, start: dt.date, weeks: int
) -> Plan | None:
    earlier = Plan.objects.filter(created_by=actor, request_id=request_id).first()
    if earlier is not None and (earlier.region_id, earlier.start, earlier.weeks) != (
        region,
        start,
        weeks,
    ):
        raise PlanRefused(
            PlanError.REQUEST_REUSED,
            "This request_id already made a plan of another region, start or length: "
            "send a new request_id for a new plan.",
        )
    return earlier


def _plan(*, region: str, start: dt.date, weeks: int, rules: RegionRules) -> PlanResult:
    end = start + dt.timedelta(days=7 * weeks - 1)
    stores = plan_stores(
        region=region, start=start, end=end, with_prospects=rules.prospect_weeks > 0
    )
    return plan_visits(stores=stores, rules=rules.planner_rules(), start=start, weeks=weeks)


@transaction.atomic
def _generate(
    *, actor: User, region: str, start: dt.date, weeks: int, request_id: uuid.UUID | None
) -> Plan:
    # One generation of a region at a time: the second waits and sees the first's tasks.
    Region.objects.select_for_update().get(pk=region)
    now = timezone.now()
    end = start + dt.timedelta(days=7 * weeks - 1)
    replaced = plan_tasks_cancel(
        actor=actor,
        tasks=Task.objects.filter(
            scope_region_id=region,
            plan__isnull=False,
            deleted=False,
            status__in=REPLACEABLE,
            due_date__range=(start, end),
        ),
        at=now,
    )
    rules = region_rules(region)
    result = _plan(region=region, start=start, weeks=weeks, rules=rules)
    plan = Plan.objects.create(
        region_id=region,
        start=start,
        weeks=weeks,
        created_by=actor,
        created_at=now,
        request_id=request_id,
        rules=rules.wire(),
    )
    grades = dict(Store.objects.filter(region_id=region, deleted=False).values_list("pk", "grade"))

    def rows() -> Iterator[dict[str, Any]]:
        for visit in result.planned:
            if visit.kept:
                continue
            grade = grades.get(visit.store) or "C"
            yield {
                "id": uuid.uuid4(),
                "store": visit.store,
                "assignee": visit.rep,
                "type": TaskType.VISIT,
                "title": f"Planned visit ({grade})",
                "status": TaskStatus.OPEN,
                "priority": PRIORITY_BY_GRADE.get(grade, 3),
                "due_date": visit.day,
            }

    created = bulk_create_records(
        entity="task",
        rows=rows(),
        actor=actor,
        source=ChangeSource.DISPATCH,
        device_id=f"plan-{plan.pk}",
        at=now,
        extra={"plan": plan.pk, "created_by": actor},
    )
    answer = plan_answer(result)
    plan.required = answer["required"]
    plan.planned = answer["planned"]
    plan.unplanned = len(answer["unplanned"])
    plan.kept = answer["kept"]
    plan.created = created
    plan.replaced = replaced
    plan.answer = answer | {
        "id": str(plan.pk),
        "created": created,
        "replaced": replaced,
    }
    plan.save(
        update_fields=["required", "planned", "unplanned", "kept", "created", "replaced", "answer"]
    )
    return plan


def plan_tasks_cancel(*, actor: User | None, tasks: Any, at: dt.datetime | None = None) -> int:
    """Cancel these planned visits, set-based through the engine; returns how many.

    The rows are locked first and only those still not started are cancelled, so a rep
    starting one at the same moment keeps it."""
    ids = list(
        tasks.filter(status__in=REPLACEABLE)
        .select_for_update(no_key=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        return 0
    return bulk_update_records(
        entity="task",
        values_by_id={pk: {"status": TaskStatus.CANCELLED} for pk in ids},
        actor=actor,
        source=ChangeSource.DISPATCH,
        device_id="plan",
        at=at,
    )


def rules_from_wire(data: Mapping[str, Any]) -> RegionRules:
    return RegionRules(
        region=data["region"],
        frequency_weeks=dict(data["frequency_weeks"]),
        prospect_weeks=data["prospect_weeks"],
        visit_minutes=dict(data["visit_minutes"]),
        day_minutes=data["day_minutes"],
        work_days=list(data["work_days"]),
        travel_kmh=data["travel_kmh"],
        holidays=list(data["holidays"]),
    )
