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

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsHQ, IsHQOrReadOnly, IsOffice
from accounts.scope import scoped_queryset
from crm.orders.models import Order
from crm.subsidies.errors import SubsidyError
from crm.subsidies.models import (
    BudgetEntry,
    Campaign,
    Coupon,
    CouponBatch,
    SubsidyBudget,
)
from crm.subsidies.selectors import (
    batch_list,
    budget_ledger,
    budget_list,
    campaign_list,
    coupon_list,
    subsidy_alerts,
    subsidy_quote,
)
from crm.subsidies.serializers import (
    AlertQuerySerializer,
    BatchFilterSerializer,
    BudgetAllocationSerializer,
    BudgetEntrySerializer,
    CampaignCreateSerializer,
    CampaignSerializer,
    CouponBatchCreateSerializer,
    CouponBatchSerializer,
    CouponClaimSerializer,
    CouponFilterSerializer,
    CouponSerializer,
    CouponUseSerializer,
    QuoteQuerySerializer,
    SubsidyAlertSerializer,
    SubsidyBudgetCreateSerializer,
    SubsidyBudgetSerializer,
    SubsidyConflictSerializer,
    SubsidyQuoteSerializer,
)
from crm.subsidies.services import (
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
from stores.models import Store


class SubsidyRefused(APIException):
    """A `SubsidyError` as an answer: 400 names the field, 409 is about the whole request."""

    def __init__(self, error: SubsidyError):
        self.status_code = error.status
        if error.status == status.HTTP_400_BAD_REQUEST:
            detail = {error.field: [error.message], "code": str(error.code)}
        else:
            detail = {"detail": error.message, "code": str(error.code)}
        super().__init__(detail=detail)


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
