"""Reads of subsidies and coupons: what each role sees, the subsidy formula, the holdout
rule and the alerts.

Scope: budgets, campaigns and batches belong to a region (a campaign's region is its
budget's); managers see their region's, HQ all. Reps see the approved (and closed)
campaigns and batches of their region, so they can claim for their stores, and the coupons
of the stores they own; never budgets.
"""

import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import Role, User
from accounts.scope import scoped_queryset
from crm.analytics.scoring import potential_score
from crm.analytics.selectors import analytics_parameters, store_site_features
from crm.subsidies.models import (
    BudgetEntry,
    Campaign,
    CampaignStatus,
    CampaignStore,
    Coupon,
    CouponBatch,
    CouponState,
    SubsidyBudget,
)
from fieldline.conf import fieldline_settings
from stores.models import Store

CENT = Decimal("0.01")

# --- scope ----------------------------------------------------------------------------


def budget_list(*, actor: User) -> QuerySet[SubsidyBudget]:
    if actor.is_active and actor.role == Role.HQ:
        return SubsidyBudget.objects.all()
    if actor.is_active and actor.role == Role.MANAGER:
        return SubsidyBudget.objects.filter(region_id=actor.region_id)
    return SubsidyBudget.objects.none()


def budget_ledger(*, actor: User, budget_id: uuid.UUID) -> QuerySet[BudgetEntry]:
    return BudgetEntry.objects.filter(
        budget_id=budget_id, budget__in=budget_list(actor=actor)
    ).order_by("id")


def ledger_totals(*, budget_id: uuid.UUID) -> dict[str, Decimal]:
    """A budget's columns as its ledger entries add them up, in one GROUP BY: for audits,
    and for the tests that prove the columns never drift from the ledger."""
    sums = dict(
        BudgetEntry.objects.filter(budget_id=budget_id)
        .values("kind")
        .annotate(total=Sum("amount"))
        .values_list("kind", "total")
        .order_by()
    )

    def total(kind: str) -> Decimal:
        return sums.get(kind) or Decimal(0)

    return {
        "amount": total("allocation"),
        "reserved": total("claim") - total("release") - total("use"),
        "used": total("use"),
    }


def campaign_list(*, actor: User) -> QuerySet[Campaign]:
    campaigns = Campaign.objects.select_related("budget")
    if not actor.is_active:
        return campaigns.none()
    if actor.role == Role.HQ:
        return campaigns
    if actor.role == Role.MANAGER:
        return campaigns.filter(budget__region_id=actor.region_id)
    if actor.role == Role.REP:
        return campaigns.filter(
            budget__region_id=actor.region_id,
            status__in=[CampaignStatus.APPROVED, CampaignStatus.CLOSED],
        )
    return campaigns.none()


def batch_list(*, actor: User) -> QuerySet[CouponBatch]:
    return CouponBatch.objects.filter(campaign__in=campaign_list(actor=actor)).select_related(
        "campaign"
    )


def coupon_list(*, actor: User) -> QuerySet[Coupon]:
    """Coupons of the stores `actor` may see (reps: the stores they own)."""
    stores = scoped_queryset(user=actor, model=Store)
    return Coupon.objects.filter(store__in=stores.values("pk")).select_related("batch")


# --- the subsidy formula --------------------------------------------------------------


def subsidy_score(
    *, price_sensitivity: float, potential: float, weights: Mapping[str, float]
) -> float:
    """Y in [0, 1]: the weighted mean of price sensitivity and site potential (each in
    [0, 1]). A price-sensitive store reacts to a coupon; a high-potential one is worth
    winning; both raise the subsidy."""
    w_price, w_potential = weights["price_sensitivity"], weights["potential"]
    total = w_price + w_potential
    if total <= 0:
        return 0.0
    score = (w_price * price_sensitivity + w_potential * potential) / total
    return min(max(score, 0.0), 1.0)


