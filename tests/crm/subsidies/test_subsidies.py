"""Subsidies: the formula, the holdout group, budgets as a ledger, campaigns and the
alerts, each against hand-computed figures."""

import datetime as dt
import random
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from crm.orders.models import Order
from crm.subsidies.models import BudgetEntry, Campaign, CampaignStore, CouponBatch, SubsidyBudget
from crm.subsidies.selectors import (
    in_holdout,
    ledger_totals,
    subsidy_alerts,
    subsidy_amount,
    subsidy_score,
)
from crm.subsidies.services import coupon_claim, coupon_use
from tests.conftest import create
from tests.crm.subsidies.fixtures import approved_campaign, make_budget, make_store, open_batch

pytestmark = pytest.mark.django_db

# --- the formula ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "t", "expected"),
    [
        (0.0, 1.0, "5.00"),  # Y = 0: the floor a
        (1.0, 3.0, "25.00"),  # Y = 1: the cap b, whatever t
        (0.5, 1.0, "15.00"),  # 5 + 0.5 x 20
        (0.5, 2.0, "10.00"),  # 5 + 0.25 x 20
        (0.25, 0.5, "15.00"),  # 5 + 0.5 x 20
        (0.3, 2.0, "6.80"),  # 5 + 0.09 x 20
    ],
)
def test_subsidy_amount_is_a_plus_y_to_the_t_times_b_minus_a(score, t, expected):
    amount = subsidy_amount(
        score=score, floor_a=Decimal("5.00"), cap_b=Decimal("25.00"), exponent_t=t
    )
    assert amount == Decimal(expected)


def test_the_score_is_the_weighted_mean_of_price_sensitivity_and_potential():
    equal = {"price_sensitivity": 0.5, "potential": 0.5}
    assert subsidy_score(price_sensitivity=1.0, potential=0.4, weights=equal) == pytest.approx(0.7)
    price_first = {"price_sensitivity": 3.0, "potential": 1.0}
    assert subsidy_score(
        price_sensitivity=1.0, potential=0.4, weights=price_first
    ) == pytest.approx(0.85)
    assert subsidy_score(price_sensitivity=0.9, potential=0.9, weights=equal) <= 1.0


FULL_SITE = {
    "footfall_weekday": 1000,
    "area_m2": 120.0,
    "equipment": ["microwave", "coffee_machine", "open_chiller", "hot_food_cabinet", "oven"],
    "trade_area_type": "office",
}


def test_quotes_use_the_stores_segment_and_site(client_for, people, regions):
    """a = 5, b = 25, t = 2.
    full: tail_churn (1.0), a full site (potential 1.0): Y = 1 -> 25.00.
    bare: head_active (0.2), no survey, no trade area (0.0): Y = 0.1 -> 5 + 0.01 x 20 = 5.20.
    half: mid_churn (0.8); footfall 500 (0.15), 60 m2 (0.10), 1 of 5 key equipment (0.06),
    residential (0.10): potential 0.41; Y = 0.605 -> 5 + 0.366025 x 20 = 12.3205 -> 12.32.
    """
    rep = people["rep_north"]
    full = make_store(rep, "full", segment="tail_churn")
    create("survey", store=full, review_status="approved", **FULL_SITE)
    bare = make_store(rep, "bare", segment="head_active")
    half = make_store(rep, "half", segment="mid_churn")
    create(
        "survey",
        store=half,
        footfall_weekday=500,
        area_m2=60.0,
        equipment=["microwave", "freezer"],
        trade_area_type="residential",
        review_status="approved",
    )
    campaign = approved_campaign(
        people["hq"], make_budget(people["hq"], regions["north"], "100.00"), exponent_t=2.0
    )
    client = client_for("rep_north")

    def quote(store):
        response = client.get(
            f"/api/subsidies/campaigns/{campaign.pk}/quote", {"store": str(store)}
        )
        assert response.status_code == 200, response.content
        return response.json()

    assert quote(full)["value"] == "25.00"
    assert quote(bare) == {
        "store_id": str(bare),
        "segment": "head_active",
        "price_sensitivity": 0.2,
        "potential": 0.0,
        "score": 0.1,
        "value": "5.20",
    }
    half_quote = quote(half)
    assert half_quote["potential"] == pytest.approx(0.41)
    assert half_quote["score"] == pytest.approx(0.605)
    assert half_quote["value"] == "12.32"
    south = make_store(people["rep_south"], "south")
    assert (
        client.get(
            f"/api/subsidies/campaigns/{campaign.pk}/quote", {"store": str(south)}
        ).status_code
        == 404
    )


