"""Follow-up reminders: raised once by the daily job, listed for the owning rep."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import create
from visits.models import FollowUpReminder
from visits.services import followup_reminders_raise

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


def followup(store, *, in_days: int, **fields):
    due = timezone.localdate() + dt.timedelta(days=in_days)
    return create("followup", store=store, due_date=due.isoformat(), note=f"in {in_days}", **fields)


def test_reminders_are_raised_once_for_open_followups_due_soon(world, people):
    store = world["rep_north"]["store"]
    tomorrow = followup(store, in_days=1)
    overdue = followup(store, in_days=-2)
    followup(store, in_days=3)
    followup(store, in_days=1, done=True)
    # Each rep's fixture follow-up is due 2026-12-01, three days before TODAY: overdue.
    fixture_followups = {
        world[who]["followup"] for who in ("rep_north", "rep_north_2", "rep_south")
    }
    expected = {tomorrow, overdue} | fixture_followups
    assert followup_reminders_raise() == len(expected)
    assert set(FollowUpReminder.objects.values_list("followup_id", flat=True)) == expected
    assert followup_reminders_raise() == 0
    reminder = FollowUpReminder.objects.get(followup_id=tomorrow)
    assert reminder.user == people["rep_north"]


def test_the_command_reports_how_many(world, capsys):
    followup(world["rep_south"]["store"], in_days=0)
    call_command("send_followup_reminders")
    assert capsys.readouterr().out.strip().endswith("reminders raised")
    assert FollowUpReminder.objects.exists()


def test_reps_see_their_open_reminders_only(client_for, world, people):
    mine = followup(world["rep_north"]["store"], in_days=1)
    theirs = followup(world["rep_south"]["store"], in_days=1)
    followup_reminders_raise()
    client = client_for("rep_north")
    listed = {row["followup"] for row in client.get("/api/me/reminders").json()["results"]}
    assert str(mine) in listed
    assert str(theirs) not in listed
    response = client.patch(f"/api/followups/{mine}/", {"done": True})
    assert response.status_code == 200, response.content
    listed = {row["followup"] for row in client.get("/api/me/reminders").json()["results"]}
    assert str(mine) not in listed


def test_a_reassigned_store_takes_its_reminders_away(client_for, world, people):
    mine = followup(world["rep_north"]["store"], in_days=1)
    followup_reminders_raise()
    client_for("manager_north").patch(
        f"/api/stores/{world['rep_north']['store']}/", {"owner": people["rep_north_2"].pk}
    )
    listed = client_for("rep_north").get("/api/me/reminders").json()["results"]
    assert str(mine) not in {row["followup"] for row in listed}
