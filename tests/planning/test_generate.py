"""Generating a plan: visits as tasks through the sync engine, dry runs, regenerating,
retries, and refusals that change nothing."""

import datetime as dt
import uuid
from collections import Counter

import pytest

from planning.models import Plan
from planning.services import PlanError, PlanRefused, plan_generate
from sync.models import ChangeLog
from tasks.models import Task
from tests.planning.conftest import MONDAY
from tests.sync.phone import Phone

pytestmark = pytest.mark.django_db


def generate(client, **body):
    return client.post(
        "/api/plans/generate",
        {"region": "north", "start": MONDAY.isoformat(), "weeks": 4} | body,
        format="json",
    )


def plan_tasks():
    return Task.objects.filter(plan__isnull=False)


def test_a_dry_run_answers_the_plan_and_creates_nothing(client_for, plan_stores):
    before = (Task.objects.count(), ChangeLog.objects.count())

    response = generate(client_for("manager_north"), dry_run=True)

    assert response.status_code == 200, response.content
    body = response.json()
    # Per rep: 2 A x 4 + 3 B x 2 + 3 C x 1 = 17; the weekend store 2 more (unplanned).
    assert body["required"] == 2 * 17 + 2
    assert body["planned"] == 2 * 17
    assert [(u["store"], u["reason"]) for u in body["unplanned"]] == [
        (str(plan_stores["other"]["weekend"]), "closed_on_working_days")
    ] * 2
    assert "id" not in body
    reps = {str(plan_stores_rep) for plan_stores_rep in body["by_rep"]}
    assert len(reps) == 2
    for days in body["by_rep"].values():
        assert all(dt.date.fromisoformat(day).isoweekday() <= 5 for day in days)
        assert sum(day["visits"] for day in days.values()) == 17
    assert (Task.objects.count(), ChangeLog.objects.count()) == before
    assert not Plan.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_generating_writes_visit_tasks_that_the_reps_phones_pull(client_for, people, plan_stores):
    response = generate(client_for("manager_north"))

    assert response.status_code == 201, response.content
    body = response.json()
    plan = Plan.objects.get()
    assert body["id"] == str(plan.pk)
    assert body["created"] == plan.created == 34
    tasks = list(plan_tasks())
    assert len(tasks) == 34
    assert {t.type for t in tasks} == {"visit"}
    assert {t.status for t in tasks} == {"open"}
    assert {t.plan for t in tasks} == {plan.pk}
    assert all(MONDAY <= t.due_date < MONDAY + dt.timedelta(weeks=4) for t in tasks)
    owners = {s: people[who].pk for who in ("rep_north", "rep_north_2") for s in plan_stores[who]}
    assert all(t.assignee_id == owners[t.store_id] for t in tasks)
    assert ChangeLog.objects.filter(entity="task", op="create").count() == 34
    # A store's visits on their days, never two on one day.
    assert max(Counter((t.store_id, t.due_date) for t in tasks).values()) == 1
    phone = Phone(client_for("rep_north"))
    phone.sync()
    pulled = [t for t in phone.records("task").values() if t.get("plan")]
    assert len(pulled) == 17
    assert {t["plan"] for t in pulled} == {str(plan.pk)}


def test_generating_again_replaces_open_visits_keeps_started_ones_and_never_doubles(
    client_for, plan_stores
):
    manager = client_for("manager_north")
    assert generate(manager).status_code == 201
    first = list(plan_tasks().order_by("due_date", "pk"))
    started, done = first[0], first[1]
    Task.objects.filter(pk=started.pk).update(status="in_progress")
    Task.objects.filter(pk=done.pk).update(status="done")

    response = generate(manager)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["replaced"] == 32
    assert body["kept"] == 2
    assert body["created"] == 32
    live = plan_tasks().exclude(status="cancelled")
    assert live.count() == 34
    assert set(live.filter(status__in=["in_progress", "done"]).values_list("pk", flat=True)) == {
        started.pk,
        done.pk,
    }
    assert max(Counter(live.values_list("store_id", "due_date")).values()) == 1
    per_store = Counter(live.values_list("store_id", flat=True))
    assert per_store[started.store_id] == per_store[started.store_id]  # cadence kept
    assert plan_tasks().filter(status="cancelled").count() == 32


def test_a_retried_request_answers_the_same_plan_and_a_reused_id_is_refused(
    client_for, plan_stores
):
    manager = client_for("manager_north")
    request_id = str(uuid.uuid4())
    first = generate(manager, request_id=request_id)
    count = Task.objects.count()

    again = generate(manager, request_id=request_id)
    reused = generate(manager, request_id=request_id, weeks=2)

    assert again.status_code == 201
    assert again.json() == first.json()
    assert Task.objects.count() == count
    assert Plan.objects.count() == 1
    assert reused.status_code == 409
    assert reused.json()["code"] == "request_reused"
    assert Task.objects.count() == count


@pytest.mark.parametrize(
    ("who", "body", "code"),
    [
        ("manager_north", {"region": "south"}, 404),
        ("manager_north", {"start": "2026-12-01"}, 400),
        ("manager_north", {"weeks": 13}, 400),
        ("manager_north", {"weeks": 0}, 400),
        ("manager_north", {"region": "nowhere"}, 404),
        ("manager_north", {"colour": "red"}, 400),
        ("rep_north", {}, 403),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(client_for, plan_stores, who, body, code):
    before = (Task.objects.count(), ChangeLog.objects.count(), Plan.objects.count())

    response = generate(client_for(who), **body)

    assert response.status_code == code, response.content
    assert "detail" in response.json() or code == 400
    assert (Task.objects.count(), ChangeLog.objects.count(), Plan.objects.count()) == before


def test_hq_plans_any_region(client_for, plan_stores):
    response = generate(client_for("hq"), region="south", weeks=1)

    assert response.status_code == 201, response.content
    assert response.json()["created"] == 2


def test_the_service_refuses_a_start_in_the_past_with_its_code(people, plan_stores):
    with pytest.raises(PlanRefused) as refused:
        plan_generate(
            actor=people["manager_north"],
            region="north",
            start=MONDAY,
            weeks=1,
            today=MONDAY + dt.timedelta(days=1),
        )

    assert refused.value.code == PlanError.START_IN_PAST
    assert not Task.objects.filter(plan__isnull=False).exists()
