"""HTTP for subsidies and coupons: parse, scope, call a service or selector, render.

Who does what: HQ creates budgets, allocates to them, creates, approves and closes
campaigns and creates coupon batches; managers see their region's budgets, ledgers,
campaigns, coupons and alerts; a coupon is claimed for a store, and used on its order, by
whoever may see that store — its rep, the region's manager or HQ (the rep is the one
talking to the owner). Ids out of the caller's scope answer 404. A refused write answers
400 with `{field: [message], "code": ...}` when the input breaks a rule, and 409 with
`{"detail": message, "code": ...}` when a budget, a batch, a store's limit or an order's
one coupon is used up or the record moved on; nothing is written either way.
"""

import datetime as dt
from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Region
from accounts.permissions import IsHQ, IsHQOrReadOnly, IsOffice
from accounts.scope import scoped_queryset
from crm.models import (
    BudgetEntry,
    Campaign,
    Coupon,
    CouponBatch,
    CouponState,
    Order,
    SubsidyBudget,
)
from crm.subsidy_selectors import (
    batch_list,
    budget_ledger,
    budget_list,
    campaign_list,
    coupon_list,
    subsidy_alerts,
    subsidy_quote,
)
from crm.subsidy_services import (
    SubsidyError,
    SubsidyErrorCode,
    batch_create,
    budget_allocate,
    budget_create,
    campaign_approve,
    campaign_close,
    campaign_create,
    coupon_claim,
    coupon_use,
)
from fieldline.pagination import PageNumberPagination
from stores.models import Segment, Store

EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2099, 12, 31)


