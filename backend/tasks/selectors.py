import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from accounts.models import User
from accounts.scope import scope_filter
from geo.point import Point
from geo.route import plan_route
from tasks.models import Dispatch, Task, TaskStatus


def dispatch_list(*, actor: User) -> QuerySet[Dispatch]:
    """HQ sees every dispatch; a manager those made in their region."""
    dispatches = Dispatch.objects.order_by("-created_at")
    if actor.is_hq:
        return dispatches
    return dispatches.filter(created_by__region_id=actor.region_id)


def dispatch_status_counts(*, dispatch: Dispatch) -> dict[str, int]:
    """How many of the dispatch's tasks are in each status, every status listed."""
    counts = dict(
        Task.objects.filter(dispatch=dispatch, deleted=False)
        .values("status")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in TaskStatus.values}


def dispatch_task_list(*, dispatch: Dispatch) -> QuerySet[Task]:
    return (
        Task.objects.filter(dispatch=dispatch, deleted=False)
        .select_related("store", "assignee")
        .order_by("store__name", "store__address", "pk")
    )


ACTIVE_STATUSES = (TaskStatus.OPEN, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS)


def open_task_exists(*, task_type: str, store_ref: str = "pk") -> Exists:
    """For a store queryset: the store has a task of this type that someone still has to
    do (open, accepted, in progress). A dispatch skips such stores."""
    return Exists(
        Task.objects.filter(
            store_id=OuterRef(store_ref),
            type=task_type,
            deleted=False,
            status__in=ACTIVE_STATUSES,
        )
    )


@dataclass(frozen=True)
class DayStop:
    task: Task
    leg_m: float


@dataclass(frozen=True)
class DayPlan:
    start: Point
    stops: tuple[DayStop, ...]
    total_m: float


def day_tasks(*, actor: User, today: dt.date) -> QuerySet[Task]:
    """The actor's unfinished tasks due today or earlier, or undated, at live stores."""
    return (
        Task.objects.filter(
            scope_filter(user=actor),
            assignee=actor,
            deleted=False,
            status__in=ACTIVE_STATUSES,
            store__deleted=False,
        )
        .filter(Q(due_date__lte=today) | Q(due_date__isnull=True))
        .select_related("store")
        .order_by("pk")
    )


def day_plan(*, actor: User, start: Point, today: dt.date) -> DayPlan:
    """The actor's tasks for the day in route order from `start` (`geo.route.plan_route`):
    the visits a plan set for today first, then the rest from the last of them."""
    tasks = list(day_tasks(actor=actor, today=today))
    planned = [task for task in tasks if task.plan is not None and task.due_date == today]
    others = [task for task in tasks if not (task.plan is not None and task.due_date == today)]
    stops: list[DayStop] = []
    total_m = 0.0
    here = start
    for group in (planned, others):
        if not group:
            continue
        points = [Point(lat=task.store.lat, lon=task.store.lon) for task in group]
        route = plan_route(start=here, stops=points)
        stops.extend(
            DayStop(task=group[index], leg_m=leg)
            for index, leg in zip(route.order, route.legs_m, strict=True)
        )
        total_m += route.total_m
        here = points[route.order[-1]]
    return DayPlan(start=start, stops=tuple(stops), total_m=total_m)
