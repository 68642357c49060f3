"""Orders imported from the ERP: the sales facts the analytics are computed from."""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    external_id = models.CharField(max_length=64, unique=True)
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="orders")
    order_date = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta:
        indexes = [models.Index(fields=["store", "order_date"], name="order_store_date")]


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])


class AnalyticsRunKind(models.TextChoices):
    RECOMPUTE = "recompute", "RFM segments, ABC grades and churn warnings"


class AnalyticsRun(models.Model):
    """One recomputation of the customer analytics: with which thresholds, as of which day,
    and what it changed, so that a segment or grade on a store can be traced to its run."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    kind = models.CharField(max_length=16, choices=AnalyticsRunKind.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    parameters = models.JSONField(default=dict)
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at"]


# --- subsidies and coupons ------------------------------------------------------------
# Office-side records (never synced to phones): regional budgets kept as an append-only
# ledger, campaigns approved by HQ with a frozen target group and holdout, coupon batches
# and the coupons stores claim from them. Writes go through crm.subsidy_services only.


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


# --- call center and tag rules ---------------------------------------------------------
# Office-side records: calls and tag rules are worked in the office, never on phones, so
# they are plain models, not syncable ones. What a call leaves for a rep (a follow-up) is
# written through the sync engine.


class CallQueue(models.TextChoices):
    REACTIVATION = "reactivation", "Reactivation of a churn warning"
    SURVEY_BY_PHONE = "survey_by_phone", "Site survey by phone"
    NEW_CUSTOMER_CALLBACK = "new_customer_callback", "New-customer callback"


class CallStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLAIMED = "claimed", "Claimed by an agent"
    DONE = "done", "Done"
    EXPIRED = "expired", "Expired unclaimed"


class CallOutcome(models.TextChoices):
    """How a call ended; agents pick one to complete a call."""

    REACHED_ORDER_PLACED = "reached_order_placed", "Reached: placed an order"
    REACHED_INTERESTED = "reached_interested", "Reached: interested, no order yet"
    REACHED_NO_INTEREST = "reached_no_interest", "Reached: not interested"
    REACHED_SURVEY_DONE = "reached_survey_done", "Reached: survey questions answered"
    CALLBACK_REQUESTED = "callback_requested", "Asked to be called back"
    NO_ANSWER = "no_answer", "No answer"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    STORE_CLOSED = "store_closed", "Store closed for good"


OPEN_CALL_STATUSES = (CallStatus.OPEN, CallStatus.CLAIMED)


class Call(models.Model):
    """One call the call center owes a store, from a queue, with its SLA deadline."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    queue = models.CharField(max_length=24, choices=CallQueue.choices)
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="calls")
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    due_at = models.DateTimeField(help_text="SLA deadline: created_at + the queue's SLA hours.")
    status = models.CharField(max_length=8, choices=CallStatus.choices, default=CallStatus.OPEN)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=24, choices=CallOutcome.choices, blank=True)
    notes = models.TextField(blank=True, max_length=2000)
    next_contact_on = models.DateField(null=True, blank=True)
    # The follow-up the outcome left for the store's rep (a syncable record's id).
    followup_id = models.UUIDField(null=True, blank=True)
    # New-customer callbacks: which day after the first order this call is for.
    callback_day = models.PositiveSmallIntegerField(null=True, blank=True)
    run = models.ForeignKey(
        AnalyticsRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )

    class Meta:
        ordering = ["due_at", "created_at", "id"]
        indexes = [
            models.Index(fields=["queue", "status", "due_at"], name="call_queue_status_due"),
            models.Index(fields=["store", "queue", "created_at"], name="call_store_queue_created"),
        ]
        constraints = [
            # A store waits in a queue at most once: generators and races cannot double it.
            models.UniqueConstraint(
                fields=["store", "queue"],
                condition=models.Q(status__in=["open", "claimed"]),
                name="call_one_open_per_store_queue",
            ),
            models.UniqueConstraint(
                fields=["store", "callback_day"],
                condition=models.Q(queue="new_customer_callback"),
                name="call_one_callback_per_day",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="done") | ~models.Q(outcome=""),
                name="call_done_has_outcome",
            ),
        ]


class TagRule(models.Model):
    """An HQ-defined rule tag: stores matching every condition carry the tag after the next
    analytics recompute. Conditions are data ({field, op, value}), never code."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=50, unique=True)
    description = models.CharField(max_length=300, blank=True)
    conditions = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]


# --- orders import jobs ---------------------------------------------------------------


class OrderImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class OrderImportJob(models.Model):
    """An orders CSV imported by a background job (`crm.jobs.run_order_import`): the upload is
    kept in the default storage (what was imported stays on record); the report is the
    synchronous import's. One job at a time per file content: the constraint says so."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="order_import_jobs"
    )
    status = models.CharField(
        max_length=16, choices=OrderImportStatus.choices, default=OrderImportStatus.QUEUED
    )
    rows_total = models.PositiveBigIntegerField(null=True, blank=True)
    rows_done = models.PositiveBigIntegerField(default=0)
    report = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["requested_by", "-created_at"], name="order_import_job_owner"),
            models.Index(fields=["-created_at"], name="order_import_job_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["sha256"],
                condition=models.Q(status__in=["queued", "running"]),
                name="order_import_job_one_active_per_file",
            )
        ]

    def __str__(self) -> str:
        return f"orders import {self.pk} ({self.status})"