def plausible_date(value: dt.date) -> None:
    """Budget and campaign dates stay in this century, so date arithmetic never overflows."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise serializers.ValidationError(f"Must be between {EARLIEST} and {LATEST}.")


class SubsidyRefused(APIException):
    """A `SubsidyError` as an answer: 400 names the field, 409 is about the whole request."""

    def __init__(self, error: SubsidyError):
        self.status_code = error.status
        if error.status == status.HTTP_400_BAD_REQUEST:
            detail = {error.field: [error.message], "code": str(error.code)}
        else:
            detail = {"detail": error.message, "code": str(error.code)}
        super().__init__(detail=detail)


class SubsidyConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=SubsidyErrorCode.choices)


# --- budgets --------------------------------------------------------------------------


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


class SubsidyBudgetListApi(ListAPIView):
    """Subsidy budgets (managers: their region; HQ: all); HQ creates one per region and
    period (periods of a region do not overlap), opened with its first allocation."""

    permission_classes = [IsAuthenticated, IsOffice, IsHQOrReadOnly]
    serializer_class = SubsidyBudgetSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SubsidyBudget.objects.none()
        return budget_list(actor=self.request.user).order_by("region_id", "-period_start")

    @extend_schema(
        request=SubsidyBudgetCreateSerializer,
        responses={201: SubsidyBudgetSerializer, 409: SubsidyConflictSerializer},
    )
    def post(self, request: Request) -> Response:
        payload = SubsidyBudgetCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            budget = budget_create(actor=request.user, **payload.validated_data)
        except SubsidyError as error:
            raise SubsidyRefused(error) from error
        return Response(SubsidyBudgetSerializer(budget).data, status=status.HTTP_201_CREATED)


class SubsidyBudgetDetailApi(RetrieveAPIView):
    """One budget: its amount, what is reserved and used, and what is available."""

    permission_classes = [IsAuthenticated, IsOffice]
    serializer_class = SubsidyBudgetSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SubsidyBudget.objects.none()
        return budget_list(actor=self.request.user)


class SubsidyBudgetAllocateApi(APIView):
    """Add to a budget or cut it (HQ); a cut below what is reserved or used answers 409."""

    permission_classes = [IsAuthenticated, IsHQ]

    @extend_schema(
        request=BudgetAllocationSerializer,
        responses={201: SubsidyBudgetSerializer, 409: SubsidyConflictSerializer},
    )
    def post(self, request: Request, pk) -> Response:
        budget = get_object_or_404(budget_list(actor=request.user), pk=pk)
        payload = BudgetAllocationSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            budget_allocate(actor=request.user, budget_id=budget.pk, **payload.validated_data)
        except SubsidyError as error:
            raise SubsidyRefused(error) from error
        budget.refresh_from_db()
        return Response(SubsidyBudgetSerializer(budget).data, status=status.HTTP_201_CREATED)


class SubsidyBudgetLedgerApi(ListAPIView):
    """A budget's ledger, oldest entry first: allocations, claims (reserving a coupon's
    value), releases (an unused coupon expired) and uses (a coupon redeemed)."""

    permission_classes = [IsAuthenticated, IsOffice]
    serializer_class = BudgetEntrySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BudgetEntry.objects.none()
        budget = get_object_or_404(budget_list(actor=self.request.user), pk=self.kwargs["pk"])
        return budget_ledger(actor=self.request.user, budget_id=budget.pk)


# --- campaigns ------------------------------------------------------------------------


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


class CampaignListApi(ListAPIView):
    """Subsidy campaigns (reps: the approved and closed ones of their region; managers:
    their region's; HQ: all), newest first; HQ creates drafts."""

    permission_classes = [IsAuthenticated, IsHQOrReadOnly]
    serializer_class = CampaignSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Campaign.objects.none()
        return campaign_list(actor=self.request.user).order_by("-created_at", "pk")

    @extend_schema(request=CampaignCreateSerializer, responses={201: CampaignSerializer})
    def post(self, request: Request) -> Response:
        payload = CampaignCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        for name in ("exponent_t", "holdout_share"):
            if name in data:
                data[name] = float(data[name])
        try:
            campaign = campaign_create(actor=request.user, **data)
        except SubsidyError as error:
            raise SubsidyRefused(error) from error
        return Response(CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)


class CampaignDetailApi(RetrieveAPIView):
    """One campaign you see."""

    serializer_class = CampaignSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Campaign.objects.none()
        return campaign_list(actor=self.request.user)


class CampaignTransitionApi(APIView):
    """Base of approve and close: HQ only; a campaign not in the right status answers 409."""

    permission_classes = [IsAuthenticated, IsHQ]
    transition = staticmethod(campaign_approve)

    @extend_schema(
        request=None, responses={200: CampaignSerializer, 409: SubsidyConflictSerializer}
    )
    def post(self, request: Request, pk) -> Response:
        campaign = get_object_or_404(campaign_list(actor=request.user), pk=pk)
        try:
            campaign = self.transition(actor=request.user, campaign_id=campaign.pk)
        except SubsidyError as error:
            raise SubsidyRefused(error) from error
        campaign = campaign_list(actor=request.user).get(pk=campaign.pk)
        return Response(CampaignSerializer(campaign).data)


class CampaignApproveApi(CampaignTransitionApi):
    """Approve a draft: its target stores (region x segments) are frozen now and split into
    treated and holdout stores, deterministically by store and campaign."""

    transition = staticmethod(campaign_approve)


class CampaignCloseApi(CampaignTransitionApi):
    """Close an approved campaign: no more claims; claimed coupons stay usable."""

    transition = staticmethod(campaign_close)


class QuoteQuerySerializer(serializers.Serializer):
    store = serializers.UUIDField()


class SubsidyQuoteSerializer(serializers.Serializer):
    store_id = serializers.UUIDField()
    segment = serializers.CharField()
    price_sensitivity = serializers.FloatField()
    potential = serializers.FloatField()
    score = serializers.FloatField(help_text="Y, the weighted score in [0, 1].")
    value = serializers.DecimalField(max_digits=10, decimal_places=2, help_text="X.")


class CampaignQuoteApi(APIView):
    """What the campaign's formula X = a + Y^t x (b - a) gives a store today, with the parts
    of Y (price sensitivity by RFM segment, site potential); a batch without a face value
    issues coupons of this value."""

    @extend_schema(parameters=[QuoteQuerySerializer], responses={200: SubsidyQuoteSerializer})
    def get(self, request: Request, pk) -> Response:
        campaign = get_object_or_404(campaign_list(actor=request.user), pk=pk)
        query = QuoteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        store = get_object_or_404(
            scoped_queryset(user=request.user, model=Store).filter(deleted=False),
            pk=query.validated_data["store"],
        )
        quote = subsidy_quote(campaign=campaign, store_id=store.pk)
        if quote is None:
            raise ValidationError({"store": ["No such store."]})
        return Response(SubsidyQuoteSerializer(quote).data)


# --- batches --------------------------------------------------------------------------


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


class CouponBatchListApi(ListAPIView):
    """Coupon batches of the campaigns you see, newest first (`?campaign=` for one); HQ
    creates them for an approved campaign."""

    permission_classes = [IsAuthenticated, IsHQOrReadOnly]
    serializer_class = CouponBatchSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CouponBatch.objects.none()
        query = BatchFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        batches = batch_list(actor=self.request.user)
        if "campaign" in query.validated_data:
            batches = batches.filter(campaign_id=query.validated_data["campaign"])
        return batches.order_by("-created_at", "pk")

    @extend_schema(parameters=[BatchFilterSerializer])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=CouponBatchCreateSerializer, responses={201: CouponBatchSerializer})
    def post(self, request: Request) -> Response:
        payload = CouponBatchCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        campaign = get_object_or_404(campaign_list(actor=request.user), pk=data.pop("campaign"))
        try:
            batch = batch_create(actor=request.user, campaign_id=campaign.pk, **data)
        except SubsidyError as error:
            raise SubsidyRefused(error) from error
        return Response(CouponBatchSerializer(batch).data, status=status.HTTP_201_CREATED)