def test_only_the_latest_approved_survey_feeds_the_quote(client_for, people, regions):
    """A rep's newer, unreviewed survey with inflated figures does not raise the coupon:
    the quote reads the latest approved survey (here the half site: 12.32), and with no
    approved survey at all, the site counts as unknown (potential 0)."""
    rep = people["rep_north"]
    half = make_store(rep, "half", segment="mid_churn")
    create(
        "survey",
        store=half,
        footfall_weekday=500,
        area_m2=60.0,
        equipment=["microwave", "freezer"],
        trade_area_type="residential",
        review_status="approved",
        captured_at="2026-10-01T10:00:00Z",
    )
    for status in ("pending", "has_issues", "rejected"):
        create(
            "survey",
            store=half,
            review_status=status,
            captured_at="2026-11-01T10:00:00Z",
            **FULL_SITE,
        )
    unreviewed_only = make_store(rep, "new", segment="mid_churn")
    create("survey", store=unreviewed_only, captured_at="2026-11-01T10:00:00Z", **FULL_SITE)
    campaign = approved_campaign(
        people["hq"], make_budget(people["hq"], regions["north"], "100.00"), exponent_t=2.0
    )
    client = client_for("rep_north")

    def quote(store):
        response = client.get(
            f"/api/subsidies/campaigns/{campaign.pk}/quote", {"store": str(store)}
        )
        assert response.status_code == 200, response.content
        return response.json()

    assert quote(half)["potential"] == pytest.approx(0.41)
    assert quote(half)["value"] == "12.32"
    assert quote(unreviewed_only)["potential"] == 0.0
    assert quote(unreviewed_only)["value"] == "8.20"  # Y = 0.4 (price only): 5 + 0.16 x 20


# --- the holdout group ----------------------------------------------------------------


def test_the_holdout_is_deterministic_and_takes_its_share():
    rng = random.Random(42)
    stores = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(10_000)]
    campaign = uuid.UUID("6f1c9a52-8a53-4f7e-9d8e-1b2c3d4e5f60")
    other = uuid.UUID("0c6f5b8e-2d1a-4e3b-9c7d-8e9f0a1b2c3d")

    held = {s for s in stores if in_holdout(campaign_id=campaign, store_id=s, share=0.2)}

    # Binomial(10,000, 0.2): sd 40, so +-200 is five sd.
    assert 1800 <= len(held) <= 2200
    assert held == {s for s in stores if in_holdout(campaign_id=campaign, store_id=s, share=0.2)}
    held_other = {s for s in stores if in_holdout(campaign_id=other, store_id=s, share=0.2)}
    # Independent per campaign: about 0.2 x 0.2 of the stores are held out of both.
    assert 250 <= len(held & held_other) <= 550
    # A larger share holds out a superset; none and all are exact.
    assert held <= {s for s in stores if in_holdout(campaign_id=campaign, store_id=s, share=0.5)}
    assert not any(in_holdout(campaign_id=campaign, store_id=s, share=0.0) for s in stores)
    assert all(in_holdout(campaign_id=campaign, store_id=s, share=1.0) for s in stores)


