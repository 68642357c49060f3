"""The demo's visit plans: each region's manager sets plan rules and plans four weeks from
the Monday two weeks back, as if they had planned then; the reps kept most of the past
two weeks' visits (checked in at the store, so GPS-verified), so that the plans page shows
compliance and each rep's day starts with today's planned visits.

Its records follow the plan, which follows the day of the run: they are dated, and their
draws come from a stream of their own, so the rest of the demo stays the same whatever
the day.
"""

import dataclasses
import datetime as dt
import random
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from accounts.models import User
from demo import catalogue
from fieldline.conf import fieldline_settings
from planning.services import plan_generate, region_rules, rules_update
from stores.models import Store
from sync.bulk import bulk_create_records, bulk_update_records
from sync.models import ChangeSource
from tasks.models import Task, TaskStatus

PLAN_DEVICE_ID = "seed-demo-plans"
# Of the past planned visits: kept and verified, kept a day late, done without a fix at
# the store (not verified), not done at all.
KEPT, LATE, UNVERIFIED = 0.78, 0.07, 0.05


def seed_plans(
    *, rng: random.Random, new_id: Any, managers: Mapping[str, User], today: dt.date
) -> tuple[int, int]:
    """Rules and a plan per region, and the past visits; returns (planned visits, visits
    made)."""
    start = today - dt.timedelta(days=today.weekday() + 14)
    planned = visits_made = 0
    for region, manager in sorted(managers.items()):
        rules = region_rules(region)
        holiday = start + dt.timedelta(days=23)  # the Wednesday of the plan's fourth week
        rules_update(actor=manager, rules=dataclasses.replace(rules, holidays=[holiday]))
        outcome = plan_generate(actor=manager, region=region, start=start, weeks=4, today=start)
        planned += outcome.answer["planned"]
        visits_made += keep_past_visits(
            rng=rng, new_id=new_id, plan_id=outcome.plan.pk, today=today, manager=manager
        )
    return planned, visits_made


def keep_past_visits(
    *, rng: random.Random, new_id: Any, plan_id: Any, today: dt.date, manager: User
) -> int:
    """Visits for most of the plan's past days, and those tasks marked done."""
    zone = ZoneInfo(fieldline_settings.STORE_TIME_ZONE)
    tasks = list(
        Task.objects.filter(plan=plan_id, due_date__lt=today)
        .order_by("due_date", "store_id")
        .values_list("pk", "store_id", "due_date")
    )
    places = dict(
        (pk, (lat, lon))
        for pk, lat, lon in Store.objects.filter(
            pk__in={store for _, store, _ in tasks}
        ).values_list("pk", "lat", "lon")
    )
    visits: list[dict[str, Any]] = []
    done: dict[Any, dict[str, str]] = {}
    for position, (task_id, store_id, day) in enumerate(tasks):
        draw = rng.random()
        minutes, jitter = rng.randint(0, 480), rng.uniform(0.00005, 0.0003)
        if draw >= KEPT + LATE + UNVERIFIED:
            continue
        visit_day = day + dt.timedelta(days=1) if KEPT <= draw < KEPT + LATE else day
        if visit_day >= today:
            continue
        lat, lon = places[store_id]
        if draw >= KEPT + LATE:  # the fix put the rep far from the store
            lat, lon = lat + 0.01, lon + 0.01
        check_in = dt.datetime.combine(visit_day, dt.time(8), tzinfo=zone) + dt.timedelta(
            minutes=minutes
        )
        visits.append(
            {
                "id": new_id(),
                "store": str(store_id),
                "purpose": "routine",
                "check_in_at": check_in,
                "check_in_lat": round(lat + jitter * (1 if position % 2 else -1), 6),
                "check_in_lon": round(lon + jitter, 6),
                "check_in_accuracy_m": 12.0,
                "check_out_at": check_in + dt.timedelta(minutes=18),
                "outcome": rng.choice(catalogue.VISIT_OUTCOMES["routine"]),
            }
        )
        done[task_id] = {"status": TaskStatus.DONE}
    bulk_create_records(
        entity="visit", rows=visits, source=ChangeSource.SYSTEM, device_id=PLAN_DEVICE_ID
    )
    bulk_update_records(entity="task", values_by_id=done, actor=manager, device_id=PLAN_DEVICE_ID)
    return len(visits)
