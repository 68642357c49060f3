"""The call center: queues filled from churn warnings, stale surveys and first orders;
claiming and completing calls; follow-ups for reps; SLA."""

import datetime as dt
import threading
import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.analytics.services import analytics_recompute
from crm.calls.models import Call, CallQueue, CallStatus
from crm.calls.services import call_claim_next, call_queues_generate
from crm.orders.models import Order
from sync.bulk import bulk_update_records
from sync.models import ChangeLog
from tasks.models import Task
from tests.conftest import create
from tests.crm.fixtures import AS_OF, build_history
from visits.models import FollowUp

NOW = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def store(people, name: str, *, phone: str = "+4940123456", who: str = "rep_north", **fields):
    owner = people[who]
    return create(
        "store",
        name=name,
        phone=phone,
        lat=53.55,
        lon=9.99,
        region=owner.region_id,
        owner=owner.pk,
        **fields,
    )


def order(store_id, day: str, n: int = 0) -> None:
    Order.objects.create(
        external_id=f"{store_id}-{day}-{n}",
        store_id=store_id,
        order_date=dt.date.fromisoformat(day),
        amount=Decimal("100"),
    )


def open_call(store_id, queue=CallQueue.REACTIVATION, *, due_at=NOW, **fields) -> Call:
    return Call.objects.create(
        queue=queue,
        store_id=store_id,
        reason="test",
        created_at=due_at - dt.timedelta(hours=48),
        due_at=due_at,
        **fields,
    )


# --- queue generation -----------------------------------------------------------------


@pytest.mark.django_db
def test_churn_warnings_queue_one_reactivation_call_per_store(people):
    history = build_history(people)
    # Every store but s7 has a phone number; without one nobody can be called.
    bulk_update_records(
        entity="store",
        values_by_id={pk: {"phone": "+4940555000"} for name, pk in history.items() if name != "s7"},
    )

    result = analytics_recompute(actor=people["hq"], as_of=AS_OF)

    calls = {call.store.name: call for call in Call.objects.select_related("store")}
    # Flagged: s2, s5, s7, s9, s10, s11; s7 has no phone.
    assert sorted(calls) == ["s10", "s11", "s2", "s5", "s9"]
    assert result.run.counts["reactivation_calls"] == 5
    s2 = calls["s2"]
    assert s2.queue == "reactivation"
    assert s2.status == "open"
    assert s2.reason == "No order since 2026-10-10 (51 days; usually every 4.5 days)"
    assert s2.due_at - s2.created_at == dt.timedelta(hours=48)
    assert s2.run == result.run
    # Key accounts (s2, s9, s10) also get a visit task for their rep.
    assert sorted(Task.objects.values_list("store__name", flat=True)) == ["s10", "s2", "s9"]

    # The next night the stores are still flagged: nobody is queued twice, even once a
    # call is done (no new call within CALL_REPEAT_AFTER_DAYS).
    Call.objects.filter(pk=s2.pk).update(status="done", outcome="no_answer")
    again = analytics_recompute(actor=people["hq"], as_of=AS_OF + dt.timedelta(days=1))

    assert again.run.counts["reactivation_calls"] == 0
    assert Call.objects.count() == 5
    assert Task.objects.count() == 3


@pytest.mark.django_db
def test_survey_calls_go_to_unsurveyed_and_stale_stores_first(people, settings):
    never = store(people, "never surveyed")
    stale = store(people, "stale")
    create("survey", store=stale, captured_at="2026-05-01T10:00:00Z")  # 213 days
    fresh = store(people, "fresh")
    create("survey", store=fresh, captured_at="2026-11-01T10:00:00Z")
    store(people, "no phone", phone="")
    store(people, "churned", status="churned")
    waiting = store(people, "already queued")
    open_call(waiting, CallQueue.SURVEY_BY_PHONE)

    settings.FIELDLINE = {**settings.FIELDLINE, "CALL_SURVEY_PER_RUN": 1}
    first = call_queues_generate(now=NOW)
    settings.FIELDLINE = {**settings.FIELDLINE, "CALL_SURVEY_PER_RUN": 200}
    second = call_queues_generate(now=NOW)
    third = call_queues_generate(now=NOW)

    survey_calls = Call.objects.filter(queue="survey_by_phone").exclude(store=waiting)
    assert (first.survey_by_phone, second.survey_by_phone, third.survey_by_phone) == (1, 1, 0)
    assert {c.store_id: c.reason for c in survey_calls} == {
        never: "No site survey yet",
        stale: "Latest site survey 2026-05-01",
    }
    # The one call of the capped run went to the store never surveyed.
    assert survey_calls.get(store=never).created_at == NOW
    assert all(c.due_at == NOW + dt.timedelta(hours=120) for c in survey_calls)