def test_approval_freezes_the_targeted_stores_and_their_holdout(client_for, people, regions):
    rep = people["rep_north"]
    targeted = [make_store(rep, f"t{n}", segment="tail_churn") for n in range(30)]
    targeted += [make_store(rep, f"m{n}", segment="mid_churn") for n in range(10)]
    make_store(rep, "head", segment="head_active")
    make_store(people["rep_south"], "south", segment="tail_churn")
    budget = make_budget(people["hq"], regions["north"], "100.00")
    hq = client_for("hq")
    created = hq.post(
        "/api/subsidies/campaigns/",
        {
            "name": "Win back",
            "budget": str(budget.pk),
            "segments": ["tail_churn", "mid_churn"],
            "floor_a": "5.00",
            "cap_b": "20.00",
            "holdout_share": "0.3",
            "starts_on": str(budget.period_start),
            "ends_on": str(budget.period_end),
        },
    )
    assert created.status_code == 201, created.content
    campaign_id = created.json()["id"]
    assert created.json()["status"] == "draft"
    assert created.json()["exponent_t"] == 1.0  # the setting's default

    approved = hq.post(f"/api/subsidies/campaigns/{campaign_id}/approve")

    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    members = dict(
        CampaignStore.objects.filter(campaign_id=campaign_id).values_list("store_id", "holdout")
    )
    assert set(members) == set(targeted)
    assert members == {
        store: in_holdout(campaign_id=uuid.UUID(campaign_id), store_id=store, share=0.3)
        for store in targeted
    }
    again = hq.post(f"/api/subsidies/campaigns/{campaign_id}/approve")
    assert again.status_code == 409
    assert again.json()["code"] == "wrong_status"


# --- budgets --------------------------------------------------------------------------


def test_hq_opens_a_budget_with_its_first_allocation(client_for):
    response = client_for("hq").post(
        "/api/subsidies/budgets/",
        {
            "region": "north",
            "period_start": "2026-12-01",
            "period_end": "2026-12-31",
            "amount": "500.00",
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["amount"], body["reserved"], body["used"], body["available"]) == (
        "500.00",
        "0.00",
        "0.00",
        "500.00",
    )
    ledger = client_for("manager_north").get(f"/api/subsidies/budgets/{body['id']}/ledger")
    assert ledger.status_code == 200
    assert [(e["kind"], e["amount"], e["available_after"]) for e in ledger.json()["results"]] == [
        ("allocation", "500.00", "500.00")
    ]
    assert (
        client_for("manager_south").get(f"/api/subsidies/budgets/{body['id']}/ledger").status_code
        == 404
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"period_end": "2026-11-30"}, "period_end"),
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"period_start": "9999-12-31", "period_end": "9999-12-31"}, "period_start"),
        ({"region": "west"}, "region"),
    ],
)
def test_bad_budgets_answer_400_and_create_nothing(client_for, change, field):
    body = {
        "region": "north",
        "period_start": "2026-12-01",
        "period_end": "2026-12-31",
        "amount": "500.00",
        **change,
    }

    response = client_for("hq").post("/api/subsidies/budgets/", body)

    assert response.status_code == 400
    assert field in response.json()
    assert not SubsidyBudget.objects.exists()


def test_only_hq_creates_budgets_and_reps_see_none(client_for):
    body = {
        "region": "north",
        "period_start": "2026-12-01",
        "period_end": "2026-12-31",
        "amount": "500.00",
    }
    assert client_for("manager_north").post("/api/subsidies/budgets/", body).status_code == 403
    assert client_for("rep_north").get("/api/subsidies/budgets/").status_code == 403
    assert not SubsidyBudget.objects.exists()


def test_periods_of_a_region_do_not_overlap(client_for, people, regions):
    make_budget(
        people["hq"], regions["north"], "100", start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 31)
    )
    hq = client_for("hq")

    overlapping = hq.post(
        "/api/subsidies/budgets/",
        {
            "region": "north",
            "period_start": "2026-12-31",
            "period_end": "2027-01-31",
            "amount": "1",
        },
    )
    other_region = hq.post(
        "/api/subsidies/budgets/",
        {
            "region": "south",
            "period_start": "2026-12-31",
            "period_end": "2027-01-31",
            "amount": "1",
        },
    )

    assert overlapping.status_code == 409
    assert overlapping.json()["code"] == "budget_overlap"
    assert other_region.status_code == 201


