"""GET /api/me/day: the rep's open tasks for today, in plan_route's order."""

import datetime as dt
import math
import uuid

import pytest
from django.utils import timezone

from geo.distance import destination
from geo.point import Point
from geo.route import plan_route
from tasks.models import Task
from tests.conftest import create

START = Point(lat=48.1374, lon=11.5755)  # Munich, Marienplatz


def test_my_day_follows_plan_route(client_for, people):
    rep = people["rep_south"]
    today = timezone.localdate()
    due = [today, today - dt.timedelta(days=3), None, today, None, today - dt.timedelta(days=1)]
    stops, tasks = [], []
    for i, due_date in enumerate(due):
        point = destination(origin=START, bearing_deg=i * 67.0, distance_m=400 + 350 * i)
        store = create(
            "store", name=f"S{i}", lat=point.lat, lon=point.lon, region="south", owner=rep.pk
        )
        tasks.append(
            str(
                create(
                    "task",
                    store=store,
                    assignee=rep.pk,
                    type="visit",
                    title=f"T{i}",
                    status="open" if i % 2 else "accepted",
                    due_date=due_date.isoformat() if due_date else None,
                )
            )
        )
        stops.append(point)
    # Not today's: due tomorrow, done, cancelled, another rep's.
    later = create("store", name="L", lat=START.lat, lon=START.lon, region="south", owner=rep.pk)
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    create("task", store=later, assignee=rep.pk, type="visit", title="x", due_date=tomorrow)
    create("task", store=later, assignee=rep.pk, type="visit", title="x", status="done")
    create("task", store=later, assignee=rep.pk, type="visit", title="x", status="cancelled")

    response = client_for("rep_south").get("/api/me/day", {"lat": START.lat, "lon": START.lon})

    assert response.status_code == 200, response.content
    body = response.json()
    order = sorted(range(len(tasks)), key=lambda i: tasks[i])  # the selector's id order
    plan = plan_route(start=START, stops=[stops[i] for i in order])
    assert [stop["task"]["id"] for stop in body["stops"]] == [tasks[order[i]] for i in plan.order]
    assert [stop["leg_m"] for stop in body["stops"]] == pytest.approx(list(plan.legs_m))
    assert body["total_m"] == pytest.approx(plan.total_m)
    assert math.fsum(stop["leg_m"] for stop in body["stops"]) == pytest.approx(body["total_m"])
    assert body["date"] == today.isoformat()


def test_my_day_is_empty_without_tasks(client_for, people):
    body = client_for("rep_north").get("/api/me/day", {"lat": 53.5, "lon": 10.0}).json()
    assert (body["stops"], body["total_m"]) == ([], 0.0)


def test_my_day_validates_the_position(client_for, people):
    response = client_for("rep_north").get("/api/me/day", {"lat": 100, "lon": 10.0})
    assert response.status_code == 400
    assert "lat" in response.json()


@pytest.mark.django_db
def test_day_refuses_a_position_that_is_not_a_place(client_for, people):
    response = client_for("rep_north").get("/api/me/day", {"lat": "nan", "lon": 10})
    assert response.status_code == 400
    assert "lat" in response.json()


def test_my_day_serves_todays_planned_visits_first_in_route_order(client_for, people):
    rep = people["rep_south"]
    today = timezone.localdate()
    plan = uuid.uuid4()
    ids = {}
    # Planned stops far east, a dispatched task next to the start: the plan goes first.
    for name, bearing, distance, planned in (
        ("near", 0.0, 200, False),
        ("east-1", 90.0, 3000, True),
        ("east-2", 90.0, 5000, True),
        ("east-3", 80.0, 4000, True),
    ):
        point = destination(origin=START, bearing_deg=bearing, distance_m=distance)
        store = create(
            "store", name=name, lat=point.lat, lon=point.lon, region="south", owner=rep.pk
        )
        ids[name] = str(
            create(
                "task",
                store=store,
                assignee=rep.pk,
                type="visit",
                title=name,
                due_date=today.isoformat(),
            )
        )
        if planned:
            Task.objects.filter(pk=ids[name]).update(plan=plan)

    response = client_for("rep_south").get("/api/me/day", {"lat": START.lat, "lon": START.lon})

    stops = response.json()["stops"]
    assert [s["task"]["title"] for s in stops] == ["east-1", "east-3", "east-2", "near"]
    assert [s["task"]["plan"] for s in stops] == [str(plan)] * 3 + [None]
    assert math.isclose(response.json()["total_m"], sum(s["leg_m"] for s in stops))
