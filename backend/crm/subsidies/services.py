"""Writes of subsidies and coupons: budgets as a ledger, campaigns, batches, claims, uses
and expiry.

Money never moves without a ledger entry, and never without first locking its budget row
(`select_for_update`; on SQLite every transaction begins IMMEDIATE, which serializes
writers the same way). Everything that changes a budget, a campaign's status or a batch's
count takes that lock first, then the batch or coupon row: one fixed order, so concurrent
claims queue instead of deadlocking, and each one sees the balance the previous one left.
The CHECK constraints on the budget and batch rows are the second line.
"""

import datetime as dt
import secrets
import uuid
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Region, User
from crm.orders.models import Order
from crm.subsidies.errors import SubsidyConflict, SubsidyError, SubsidyErrorCode
from crm.subsidies.models import (
    BudgetEntry,
    BudgetEntryKind,
    Campaign,
    CampaignStatus,
    CampaignStore,
    Coupon,
    CouponBatch,
    CouponState,
    SubsidyBudget,
)
from crm.subsidies.selectors import CENT, in_holdout, subsidy_quote
from stores.models import Store

# The largest amount a budget's columns hold (numeric(14, 2)).
MAX_BUDGET = Decimal("999999999999.99")

# --- the ledger -----------------------------------------------------------------------


def _lock_budget(budget_id: uuid.UUID) -> SubsidyBudget:
    """The budget row, locked until the transaction ends (call inside transaction.atomic)."""
    return SubsidyBudget.objects.select_for_update().get(pk=budget_id)


def _post(
    *,
    budget: SubsidyBudget,
    kind: BudgetEntryKind,
    amount: Decimal,
    now: dt.datetime,
    actor: User | None = None,
    coupon: Coupon | None = None,
    note: str = "",
) -> BudgetEntry:
    """Apply one entry to a locked budget: its columns move by F() expressions (the CHECK
    constraints judge the result in the database) and the entry records the new balance."""
    deltas = {
        BudgetEntryKind.ALLOCATION: {"amount": amount},
        BudgetEntryKind.CLAIM: {"reserved": amount},
        BudgetEntryKind.RELEASE: {"reserved": -amount},
        BudgetEntryKind.USE: {"reserved": -amount, "used": amount},
    }[kind]
    SubsidyBudget.objects.filter(pk=budget.pk).update(
        **{column: F(column) + delta for column, delta in deltas.items()}
    )
    for column, delta in deltas.items():
        setattr(budget, column, getattr(budget, column) + delta)
    return BudgetEntry.objects.create(
        budget=budget,
        kind=kind,
        amount=amount,
        available_after=budget.available,
        coupon=coupon,
        actor=actor,
        note=note,
        created_at=now,
    )