def test_a_budget_can_be_topped_up_and_cut_but_not_below_what_is_committed(
    client_for, people, regions
):
    hq_user = people["hq"]
    store = make_store(people["rep_north"], "s", segment="tail_churn")
    budget = make_budget(hq_user, regions["north"], "500.00")
    batch = open_batch(hq_user, approved_campaign(hq_user, budget), face_value="100.00")
    coupon_claim(actor=hq_user, batch_id=batch.pk, store_id=store)  # 400.00 available
    hq = client_for("hq")
    path = f"/api/subsidies/budgets/{budget.pk}/allocations"

    too_deep = hq.post(path, {"amount": "-400.01"})
    assert too_deep.status_code == 409
    assert too_deep.json()["code"] == "budget_below_committed"
    topped = hq.post(path, {"amount": "50.00", "note": "December top-up"})
    assert topped.status_code == 201
    assert topped.json()["available"] == "450.00"
    cut = hq.post(path, {"amount": "-450.00"})
    assert cut.status_code == 201
    assert (cut.json()["amount"], cut.json()["available"]) == ("100.00", "0.00")
    assert hq.post(path, {"amount": "0"}).status_code == 400
    assert client_for("manager_north").post(path, {"amount": "5"}).status_code == 403

    fresh = SubsidyBudget.objects.get(pk=budget.pk)
    assert ledger_totals(budget_id=budget.pk) == {
        "amount": fresh.amount,
        "reserved": fresh.reserved,
        "used": fresh.used,
    }
    assert list(
        BudgetEntry.objects.filter(budget=budget).values_list("kind", "amount", "available_after")
    ) == [
        ("allocation", Decimal("500.00"), Decimal("500.00")),
        ("claim", Decimal("100.00"), Decimal("400.00")),
        ("allocation", Decimal("50.00"), Decimal("450.00")),
        ("allocation", Decimal("-450.00"), Decimal("0.00")),
    ]


def test_the_database_refuses_an_overspent_budget_whatever_the_code_does(people, regions):
    budget = make_budget(people["hq"], regions["north"], "100.00")

    with pytest.raises(IntegrityError), transaction.atomic():
        SubsidyBudget.objects.filter(pk=budget.pk).update(reserved=F("amount") + Decimal("0.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        SubsidyBudget.objects.filter(pk=budget.pk).update(used=Decimal("-1"))
    assert SubsidyBudget.objects.get(pk=budget.pk).reserved == 0


# --- campaigns and batches ------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cap_b": "4.00"}, "cap_b"),
        ({"starts_on": "2000-01-01"}, "starts_on"),
        ({"segments": ["vip"]}, "segments"),
        ({"holdout_share": "1"}, "holdout_share"),
        ({"exponent_t": "nan"}, "exponent_t"),
        ({"exponent_t": "0"}, "exponent_t"),
        ({"budget": str(uuid.uuid4())}, "budget"),
    ],
)
def test_bad_campaigns_answer_400(client_for, people, regions, change, field):
    budget = make_budget(people["hq"], regions["north"], "100.00")
    body = {
        "name": "x",
        "budget": str(budget.pk),
        "floor_a": "5.00",
        "cap_b": "25.00",
        "starts_on": str(budget.period_start),
        "ends_on": str(budget.period_end),
        **change,
    }

    response = client_for("hq").post("/api/subsidies/campaigns/", body)

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("who", ["manager_north", "rep_north"])
def test_only_hq_creates_campaigns_and_batches(client_for, people, regions, who):
    hq = people["hq"]
    north = make_budget(hq, regions["north"], "100.00")
    approved = approved_campaign(hq, north)
    campaigns = Campaign.objects.count()
    client = client_for(who)

    campaign = client.post(
        "/api/subsidies/campaigns/",
        {
            "name": "not theirs",
            "budget": str(north.pk),
            "floor_a": "1",
            "cap_b": "2",
            "starts_on": str(north.period_start),
            "ends_on": str(north.period_end),
        },
    )
    batch = client.post("/api/subsidies/batches/", {"campaign": str(approved.pk), "count": 10})

    assert (campaign.status_code, batch.status_code) == (403, 403)
    assert campaign.json()["detail"] == "Only HQ may do this."
    assert Campaign.objects.count() == campaigns
    assert not CouponBatch.objects.exists()
    assert client.get("/api/subsidies/campaigns/").status_code == 200


