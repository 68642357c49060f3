"""HTTP for the customer analytics: recomputes and their runs, churn warnings, anomalies,
the sales forecast, and HQ's rule tags (managers may read them, to know what a rule tag
means; HQ writes them)."""

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Region, Role
from accounts.permissions import IsHQ, IsHQOrReadOnly, IsOffice
from crm.analytics.jobs import analytics_recompute_job
from crm.analytics.models import AnalyticsRun, TagRule
from crm.analytics.selectors import churn_warnings, order_anomalies, sales_forecast
from crm.analytics.services import (
    TagRuleRejected,
    analytics_run_request,
    tag_rule_create,
    tag_rule_delete,
    tag_rule_update,
)
from crm.analytics.tags import OPS, RULE_FIELDS
from fieldline.pagination import PageNumberPagination


class AnalyticsRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnalyticsRun
        fields = ["id", "kind", "started_by", "started_at", "finished_at", "parameters", "counts"]


class AnalyticsRecomputeInputSerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="Default: today.")


class AnalyticsRecomputeApi(APIView):
    """Ask for a recompute of RFM segments, ABC grades, tags and churn warnings.

    The recompute runs as a background job once this request has committed; the answer is
    the recorded run, to follow at `GET /api/analytics/runs/{id}` (`finished_at` and
    `counts` are set when it has run). Without a task queue (the demo) it has run already.
    """

    permission_classes = [IsAuthenticated, IsHQ]

    @extend_schema(
        request=AnalyticsRecomputeInputSerializer, responses={202: AnalyticsRunSerializer}
    )
    def post(self, request: Request) -> Response:
        payload = AnalyticsRecomputeInputSerializer(data=request.data or {})
        payload.is_valid(raise_exception=True)
        with transaction.atomic():
            run = analytics_run_request(
                actor=request.user, as_of=payload.validated_data.get("as_of")
            )
            analytics_recompute_job.delay_on_commit(run_id=str(run.pk))
        run.refresh_from_db()
        return Response(AnalyticsRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class AnalyticsRunApi(APIView):
    """One analytics run: its parameters, when it ran and what it changed."""

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(responses={200: AnalyticsRunSerializer})
    def get(self, request: Request, pk) -> Response:
        return Response(AnalyticsRunSerializer(get_object_or_404(AnalyticsRun, pk=pk)).data)


class ChurnWarningSerializer(serializers.Serializer):
    store_id = serializers.UUIDField()
    store_name = serializers.CharField()
    region = serializers.CharField()
    owner = serializers.IntegerField(allow_null=True)
    grade = serializers.CharField()
    segment = serializers.CharField()
    orders = serializers.IntegerField()
    last_order = serializers.DateField()
    days_since_last_order = serializers.IntegerField()
    average_interval_days = serializers.FloatField()
    interval_source = serializers.ChoiceField(choices=["own", "segment", "all"])


class ChurnQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="Default: today.")


class ChurnWarningListApi(APIView):
    """Stores whose days since the last order exceed FIELDLINE["CHURN_INTERVAL_FACTOR"]
    (default 2) x their usual interval (managers: their region; HQ: all), most overdue
    first."""

    permission_classes = [IsAuthenticated, IsOffice]
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[ChurnQuerySerializer], responses={200: ChurnWarningSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        query = ChurnQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        as_of = query.validated_data.get("as_of") or timezone.localdate()
        rows = churn_warnings(actor=request.user, as_of=as_of)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(ChurnWarningSerializer(page, many=True).data)


class AnomalyQuerySerializer(serializers.Serializer):
    date = serializers.DateField()
    level = serializers.ChoiceField(choices=["store", "region"], default="store")
    flagged = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Only flagged (or unflagged)."
    )


class StoreAnomalySerializer(serializers.Serializer):
    store = serializers.UUIDField(source="key")
    store_name = serializers.CharField()
    region = serializers.CharField()
    date = serializers.DateField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    baseline_date = serializers.DateField()
    baseline_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    change = serializers.FloatField(allow_null=True, help_text="Fraction; null: no baseline.")
    flagged = serializers.BooleanField()


class RegionAnomalySerializer(serializers.Serializer):
    region = serializers.CharField(source="key")
    date = serializers.DateField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    baseline_date = serializers.DateField()
    baseline_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    change = serializers.FloatField(allow_null=True, help_text="Fraction; null: no baseline.")
    flagged = serializers.BooleanField()


