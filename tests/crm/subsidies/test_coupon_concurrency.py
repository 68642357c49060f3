"""A budget is never overspent, however many claims arrive at once.

Each claimer is a thread with its own database connection (and, over HTTP, its own request
to a live server); all start together at a barrier. The budget affords only some of them:
exactly that many succeed, every other answers budget_exhausted (409), the budget's columns
equal what its ledger adds up to, and no balance is ever negative. On PostgreSQL the claims
queue on the budget row's lock; on SQLite each transaction begins IMMEDIATE.
"""

import datetime as dt
import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection, transaction

from crm.orders.models import Order
from crm.subsidies.errors import SubsidyError
from crm.subsidies.models import BudgetEntry, Coupon, SubsidyBudget
from crm.subsidies.selectors import ledger_totals
from crm.subsidies.services import budget_allocate, coupon_claim, coupon_use
from tests.conftest import PASSWORD
from tests.crm.subsidies.fixtures import approved_campaign, make_budget, make_store, open_batch
from tests.live_client import LiveClient

pytestmark = pytest.mark.django_db(transaction=True)


def assert_budget_consistent(budget, *, reserved: Decimal, claims: int):
    fresh = SubsidyBudget.objects.get(pk=budget.pk)
    assert fresh.reserved == reserved
    assert fresh.reserved + fresh.used <= fresh.amount
    assert ledger_totals(budget_id=budget.pk) == {
        "amount": fresh.amount,
        "reserved": fresh.reserved,
        "used": fresh.used,
    }
    entries = list(BudgetEntry.objects.filter(budget=budget, kind="claim").order_by("id"))
    assert len(entries) == claims == Coupon.objects.filter(batch__campaign__budget=budget).count()
    balances = [entry.available_after for entry in entries]
    # Each claim saw the balance the one before it left: a strictly falling statement.
    assert balances == sorted(balances, reverse=True)
    assert len(set(balances)) == len(balances)
    assert all(balance >= 0 for balance in balances)
    assert balances[-1] == fresh.available