def test_reps_see_approved_campaigns_of_their_region_only(client_for, people, regions):
    hq = people["hq"]
    north = make_budget(hq, regions["north"], "100.00")
    approved = approved_campaign(hq, north)
    draft = client_for("hq").post(
        "/api/subsidies/campaigns/",
        {
            "name": "draft",
            "budget": str(north.pk),
            "floor_a": "1",
            "cap_b": "2",
            "starts_on": str(north.period_start),
            "ends_on": str(north.period_end),
        },
    )
    assert draft.status_code == 201
    approved_campaign(hq, make_budget(hq, regions["south"], "100.00"))

    def listed(who):
        return {
            row["id"] for row in client_for(who).get("/api/subsidies/campaigns/").json()["results"]
        }

    assert listed("rep_north") == {str(approved.pk)}
    assert listed("manager_north") == {str(approved.pk), draft.json()["id"]}
    assert len(listed("hq")) == 3
    assert (
        client_for("manager_north")
        .post(f"/api/subsidies/campaigns/{approved.pk}/close")
        .status_code
        == 403
    )


def test_batches_belong_to_approved_campaigns(client_for, people, regions):
    budget = make_budget(people["hq"], regions["north"], "100.00")
    hq = client_for("hq")
    draft = hq.post(
        "/api/subsidies/campaigns/",
        {
            "name": "draft",
            "budget": str(budget.pk),
            "floor_a": "1",
            "cap_b": "2",
            "starts_on": str(budget.period_start),
            "ends_on": str(budget.period_end),
        },
    ).json()

    refused = hq.post("/api/subsidies/batches/", {"campaign": draft["id"], "count": 10})
    assert refused.status_code == 400
    assert refused.json()["code"] == "campaign_not_approved"
    hq.post(f"/api/subsidies/campaigns/{draft['id']}/approve")
    too_long = hq.post(
        "/api/subsidies/batches/", {"campaign": draft["id"], "count": 10, "claim_days": 91}
    )
    assert too_long.status_code == 400
    assert "claim_days" in too_long.json()
    created = hq.post("/api/subsidies/batches/", {"campaign": draft["id"], "count": 10})
    assert created.status_code == 201, created.content
    assert created.json()["use_days"] == 7
    assert created.json()["per_store_limit"] == 1
    assert created.json()["face_value"] is None
    listed = client_for("rep_north").get("/api/subsidies/batches/", {"campaign": draft["id"]})
    assert [row["id"] for row in listed.json()["results"]] == [created.json()["id"]]


# --- alerts ---------------------------------------------------------------------------


def test_a_budget_nearly_spent_raises_an_alert(client_for, people, regions):
    """100.00 budget, 10.00 coupons: 8 claimed is 80 % (quiet), 9 is 90 % (the threshold)."""
    hq = people["hq"]
    stores = [make_store(people["rep_north"], f"s{n}", segment="tail_churn") for n in range(9)]
    budget = make_budget(hq, regions["north"], "100.00")
    batch = open_batch(hq, approved_campaign(hq, budget), face_value="10.00")
    for store in stores[:8]:
        coupon_claim(actor=hq, batch_id=batch.pk, store_id=store)
    manager = client_for("manager_north")
    assert manager.get("/api/subsidies/alerts").json()["results"] == []

    coupon_claim(actor=hq, batch_id=batch.pk, store_id=stores[8])

    alerts = manager.get("/api/subsidies/alerts").json()["results"]
    assert len(alerts) == 1
    assert alerts[0]["kind"] == "budget_nearly_spent"
    assert alerts[0]["budget_id"] == str(budget.pk)
    assert alerts[0]["share_committed"] == 0.9
    assert "10.00 left" in alerts[0]["message"]
    assert client_for("manager_south").get("/api/subsidies/alerts").json()["results"] == []
    assert client_for("rep_north").get("/api/subsidies/alerts").status_code == 403