def subsidy_amount(*, score: float, floor_a: Decimal, cap_b: Decimal, exponent_t: float) -> Decimal:
    """X = a + Y^t x (b - a), in cents (half up): a at Y = 0, b at Y = 1; t > 1 keeps most
    stores near the floor, t < 1 lifts them towards the cap."""
    factor = Decimal(repr(score**exponent_t))
    return (floor_a + factor * (cap_b - floor_a)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class SubsidyQuote:
    store_id: uuid.UUID
    segment: str
    price_sensitivity: float
    potential: float
    score: float
    value: Decimal


def subsidy_quote(*, campaign: Campaign, store_id: uuid.UUID) -> SubsidyQuote | None:
    """What the campaign's formula gives one store today (None: no such live store).

    Price sensitivity comes from the store's RFM segment (FIELDLINE
    "SUBSIDY_PRICE_SENSITIVITY_BY_SEGMENT": churning and early stores react most to price,
    head-active ones least); potential is the site potential of the ABC grade (footfall,
    area, key equipment, trade area) from the latest *approved* survey: a survey no
    manager has approved (or one a rep edited since, which went back to review) feeds no
    money.
    """
    conf = fieldline_settings
    sites = store_site_features(store_ids=[store_id], approved_only=True)
    if not sites:
        return None
    site = sites[0]
    params = analytics_parameters(as_of=timezone.localdate())
    by_segment = conf.SUBSIDY_PRICE_SENSITIVITY_BY_SEGMENT
    price_sensitivity = float(by_segment.get(site.segment, by_segment.get("", 0.5)))
    potential = potential_score(site=site, params=params)
    score = subsidy_score(
        price_sensitivity=price_sensitivity,
        potential=potential,
        weights=conf.SUBSIDY_SCORE_WEIGHTS,
    )
    return SubsidyQuote(
        store_id=store_id,
        segment=site.segment,
        price_sensitivity=round(price_sensitivity, 6),
        potential=round(potential, 6),
        score=round(score, 6),
        value=subsidy_amount(
            score=score,
            floor_a=campaign.floor_a,
            cap_b=campaign.cap_b,
            exponent_t=campaign.exponent_t,
        ),
    )


# --- the holdout group ----------------------------------------------------------------


def in_holdout(*, campaign_id: uuid.UUID, store_id: uuid.UUID, share: float) -> bool:
    """Deterministic and independent per campaign: the first 64 bits of
    sha256("campaign:store") as a fraction of 2^64, below `share`. The same store is held
    out of a campaign however often it is asked, and a different set per campaign, so no
    store is always left out."""
    digest = hashlib.sha256(f"{campaign_id}:{store_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


# --- alerts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupGmv:
    stores: int
    before: Decimal
    during: Decimal

    @property
    def growth(self) -> float | None:
        if self.before <= 0:
            return None
        return round(float((self.during - self.before) / self.before), 4)


@dataclass(frozen=True)
class CampaignEffect:
    """GMV of the treated and holdout stores in the campaign's window so far against the
    same number of days just before it, and what the campaign's coupons spent."""

    campaign_id: uuid.UUID
    window_start: dt.date
    window_end: dt.date
    baseline_start: dt.date
    baseline_end: dt.date
    spend: Decimal
    treated: GroupGmv
    holdout: GroupGmv

    @property
    def uplift(self) -> float | None:
        treated, holdout = self.treated.growth, self.holdout.growth
        if treated is None or holdout is None:
            return None
        return round(treated - holdout, 4)


def campaign_effect(*, campaign: Campaign, as_of: dt.date) -> CampaignEffect:
    """Intention to treat: every targeted store outside the holdout counts as treated,
    whether it claimed or not (stores that claim are the keen ones; comparing only them
    with the holdout would credit the coupon with their keenness). One GROUP BY over the
    orders of the campaign's stores."""
    end = min(campaign.ends_on, as_of)
    days = max((end - campaign.starts_on).days + 1, 0)
    baseline_end = campaign.starts_on - dt.timedelta(days=1)
    baseline_start = campaign.starts_on - dt.timedelta(days=max(days, 1))
    members = dict(
        CampaignStore.objects.filter(campaign=campaign)
        .values("holdout")
        .annotate(stores=Count("id"))
        .values_list("holdout", "stores")
        .order_by()
    )
    during = Q(
        store__orders__order_date__gte=campaign.starts_on, store__orders__order_date__lte=end
    )
    before = Q(
        store__orders__order_date__gte=baseline_start, store__orders__order_date__lte=baseline_end
    )
    sums = {
        row["holdout"]: row
        for row in CampaignStore.objects.filter(campaign=campaign)
        .filter(store__orders__order_date__gte=baseline_start, store__orders__order_date__lte=end)
        .values("holdout")
        .annotate(
            during=Sum("store__orders__amount", filter=during),
            before=Sum("store__orders__amount", filter=before),
        )
        .order_by()
    }

    def group(holdout: bool) -> GroupGmv:
        row = sums.get(holdout, {})
        return GroupGmv(
            stores=members.get(holdout, 0),
            before=row.get("before") or Decimal(0),
            during=row.get("during") or Decimal(0),
        )

    spend = Coupon.objects.filter(batch__campaign=campaign, state=CouponState.USED).aggregate(
        total=Sum("value")
    )["total"] or Decimal(0)
    return CampaignEffect(
        campaign_id=campaign.pk,
        window_start=campaign.starts_on,
        window_end=end,
        baseline_start=baseline_start,
        baseline_end=baseline_end,
        spend=spend,
        treated=group(False),
        holdout=group(True),
    )


class AlertKind:
    BUDGET_NEARLY_SPENT = "budget_nearly_spent"
    SPEND_WITHOUT_GROWTH = "spend_without_growth"


@dataclass(frozen=True)
class SubsidyAlert:
    kind: str
    region: str
    budget_id: uuid.UUID
    campaign_id: uuid.UUID | None
    message: str
    share_committed: float | None = None
    spend: Decimal | None = None
    treated_growth: float | None = None
    holdout_growth: float | None = None
    uplift: float | None = None


def subsidy_alerts(*, actor: User, as_of: dt.date) -> list[SubsidyAlert]:
    """Budgets (not yet ended) with at least SUBSIDY_BUDGET_ALERT_SHARE of their amount
    reserved or used; approved or closed campaigns running at least SUBSIDY_ALERT_MIN_DAYS
    that have spent on used coupons while their treated stores' GMV growth beats the
    holdout's by less than SUBSIDY_ALERT_MIN_UPLIFT. A campaign whose groups have no GMV
    before the window has no growth to compare and raises nothing.

    Campaigns are few (tens a region); each costs one aggregate query over its stores'
    orders, since every campaign has its own windows.
    """
    conf = fieldline_settings
    alerts: list[SubsidyAlert] = []
    share_limit = conf.SUBSIDY_BUDGET_ALERT_SHARE
    budgets = budget_list(actor=actor).filter(period_end__gte=as_of, amount__gt=0)
    for budget in budgets.order_by("region_id", "period_start"):
        share = float((budget.reserved + budget.used) / budget.amount)
        if share >= share_limit:
            alerts.append(
                SubsidyAlert(
                    kind=AlertKind.BUDGET_NEARLY_SPENT,
                    region=budget.region_id,
                    budget_id=budget.pk,
                    campaign_id=None,
                    message=(
                        f"{share:.0%} of the {budget.region_id} budget from "
                        f"{budget.period_start} is reserved or used; {budget.available} left."
                    ),
                    share_committed=round(share, 4),
                )
            )
    min_start = as_of - dt.timedelta(days=conf.SUBSIDY_ALERT_MIN_DAYS - 1)
    campaigns = campaign_list(actor=actor).filter(
        status__in=[CampaignStatus.APPROVED, CampaignStatus.CLOSED], starts_on__lte=min_start
    )
    for campaign in campaigns.order_by("starts_on", "pk"):
        effect = campaign_effect(campaign=campaign, as_of=as_of)
        uplift = effect.uplift
        if effect.spend <= 0 or uplift is None or uplift >= conf.SUBSIDY_ALERT_MIN_UPLIFT:
            continue
        alerts.append(
            SubsidyAlert(
                kind=AlertKind.SPEND_WITHOUT_GROWTH,
                region=campaign.budget.region_id,
                budget_id=campaign.budget_id,
                campaign_id=campaign.pk,
                message=(
                    f"Campaign {campaign.name!r} spent {effect.spend} but its stores grew "
                    f"{effect.treated.growth:+.1%} against {effect.holdout.growth:+.1%} "
                    "in the holdout."
                ),
                spend=effect.spend,
                treated_growth=effect.treated.growth,
                holdout_growth=effect.holdout.growth,
                uplift=uplift,
            )
        )
    return alerts
