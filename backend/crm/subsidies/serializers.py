"""Input and output shapes of the subsidies and coupons HTTP API (validation of dates,
amounts and choices; rules that need the database are the services')."""

import datetime as dt
from decimal import Decimal

from rest_framework import serializers

from accounts.models import Region
from crm.subsidies.errors import SubsidyErrorCode
from crm.subsidies.models import (
    BudgetEntry,
    Campaign,
    Coupon,
    CouponBatch,
    CouponState,
    SubsidyBudget,
)
from stores.models import Segment

EARLIEST = dt.date(2000, 1, 1)


LATEST = dt.date(2099, 12, 31)


def plausible_date(value: dt.date) -> None:
    """Budget and campaign dates stay in this century, so date arithmetic never overflows."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise serializers.ValidationError(f"Must be between {EARLIEST} and {LATEST}.")


class SubsidyConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=SubsidyErrorCode.choices)


class SubsidyBudgetSerializer(serializers.ModelSerializer):
    available = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = SubsidyBudget
        fields = [
            "id",
            "region",
            "period_start",
            "period_end",
            "amount",
            "reserved",
            "used",
            "available",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class SubsidyBudgetCreateSerializer(serializers.Serializer):
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all())
    period_start = serializers.DateField(validators=[plausible_date])
    period_end = serializers.DateField(validators=[plausible_date])
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="The first allocation.",
    )
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class BudgetAllocationSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Positive adds; negative cuts (not below use)."
    )
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class BudgetEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = BudgetEntry
        fields = [
            "id",
            "kind",
            "amount",
            "available_after",
            "coupon",
            "actor",
            "note",
            "created_at",
        ]
        read_only_fields = fields


class CampaignSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="budget.region_id", read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "budget",
            "region",
            "segments",
            "holdout_share",
            "floor_a",
            "cap_b",
            "exponent_t",
            "starts_on",
            "ends_on",
            "status",
            "created_by",
            "created_at",
            "approved_by",
            "approved_at",
            "closed_at",
        ]
        read_only_fields = fields


class CampaignCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    budget = serializers.PrimaryKeyRelatedField(queryset=SubsidyBudget.objects.all())
    segments = serializers.ListField(
        child=serializers.ChoiceField(choices=Segment.choices),
        required=False,
        default=list,
        max_length=len(Segment.choices),
        help_text="RFM segments targeted; empty: every store of the budget's region.",
    )
    floor_a = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    cap_b = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"))
    exponent_t = serializers.DecimalField(
        max_digits=6,
        decimal_places=3,
        min_value=Decimal("0.01"),
        max_value=100,
        required=False,
        help_text='Default: FIELDLINE["SUBSIDY_EXPONENT_T"].',
    )
    holdout_share = serializers.DecimalField(
        max_digits=4,
        decimal_places=3,
        min_value=0,
        max_value=Decimal("0.9"),
        required=False,
        help_text='Default: FIELDLINE["SUBSIDY_HOLDOUT_SHARE"].',
    )
    starts_on = serializers.DateField(validators=[plausible_date])
    ends_on = serializers.DateField(validators=[plausible_date])


class QuoteQuerySerializer(serializers.Serializer):
    store = serializers.UUIDField()


class SubsidyQuoteSerializer(serializers.Serializer):
    store_id = serializers.UUIDField()
    segment = serializers.CharField()
    price_sensitivity = serializers.FloatField()
    potential = serializers.FloatField()
    score = serializers.FloatField(help_text="Y, the weighted score in [0, 1].")
    value = serializers.DecimalField(max_digits=10, decimal_places=2, help_text="X.")


class CouponBatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = CouponBatch
        fields = [
            "id",
            "campaign",
            "count",
            "issued",
            "face_value",
            "claim_opens_at",
            "claim_closes_at",
            "use_days",
            "per_store_limit",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class CouponBatchCreateSerializer(serializers.Serializer):
    campaign = serializers.UUIDField()
    count = serializers.IntegerField(min_value=1, max_value=1_000_000)
    face_value = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
        help_text="Fixed value of each coupon; null: the campaign's formula per store.",
    )
    claim_opens_at = serializers.DateTimeField(
        required=False, validators=[plausible_date], help_text="Default: now."
    )
    claim_days = serializers.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        help_text='Default and maximum: FIELDLINE["COUPON_CLAIM_WINDOW_DAYS"] (90).',
    )
    use_days = serializers.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        help_text='Default and maximum: FIELDLINE["COUPON_USE_WINDOW_DAYS"] (7).',
    )
    per_store_limit = serializers.IntegerField(
        min_value=1,
        max_value=1000,
        required=False,
        help_text='Default: FIELDLINE["COUPON_PER_STORE_LIMIT"] (1).',
    )


class BatchFilterSerializer(serializers.Serializer):
    campaign = serializers.UUIDField(required=False)


class CouponSerializer(serializers.ModelSerializer):
    campaign = serializers.UUIDField(source="batch.campaign_id", read_only=True)

    class Meta:
        model = Coupon
        fields = [
            "id",
            "code",
            "batch",
            "campaign",
            "store",
            "value",
            "state",
            "claimed_by",
            "claimed_at",
            "use_until",
            "order",
            "used_by",
            "used_at",
            "expired_at",
        ]
        read_only_fields = fields


class CouponClaimSerializer(serializers.Serializer):
    batch = serializers.UUIDField()
    store = serializers.UUIDField()


class CouponUseSerializer(serializers.Serializer):
    order = serializers.UUIDField(help_text="An imported order of the coupon's store.")


class CouponFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=CouponState.choices, required=False)
    store = serializers.UUIDField(required=False)
    batch = serializers.UUIDField(required=False)


class AlertQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(
        required=False, validators=[plausible_date], help_text="Default: today."
    )


class SubsidyAlertSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["budget_nearly_spent", "spend_without_growth"])
    region = serializers.CharField()
    budget_id = serializers.UUIDField()
    campaign_id = serializers.UUIDField(allow_null=True)
    message = serializers.CharField()
    share_committed = serializers.FloatField(allow_null=True)
    spend = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    treated_growth = serializers.FloatField(allow_null=True)
    holdout_growth = serializers.FloatField(allow_null=True)
    uplift = serializers.FloatField(allow_null=True)
