"""Task status moves per role (DOMAIN.md: open → accepted → in_progress → done, or
cancelled): a rep moves their task forward only; a manager or HQ cancels and reopens. The
same rule on REST, push and WatermelonDB."""

import uuid

import pytest

from sync.models import ChangeLog
from tasks.models import Task
from tests.conftest import create
from tests.sync.phone import Phone
from tests.sync.test_watermelon import Device

pytestmark = pytest.mark.django_db(transaction=True)


def task_with(people, world, status: str) -> uuid.UUID:
    return create(
        "task",
        store=world["rep_north"]["store"],
        assignee=people["rep_north"].pk,
        type="visit",
        title="Visit",
        status=status,
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("open", "accepted"),
        ("open", "in_progress"),
        ("open", "done"),
        ("accepted", "in_progress"),
        ("in_progress", "done"),
    ],
)
def test_a_rep_moves_a_task_forward(client_for, people, world, start, end):
    task = task_with(people, world, start)

    response = client_for("rep_north").patch(f"/api/tasks/{task}/", {"status": end}, format="json")

    assert response.status_code == 200, response.content
    assert Task.objects.get(pk=task).status == end


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("open", "cancelled", "Only a manager can cancel a task: ask yours, or leave it open."),
        (
            "in_progress",
            "cancelled",
            "Only a manager can cancel a task: ask yours, or leave it open.",
        ),
        ("cancelled", "open", "This task is cancelled: only a manager can reopen it."),
        ("done", "open", "This task is done: only a manager can reopen it."),
        ("done", "in_progress", "This task is done: only a manager can reopen it."),
        (
            "in_progress",
            "accepted",
            "A task moves forward only: from in_progress to a later step, never back to accepted.",
        ),
    ],
)
def test_a_rep_may_not_cancel_reopen_or_move_back(client_for, people, world, start, end, message):
    task = task_with(people, world, start)
    logged = ChangeLog.objects.count()

    response = client_for("rep_north").patch(f"/api/tasks/{task}/", {"status": end}, format="json")

    assert response.status_code == 403, response.content
    assert response.json() == {"status": [message], "code": "task_transition"}
    assert Task.objects.get(pk=task).status == start
    assert ChangeLog.objects.count() == logged


@pytest.mark.parametrize("who", ["manager_north", "hq"])
def test_the_office_cancels_and_reopens(client_for, people, world, who):
    task = task_with(people, world, "in_progress")
    client = client_for(who)

    for status in ("cancelled", "open", "done", "accepted"):
        response = client.patch(f"/api/tasks/{task}/", {"status": status}, format="json")
        assert response.status_code == 200, response.content
        assert Task.objects.get(pk=task).status == status


def test_a_pushed_cancel_is_rejected_and_the_rest_of_the_push_applies(client_for, people, world):
    cancel = task_with(people, world, "open")
    forward = task_with(people, world, "open")
    phone = Phone(client_for("rep_north"))
    for task in (cancel, forward):
        phone.replica[("task", str(task))] = {"id": str(task), "version": 1}
    phone.update("task", str(cancel), status="cancelled")
    phone.update("task", str(forward), status="accepted")

    refused, applied = phone.push()

    assert (refused["status"], refused["code"]) == ("rejected", "task_transition")
    assert applied["status"] == "applied"
    assert Task.objects.get(pk=cancel).status == "open"
    assert Task.objects.get(pk=forward).status == "accepted"


def test_a_watermelon_reopen_is_refused(client_for, people, world):
    task = task_with(people, world, "done")
    phone = Device(client_for("rep_north"))
    phone.pull()

    response = phone.push({"tasks": {"updated": [phone.row("tasks", task, status="open")]}})

    assert response.status_code == 409, response.content
    (refusal,) = response.json()["rejected"]
    assert (refusal["id"], refusal["code"]) == (str(task), "task_transition")
    assert Task.objects.get(pk=task).status == "done"