@transaction.atomic
def budget_create(
    *,
    actor: User,
    region: Region,
    period_start: dt.date,
    period_end: dt.date,
    amount: Decimal,
    note: str = "",
) -> SubsidyBudget:
    """A region's budget for a period, opened with one allocation entry. Periods of one
    region do not overlap, so a claim date names one budget."""
    if period_end < period_start:
        raise SubsidyError(
            SubsidyErrorCode.INVALID, "The period ends before it starts.", field="period_end"
        )
    if amount <= 0:
        raise SubsidyError(SubsidyErrorCode.INVALID, "Must be more than 0.", field="amount")
    # Lock the region's budgets so that two overlapping creations cannot both pass.
    existing = list(
        SubsidyBudget.objects.select_for_update()
        .filter(region=region, period_start__lte=period_end, period_end__gte=period_start)
        .values_list("period_start", "period_end")
    )
    if existing:
        start, end = existing[0]
        raise SubsidyConflict(
            SubsidyErrorCode.BUDGET_OVERLAP,
            f"The {region.code} region has a budget for {start} to {end} already.",
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            budget = SubsidyBudget.objects.create(
                region=region,
                period_start=period_start,
                period_end=period_end,
                created_by=actor,
                created_at=now,
            )
    except IntegrityError as error:  # the same period start, created concurrently
        raise SubsidyConflict(
            SubsidyErrorCode.BUDGET_OVERLAP,
            f"The {region.code} region has a budget from {period_start} already.",
        ) from error
    _post(
        budget=budget,
        kind=BudgetEntryKind.ALLOCATION,
        amount=amount.quantize(CENT),
        now=now,
        actor=actor,
        note=note,
    )
    return budget


@transaction.atomic
def budget_allocate(
    *, actor: User, budget_id: uuid.UUID, amount: Decimal, note: str = ""
) -> BudgetEntry:
    """Add to a budget, or cut it (negative amount) down to at most what is committed."""
    if amount == 0:
        raise SubsidyError(SubsidyErrorCode.INVALID, "Must not be 0.", field="amount")
    budget = _lock_budget(budget_id)
    amount = amount.quantize(CENT)
    if budget.amount + amount > MAX_BUDGET:
        raise SubsidyError(
            SubsidyErrorCode.INVALID,
            f"A budget holds at most {MAX_BUDGET}; this one has {budget.amount}.",
            field="amount",
        )
    if budget.available + amount < 0:
        raise SubsidyConflict(
            SubsidyErrorCode.BUDGET_BELOW_COMMITTED,
            f"Only {budget.available} of the budget is not reserved or used; it cannot be cut "
            f"by {-amount}.",
        )
    return _post(
        budget=budget,
        kind=BudgetEntryKind.ALLOCATION,
        amount=amount,
        now=timezone.now(),
        actor=actor,
        note=note,
    )


# --- campaigns and batches ------------------------------------------------------------


@transaction.atomic
def campaign_create(
    *,
    actor: User,
    name: str,
    budget: SubsidyBudget,
    segments: list[str],
    floor_a: Decimal,
    cap_b: Decimal,
    starts_on: dt.date,
    ends_on: dt.date,
    exponent_t: float | None = None,
    holdout_share: float | None = None,
) -> Campaign:
    """A draft campaign paid from `budget`; its window must lie within the budget's period."""
    conf = settings.FIELDLINE
    errors = []
    if cap_b < floor_a:
        errors.append(("cap_b", "The cap b must be at least the floor a."))
    if cap_b <= 0:
        errors.append(("cap_b", "The cap b must be more than 0."))
    if ends_on < starts_on:
        errors.append(("ends_on", "The campaign ends before it starts."))
    if starts_on < budget.period_start or ends_on > budget.period_end:
        errors.append(
            (
                "starts_on",
                f"The campaign must run within its budget's period, {budget.period_start} to "
                f"{budget.period_end}.",
            )
        )
    if errors:
        field, message = errors[0]
        raise SubsidyError(SubsidyErrorCode.INVALID, message, field=field)
    return Campaign.objects.create(
        name=name,
        budget=budget,
        segments=sorted(set(segments)),
        floor_a=floor_a,
        cap_b=cap_b,
        exponent_t=exponent_t if exponent_t is not None else conf["SUBSIDY_EXPONENT_T"],
        holdout_share=(
            holdout_share if holdout_share is not None else conf["SUBSIDY_HOLDOUT_SHARE"]
        ),
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=actor,
        created_at=timezone.now(),
    )


def _lock_campaign(campaign_id: uuid.UUID) -> tuple[SubsidyBudget, Campaign]:
    budget_id = Campaign.objects.values_list("budget_id", flat=True).get(pk=campaign_id)
    budget = _lock_budget(budget_id)
    return budget, Campaign.objects.select_for_update().get(pk=campaign_id)


@transaction.atomic
def campaign_approve(*, actor: User, campaign_id: uuid.UUID) -> Campaign:
    """HQ approves a draft: its target group is frozen now — the live stores of the budget's
    region in the campaign's segments (all, when none are named) — and split into treated
    and holdout stores by `in_holdout`. Stores that appear later are not targeted."""
    budget, campaign = _lock_campaign(campaign_id)
    if campaign.status != CampaignStatus.DRAFT:
        raise SubsidyConflict(
            SubsidyErrorCode.WRONG_STATUS,
            f"Only a draft can be approved; this one is {campaign.status}.",
        )
    stores = Store.objects.filter(deleted=False, region_id=budget.region_id)
    if campaign.segments:
        stores = stores.filter(segment__in=campaign.segments)
    chunk: list[CampaignStore] = []
    for store_id, segment in stores.values_list("pk", "segment").order_by().iterator(5000):
        chunk.append(
            CampaignStore(
                campaign=campaign,
                store_id=store_id,
                segment=segment,
                holdout=in_holdout(
                    campaign_id=campaign.pk, store_id=store_id, share=campaign.holdout_share
                ),
            )
        )
        if len(chunk) >= 5000:
            CampaignStore.objects.bulk_create(chunk)
            chunk = []
    CampaignStore.objects.bulk_create(chunk)
    campaign.status = CampaignStatus.APPROVED
    campaign.approved_by = actor
    campaign.approved_at = timezone.now()
    campaign.save(update_fields=["status", "approved_by", "approved_at"])
    return campaign


@transaction.atomic
def campaign_close(*, actor: User, campaign_id: uuid.UUID) -> Campaign:
    """No more claims. Coupons already claimed stay usable through their use window: the
    store was promised them."""
    _, campaign = _lock_campaign(campaign_id)
    if campaign.status != CampaignStatus.APPROVED:
        raise SubsidyConflict(
            SubsidyErrorCode.WRONG_STATUS,
            f"Only an approved campaign can be closed; this one is {campaign.status}.",
        )
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = timezone.now()
    campaign.save(update_fields=["status", "closed_at"])
    return campaign


@transaction.atomic
def batch_create(
    *,
    actor: User,
    campaign_id: uuid.UUID,
    count: int,
    face_value: Decimal | None = None,
    claim_opens_at: dt.datetime | None = None,
    claim_days: int | None = None,
    use_days: int | None = None,
    per_store_limit: int | None = None,
) -> CouponBatch:
    """Coupons of an approved campaign. The claim window lasts `claim_days` (default and
    maximum COUPON_CLAIM_WINDOW_DAYS) from `claim_opens_at` (default now), cut at the end of
    the campaign's last day; each coupon is usable `use_days` (default and maximum
    COUPON_USE_WINDOW_DAYS) from its claim. Without `face_value`, each coupon is worth what
    the campaign's formula gives the claiming store."""
    conf = settings.FIELDLINE
    _, campaign = _lock_campaign(campaign_id)
    if campaign.status != CampaignStatus.APPROVED:
        raise SubsidyError(
            SubsidyErrorCode.CAMPAIGN_NOT_APPROVED,
            f"Coupons belong to an approved campaign; this one is {campaign.status}.",
            field="campaign",
        )
    claim_days = claim_days or conf["COUPON_CLAIM_WINDOW_DAYS"]
    use_days = use_days or conf["COUPON_USE_WINDOW_DAYS"]
    if claim_days > conf["COUPON_CLAIM_WINDOW_DAYS"]:
        raise SubsidyError(
            SubsidyErrorCode.INVALID,
            f"At most {conf['COUPON_CLAIM_WINDOW_DAYS']} days.",
            field="claim_days",
        )
    if use_days > conf["COUPON_USE_WINDOW_DAYS"]:
        raise SubsidyError(
            SubsidyErrorCode.INVALID,
            f"At most {conf['COUPON_USE_WINDOW_DAYS']} days.",
            field="use_days",
        )
    opens = claim_opens_at or timezone.now()
    tz = dt.UTC
    campaign_start = dt.datetime.combine(campaign.starts_on, dt.time.min, tzinfo=tz)
    campaign_end = dt.datetime.combine(
        campaign.ends_on + dt.timedelta(days=1), dt.time.min, tzinfo=tz
    )
    opens = max(opens, campaign_start)
    closes = min(opens + dt.timedelta(days=claim_days), campaign_end)
    if closes <= opens:
        raise SubsidyError(
            SubsidyErrorCode.CLAIM_WINDOW,
            f"The campaign ends on {campaign.ends_on}: no claim window is left.",
            field="claim_opens_at",
        )
    return CouponBatch.objects.create(
        campaign=campaign,
        count=count,
        face_value=face_value.quantize(CENT) if face_value is not None else None,
        claim_opens_at=opens,
        claim_closes_at=closes,
        use_days=use_days,
        per_store_limit=per_store_limit or conf["COUPON_PER_STORE_LIMIT"],
        created_by=actor,
        created_at=timezone.now(),
    )


# --- coupons --------------------------------------------------------------------------

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone


def new_coupon_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))


