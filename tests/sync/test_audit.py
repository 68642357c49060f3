"""HQ's audit log: every accepted change, who made it, from where, old and new values."""

import datetime as dt

import pytest
from django.utils import timezone

from sync.models import ChangeLog
from tests.sync.phone import Phone

pytestmark = pytest.mark.django_db


def audit(client, **params):
    response = client.get("/api/audit", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_rest_edit_appears_with_old_and_new_values(client_for, world, people):
    store = world["rep_north"]["store"]
    manager = client_for("manager_north")
    response = manager.patch(f"/api/stores/{store}/", {"status": "active"}, format="json")
    assert response.status_code == 200, response.content

    body = audit(client_for("hq"), entity="store", record_id=str(store))

    latest = body["results"][0]
    assert latest["op"] == "update"
    assert latest["version"] == 2
    assert latest["old_values"] == {"status": "prospect"}
    assert latest["new_values"] == {"status": "active"}
    assert latest["actor"] == people["manager_north"].pk
    assert latest["source"] == "rest"
    assert latest["device_id"] == f"rest-{people['manager_north'].pk}"
    assert [entry["version"] for entry in body["results"]] == [2, 1]
    assert body["count"] == 2


@pytest.mark.django_db(transaction=True)  # the phone pulls committed changes
def test_a_push_appears_with_its_device(client_for, world, people):
    store = world["rep_north"]["store"]
    phone = Phone(client_for("rep_north"))
    phone.pull()
    phone.update("store", str(store), phone="+49 40 32904100")
    (result,) = phone.push()
    assert result["status"] == "applied", result

    body = audit(client_for("hq"), entity="store", record_id=str(store))

    latest = body["results"][0]
    assert latest["source"] == "push"
    assert latest["device_id"] == phone.device_id
    assert latest["actor"] == people["rep_north"].pk
    assert latest["old_values"] == {"phone": ""}
    assert latest["new_values"] == {"phone": "+494032904100"}
    assert latest["mutation_id"] == phone.history[-1]["mutation_id"]


def test_a_dispatch_and_its_cancel_appear_as_dispatch(client_for, world, people):
    manager = client_for("manager_north")
    response = manager.post(
        "/api/tasks/dispatch",
        {"filter": {}, "task": {"type": "new_product", "title": "Bowls"}, "dry_run": False},
        format="json",
    )
    assert response.status_code in (200, 201), response.content
    dispatch = response.json()
    response = manager.post(f"/api/tasks/dispatches/{dispatch['id']}/cancel")
    assert response.status_code == 200, response.content

    body = audit(client_for("hq"), entity="task", actor=people["manager_north"].pk)

    entries = body["results"]
    assert body["count"] == 4  # two north stores: a create and a cancel each
    assert {entry["source"] for entry in entries} == {"dispatch"}
    cancels, creates = entries[:2], entries[2:]
    assert {entry["op"] for entry in creates} == {"create"}
    assert all(entry["old_values"] == {} for entry in creates)
    assert all(entry["new_values"]["title"] == "Bowls" for entry in creates)
    for entry in cancels:
        assert entry["op"] == "update"
        assert entry["old_values"]["status"] == "open"
        assert entry["new_values"]["status"] == "cancelled"


def test_filters_by_time_and_pages_newest_first(client_for, world):
    hq = client_for("hq")
    everything = audit(hq, page_size=5)
    total = ChangeLog.objects.count()
    assert everything["count"] == total
    assert len(everything["results"]) == 5
    ats = [entry["at"] for entry in everything["results"]]
    assert ats == sorted(ats, reverse=True)

    later = (timezone.now() + dt.timedelta(minutes=1)).isoformat()
    assert audit(hq, since=later)["count"] == 0
    assert audit(hq, until=later)["count"] == total


def test_invalid_filters_answer_400(client_for, world):
    response = client_for("hq").get("/api/audit", {"record_id": "nope", "since": "yesterday"})
    assert response.status_code == 400
    assert set(response.json()) >= {"record_id", "since"}


@pytest.mark.parametrize("who", ["rep_north", "manager_north"])
def test_only_hq_reads_the_audit_log(client_for, world, who):
    response = client_for(who).get("/api/audit")
    assert response.status_code == 403


def test_anonymous_callers_are_refused(client, world):
    response = client.get("/api/audit")
    assert response.status_code in (401, 403)