AS_OF = dt.date(2026, 11, 28)


@pytest.fixture
def measured(people, regions):
    """Campaign 11-01 to 11-30, as of 11-28: window 11-01..11-28 (28 days), baseline
    10-04..10-31. t1, t2 treated; h1 held out.

    store  baseline          window          outside (ignored)
    t1     10-10: 600        11-10: 600      10-03: 999, 11-29: 999
    t2     10-20: 400        11-20: 450
    h1     10-15: 500        11-15: 550
    treated 1000 -> 1050: +5 %; holdout 500 -> 550: +10 %; uplift -5 points.
    Spend: one 10.00 coupon of t1, used on its 11-10 order.
    """
    hq = people["hq"]
    rep = people["rep_north"]
    stores = {name: make_store(rep, name, segment="mid_churn") for name in ("t1", "t2", "h1")}
    budget = make_budget(
        hq, regions["north"], "1000.00", start=dt.date(2026, 9, 1), end=dt.date(2026, 12, 31)
    )
    campaign = approved_campaign(
        hq,
        budget,
        starts_on=dt.date(2026, 11, 1),
        ends_on=dt.date(2026, 11, 30),
        holdout={stores["h1"]},
    )
    orders = {
        "t1": [("10-03", "999"), ("10-10", "600"), ("11-10", "600"), ("11-29", "999")],
        "t2": [("10-20", "400"), ("11-20", "450")],
        "h1": [("10-15", "500"), ("11-15", "550")],
    }
    placed = {}
    for name, rows in orders.items():
        for n, (day, amount) in enumerate(rows):
            placed[(name, day)] = Order.objects.create(
                external_id=f"{name}-{n}",
                store_id=stores[name],
                order_date=dt.date.fromisoformat(f"2026-{day}"),
                amount=Decimal(amount),
            )
    batch = open_batch(
        hq, campaign, claim_opens_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), face_value="10.00"
    )
    coupon = coupon_claim(
        actor=hq,
        batch_id=batch.pk,
        store_id=stores["t1"],
        now=dt.datetime(2026, 11, 5, 9, tzinfo=dt.UTC),
    )
    return {
        "campaign": campaign,
        "coupon": coupon,
        "order": placed[("t1", "11-10")],
        "stores": stores,
    }


def use_coupon(measured, hq):
    coupon_use(
        actor=hq,
        coupon_id=measured["coupon"].pk,
        order_id=measured["order"].pk,
        now=dt.datetime(2026, 11, 10, 12, tzinfo=dt.UTC),
    )


def test_spend_not_followed_by_growth_against_the_holdout_raises_an_alert(
    measured, people, client_for
):
    use_coupon(measured, people["hq"])

    response = client_for("manager_north").get("/api/subsidies/alerts", {"as_of": str(AS_OF)})

    alerts = response.json()["results"]
    assert [alert["kind"] for alert in alerts] == ["spend_without_growth"]
    alert = alerts[0]
    assert alert["campaign_id"] == str(measured["campaign"].pk)
    assert (alert["spend"], alert["treated_growth"], alert["holdout_growth"]) == (
        "10.00",
        0.05,
        0.1,
    )
    assert alert["uplift"] == -0.05
    assert "+5.0% against +10.0%" in alert["message"]