@pytest.mark.django_db
def test_new_customers_are_called_back_on_the_configured_days(people):
    # Days 3, 14 and 30 after the first order, each due for 7 days (as of 2026-11-30).
    firsts = {
        "day 3": "2026-11-27",  # 3 days ago -> day 3
        "too late for 3": "2026-11-20",  # 10 days: day 3's window [3, 10) has passed
        "day 14": "2026-11-16",  # 14 days -> day 14
        "day 30": "2026-10-25",  # 36 days: within [30, 37)
        "old": "2026-10-20",  # 41 days
        "too new": "2026-11-29",  # 1 day
    }
    stores = {}
    for name, first in firsts.items():
        stores[name] = store(people, name)
        order(stores[name], first)
        order(stores[name], "2026-11-29", n=1)
    no_phone = store(people, "no phone", phone="")
    order(no_phone, "2026-11-27")

    report = call_queues_generate(now=NOW)
    again = call_queues_generate(now=NOW)

    calls = Call.objects.filter(queue="new_customer_callback")
    assert {c.store_id: c.callback_day for c in calls} == {
        stores["day 3"]: 3,
        stores["day 14"]: 14,
        stores["day 30"]: 30,
    }
    assert calls.get(callback_day=14).reason == "Day 14 after the first order (2026-11-16)"
    assert (report.new_customer_callback, again.new_customer_callback) == (3, 0)

    # Eleven days on, the day-3 call (done by then) is followed by the day-14 one.
    calls.filter(store=stores["day 3"]).update(status="done", outcome="reached_interested")
    later = NOW + dt.timedelta(days=11)
    call_queues_generate(now=later)
    assert sorted(calls.filter(store=stores["day 3"]).values_list("callback_day", flat=True)) == [
        3,
        14,
    ]


@pytest.mark.django_db
def test_unclaimed_calls_expire_long_after_their_deadline(people):
    s = store(people, "s")
    t = store(people, "t")
    u = store(people, "u")
    old = open_call(s, due_at=NOW - dt.timedelta(hours=73))
    recent = open_call(t, due_at=NOW - dt.timedelta(hours=71))
    claimed = open_call(u, due_at=NOW - dt.timedelta(hours=100), status="claimed")

    report = call_queues_generate(now=NOW)

    assert report.expired == 1
    statuses = dict(Call.objects.filter(queue="reactivation").values_list("pk", "status"))
    assert statuses == {old.pk: "expired", recent.pk: "open", claimed.pk: "claimed"}


@pytest.mark.django_db
def test_claims_held_past_the_timeout_go_back_to_the_queue(people, settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "CALL_CLAIM_TIMEOUT_HOURS": 8}
    agent = people["manager_north"]
    held = {
        hours: open_call(
            store(people, f"held {hours}h"),
            status="claimed",
            claimed_by=agent,
            claimed_at=NOW - dt.timedelta(hours=hours),
        )
        for hours in (9, 7)
    }
    done = open_call(
        store(people, "done"),
        status="done",
        outcome="no_answer",
        claimed_by=agent,
        claimed_at=NOW - dt.timedelta(hours=30),
        completed_at=NOW - dt.timedelta(hours=29),
    )

    report = call_queues_generate(now=NOW)
    again = call_queues_generate(now=NOW)

    assert (report.released, again.released) == (1, 0)
    rows = {
        pk: (status, claimed_by, claimed_at)
        for pk, status, claimed_by, claimed_at in Call.objects.values_list(
            "pk", "status", "claimed_by", "claimed_at"
        )
    }
    assert rows[held[9].pk] == ("open", None, None)
    assert rows[held[7].pk] == ("claimed", agent.pk, NOW - dt.timedelta(hours=7))
    assert rows[done.pk][0] == "done"
    # Back in the queue: the next agent gets it.
    assert call_claim_next(actor=people["hq"], queue="reactivation").pk == held[9].pk


