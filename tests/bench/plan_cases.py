"""The visit plan case: four weeks of visits for every store of a region, generated and
written as tasks through the sync engine, against the naive way of writing them (one task
at a time through the ORM, with its changelog row), in the same run.

The world: `reps` reps, each with stores scattered over a few kilometres around their own
centre (territories over a 100 x 60 km area), grades A/B/C 20/30/50 %, a tenth of the
stores closed one or two weekdays, one in two hundred open at weekends only (those cannot
be planned and are listed with their reason). Capacity allows the plan: about 190 visits a
rep over 20 working days, some four hours of visits and travel a day.
"""

import datetime as dt
import math
import random
import time
import tracemalloc
import uuid
from typing import Any

from tests.bench.common import (
    NAIVE_SAMPLE,
    Row,
    analyze,
    make_user,
    measure,
    naive_task_create,
    sample_note,
)

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = [["08:00", "19:00"]]
TARGET_S = 60.0
TARGET_SHARE = 0.98
FULL_STORES = 50_000


def opening_hours(rng: random.Random) -> dict[str, Any]:
    draw = rng.random()
    if draw < 0.005:
        return {"sat": HOURS, "sun": HOURS}
    if draw < 0.105:
        closed = set(rng.sample(range(5), rng.randint(1, 2)))
        return {key: HOURS for n, key in enumerate(WEEKDAY_KEYS) if n not in closed}
    return {}


def make_plan_world(stores: int, reps: int, region: str) -> tuple[Any, list[Any]]:
    from sync.bulk import bulk_create_records

    rng = random.Random(18)
    manager, _ = make_user("manager", region)
    people = [make_user("rep", region)[0] for _ in range(reps)]
    centres = [(52.0 + rng.uniform(0, 0.55), 9.0 + rng.uniform(0, 0.9)) for _ in people]

    def rows():
        for n in range(stores):
            rep = n % reps
            lat0, lon0 = centres[rep]
            distance, bearing = 3.0 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
            yield {
                "id": uuid.uuid4(),
                "name": f"Plan kiosk {n}",
                "lat": lat0 + distance * math.cos(bearing) / 111.2,
                "lon": lon0 + distance * math.sin(bearing) / (111.2 * math.cos(math.radians(lat0))),
                "region": region,
                "owner": people[rep].pk,
                "status": "active",
                "grade": rng.choices("ABC", (0.2, 0.3, 0.5))[0],
                "opening_hours": opening_hours(rng),
            }

    bulk_create_records(entity="store", rows=rows())
    analyze()
    return manager, people


def bench_plan(size: tuple[int, int], vendor: str) -> list[Row]:
    from django.utils import timezone

    from planning.services import plan_generate
    from tasks.models import Task

    stores, reps = size
    region = "plan"
    started = time.perf_counter()
    manager, _ = make_plan_world(stores, reps, region)
    print(
        f"  plan world: {stores:,} stores, {reps} reps, {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    today = timezone.localdate()
    start = today + dt.timedelta(days=7 - today.weekday())  # next Monday
    outcome: dict[str, Any] = {}

    # The planner's own memory: Python allocations (tracemalloc) of a dry run, which reads
    # the stores and plans them without writing.
    tracemalloc.start()
    dry = plan_generate(actor=manager, region=region, start=start, weeks=4, dry_run=True)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    def fieldline() -> None:
        cpu = time.process_time()
        outcome["plan"] = plan_generate(actor=manager, region=region, start=start, weeks=4)
        # The bench process's own CPU: on a shared machine the wall time also counts the
        # waits for a core; the database's CPU is not in it.
        outcome["cpu_s"] = time.process_time() - cpu

    row = measure("visit plan, 4 weeks (stores)", "fieldline plan_generate", stores, fieldline)
    plan = outcome["plan"].plan
    answer = plan.answer
    assert answer["planned"] == dry.answer["planned"], (answer["planned"], dry.answer["planned"])
    planned, required = answer["planned"], answer["required"]
    share = planned / required
    day_minutes = plan.rules["day_minutes"]
    worst = max(
        (day["minutes"] for days in answer["by_rep"].values() for day in days.values()),
        default=0.0,
    )
    tasks = Task.objects.filter(plan=plan.pk).count()
    assert tasks == answer["created"] == planned, (tasks, answer["created"], planned)

    naive_size = min(planned, NAIVE_SAMPLE)
    visits = list(
        Task.objects.filter(plan=plan.pk).values_list(
            "store_id", "assignee_id", "due_date", "scope_region_id"
        )[:naive_size]
    )

    def naive_django() -> None:
        for store_id, assignee_id, due_date, region_id in visits:
            naive_task_create(
                store_id=store_id,
                assignee_id=assignee_id,
                region_id=region_id,
                created_by=manager,
                title="Planned visit",
                new_values={"type": "visit", "due_date": due_date.isoformat()},
                due_date=due_date,
            )

    naive = measure(
        "visit plan, 4 weeks (tasks written)",
        f"naive per-object create{sample_note(naive_size, planned)}",
        naive_size,
        naive_django,
    )
    # The naive way plans the same and then writes every visit at its rate.
    naive_total_s = planned / naive.per_second
    row.ratio = (
        f"{planned:,} visits planned of {required:,} required ({share:.1%}); worst rep day "
        f"{worst / day_minutes:.0%} of {day_minutes} min; planner peak {traced_peak / 2**20:.0f}"
        f" MB (tracemalloc); {outcome['cpu_s']:.1f} s CPU in the bench process; naive writes"
        f" alone ~{naive_total_s:.0f} s "
        f"({naive_total_s / row.seconds:.1f}x)"
    )
    if stores >= FULL_STORES:
        row.target = f"<{TARGET_S:g} s; >={TARGET_SHARE:.0%} planned"
        row.met = row.seconds < TARGET_S and share >= TARGET_SHARE
    return [row, naive]