def test_no_growth_alert_without_spend_or_too_early(measured, people):
    hq = people["hq"]
    assert subsidy_alerts(actor=hq, as_of=AS_OF) == []  # claimed, not used: nothing spent
    use_coupon(measured, hq)
    # 13 days into the campaign is too early to judge (SUBSIDY_ALERT_MIN_DAYS = 14).
    assert subsidy_alerts(actor=hq, as_of=dt.date(2026, 11, 13)) == []
    assert len(subsidy_alerts(actor=hq, as_of=AS_OF)) == 1


def test_no_growth_alert_when_the_treated_stores_grow_faster(measured, people):
    use_coupon(measured, people["hq"])
    Order.objects.create(
        external_id="t2-extra",
        store_id=measured["stores"]["t2"],
        order_date=dt.date(2026, 11, 21),
        amount=Decimal("450"),
    )  # treated 1000 -> 1500: +50 % against +10 %

    assert subsidy_alerts(actor=people["hq"], as_of=AS_OF) == []


def test_the_required_uplift_is_a_setting(measured, people, settings):
    use_coupon(measured, people["hq"])
    settings.FIELDLINE = {**settings.FIELDLINE, "SUBSIDY_ALERT_MIN_UPLIFT": -0.06}

    assert subsidy_alerts(actor=people["hq"], as_of=AS_OF) == []


def test_budget_and_campaign_details_are_scoped(client_for, people, regions):
    budget = make_budget(people["hq"], regions["north"], "100.00")
    campaign = approved_campaign(people["hq"], budget)

    assert (
        client_for("manager_north").get(f"/api/subsidies/budgets/{budget.pk}/").json()["available"]
        == "100.00"
    )
    assert (
        client_for("manager_south").get(f"/api/subsidies/budgets/{budget.pk}/").status_code == 404
    )
    assert client_for("rep_north").get(f"/api/subsidies/budgets/{budget.pk}/").status_code == 403
    assert (
        client_for("rep_north").get(f"/api/subsidies/campaigns/{campaign.pk}/").json()["region"]
        == "north"
    )
    assert (
        client_for("rep_south").get(f"/api/subsidies/campaigns/{campaign.pk}/").status_code == 404
    )


def test_a_budget_cannot_grow_past_what_its_columns_hold(client_for, people, regions):
    budget = make_budget(people["hq"], regions["north"], "999999999999.00")

    response = client_for("hq").post(
        f"/api/subsidies/budgets/{budget.pk}/allocations", {"amount": "1.00"}
    )

    assert response.status_code == 400
    assert "amount" in response.json()
    assert SubsidyBudget.objects.get(pk=budget.pk).amount == Decimal("999999999999.00")


def test_lists_take_the_same_queries_for_one_row_or_many(client_for, people, regions):
    hq_user = people["hq"]
    stores = [make_store(people["rep_north"], f"s{n}", segment="tail_churn") for n in range(6)]
    budget = make_budget(hq_user, regions["north"], "1000.00")
    batch = open_batch(hq_user, approved_campaign(hq_user, budget))
    client = client_for("manager_north")

    def queries(path):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    coupon_claim(actor=hq_user, batch_id=batch.pk, store_id=stores[0])
    one = {path: queries(path) for path in LIST_PATHS}
    for store in stores[1:]:
        coupon_claim(actor=hq_user, batch_id=batch.pk, store_id=store)
    approved_campaign(hq_user, budget)
    assert {path: queries(path) for path in LIST_PATHS} == one


LIST_PATHS = (
    "/api/coupons/",
    "/api/subsidies/campaigns/",
    "/api/subsidies/batches/",
    "/api/subsidies/budgets/",
)


def test_the_ledger_is_append_only_in_the_database(people, regions):
    budget = make_budget(people["hq"], regions["north"], "100.00")
    entry = BudgetEntry.objects.get(budget=budget)

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        BudgetEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1000000.00"))
    if connection.vendor == "postgresql":  # SQLite's own test flush deletes rows
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            BudgetEntry.objects.filter(pk=entry.pk).delete()
    assert BudgetEntry.objects.get(pk=entry.pk).amount == Decimal("100.00")