def coupon_claim(
    *, actor: User, batch_id: uuid.UUID, store_id: uuid.UUID, now: dt.datetime | None = None
) -> Coupon:
    """Claim a coupon of a batch for a store; its value is reserved on the budget at once.

    Under the budget lock, in this order: the campaign is approved, `now` is in the claim
    window, the store is targeted and not held out, the store is under its per-store limit,
    the batch has coupons left, the budget can pay the value. The first that fails is
    answered; nothing is written. Every claim counts against the per-store limit, whether
    its coupon was used or expired: the limit is on what a store may take, not hold.
    """
    now = now or timezone.now()
    with transaction.atomic():
        budget_id = CouponBatch.objects.values_list("campaign__budget_id", flat=True).get(
            pk=batch_id
        )
        budget = _lock_budget(budget_id)
        batch = CouponBatch.objects.select_for_update().get(pk=batch_id)
        campaign = Campaign.objects.get(pk=batch.campaign_id)
        if campaign.status != CampaignStatus.APPROVED:
            raise SubsidyError(
                SubsidyErrorCode.CAMPAIGN_NOT_APPROVED,
                f"The campaign is {campaign.status}: no coupons can be claimed.",
                field="batch",
            )
        if not batch.claim_opens_at <= now < batch.claim_closes_at:
            raise SubsidyError(
                SubsidyErrorCode.CLAIM_WINDOW,
                f"Coupons of this batch can be claimed from {batch.claim_opens_at.isoformat()} "
                f"until {batch.claim_closes_at.isoformat()}.",
                field="batch",
            )
        member = CampaignStore.objects.filter(campaign=campaign, store_id=store_id).first()
        if member is None:
            raise SubsidyError(
                SubsidyErrorCode.NOT_TARGETED,
                "This store is not a target of the campaign (its region or segment when the "
                "campaign was approved).",
                field="store",
            )
        if member.holdout:
            raise SubsidyError(
                SubsidyErrorCode.IN_HOLDOUT,
                "This store is in the campaign's holdout group: it gets no coupons, so that "
                "the campaign's effect can be measured.",
                field="store",
            )
        claimed = Coupon.objects.filter(batch=batch, store_id=store_id).count()
        if claimed >= batch.per_store_limit:
            raise SubsidyConflict(
                SubsidyErrorCode.STORE_LIMIT_REACHED,
                f"This store has claimed {claimed} coupon(s) of this batch, its limit.",
            )
        if batch.issued >= batch.count:
            raise SubsidyConflict(
                SubsidyErrorCode.BATCH_EXHAUSTED,
                f"All {batch.count} coupons of this batch have been claimed.",
            )
        if batch.face_value is not None:
            value = batch.face_value
        else:
            quote = subsidy_quote(campaign=campaign, store_id=store_id)
            value = quote.value if quote else Decimal(0)
        if value <= 0:
            raise SubsidyError(
                SubsidyErrorCode.ZERO_SUBSIDY,
                "The campaign's formula gives this store no subsidy.",
                field="store",
            )
        if value > budget.available:
            raise SubsidyConflict(
                SubsidyErrorCode.BUDGET_EXHAUSTED,
                f"The {budget.region_id} budget has {budget.available} left; this coupon needs "
                f"{value}.",
            )
        coupon = Coupon.objects.create(
            code=new_coupon_code(),
            batch=batch,
            store_id=store_id,
            value=value,
            state=CouponState.CLAIMED,
            claimed_by=actor,
            claimed_at=now,
            use_until=now + dt.timedelta(days=batch.use_days),
        )
        CouponBatch.objects.filter(pk=batch.pk).update(issued=F("issued") + 1)
        _post(
            budget=budget,
            kind=BudgetEntryKind.CLAIM,
            amount=value,
            now=now,
            actor=actor,
            coupon=coupon,
        )
    return coupon