def run_at_once(count: int, work) -> list:
    """`work(i)` in `count` threads released together; each closes its own connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int):
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except SubsidyError as error:
            results[index] = error.code
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            results[index] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.fixture
def crowd(people, regions):
    """32 early-growth stores of rep-north-1; a 1,050.00 budget; 100.00 coupons (ten fit,
    50.00 is left over), enough of them and one per store."""
    hq = people["hq"]
    stores = [make_store(people["rep_north"], f"s{n}", segment="early_growth") for n in range(32)]
    budget = make_budget(hq, regions["north"], "1050.00")
    campaign = approved_campaign(hq, budget)
    batch = open_batch(hq, campaign, count=100, face_value="100.00")
    return {"stores": stores, "budget": budget, "batch": batch}


def test_32_connections_claiming_at_once_cannot_overspend(crowd, people):
    rep = people["rep_north"]

    results = run_at_once(
        32,
        lambda i: (
            coupon_claim(actor=rep, batch_id=crowd["batch"].pk, store_id=crowd["stores"][i]).value
        ),
    )

    outcomes = Counter("claimed" if isinstance(r, Decimal) else str(r) for r in results)
    assert outcomes == {"claimed": 10, "budget_exhausted": 22}, results
    assert_budget_consistent(crowd["budget"], reserved=Decimal("1000.00"), claims=10)
    assert SubsidyBudget.objects.get(pk=crowd["budget"].pk).available == Decimal("50.00")
    crowd["batch"].refresh_from_db()
    assert crowd["batch"].issued == 10


def test_many_claims_for_one_store_stop_at_its_limit(people, regions):
    hq = people["hq"]
    store = make_store(people["rep_north"], "popular", segment="early_growth")
    budget = make_budget(hq, regions["north"], "10000.00")
    batch = open_batch(hq, approved_campaign(hq, budget), face_value="10.00", per_store_limit=3)

    results = run_at_once(
        16, lambda i: coupon_claim(actor=hq, batch_id=batch.pk, store_id=store).value
    )

    outcomes = Counter("claimed" if isinstance(r, Decimal) else str(r) for r in results)
    assert outcomes == {"claimed": 3, "store_limit_reached": 13}, results
    assert_budget_consistent(budget, reserved=Decimal("30.00"), claims=3)


@pytest.mark.live
def test_concurrent_http_claims_get_exactly_the_affordable_201s_and_409s(
    crowd, people, live_server
):
    # One token; each request is its own HTTP connection, served by its own server thread.
    rep = LiveClient(live_server.url).login(people["rep_north"].username, PASSWORD)

    def claim(i: int):
        response = rep.post(
            "/api/coupons/claim",
            {"batch": str(crowd["batch"].pk), "store": str(crowd["stores"][i])},
        )
        return response.status_code, response.json()

    results = run_at_once(16, claim)

    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 10, 409: 6}, results
    refusals = [body for status, body in results if status == 409]
    assert {body["code"] for body in refusals} == {"budget_exhausted"}
    assert all("left; this coupon needs 100.00" in body["detail"] for body in refusals)
    assert_budget_consistent(crowd["budget"], reserved=Decimal("1000.00"), claims=10)


def test_a_claim_waits_for_the_budget_lock(crowd, people):
    """While another transaction holds the budget row, a claim does not get past it; it
    goes through once that transaction ends, and sees the balance it left."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes whole transactions; there is no row lock to observe")
    holding, release, claimed = threading.Event(), threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic():  # an allocation of 100.00, committed late
                budget_allocate(
                    actor=people["hq"], budget_id=crowd["budget"].pk, amount=Decimal("100.00")
                )
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    result = {}

    def claimer():
        try:
            result["coupon"] = coupon_claim(
                actor=people["rep_north"],
                batch_id=crowd["batch"].pk,
                store_id=crowd["stores"][0],
            )
            claimed.set()
        finally:
            connection.close()

    first = threading.Thread(target=holder)
    first.start()
    assert holding.wait(timeout=30)
    second = threading.Thread(target=claimer)
    second.start()
    assert not claimed.wait(timeout=1.0)  # blocked behind the lock
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert claimed.is_set()
    entry = BudgetEntry.objects.get(coupon=result["coupon"])
    assert entry.available_after == Decimal("1050.00")  # 1150.00 the holder left, less 100.00
    assert_budget_consistent(crowd["budget"], reserved=Decimal("100.00"), claims=1)


def test_two_coupons_racing_for_one_order_leave_it_with_one(people, regions):
    """Coupons of two budgets (October's and November's) lock different rows, so only the
    unique constraint on the order stands between them: one use wins, the other is 409."""
    hq = people["hq"]
    store = make_store(people["rep_north"], "both", segment="early_growth")
    october = make_budget(
        hq, regions["north"], "100.00", start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31)
    )
    november = make_budget(
        hq, regions["north"], "100.00", start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30)
    )
    coupons = []
    for budget, claimed_at in (
        (october, dt.datetime(2026, 10, 30, 9, tzinfo=dt.UTC)),
        (november, dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)),
    ):
        campaign = approved_campaign(
            hq, budget, starts_on=budget.period_start, ends_on=budget.period_end
        )
        batch = open_batch(hq, campaign, claim_opens_at=claimed_at - dt.timedelta(hours=1))
        coupons.append(coupon_claim(actor=hq, batch_id=batch.pk, store_id=store, now=claimed_at))
    placed = Order.objects.create(
        external_id="shared", store_id=store, order_date=dt.date(2026, 11, 2), amount=Decimal(200)
    )

    results = run_at_once(
        2,
        lambda i: (
            coupon_use(
                actor=hq,
                coupon_id=coupons[i].pk,
                order_id=placed.pk,
                now=dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC),
            ).state
        ),
    )

    assert sorted(map(str, results)) == ["order_has_coupon", "used"], results
    assert Coupon.objects.filter(order=placed).count() == 1
    used = sum(SubsidyBudget.objects.get(pk=b.pk).used for b in (october, november))
    assert used == Decimal("10.00")
