"""What a call's outcome changes on the store: a wrong number, a store found closed, a
store not interested. Each change goes through the sync engine, so the rep's phone
learns it, and each is undone by the change that answers it."""

import datetime as dt

import pytest

from crm.calls.models import Call, CallQueue, CallStatus
from crm.calls.services import call_queues_generate, calls_queue_reactivation
from stores.models import Store
from sync.models import ChangeLog
from tests.crm.calls.test_calls import NOW, open_call, order, store
from tests.sync.phone import Phone

pytestmark = pytest.mark.django_db


def complete(client, call: Call, outcome: str) -> dict:
    assert client.post(f"/api/calls/{call.pk}/claim").status_code == 200
    answer = client.post(f"/api/calls/{call.pk}/complete", {"outcome": outcome}, format="json")
    assert answer.status_code == 200, answer.content
    return answer.json()


class Warning:
    """A churn warning as `calls_queue_reactivation` takes it."""

    def __init__(self, store_id):
        self.store_id = store_id
        self.last_order = dt.date(2026, 10, 1)
        self.days_since_last_order = 60
        self.average_interval_days = 7.0


@pytest.mark.django_db(transaction=True)
def test_a_wrong_number_takes_the_store_out_of_the_queues_until_corrected(people, client_for):
    shop = store(people, "Kiosk am Markt")
    call = open_call(shop, queue=CallQueue.SURVEY_BY_PHONE)
    rep = Phone(client_for("rep_north"))
    rep.pull()

    complete(client_for("manager_north"), call, "wrong_number")

    assert Store.objects.get(pk=shop).phone_verified is False
    rep.pull()
    assert rep.replica[("store", str(shop))]["phone_verified"] is False
    # No queue takes it while the number is known to be wrong.
    assert calls_queue_reactivation(warnings=[Warning(shop)], run=None, now=NOW) == 0
    report = call_queues_generate(today=NOW.date(), now=NOW + dt.timedelta(days=60))
    assert report.survey_by_phone == 0

    # The rep corrects the number on the phone: it may be called again.
    rep.update("store", str(shop), phone="+49 40 7654321")
    (result,) = rep.push()
    assert result["status"] == "applied", result
    assert result["record"]["phone_verified"] is True
    assert Store.objects.get(pk=shop).phone_verified is True
    assert calls_queue_reactivation(warnings=[Warning(shop)], run=None, now=NOW) == 1


def test_a_store_found_closed_is_proposed_to_its_manager(people, client_for):
    shop = store(people, "Kiosk Hafen")
    call = open_call(shop)
    manager = client_for("manager_north")

    complete(manager, call, "store_closed")

    stored = Store.objects.get(pk=shop)
    assert stored.closing_proposed_at is not None
    assert stored.status != "churned"  # the manager decides, not the call
    listed = manager.get("/api/stores/", {"closing_proposed": "true"}).json()["results"]
    assert [row["id"] for row in listed] == [str(shop)]
    assert calls_queue_reactivation(warnings=[Warning(shop)], run=None, now=NOW) == 0

    # The manager closes it: the proposal is settled.
    closed = manager.patch(f"/api/stores/{shop}/", {"status": "churned"}, format="json")
    assert closed.status_code == 200, closed.content
    assert closed.json()["closing_proposed_at"] is None
    assert manager.get("/api/stores/", {"closing_proposed": "true"}).json()["results"] == []


def test_not_interested_pauses_reactivation_calls(people, client_for, settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "CALL_NOT_INTERESTED_PAUSE_DAYS": 30}
    shop = store(people, "Kiosk Eck")
    call = open_call(shop)
    complete(client_for("manager_north"), call, "reached_no_interest")
    said_no_at = Call.objects.get(pk=call.pk).completed_at
    Call.objects.filter(pk=call.pk).update(created_at=said_no_at - dt.timedelta(days=40))

    # Past the repeat window of the last call, but within the pause: no call.
    settings.FIELDLINE = {**settings.FIELDLINE, "CALL_REPEAT_AFTER_DAYS": 1}
    within = said_no_at + dt.timedelta(days=29)
    assert calls_queue_reactivation(warnings=[Warning(shop)], run=None, now=within) == 0
    after = said_no_at + dt.timedelta(days=31)
    assert calls_queue_reactivation(warnings=[Warning(shop)], run=None, now=after) == 1


def test_other_outcomes_leave_the_store_alone(people, client_for):
    shop = store(people, "Kiosk Platz")
    call = open_call(shop)
    before = ChangeLog.objects.filter(entity="store", record_id=shop).count()

    complete(client_for("manager_north"), call, "no_answer")

    stored = Store.objects.get(pk=shop)
    assert (stored.phone_verified, stored.closing_proposed_at) == (True, None)
    assert ChangeLog.objects.filter(entity="store", record_id=shop).count() == before
    assert Call.objects.get(pk=call.pk).status == CallStatus.DONE


@pytest.mark.django_db(transaction=True)
def test_a_rep_may_not_mark_a_number_verified(people, client_for):
    shop = store(people, "Kiosk Ufer", phone_verified=False)
    rep = Phone(client_for("rep_north"))
    rep.pull()

    rep.update("store", str(shop), phone_verified=True)
    (result,) = rep.push()

    assert result["status"] == "rejected"
    assert Store.objects.get(pk=shop).phone_verified is False


def test_an_established_customer_gets_no_new_customer_callback(people):
    """Nine orders make a store established, and new-customer care stops: the day-14
    callback is not made for it, while a store with eight orders still gets its own."""
    established, still_new = store(people, "nine orders"), store(people, "eight orders")
    for shop, count in ((established, 9), (still_new, 8)):
        for n in range(count):
            order(shop, "2026-11-16" if n == 0 else f"2026-11-2{n % 9}", n=n)

    call_queues_generate(now=NOW)

    called = set(
        Call.objects.filter(queue=CallQueue.NEW_CUSTOMER_CALLBACK).values_list(
            "store_id", flat=True
        )
    )
    assert called == {still_new}