def margin_cap(*, order_amount: Decimal) -> Decimal:
    """The most a coupon may take off an order: its margin (amount x COUPON_MARGIN_RATE)
    less the floor (amount x COUPON_MARGIN_FLOOR), in whole cents, rounded down."""
    conf = settings.FIELDLINE
    rate = Decimal(repr(conf["COUPON_MARGIN_RATE"])) - Decimal(repr(conf["COUPON_MARGIN_FLOOR"]))
    return max(order_amount * rate, Decimal(0)).quantize(CENT, rounding="ROUND_DOWN")


def coupon_use(
    *,
    actor: User,
    coupon_id: uuid.UUID,
    order_id: uuid.UUID,
    now: dt.datetime | None = None,
) -> Coupon:
    """Redeem a claimed coupon on one of its store's orders: what it reserved becomes used.

    The order must be dated within the coupon's use window (its claim day to its last day)
    and be redeemed by COUPON_USE_GRACE_DAYS after that; it may carry one coupon only (a
    unique constraint); the coupon may not push its margin below the floor (`margin_cap`).
    Using a coupon again on the same order answers the coupon unchanged (a retried request).
    """
    now = now or timezone.now()
    grace = dt.timedelta(days=settings.FIELDLINE["COUPON_USE_GRACE_DAYS"])
    with transaction.atomic():
        budget_id = Coupon.objects.values_list("batch__campaign__budget_id", flat=True).get(
            pk=coupon_id
        )
        budget = _lock_budget(budget_id)
        coupon = Coupon.objects.select_for_update().get(pk=coupon_id)
        if coupon.state == CouponState.USED:
            if coupon.order_id == order_id:
                return coupon
            raise SubsidyConflict(
                SubsidyErrorCode.COUPON_USED, "This coupon has been used on another order."
            )
        if coupon.state == CouponState.EXPIRED:
            raise SubsidyConflict(
                SubsidyErrorCode.COUPON_EXPIRED,
                f"This coupon expired unused on {coupon.use_until.isoformat()}.",
            )
        order = Order.objects.filter(pk=order_id).first()
        if order is None:
            raise SubsidyError(SubsidyErrorCode.INVALID, "No such order.", field="order")
        if order.store_id != coupon.store_id:
            raise SubsidyError(
                SubsidyErrorCode.ORDER_OF_ANOTHER_STORE,
                "The order is not from the store the coupon was claimed for.",
                field="order",
            )
        first_day, last_day = coupon.claimed_at.date(), coupon.use_until.date()
        if not first_day <= order.order_date <= last_day:
            raise SubsidyError(
                SubsidyErrorCode.USE_WINDOW,
                f"The coupon is for orders dated {first_day} to {last_day}; this one is "
                f"dated {order.order_date}.",
                field="order",
            )
        if now > coupon.use_until + grace:
            raise SubsidyError(
                SubsidyErrorCode.USE_WINDOW,
                f"The coupon could be redeemed until {(coupon.use_until + grace).isoformat()}.",
            )
        cap = margin_cap(order_amount=order.amount)
        if coupon.value > cap:
            raise SubsidyError(
                SubsidyErrorCode.MARGIN_FLOOR,
                f"A coupon of {coupon.value} on an order of {order.amount} would leave its "
                f"margin below the floor: at most {cap} may be taken off it.",
                field="order",
            )
        if Coupon.objects.filter(order=order).exists():
            raise SubsidyConflict(
                SubsidyErrorCode.ORDER_HAS_COUPON, "This order already carries a coupon."
            )
        coupon.state = CouponState.USED
        coupon.order = order
        coupon.used_by = actor
        coupon.used_at = now
        try:
            with transaction.atomic():
                coupon.save(update_fields=["state", "order", "used_by", "used_at"])
        except IntegrityError as error:  # another budget's coupon took the order meanwhile
            raise SubsidyConflict(
                SubsidyErrorCode.ORDER_HAS_COUPON, "This order already carries a coupon."
            ) from error
        _post(
            budget=budget,
            kind=BudgetEntryKind.USE,
            amount=coupon.value,
            now=now,
            actor=actor,
            coupon=coupon,
        )
    return coupon