@pytest.mark.django_db
def test_giving_back_timed_out_claims_is_set_based(people):
    def stale(names: list[str]) -> int:
        for name in names:
            open_call(
                store(people, name, phone=""),
                status="claimed",
                claimed_by=people["manager_north"],
                claimed_at=NOW - dt.timedelta(days=1),
            )
        with CaptureQueriesContext(connection) as queries:
            report = call_queues_generate(now=NOW)
        assert report.released == len(names)
        return len(queries)

    assert stale(["a", "b"]) == stale([f"more {n}" for n in range(20)])


# --- working calls --------------------------------------------------------------------


@pytest.fixture
def calls(people):
    north = store(people, "north shop")
    north_2 = store(people, "north shop 2", who="rep_north_2")
    south = store(people, "south shop", who="rep_south")
    return {
        "late": open_call(north, due_at=NOW - dt.timedelta(hours=1)),
        "soon": open_call(north_2, due_at=NOW + dt.timedelta(hours=5)),
        "south": open_call(south, due_at=NOW - dt.timedelta(hours=30)),
        "stores": {"north": north, "north_2": north_2, "south": south},
    }


@pytest.mark.django_db
def test_claim_next_takes_the_earliest_deadline_in_the_agents_scope(calls, client_for):
    north = client_for("manager_north")

    first = north.post("/api/calls/claim-next", {"queue": "reactivation"}, format="json")
    second = north.post("/api/calls/claim-next", {"queue": "reactivation"}, format="json")
    none_left = north.post("/api/calls/claim-next", {"queue": "reactivation"}, format="json")
    bad = north.post("/api/calls/claim-next", {"queue": "gossip"}, format="json")

    assert first.status_code == 200, first.content
    assert first.json()["id"] == str(calls["late"].pk)
    assert first.json()["status"] == "claimed"
    assert first.json()["store_name"] == "north shop"
    assert second.json()["id"] == str(calls["soon"].pk)
    # The south call is older still, but not this manager's.
    assert none_left.status_code == 404
    assert bad.status_code == 400
    assert Call.objects.get(pk=calls["south"].pk).status == "open"


@pytest.mark.django_db
def test_a_claimed_call_cannot_be_claimed_or_completed_by_another_agent(calls, client_for, people):
    call = calls["late"]
    north = client_for("manager_north")
    hq = client_for("hq")

    claimed = north.post(f"/api/calls/{call.pk}/claim")
    again = north.post(f"/api/calls/{call.pk}/claim")
    stolen = hq.post(f"/api/calls/{call.pk}/claim")
    completed_by_other = hq.post(
        f"/api/calls/{call.pk}/complete", {"outcome": "no_answer"}, format="json"
    )
    other_region = client_for("manager_south").post(f"/api/calls/{call.pk}/claim")
    unknown = north.post(f"/api/calls/{uuid.uuid4()}/claim")

    assert claimed.status_code == 200, claimed.content
    assert again.status_code == 200  # claiming a call one holds is a no-op
    assert stolen.status_code == 409
    assert stolen.json()["code"] == "claimed_by_other"
    assert completed_by_other.status_code == 409
    assert other_region.status_code == 404
    assert unknown.status_code == 404
    call.refresh_from_db()
    assert (call.status, call.claimed_by, call.outcome) == ("claimed", people["manager_north"], "")


@pytest.mark.django_db
def test_the_agent_gives_a_claimed_call_back_to_the_queue(calls, client_for, people):
    call = calls["late"]
    north = client_for("manager_north")
    north.post(f"/api/calls/{call.pk}/claim")

    released = north.post(f"/api/calls/{call.pk}/release")
    twice = north.post(f"/api/calls/{call.pk}/release")

    assert released.status_code == 200, released.content
    assert released.json()["status"] == "open"
    assert released.json()["claimed_by"] is None
    assert released.json()["claimed_at"] is None
    assert twice.status_code == 409
    assert twice.json()["code"] == "call_open"
    call.refresh_from_db()
    assert (call.status, call.claimed_by, call.claimed_at) == ("open", None, None)
    # The next agent may take it; the one who gave it back cannot complete it any more.
    assert client_for("hq").post(f"/api/calls/{call.pk}/claim").status_code == 200
    late = north.post(f"/api/calls/{call.pk}/complete", {"outcome": "no_answer"}, format="json")
    assert late.status_code == 409


