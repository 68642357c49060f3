"""Changes keep the plan true: a reassigned store takes its future planned visits along
(and the new rep's days are re-checked), a closed or merged store loses them."""

import datetime as dt

import pytest

from planning.services import plan_generate
from tasks.models import Task
from tests.conftest import create
from tests.planning.conftest import HAMBURG, MONDAY
from tests.sync.phone import Phone

pytestmark = pytest.mark.django_db

# Mondays only, 60 minutes a day, 30 a visit: two stores at one spot fill a day.
TIGHT = {
    "region": "north",
    "frequency_weeks": {"A": 1, "B": 1, "C": 1},
    "prospect_weeks": 0,
    "visit_minutes": {"A": 30, "B": 30, "C": 30},
    "day_minutes": 60,
    "work_days": [1],
    "travel_kmh": 25.0,
    "holidays": [],
}


@pytest.fixture
def tight(people, client_for, frozen_today):
    """Two stores for each north rep, all at one spot, planned four Mondays."""
    stores = {
        who: [
            create(
                "store",
                name=f"{who} {n}",
                lat=HAMBURG[0],
                lon=HAMBURG[1],
                region="north",
                owner=people[who].pk,
                status="active",
                grade="A",
            )
            for n in range(2)
        ]
        for who in ("rep_north", "rep_north_2")
    }
    manager = client_for("manager_north")
    assert manager.put("/api/plans/rules", TIGHT, format="json").status_code == 200
    plan_generate(actor=people["manager_north"], region="north", start=MONDAY, weeks=4)
    return stores


def visits_of(store):
    return Task.objects.filter(store_id=store, plan__isnull=False).order_by("due_date")


def test_a_reassigned_store_takes_its_future_visits_along_and_the_new_reps_days_are_rechecked(
    client_for, people, tight
):
    store = tight["rep_north"][0]
    started = visits_of(store).first()
    Task.objects.filter(pk=started.pk).update(status="in_progress")
    manager = client_for("manager_north")
    assert manager.get("/api/plans/overloads").json() == {"results": []}
    old_phone = Phone(client_for("rep_north"))
    old_phone.pull()

    response = manager.patch(
        f"/api/stores/{store}/", {"owner": people["rep_north_2"].pk}, format="json"
    )

    assert response.status_code == 200, response.content
    visits = list(visits_of(store))
    assert [v.assignee_id for v in visits] == [people["rep_north"].pk] + [
        people["rep_north_2"].pk
    ] * 3  # the started one stays with the rep who started it
    overloads = manager.get("/api/plans/overloads").json()["results"]
    assert overloads == [
        {
            "rep": people["rep_north_2"].pk,
            "date": (MONDAY + dt.timedelta(weeks=week)).isoformat(),
            "visits": 3,
            "minutes": 90.0,
            "day_minutes": 60.0,
        }
        for week in (1, 2, 3)
    ]
    assert manager.get("/api/plans/overloads", {"rep": people["rep_north"].pk}).json() == {
        "results": []
    }


@pytest.mark.django_db(transaction=True)
def test_the_old_reps_phone_drops_the_moved_visits_and_the_new_reps_pulls_them(
    client_for, people, tight
):
    store = tight["rep_north"][0]
    old_phone, new_phone = Phone(client_for("rep_north")), Phone(client_for("rep_north_2"))
    old_phone.pull()
    new_phone.pull()

    client_for("manager_north").patch(
        f"/api/stores/{store}/", {"owner": people["rep_north_2"].pk}, format="json"
    )
    old_phone.pull()
    new_phone.pull()

    moved = {str(t.pk) for t in visits_of(store)}
    assert len(moved) == 4
    assert moved.isdisjoint(old_phone.records("task"))
    assert moved <= set(new_phone.records("task"))


def test_a_closed_store_loses_its_future_visits_and_keeps_done_ones(client_for, tight):
    store = tight["rep_north"][1]
    done = visits_of(store).first()
    Task.objects.filter(pk=done.pk).update(status="done")

    response = client_for("manager_north").patch(
        f"/api/stores/{store}/", {"status": "churned"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert [v.status for v in visits_of(store)] == ["done", "cancelled", "cancelled", "cancelled"]
    others = Task.objects.filter(plan__isnull=False).exclude(store_id=store)
    assert set(others.values_list("status", flat=True)) == {"open"}


def test_a_merged_store_loses_its_future_visits_and_the_winner_keeps_its_own(client_for, tight):
    winner, loser = tight["rep_north"]
    loser_visits = {t.pk for t in visits_of(loser)}

    response = client_for("manager_north").post(
        "/api/stores/merge", {"winner": str(winner), "loser": str(loser)}, format="json"
    )

    assert response.status_code == 200, response.content
    moved = Task.objects.filter(pk__in=loser_visits)
    assert {t.store_id for t in moved} == {winner}
    assert set(moved.values_list("status", flat=True)) == {"cancelled"}
    assert set(visits_of(winner).exclude(pk__in=loser_visits).values_list("status", flat=True)) == {
        "open"
    }


def test_a_grade_change_waits_for_the_next_generation(client_for, tight):
    store = tight["rep_north"][0]
    before = list(visits_of(store).values_list("pk", "status", "due_date"))

    client_for("manager_north").patch(f"/api/stores/{store}/", {"grade": "C"}, format="json")

    assert list(visits_of(store).values_list("pk", "status", "due_date")) == before


def test_a_rep_sees_no_overloads_and_a_manager_no_other_region(client_for, tight):
    assert client_for("rep_north").get("/api/plans/overloads").status_code == 403
    assert (
        client_for("manager_north").get("/api/plans/overloads", {"region": "south"}).status_code
        == 404
    )
    assert client_for("hq").get("/api/plans/overloads").status_code == 400
    assert client_for("hq").get("/api/plans/overloads", {"region": "north"}).status_code == 200