# --- coupons --------------------------------------------------------------------------


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


class CouponListApi(ListAPIView):
    """Coupons of the stores you see (reps: the stores they own), newest claim first."""

    serializer_class = CouponSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Coupon.objects.none()
        query = CouponFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = {
            f"{name}_id" if name != "state" else name: value
            for name, value in query.validated_data.items()
        }
        return coupon_list(actor=self.request.user).filter(**filters).order_by("-claimed_at", "pk")

    @extend_schema(parameters=[CouponFilterSerializer])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class CouponClaimApi(APIView):
    """Claim a coupon of a batch for a store you see; its value is reserved on the
    campaign's budget at once. 409 when the budget cannot pay it, the batch is used up or
    the store reached its limit; 400 outside the claim window or for a store the campaign
    does not target (or holds out)."""

    @extend_schema(
        request=CouponClaimSerializer,
        responses={201: CouponSerializer, 409: SubsidyConflictSerializer},
    )
    def post(self, request: Request) -> Response:
        payload = CouponClaimSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        batch = get_object_or_404(
            batch_list(actor=request.user), pk=payload.validated_data["batch"]
        )
        store = get_object_or_404(
            scoped_queryset(user=request.user, model=Store).filter(deleted=False),
            pk=payload.validated_data["store"],
        )
        try:
            coupon = coupon_claim(actor=request.user, batch_id=batch.pk, store_id=store.pk)
        except SubsidyError as error:
            raise SubsidyRefused(error) from error
        return Response(CouponSerializer(coupon).data, status=status.HTTP_201_CREATED)


class CouponUseApi(APIView):
    """Redeem a claimed coupon on an order of its store dated within its use window; the
    order may carry one coupon, and its margin must stay above the floor. Repeating the
    same use answers the coupon again."""

    @extend_schema(
        request=CouponUseSerializer,
        responses={200: CouponSerializer, 409: SubsidyConflictSerializer},
    )
    def post(self, request: Request, pk) -> Response:
        coupon = get_object_or_404(coupon_list(actor=request.user), pk=pk)
        payload = CouponUseSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        stores = scoped_queryset(user=request.user, model=Store)
        order = get_object_or_404(
            Order.objects.filter(store__in=stores.values("pk")), pk=payload.validated_data["order"]
        )
        try:
            coupon = coupon_use(actor=request.user, coupon_id=coupon.pk, order_id=order.pk)
        except SubsidyError as error:
            raise SubsidyRefused(error) from error
        return Response(CouponSerializer(coupon).data)


# --- alerts ---------------------------------------------------------------------------


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


class SubsidyAlertListApi(APIView):
    """Budgets nearly spent (at least FIELDLINE["SUBSIDY_BUDGET_ALERT_SHARE"], default 0.9,
    reserved or used) and campaigns whose spend is not followed by GMV growth against their
    holdout (managers: their region; HQ: all)."""

    permission_classes = [IsAuthenticated, IsOffice]
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[AlertQuerySerializer], responses={200: SubsidyAlertSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        query = AlertQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        as_of = query.validated_data.get("as_of") or timezone.localdate()
        alerts = subsidy_alerts(actor=request.user, as_of=as_of)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(alerts, request, view=self)
        return paginator.get_paginated_response(SubsidyAlertSerializer(page, many=True).data)