EXPIRE_BATCH = 5000


def coupons_expire(*, now: dt.datetime | None = None, limit: int = EXPIRE_BATCH) -> int:
    """Expire up to `limit` claimed coupons past their use window and grace, releasing what
    they reserved: one transaction per budget (locked first, like every other write), a
    release entry per coupon. Idempotent and safe beside another worker (a coupon is
    released only while still claimed, under its budget's lock); returns how many expired.
    Run by the `crm.jobs.expire_coupons` job every quarter hour, one bounded batch a run.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.FIELDLINE["COUPON_USE_GRACE_DAYS"])
    due = Coupon.objects.filter(state=CouponState.CLAIMED, use_until__lt=cutoff).order_by(
        "use_until", "pk"
    )
    by_budget: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for coupon_id, budget_id in due.values_list("pk", "batch__campaign__budget_id")[:limit]:
        by_budget[budget_id].append(coupon_id)
    expired = 0
    for budget_id in sorted(by_budget):
        with transaction.atomic():
            budget = _lock_budget(budget_id)
            coupons = list(
                Coupon.objects.select_for_update()
                .filter(pk__in=by_budget[budget_id], state=CouponState.CLAIMED)
                .order_by("pk")
            )
            if not coupons:
                continue
            Coupon.objects.filter(pk__in=[c.pk for c in coupons]).update(
                state=CouponState.EXPIRED, expired_at=now
            )
            entries = []
            total = Decimal(0)
            for coupon in coupons:
                total += coupon.value
                entries.append(
                    BudgetEntry(
                        budget_id=budget_id,
                        kind=BudgetEntryKind.RELEASE,
                        amount=coupon.value,
                        available_after=budget.available + total,
                        coupon=coupon,
                        created_at=now,
                        note="expired unused",
                    )
                )
            BudgetEntry.objects.bulk_create(entries, batch_size=1000)
            SubsidyBudget.objects.filter(pk=budget_id).update(reserved=F("reserved") - total)
            expired += len(coupons)
    return expired
