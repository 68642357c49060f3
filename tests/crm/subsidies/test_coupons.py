"""Coupons: claiming (window, targeting, holdout, per-store limit, batch count, budget) and
using (window, one per order, margin floor), expiry, and who may do each.

Money: the north budget is 100.00 unless a test says otherwise; batches have a face value
of 10.00. Margin floor defaults: rate 0.30, floor 0.15, so a coupon may take at most 15 %
of an order's amount (100.00 -> 15.00).
"""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from crm.orders.models import Order
from crm.subsidies.jobs import expire_coupons
from crm.subsidies.models import BudgetEntry, Coupon, CouponState, SubsidyBudget
from crm.subsidies.selectors import ledger_totals
from crm.subsidies.services import (
    SubsidyError,
    coupon_claim,
    coupon_use,
    coupons_expire,
    margin_cap,
)
from tests.crm.subsidies.fixtures import (
    NOW,
    TODAY,
    approved_campaign,
    make_budget,
    make_store,
    open_batch,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(people, regions):
    """North: three stores of rep-north-1 (two early_growth, one head_active), one of
    rep-north-2; south: one store. A 100.00 north budget and an approved campaign for
    early_growth stores, nobody held out, with a batch of 10.00 coupons."""
    hq = people["hq"]
    stores = {
        "a": make_store(people["rep_north"], "a", segment="early_growth"),
        "b": make_store(people["rep_north"], "b", segment="early_growth"),
        "head": make_store(people["rep_north"], "head", segment="head_active"),
        "other_rep": make_store(people["rep_north_2"], "other rep", segment="early_growth"),
        "south": make_store(people["rep_south"], "south", segment="early_growth"),
    }
    budget = make_budget(hq, regions["north"], "100.00")
    campaign = approved_campaign(hq, budget, segments=("early_growth",))
    batch = open_batch(hq, campaign)
    return {"stores": stores, "budget": budget, "campaign": campaign, "batch": batch}


def claim(client, batch, store):
    return client.post("/api/coupons/claim", {"batch": str(batch), "store": str(store)})


def order(store, amount: str, day: dt.date | None = None, name: str = "o1") -> Order:
    return Order.objects.create(
        external_id=name, store_id=store, order_date=day or TODAY, amount=Decimal(amount)
    )


def budget_state(budget) -> tuple[Decimal, Decimal, Decimal]:
    budget = SubsidyBudget.objects.get(pk=budget.pk)
    return budget.amount, budget.reserved, budget.used


def assert_ledger_matches(budget):
    fresh = SubsidyBudget.objects.get(pk=budget.pk)
    assert ledger_totals(budget_id=budget.pk) == {
        "amount": fresh.amount,
        "reserved": fresh.reserved,
        "used": fresh.used,
    }
    assert fresh.available >= 0


# --- claiming -------------------------------------------------------------------------


def test_a_rep_claims_for_their_store_and_the_value_is_reserved(client_for, shop, people):
    response = claim(client_for("rep_north"), shop["batch"].pk, shop["stores"]["a"])

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "claimed"
    assert body["value"] == "10.00"
    assert body["store"] == str(shop["stores"]["a"])
    assert len(body["code"]) == 12
    assert body["use_until"] is not None
    assert budget_state(shop["budget"]) == (Decimal("100.00"), Decimal("10.00"), Decimal(0))
    entries = list(BudgetEntry.objects.filter(budget=shop["budget"]).values_list("kind", "amount"))
    assert entries == [("allocation", Decimal("100.00")), ("claim", Decimal("10.00"))]
    shop["batch"].refresh_from_db()
    assert shop["batch"].issued == 1
    assert_ledger_matches(shop["budget"])


def test_the_use_window_starts_at_the_claim(shop, people):
    coupon = coupon_claim(
        actor=people["rep_north"], batch_id=shop["batch"].pk, store_id=shop["stores"]["a"]
    )
    assert coupon.use_until - coupon.claimed_at == dt.timedelta(days=7)


@pytest.mark.parametrize(
    ("who", "store"),
    [("rep_north", "other_rep"), ("rep_north", "south"), ("manager_south", "a")],
)
def test_stores_out_of_scope_answer_404_and_nothing_is_claimed(client_for, shop, who, store):
    response = claim(client_for(who), shop["batch"].pk, shop["stores"][store])

    assert response.status_code == 404
    assert not Coupon.objects.exists()
    assert budget_state(shop["budget"])[1] == 0


def test_managers_and_hq_may_claim_for_stores_they_see(client_for, shop):
    assert (
        claim(client_for("manager_north"), shop["batch"].pk, shop["stores"]["a"]).status_code == 201
    )
    assert claim(client_for("hq"), shop["batch"].pk, shop["stores"]["b"]).status_code == 201


def test_a_batch_of_another_region_answers_404(client_for, shop, people, regions):
    south_budget = make_budget(people["hq"], regions["south"], "50.00")
    south_batch = open_batch(people["hq"], approved_campaign(people["hq"], south_budget))

    response = claim(client_for("rep_north"), south_batch.pk, shop["stores"]["a"])

    assert response.status_code == 404


def test_a_store_outside_the_targeted_segments_is_refused(client_for, shop):
    response = claim(client_for("rep_north"), shop["batch"].pk, shop["stores"]["head"])

    assert response.status_code == 400
    assert response.json()["code"] == "not_targeted"
    assert "store" in response.json()
    assert not Coupon.objects.exists()


def test_a_held_out_store_is_refused(client_for, people, regions):
    store = make_store(people["rep_north"], "held", segment="mid_churn")
    budget = make_budget(people["hq"], regions["north"], "100.00")
    campaign = approved_campaign(people["hq"], budget, holdout={store})
    batch = open_batch(people["hq"], campaign)

    response = claim(client_for("rep_north"), batch.pk, store)

    assert response.status_code == 400
    assert response.json()["code"] == "in_holdout"
    assert budget_state(budget)[1] == 0


def test_claims_only_within_the_claim_window(client_for, shop, people):
    later = open_batch(people["hq"], shop["campaign"], claim_opens_at=NOW + dt.timedelta(days=2))

    response = claim(client_for("rep_north"), later.pk, shop["stores"]["a"])

    assert response.status_code == 400
    assert response.json()["code"] == "claim_window"
    with pytest.raises(SubsidyError, match="claimed from"):
        coupon_claim(
            actor=people["hq"],
            batch_id=shop["batch"].pk,
            store_id=shop["stores"]["a"],
            now=shop["batch"].claim_closes_at,  # the window's end is not in it
        )


def test_the_claim_window_is_cut_at_the_campaigns_end(shop):
    campaign_end = dt.datetime.combine(
        shop["campaign"].ends_on + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC
    )
    # 90 days from yesterday would run past the campaign's 30 days.
    assert shop["batch"].claim_closes_at == campaign_end


def test_the_per_store_limit_holds(client_for, shop, people):
    rep = client_for("rep_north")
    assert claim(rep, shop["batch"].pk, shop["stores"]["a"]).status_code == 201

    again = claim(rep, shop["batch"].pk, shop["stores"]["a"])

    assert again.status_code == 409
    assert again.json()["code"] == "store_limit_reached"
    assert Coupon.objects.count() == 1
    # A batch may allow more per store.
    two = open_batch(people["hq"], shop["campaign"], per_store_limit=2)
    assert claim(rep, two.pk, shop["stores"]["a"]).status_code == 201
    assert claim(rep, two.pk, shop["stores"]["a"]).status_code == 201
    assert claim(rep, two.pk, shop["stores"]["a"]).status_code == 409


def test_a_batch_gives_out_its_count_and_no_more(client_for, shop, people):
    small = open_batch(people["hq"], shop["campaign"], count=1)
    rep = client_for("rep_north")
    assert claim(rep, small.pk, shop["stores"]["a"]).status_code == 201

    response = claim(rep, small.pk, shop["stores"]["b"])

    assert response.status_code == 409
    assert response.json()["code"] == "batch_exhausted"
    small.refresh_from_db()
    assert small.issued == 1


def test_a_claim_the_budget_cannot_pay_answers_409_and_writes_nothing(client_for, shop, people):
    big = open_batch(people["hq"], shop["campaign"], face_value="95.00")
    rep = client_for("rep_north")
    assert claim(rep, shop["batch"].pk, shop["stores"]["a"]).status_code == 201  # 90.00 left

    response = claim(rep, big.pk, shop["stores"]["b"])

    assert response.status_code == 409
    assert response.json() == {
        "detail": "The north budget has 90.00 left; this coupon needs 95.00.",
        "code": "budget_exhausted",
    }
    assert Coupon.objects.count() == 1
    assert BudgetEntry.objects.filter(budget=shop["budget"]).count() == 2
    big.refresh_from_db()
    assert big.issued == 0
    assert budget_state(shop["budget"]) == (Decimal("100.00"), Decimal("10.00"), Decimal(0))


def test_the_last_cent_of_a_budget_can_be_claimed(client_for, shop, people):
    exact = open_batch(people["hq"], shop["campaign"], face_value="100.00")

    response = claim(client_for("rep_north"), exact.pk, shop["stores"]["a"])

    assert response.status_code == 201
    assert SubsidyBudget.objects.get(pk=shop["budget"].pk).available == 0


def test_a_closed_campaign_takes_no_claims(client_for, shop):
    hq = client_for("hq")
    assert hq.post(f"/api/subsidies/campaigns/{shop['campaign'].pk}/close").status_code == 200

    response = claim(client_for("rep_north"), shop["batch"].pk, shop["stores"]["a"])

    assert response.status_code == 400
    assert response.json()["code"] == "campaign_not_approved"


def test_without_a_face_value_the_formula_prices_each_store(client_for, shop, people):
    """Store a: early_growth (price sensitivity 0.7), no survey and no trade area
    (potential 0): Y = 0.5 x 0.7 + 0.5 x 0 = 0.35; X = 5 + 0.35 x (25 - 5) = 12.00."""
    formula = open_batch(people["hq"], shop["campaign"], face_value=None)

    response = claim(client_for("rep_north"), formula.pk, shop["stores"]["a"])

    assert response.status_code == 201
    assert response.json()["value"] == "12.00"
    assert budget_state(shop["budget"])[1] == Decimal("12.00")


# --- using ----------------------------------------------------------------------------


@pytest.fixture
def claimed(shop, people):
    return coupon_claim(
        actor=people["rep_north"], batch_id=shop["batch"].pk, store_id=shop["stores"]["a"]
    )


def use(client, coupon, order_id):
    return client.post(f"/api/coupons/{coupon.pk}/use", {"order": str(order_id)})


def test_using_a_coupon_moves_its_value_from_reserved_to_used(client_for, shop, claimed):
    placed = order(shop["stores"]["a"], "100.00")

    response = use(client_for("rep_north"), claimed, placed.pk)

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "used"
    assert response.json()["order"] == str(placed.pk)
    assert budget_state(shop["budget"]) == (Decimal("100.00"), Decimal(0), Decimal("10.00"))
    kinds = list(BudgetEntry.objects.filter(budget=shop["budget"]).values_list("kind", flat=True))
    assert kinds == ["allocation", "claim", "use"]
    assert_ledger_matches(shop["budget"])


def test_repeating_a_use_answers_the_same_coupon_and_writes_nothing(client_for, shop, claimed):
    placed = order(shop["stores"]["a"], "100.00")
    rep = client_for("rep_north")
    assert use(rep, claimed, placed.pk).status_code == 200

    again = use(rep, claimed, placed.pk)

    assert again.status_code == 200
    assert BudgetEntry.objects.filter(budget=shop["budget"], kind="use").count() == 1


def test_a_used_coupon_cannot_be_used_on_another_order(client_for, shop, claimed):
    rep = client_for("rep_north")
    assert use(rep, claimed, order(shop["stores"]["a"], "100.00", name="o1").pk).status_code == 200

    response = use(rep, claimed, order(shop["stores"]["a"], "100.00", name="o2").pk)

    assert response.status_code == 409
    assert response.json()["code"] == "coupon_used"


def test_one_coupon_per_order(client_for, shop, people, claimed):
    second = open_batch(people["hq"], shop["campaign"])
    other = coupon_claim(actor=people["hq"], batch_id=second.pk, store_id=shop["stores"]["a"])
    placed = order(shop["stores"]["a"], "200.00")
    rep = client_for("rep_north")
    assert use(rep, claimed, placed.pk).status_code == 200

    response = use(rep, other, placed.pk)

    assert response.status_code == 409
    assert response.json()["code"] == "order_has_coupon"
    other.refresh_from_db()
    assert other.state == CouponState.CLAIMED
    assert budget_state(shop["budget"]) == (Decimal("100.00"), Decimal("10.00"), Decimal("10.00"))


def test_the_unique_constraint_holds_one_coupon_per_order_even_past_the_service(
    shop, people, claimed
):
    second = coupon_claim(
        actor=people["hq"],
        batch_id=open_batch(people["hq"], shop["campaign"]).pk,
        store_id=shop["stores"]["a"],
    )
    placed = order(shop["stores"]["a"], "200.00")
    Coupon.objects.filter(pk=claimed.pk).update(state="used", order=placed)

    with pytest.raises(IntegrityError), transaction.atomic():
        Coupon.objects.filter(pk=second.pk).update(state="used", order=placed)


def test_an_order_of_another_store_is_refused(client_for, shop, claimed):
    response = use(client_for("manager_north"), claimed, order(shop["stores"]["b"], "100.00").pk)

    assert response.status_code == 400
    assert response.json()["code"] == "order_of_another_store"


def test_an_order_out_of_scope_answers_404(client_for, shop, claimed):
    response = use(client_for("rep_north"), claimed, order(shop["stores"]["south"], "100.00").pk)

    assert response.status_code == 404


def test_orders_dated_outside_the_use_window_are_refused(client_for, shop, claimed):
    before = order(shop["stores"]["a"], "100.00", day=TODAY - dt.timedelta(days=1), name="old")
    after = order(shop["stores"]["a"], "100.00", day=TODAY + dt.timedelta(days=8), name="late")
    rep = client_for("rep_north")

    for placed in (before, after):
        response = use(rep, claimed, placed.pk)
        assert response.status_code == 400
        assert response.json()["code"] == "use_window"
    assert budget_state(shop["budget"])[2] == 0


def test_a_coupon_is_redeemable_within_the_grace_days_and_not_after(shop, people, claimed):
    placed = order(shop["stores"]["a"], "100.00", day=claimed.use_until.date())
    too_late = claimed.use_until + dt.timedelta(days=2, seconds=1)

    with pytest.raises(SubsidyError, match="could be redeemed until"):
        coupon_use(actor=people["hq"], coupon_id=claimed.pk, order_id=placed.pk, now=too_late)
    used = coupon_use(
        actor=people["hq"],
        coupon_id=claimed.pk,
        order_id=placed.pk,
        now=claimed.use_until + dt.timedelta(days=2),
    )
    assert used.state == CouponState.USED


@pytest.mark.parametrize(
    ("amount", "allowed"),
    [("100.00", True), ("66.67", True), ("66.66", False), ("10.00", False)],
)
def test_the_margin_floor(client_for, shop, claimed, amount, allowed):
    """A 10.00 coupon: 15 % of 66.67 is 10.0005 -> 10.00 (allowed); of 66.66 it is 9.999 ->
    9.99 (refused)."""
    response = use(client_for("rep_north"), claimed, order(shop["stores"]["a"], amount).pk)

    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert response.json()["code"] == "margin_floor"
        claimed.refresh_from_db()
        assert claimed.state == CouponState.CLAIMED


def test_margin_cap_follows_the_settings(settings):
    assert margin_cap(order_amount=Decimal("100.00")) == Decimal("15.00")
    settings.FIELDLINE = {**settings.FIELDLINE, "COUPON_MARGIN_FLOOR": 0.25}
    assert margin_cap(order_amount=Decimal("100.00")) == Decimal("5.00")
    settings.FIELDLINE = {**settings.FIELDLINE, "COUPON_MARGIN_FLOOR": 0.40}
    assert margin_cap(order_amount=Decimal("100.00")) == Decimal(0)


# --- expiry ---------------------------------------------------------------------------


def test_expiry_releases_what_unused_coupons_reserved(client_for, shop, people, claimed):
    used = coupon_claim(actor=people["hq"], batch_id=shop["batch"].pk, store_id=shop["stores"]["b"])
    coupon_use(
        actor=people["hq"], coupon_id=used.pk, order_id=order(shop["stores"]["b"], "100.00").pk
    )
    past_grace = claimed.use_until + dt.timedelta(days=2, seconds=1)

    assert coupons_expire(now=claimed.use_until + dt.timedelta(days=2)) == 0
    assert coupons_expire(now=past_grace) == 1
    assert coupons_expire(now=past_grace) == 0

    claimed.refresh_from_db()
    assert claimed.state == CouponState.EXPIRED
    assert budget_state(shop["budget"]) == (Decimal("100.00"), Decimal(0), Decimal("10.00"))
    release = BudgetEntry.objects.get(budget=shop["budget"], kind="release")
    assert (release.amount, release.available_after, release.coupon_id) == (
        Decimal("10.00"),
        Decimal("90.00"),
        claimed.pk,
    )
    assert_ledger_matches(shop["budget"])
    response = use(
        client_for("rep_north"), claimed, order(shop["stores"]["a"], "100.00", name="x").pk
    )
    assert response.status_code == 409
    assert response.json()["code"] == "coupon_expired"


# --- listing --------------------------------------------------------------------------


def test_coupon_lists_are_scoped(client_for, shop, people):
    for store in ("a", "other_rep"):
        coupon_claim(actor=people["hq"], batch_id=shop["batch"].pk, store_id=shop["stores"][store])

    def stores_listed(who):
        response = client_for(who).get("/api/coupons/")
        assert response.status_code == 200
        return {row["store"] for row in response.json()["results"]}

    assert stores_listed("rep_north") == {str(shop["stores"]["a"])}
    assert stores_listed("manager_north") == {
        str(shop["stores"]["a"]),
        str(shop["stores"]["other_rep"]),
    }
    assert stores_listed("manager_south") == set()
    filtered = client_for("hq").get("/api/coupons/", {"state": "used"})
    assert filtered.json()["count"] == 0
    assert client_for("hq").get("/api/coupons/", {"state": "nope"}).status_code == 400


def test_expiry_works_in_bounded_batches_and_from_the_command(shop, people):
    early = open_batch(
        people["hq"], shop["campaign"], claim_opens_at=NOW - dt.timedelta(days=9), use_days=3
    )
    for store in ("a", "b"):
        coupon_claim(
            actor=people["hq"],
            batch_id=early.pk,
            store_id=shop["stores"][store],
            now=NOW - dt.timedelta(days=9) + dt.timedelta(hours=1),
        )  # usable until 6 days ago; grace ended 4 days ago

    assert coupons_expire(limit=1) == 1
    out = StringIO()
    call_command("expire_coupons", stdout=out)

    assert out.getvalue().strip() == "1 coupons expired"
    assert Coupon.objects.filter(state="expired").count() == 2
    assert budget_state(shop["budget"]) == (Decimal("100.00"), Decimal(0), Decimal(0))
    assert_ledger_matches(shop["budget"])


def test_the_expiry_job_expires_one_batch(shop, people):
    early = open_batch(
        people["hq"], shop["campaign"], claim_opens_at=NOW - dt.timedelta(days=9), use_days=3
    )
    coupon_claim(
        actor=people["hq"],
        batch_id=early.pk,
        store_id=shop["stores"]["a"],
        now=NOW - dt.timedelta(days=9) + dt.timedelta(hours=1),
    )

    expire_coupons.delay()

    assert list(Coupon.objects.values_list("state", flat=True)) == ["expired"]
