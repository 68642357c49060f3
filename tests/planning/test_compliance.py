"""Plan compliance: planned, done, and verified by a geofence-verified visit on the planned
day ±1 — by rep, grade and week — over the API and on the HQ page."""

import datetime as dt

import pytest

from planning.services import plan_generate
from tasks.models import Task
from tests.conftest import create
from tests.planning.conftest import HAMBURG, MONDAY

pytestmark = pytest.mark.django_db

WEEK_RULES = {
    "region": "north",
    "frequency_weeks": {"A": 1, "B": 2, "C": 2},
    "prospect_weeks": 0,
    "visit_minutes": {"A": 30, "B": 30, "C": 30},
    "day_minutes": 420,
    "work_days": [1, 2, 3, 4, 5],
    "travel_kmh": 25.0,
    "holidays": [],
}


def visit(store, day, *, hour=10, geofence="pass"):
    """A visit with its verdict as the server would have set it."""
    pk = create(
        "visit",
        store=store,
        check_in_at=f"{day.isoformat()}T{hour:02d}:00:00Z",
        check_out_at=f"{day.isoformat()}T{hour:02d}:20:00Z",
    )
    from visits.models import Visit

    Visit.objects.filter(pk=pk).update(geofence=geofence)


@pytest.fixture
def planned(people, client_for, frozen_today):
    """rep_north: an A store (2 visits over 2 weeks) and a B store (1); rep_north_2: one A."""
    stores = {
        "a": create(
            "store",
            name="A",
            lat=HAMBURG[0],
            lon=HAMBURG[1],
            region="north",
            owner=people["rep_north"].pk,
            status="active",
            grade="A",
        ),
        "b": create(
            "store",
            name="B",
            lat=HAMBURG[0],
            lon=HAMBURG[1],
            region="north",
            owner=people["rep_north"].pk,
            status="active",
            grade="B",
        ),
        "a2": create(
            "store",
            name="A2",
            lat=HAMBURG[0],
            lon=HAMBURG[1],
            region="north",
            owner=people["rep_north_2"].pk,
            status="active",
            grade="A",
        ),
    }
    client_for("manager_north").put("/api/plans/rules", WEEK_RULES, format="json")
    plan_generate(actor=people["manager_north"], region="north", start=MONDAY, weeks=2)
    days = {
        name: list(Task.objects.filter(store_id=pk, plan__isnull=False).order_by("due_date"))
        for name, pk in stores.items()
    }
    return stores, days


def test_compliance_counts_verified_visits_on_the_planned_day_plus_or_minus_one(
    client_for, people, planned
):
    stores, days = planned
    a1, a2 = days["a"]
    (b1,) = days["b"]
    # A, week 1: done and verified a day late. A, week 2: verified, task left open.
    Task.objects.filter(pk=a1.pk).update(status="done")
    visit(stores["a"], a1.due_date + dt.timedelta(days=1))
    visit(stores["a"], a2.due_date)
    # B: done, but the check-in was outside the geofence; and a verified visit 2 days late.
    Task.objects.filter(pk=b1.pk).update(status="done")
    visit(stores["b"], b1.due_date, geofence="flagged")
    visit(stores["b"], b1.due_date + dt.timedelta(days=2))
    # rep_north_2's A store: nothing at all. A cancelled one is not planned any more.
    Task.objects.filter(pk=days["a2"][1].pk).update(status="cancelled")

    response = client_for("manager_north").get(
        "/api/plans/compliance", {"from": MONDAY.isoformat(), "to": "2026-12-20"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["planned"], body["done"], body["verified"]) == (4, 2, 2)
    assert body["rate"] == 0.5
    reps = {row["name"]: (row["planned"], row["done"], row["verified"]) for row in body["by_rep"]}
    assert reps == {"rep-north-1": (3, 2, 2), "rep-north-2": (1, 0, 0)}
    grades = {row["grade"]: (row["planned"], row["verified"]) for row in body["by_grade"]}
    assert grades == {"A": (3, 2), "B": (1, 0)}
    weeks = [(row["week"], row["planned"]) for row in body["by_week"]]
    assert [w for w, _ in weeks] == ["2026-12-07", "2026-12-14"]
    assert sum(n for _, n in weeks) == 4
    one_rep = client_for("manager_north").get(
        "/api/plans/compliance",
        {"from": MONDAY.isoformat(), "to": "2026-12-20", "rep": people["rep_north_2"].pk},
    )
    assert one_rep.json()["planned"] == 1


@pytest.mark.parametrize(
    ("who", "query", "code"),
    [
        ("rep_north", {}, 403),
        ("manager_north", {"region": "south"}, 404),
        ("hq", {}, 400),
        ("hq", {"region": "north"}, 200),
        ("manager_north", {"from": "2026-12-10", "to": "2026-12-01"}, 400),
        ("manager_north", {"from": "yesterday"}, 400),
    ],
)
def test_compliance_is_scoped_and_validated(client_for, planned, who, query, code):
    assert client_for(who).get("/api/plans/compliance", query).status_code == code


def test_the_hq_page_shows_the_compliance_chart_and_tables(client, people, planned):
    stores, days = planned
    visit(stores["a"], days["a"][0].due_date)
    client.force_login(people["manager_north"])

    response = client.get("/hq/plans/", {"start": MONDAY.isoformat(), "end": "2026-12-20"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="compliance-chart"' in html
    assert html.count('<g class="bar">') == 2
    assert "rep-north-1" in html
    assert client.get("/hq/plans/", {"start": "2026-12-20", "end": "2026-12-01"}).status_code == 400
    client.force_login(people["rep_north"])
    assert client.get("/hq/plans/").status_code == 403
