"""Builders for subsidy tests: stores with a segment, a budget, an approved campaign and an
open batch, made through the services (the way HQ makes them)."""

import datetime as dt
import uuid
from decimal import Decimal

from django.utils import timezone

from accounts.models import Region, User
from crm.subsidies.models import Campaign, CampaignStore, CouponBatch, SubsidyBudget
from crm.subsidies.services import batch_create, budget_create, campaign_approve, campaign_create
from tests.conftest import create

TODAY = timezone.localdate()
NOW = timezone.now()


def make_store(owner: User, name: str, *, segment: str = "", **fields) -> uuid.UUID:
    north = owner.region_id == "north"
    return create(
        "store",
        name=name,
        lat=53.55 if north else 48.14,
        lon=9.99 if north else 11.58,
        region=owner.region_id,
        owner=owner.pk,
        segment=segment,
        **fields,
    )


def make_budget(
    hq: User,
    region: Region,
    amount: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> SubsidyBudget:
    return budget_create(
        actor=hq,
        region=region,
        period_start=start or TODAY - dt.timedelta(days=60),
        period_end=end or TODAY + dt.timedelta(days=60),
        amount=Decimal(amount),
    )


def approved_campaign(
    hq: User,
    budget: SubsidyBudget,
    *,
    segments: tuple[str, ...] = (),
    holdout_share: float = 0.0,
    floor_a: str = "5.00",
    cap_b: str = "25.00",
    exponent_t: float = 1.0,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    holdout: set[uuid.UUID] | None = None,
) -> Campaign:
    """Approved; with `holdout`, exactly those stores are held out (instead of the hash's
    pick) so that a test's groups are known by hand."""
    campaign = campaign_create(
        actor=hq,
        name="Winter coffee push",
        budget=budget,
        segments=list(segments),
        floor_a=Decimal(floor_a),
        cap_b=Decimal(cap_b),
        exponent_t=exponent_t,
        holdout_share=holdout_share,
        starts_on=starts_on or TODAY - dt.timedelta(days=10),
        ends_on=ends_on or TODAY + dt.timedelta(days=30),
    )
    campaign = campaign_approve(actor=hq, campaign_id=campaign.pk)
    if holdout is not None:
        members = CampaignStore.objects.filter(campaign=campaign)
        members.update(holdout=False)
        members.filter(store_id__in=holdout).update(holdout=True)
    return campaign


def open_batch(
    hq: User,
    campaign: Campaign,
    *,
    count: int = 100,
    face_value: str | None = "10.00",
    per_store_limit: int | None = None,
    claim_opens_at: dt.datetime | None = None,
    use_days: int | None = None,
) -> CouponBatch:
    return batch_create(
        actor=hq,
        campaign_id=campaign.pk,
        count=count,
        face_value=Decimal(face_value) if face_value is not None else None,
        claim_opens_at=claim_opens_at or NOW - dt.timedelta(days=1),
        per_store_limit=per_store_limit,
        use_days=use_days,
    )
