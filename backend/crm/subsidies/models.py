"""Subsidies and coupons.

Office-side records (never synced to phones): regional budgets kept as an append-only
ledger, campaigns approved by HQ with a frozen target group and holdout, coupon batches
and the coupons stores claim from them. Writes go through crm.subsidies.services only.
"""

import uuid

from django.conf import settings
from django.db import models

from crm.orders.models import Order


class SubsidyBudget(models.Model):
    """A region's subsidy money for a period.

    `amount` is the sum of the allocation entries, `reserved` what claimed coupons hold and
    `used` what coupons redeemed on orders spent; the columns move only together with a
    ledger entry, under a lock on this row. The CHECK constraints are the second line:
    whatever a bug or a concurrent writer does, committed money never exceeds the budget.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    region = models.ForeignKey("accounts.Region", on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField()
    period_end = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    reserved = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    used = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["region_id", "-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "period_start"], name="subsidybudget_region_period"
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="subsidybudget_period_order",
            ),
            models.CheckConstraint(
                condition=models.Q(reserved__gte=0, used__gte=0),
                name="subsidybudget_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=models.F("reserved") + models.F("used")),
                name="subsidybudget_never_overspent",
            ),
        ]

    @property
    def available(self):
        return self.amount - self.reserved - self.used


class BudgetEntryKind(models.TextChoices):
    ALLOCATION = "allocation", "Allocation (HQ adds to, or cuts, the budget)"
    CLAIM = "claim", "Claim (a coupon reserves its value)"
    RELEASE = "release", "Release (an unused coupon expired; its value is available again)"
    USE = "use", "Use (a coupon was redeemed on an order; reserved becomes used)"


class BudgetEntry(models.Model):
    """One line of a budget's ledger; rows are only ever inserted.

    `amount` is positive except for an allocation that cuts the budget. `available_after`
    is the budget's available balance once the entry applied, so the ledger reads as a
    statement.
    """

    id = models.BigAutoField(primary_key=True)
    budget = models.ForeignKey(SubsidyBudget, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=16, choices=BudgetEntryKind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    available_after = models.DecimalField(max_digits=14, decimal_places=2)
    coupon = models.ForeignKey(
        "crm.Coupon", null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="allocation") | models.Q(amount__gt=0),
                name="budgetentry_positive_unless_allocation",
            ),
            models.CheckConstraint(
                condition=models.Q(available_after__gte=0), name="budgetentry_balance_not_negative"
            ),
        ]


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved by HQ"
    CLOSED = "closed", "Closed"


class Campaign(models.Model):
    """A subsidy campaign paid from one regional budget, targeting stores of that region by
    RFM segment, with a holdout group for measuring its effect.

    Subsidy per store: X = a + Y^t x (b - a) (`floor_a`, `cap_b`, `exponent_t`).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=200)
    budget = models.ForeignKey(SubsidyBudget, on_delete=models.PROTECT, related_name="campaigns")
    segments = models.JSONField(default=list, blank=True, help_text="Empty: every segment.")
    holdout_share = models.FloatField()
    floor_a = models.DecimalField(max_digits=10, decimal_places=2)
    cap_b = models.DecimalField(max_digits=10, decimal_places=2)
    exponent_t = models.FloatField()
    starts_on = models.DateField()
    ends_on = models.DateField()
    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(floor_a__gte=0, cap_b__gte=models.F("floor_a")),
                name="campaign_floor_below_cap",
            ),
            models.CheckConstraint(
                condition=models.Q(holdout_share__gte=0, holdout_share__lt=1),
                name="campaign_holdout_share_range",
            ),
            models.CheckConstraint(
                condition=models.Q(exponent_t__gt=0), name="campaign_exponent_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="campaign_window_order",
            ),
        ]


class CampaignStore(models.Model):
    """A store a campaign targets, frozen at approval: segments move with every analytics
    run, but an experiment compares fixed groups. `holdout` stores get no coupons."""

    id = models.BigAutoField(primary_key=True)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="+")
    segment = models.CharField(max_length=16, blank=True)
    holdout = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "store"], name="campaignstore_once"),
        ]
        indexes = [models.Index(fields=["store"], name="campaignstore_store")]


class CouponBatch(models.Model):
    """Up to `count` coupons of a campaign, claimable within the claim window, each usable
    for `use_days` after its claim. The face value is fixed, or (null) the campaign's
    formula for the claiming store."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="batches")
    count = models.PositiveIntegerField()
    issued = models.PositiveIntegerField(default=0)
    face_value = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    claim_opens_at = models.DateTimeField()
    claim_closes_at = models.DateTimeField()
    use_days = models.PositiveIntegerField()
    per_store_limit = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(issued__lte=models.F("count")),
                name="couponbatch_not_over_issued",
            ),
            models.CheckConstraint(
                condition=models.Q(claim_closes_at__gt=models.F("claim_opens_at")),
                name="couponbatch_claim_window_order",
            ),
            models.CheckConstraint(
                condition=models.Q(face_value__isnull=True) | models.Q(face_value__gt=0),
                name="couponbatch_face_value_positive",
            ),
        ]


class CouponState(models.TextChoices):
    CLAIMED = "claimed", "Claimed (its value is reserved)"
    USED = "used", "Used on an order"
    EXPIRED = "expired", "Expired unused (its value was released)"


class Coupon(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    code = models.CharField(max_length=16, unique=True)
    batch = models.ForeignKey(CouponBatch, on_delete=models.PROTECT, related_name="coupons")
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(max_digits=10, decimal_places=2)
    state = models.CharField(max_length=16, choices=CouponState.choices)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    claimed_at = models.DateTimeField()
    use_until = models.DateTimeField()
    # One coupon per order: the unique constraint, not a check in code, is what holds.
    order = models.OneToOneField(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="coupon"
    )
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    used_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-claimed_at"]
        indexes = [
            models.Index(fields=["batch", "store"], name="coupon_batch_store"),
            models.Index(fields=["state", "use_until"], name="coupon_state_until"),
            models.Index(fields=["store"], name="coupon_store"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(value__gt=0), name="coupon_value_positive"),
            models.CheckConstraint(
                condition=models.Q(state="used", order__isnull=False)
                | (~models.Q(state="used") & models.Q(order__isnull=True)),
                name="coupon_order_iff_used",
            ),
        ]