class AnomalyListApi(APIView):
    """Each store's (or region's) orders on `date` against the same weekday of the previous
    week (managers: their region; HQ: all), largest drop first.

    Flagged: a drop of at least FIELDLINE["ANOMALY_DROP"] (default 0.30) from a previous-week
    amount of at least FIELDLINE["ANOMALY_MIN_BASELINE"] (default 50). Orders placed on
    Friday and Saturday are low every week (next-day delivery); comparing like weekdays means
    a Friday or Saturday is never compared with a regular weekday. With `level=region` the
    rows carry `region` instead of the store fields.
    """

    permission_classes = [IsAuthenticated, IsOffice]
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[AnomalyQuerySerializer],
        responses={200: StoreAnomalySerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        query = AnomalyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        rows = order_anomalies(actor=request.user, day=params["date"], level=params["level"])
        if params["flagged"] is not None:
            rows = [row for row in rows if row.flagged == params["flagged"]]
        serializer_class = (
            StoreAnomalySerializer if params["level"] == "store" else RegionAnomalySerializer
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


class ForecastQuerySerializer(serializers.Serializer):
    region = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Region.objects.all(),
        required=False,
        help_text="Default: the manager's region; for HQ all regions.",
    )
    sku = serializers.CharField(required=False, max_length=64, help_text="Default: all sales.")
    as_of = serializers.DateField(required=False, help_text="Default: today.")


class ForecastTypeSerializer(serializers.Serializer):
    trade_area_type = serializers.CharField()
    stores = serializers.IntegerField(help_text="Live stores of this type in the scope.")
    ordering_stores = serializers.IntegerField(help_text="Stores of this type that ordered.")
    window_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    per_store_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    forecast_amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class SalesForecastSerializer(serializers.Serializer):
    region = serializers.CharField(allow_null=True)
    sku = serializers.CharField(allow_null=True)
    as_of = serializers.DateField()
    window_days = serializers.IntegerField()
    types = ForecastTypeSerializer(many=True)
    stores_without_type = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=16, decimal_places=2)


class SalesForecastApi(APIView):
    """Sales over the next FIELDLINE["FORECAST_WINDOW_DAYS"] (default 28) days, of a region
    or of one SKU: per trade-area type, its stores x the average sales per ordering store of
    that type over the last window, with the figures it was computed from."""

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(parameters=[ForecastQuerySerializer], responses={200: SalesForecastSerializer})
    def get(self, request: Request) -> Response:
        query = ForecastQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        region = params.get("region")
        region_code = region.code if region is not None else None
        if request.user.role == Role.MANAGER:
            if region_code not in (None, request.user.region_id):
                raise PermissionDenied("Managers forecast their own region only.")
            region_code = request.user.region_id
        forecast = sales_forecast(
            actor=request.user,
            as_of=params.get("as_of") or timezone.localdate(),
            region=region_code,
            sku=params.get("sku"),
        )
        return Response(SalesForecastSerializer(forecast).data)


# --- tag rules ------------------------------------------------------------------------

CONDITIONS_HELP = (
    "All must hold. Each is {field, op, value}; fields and their operators: "
    + "; ".join(f"{name} ({', '.join(OPS[kind])})" for name, kind in RULE_FIELDS.items())
    + ". `in`, `not_in` and `contains_any` take a list; `exists` takes true or false."
)


class TagConditionSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=list(RULE_FIELDS))
    op = serializers.CharField()
    value = serializers.JSONField()


class TagRuleSerializer(serializers.ModelSerializer):
    conditions = TagConditionSerializer(many=True, help_text=CONDITIONS_HELP)

    class Meta:
        model = TagRule
        fields = [
            "id",
            "name",
            "description",
            "conditions",
            "active",
            "created_by",
            "created_at",
            "updated_at",
        ]


class TagRuleInputSerializer(serializers.Serializer):
    """Shapes only; the conditions' meaning is checked by the service."""

    name = serializers.CharField(max_length=50)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    conditions = serializers.JSONField(help_text=CONDITIONS_HELP)
    active = serializers.BooleanField(required=False)


class TagRuleListApi(APIView):
    """Rule tags: stores matching all of a rule's conditions carry its tag after the next
    analytics recompute."""

    permission_classes = [IsAuthenticated, IsOffice, IsHQOrReadOnly]
    pagination_class = PageNumberPagination

    @extend_schema(responses={200: TagRuleSerializer(many=True)})
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(TagRule.objects.order_by("name"), request, view=self)
        return paginator.get_paginated_response(TagRuleSerializer(page, many=True).data)

    @extend_schema(request=TagRuleInputSerializer, responses={201: TagRuleSerializer})
    def post(self, request: Request) -> Response:
        payload = TagRuleInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            rule = tag_rule_create(actor=request.user, **payload.validated_data)
        except TagRuleRejected as error:
            raise ValidationError(error.errors) from error
        return Response(TagRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class TagRuleDetailApi(APIView):
    permission_classes = [IsAuthenticated, IsOffice, IsHQOrReadOnly]

    @extend_schema(responses={200: TagRuleSerializer})
    def get(self, request: Request, pk) -> Response:
        return Response(TagRuleSerializer(get_object_or_404(TagRule, pk=pk)).data)

    @extend_schema(request=TagRuleInputSerializer(partial=True), responses={200: TagRuleSerializer})
    def patch(self, request: Request, pk) -> Response:
        rule = get_object_or_404(TagRule, pk=pk)
        payload = TagRuleInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        try:
            rule = tag_rule_update(actor=request.user, rule=rule, changes=payload.validated_data)
        except TagRuleRejected as error:
            raise ValidationError(error.errors) from error
        return Response(TagRuleSerializer(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk) -> Response:
        tag_rule_delete(actor=request.user, rule=get_object_or_404(TagRule, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