@pytest.mark.django_db
def test_hq_and_the_regions_manager_may_release_another_agents_claim(calls, client_for, people):
    call = calls["late"]
    client_for("hq").post(f"/api/calls/{call.pk}/claim")

    by_other_region = client_for("manager_south").post(f"/api/calls/{call.pk}/release")
    by_rep = client_for("rep_north").post(f"/api/calls/{call.pk}/release")
    unknown = client_for("manager_north").post(f"/api/calls/{uuid.uuid4()}/release")
    call.refresh_from_db()
    still_held = (call.status, call.claimed_by)
    by_manager = client_for("manager_north").post(f"/api/calls/{call.pk}/release")

    assert by_other_region.status_code == 404
    assert by_rep.status_code == 403
    assert unknown.status_code == 404
    assert still_held == ("claimed", people["hq"])
    assert by_manager.status_code == 200, by_manager.content
    assert by_manager.json()["status"] == "open"


@pytest.mark.django_db
def test_only_a_claimed_call_can_be_released(calls, client_for):
    call = calls["late"]
    north = client_for("manager_north")
    north.post(f"/api/calls/{call.pk}/claim")
    north.post(f"/api/calls/{call.pk}/complete", {"outcome": "no_answer"}, format="json")

    released = north.post(f"/api/calls/{call.pk}/release")

    assert released.status_code == 409
    assert released.json()["code"] == "call_done"
    call.refresh_from_db()
    assert (call.status, call.outcome) == ("done", "no_answer")
    assert call.claimed_by is not None


@pytest.mark.django_db
def test_completing_needs_a_claim_and_an_outcome(calls, client_for):
    call = calls["late"]
    north = client_for("manager_north")

    unclaimed = north.post(
        f"/api/calls/{call.pk}/complete", {"outcome": "no_answer"}, format="json"
    )
    north.post(f"/api/calls/{call.pk}/claim")
    no_outcome = north.post(f"/api/calls/{call.pk}/complete", {"notes": "hm"}, format="json")
    unknown_outcome = north.post(
        f"/api/calls/{call.pk}/complete", {"outcome": "maybe"}, format="json"
    )
    callback_without_date = north.post(
        f"/api/calls/{call.pk}/complete", {"outcome": "callback_requested"}, format="json"
    )
    past_date = north.post(
        f"/api/calls/{call.pk}/complete",
        {"outcome": "reached_interested", "next_contact_on": "2020-01-01"},
        format="json",
    )

    assert unclaimed.status_code == 409
    assert unclaimed.json()["code"] == "call_open"
    assert no_outcome.status_code == 400
    assert "outcome" in no_outcome.json()
    assert unknown_outcome.status_code == 400
    assert callback_without_date.status_code == 400
    assert callback_without_date.json() == {
        "next_contact_on": ["A callback needs the date to call back on."]
    }
    assert past_date.status_code == 400
    call.refresh_from_db()
    assert (call.status, call.outcome, call.followup_id) == ("claimed", "", None)
    assert not FollowUp.objects.exists()


# Committed: on PostgreSQL a pull sees only changes of transactions that have ended.
@pytest.mark.django_db(transaction=True)
def test_an_outcome_with_a_next_contact_date_leaves_a_follow_up_the_rep_pulls(
    calls, client_for, people
):
    call = calls["late"]
    north = client_for("manager_north")
    north.post(f"/api/calls/{call.pk}/claim")
    next_contact = (timezone.localdate() + dt.timedelta(days=5)).isoformat()

    done = north.post(
        f"/api/calls/{call.pk}/complete",
        {
            "outcome": "callback_requested",
            "notes": "Owner back Monday",
            "next_contact_on": next_contact,
        },
        format="json",
    )
    twice = north.post(f"/api/calls/{call.pk}/complete", {"outcome": "no_answer"}, format="json")

    assert done.status_code == 200, done.content
    body = done.json()
    assert (body["status"], body["outcome"], body["next_contact_on"]) == (
        "done",
        "callback_requested",
        next_contact,
    )
    followup = FollowUp.objects.get()
    assert body["followup_id"] == str(followup.pk)
    assert followup.store_id == calls["stores"]["north"]
    assert followup.scope_owner == people["rep_north"]
    assert str(followup.due_date) == next_contact
    assert followup.note == (
        "Call center, reactivation of a churn warning: Asked to be called back. Owner back Monday"
    )
    assert ChangeLog.objects.filter(entity="followup", record_id=followup.pk).count() == 1
    assert twice.status_code == 409
    assert twice.json()["code"] == "call_done"

    # The rep's first sync, to its end: a first pull comes in tiers (open tasks and their
    # stores first), so the follow-up may arrive on any page of it.
    rep, changes, params = client_for("rep_north"), [], {"limit": 500}
    while True:
        page = rep.get("/api/sync/pull", params).json()
        changes += page["changes"]
        if not page["has_more"]:
            break
        params = {"limit": 500, "cursor": page["cursor"]}
    followups = [c for c in changes if c["entity"] == "followup"]
    assert [c["record"]["id"] for c in followups] == [str(followup.pk)]


@pytest.mark.django_db
def test_an_outcome_without_a_date_leaves_no_follow_up(calls, client_for):
    call = calls["soon"]
    north = client_for("manager_north")
    north.post(f"/api/calls/{call.pk}/claim")

    done = north.post(
        f"/api/calls/{call.pk}/complete", {"outcome": "reached_order_placed"}, format="json"
    )

    assert done.status_code == 200
    assert done.json()["followup_id"] is None
    assert not FollowUp.objects.exists()


@pytest.mark.django_db
def test_lists_and_sla_are_scoped_and_count_overdue_calls(calls, client_for, people):
    north = client_for("manager_north")
    hq = client_for("hq")

    listed = north.get("/api/calls/")
    overdue = hq.get("/api/calls/", {"overdue": "true"})
    sla_north = north.get("/api/calls/sla")
    sla_hq = hq.get("/api/calls/sla")
    rep = client_for("rep_north").get("/api/calls/")

    assert [row["store_name"] for row in listed.json()["results"]] == [
        "north shop",
        "north shop 2",
    ]
    # Overdue as of the real clock: both calls due before NOW (in the past) are late.
    assert {row["store_name"] for row in overdue.json()["results"]} >= {"north shop", "south shop"}
    assert all(row["overdue"] for row in overdue.json()["results"])
    by_queue = {row["queue"]: row for row in sla_hq.json()}
    assert by_queue["reactivation"]["open"] == 3
    assert by_queue["reactivation"]["sla_hours"] == 48
    assert by_queue["survey_by_phone"] == {
        "queue": "survey_by_phone",
        "sla_hours": 120,
        "open": 0,
        "claimed": 0,
        "overdue": 0,
        "oldest_overdue_due_at": None,
    }
    assert {row["queue"]: row["open"] for row in sla_north.json()}["reactivation"] == 2
    assert rep.status_code == 403


# --- concurrency ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_agents_claiming_at_once_each_get_a_different_call(people):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite runs one write at a time")
    stores = [store(people, f"shop {n}") for n in range(12)]
    for n, store_id in enumerate(stores):
        open_call(store_id, due_at=NOW + dt.timedelta(minutes=n))
    agents = [people["manager_north"], people["hq"]] * 3
    claimed: list[tuple[int, uuid.UUID]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(agents))

    def work(agent) -> None:
        try:
            start.wait()
            while (call := call_claim_next(actor=agent, queue="reactivation")) is not None:
                claimed.append((agent.pk, call.pk))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    ids = [call_id for _, call_id in claimed]
    assert len(ids) == 12
    assert len(set(ids)) == 12
    rows = Call.objects.values_list("pk", "status", "claimed_by_id")
    by_call = {call_id: agent for agent, call_id in claimed}
    assert all(status == CallStatus.CLAIMED for _, status, _ in rows)
    assert {pk: agent for pk, _, agent in rows} == by_call


@pytest.mark.django_db
def test_queue_generation_is_set_based(people):
    def fill(names: list[str]) -> int:
        for name in names:
            order(store(people, name), "2026-11-27")
        with CaptureQueriesContext(connection) as queries:
            call_queues_generate(now=NOW)
        return len(queries)

    few = fill(["a", "b"])
    many = fill([f"more {n}" for n in range(20)])

    assert Call.objects.filter(queue="new_customer_callback").count() == 22
    assert Call.objects.filter(queue="survey_by_phone").count() == 22
    assert many == few


@pytest.mark.django_db
def test_the_command_fills_the_queues(people, capsys):
    store(people, "never surveyed")

    call_command("generate_call_queues", "--today", "2026-11-30")

    assert (
        "0 expired, 0 released, 1 survey calls, 0 new-customer callbacks queued"
        in capsys.readouterr().out
    )
    assert Call.objects.get().queue == "survey_by_phone"
