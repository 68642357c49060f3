"""HTTP for the customer analytics: parse, authorize, call a service or selector, render."""

import io
import shutil
import tempfile
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiTypes, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Region, Role
from accounts.permissions import IsHQ, IsOffice
from crm.imports import OrderFileError
from crm.jobs import analytics_recompute_job
from crm.models import AnalyticsRun, OrderImportJob
from crm.selectors import (
    churn_warnings,
    order_anomalies,
    order_import_job_list,
    order_import_job_progress,
    sales_forecast,
)
from crm.services import analytics_run_request, order_import_job_create, orders_import
from fieldline.pagination import PageNumberPagination


class CSVBodyParser(BaseParser):
    """A CSV file sent as the raw body: spooled to disk past the in-memory upload size,
    never read into memory whole."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        # The view reads and closes it after the parser has returned.
        spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE
        )
        if stream is not None:
            shutil.copyfileobj(stream, spool, 64 * 1024)
        spool.seek(0)
        return {"file": spool}


def uploaded_file(request: Request) -> BinaryIO:
    """The CSV of an import request, sent as the raw body or as a multipart `file`."""
    upload = request.data.get("file")
    if upload is None or isinstance(upload, str):
        raise ValidationError({"file": ["Send a CSV file as the body or as `file`."]})
    return getattr(upload, "file", upload)


class RejectedRowSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    order_id = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


class OrderImportReportSerializer(serializers.Serializer):
    rows_read = serializers.IntegerField()
    rows_rejected = serializers.IntegerField()
    orders_created = serializers.IntegerField()
    lines_created = serializers.IntegerField()
    orders_skipped = serializers.IntegerField(help_text="Already imported earlier.")
    rejected = RejectedRowSerializer(many=True, help_text="The first rejected rows.")


class OrdersImportApi(APIView):
    """Import order lines from CSV (the raw body as text/csv, or a multipart `file`).

    Columns: order_id, store_id or store_phone, order_date (YYYY-MM-DD), sku, quantity,
    amount; one row per order line. Importing the same file again changes nothing.
    """

    permission_classes = [IsAuthenticated, IsHQ]
    parser_classes = [CSVBodyParser, MultiPartParser]

    @extend_schema(
        request={"text/csv": OpenApiTypes.BINARY, "multipart/form-data": OpenApiTypes.OBJECT},
        responses={200: OrderImportReportSerializer},
    )
    def post(self, request: Request) -> Response:
        text = io.TextIOWrapper(uploaded_file(request), encoding="utf-8-sig", newline="")
        try:
            report = orders_import(csv_text=text)
        except OrderFileError as error:
            raise ValidationError({"file": [str(error)]}) from error
        finally:
            text.close()
        return Response(OrderImportReportSerializer(report).data)


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


# --- orders import jobs ---------------------------------------------------------------


class OrderImportJobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField(
        help_text="Share of rows imported, 0 to 1; null until the rows are counted."
    )
    report = serializers.SerializerMethodField(
        help_text="What the import did (as the synchronous import answers); null until done."
    )

    class Meta:
        model = OrderImportJob
        fields = [
            "id",
            "status",
            "sha256",
            "size_bytes",
            "rows_done",
            "rows_total",
            "progress",
            "report",
            "error",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_progress(self, job: OrderImportJob) -> float | None:
        return order_import_job_progress(job=job)

    @extend_schema_field(OrderImportReportSerializer(allow_null=True))
    def get_report(self, job: OrderImportJob) -> dict | None:
        return job.report


class OrderImportJobListApi(ListAPIView):
    """Recent orders import jobs, newest first (GET); import an orders CSV in the background
    (POST, any size up to the import body limit): the answer is the job, to poll until its
    `status` is `done` or `failed`. Same file format as `POST /api/imports/orders`. The
    same file again while its import is queued or running answers that job instead of
    starting another."""

    permission_classes = [IsAuthenticated, IsHQ]
    parser_classes = [CSVBodyParser, MultiPartParser]
    serializer_class = OrderImportJobSerializer
    pagination_class = PageNumberPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OrderImportJob.objects.none()
        return order_import_job_list(actor=self.request.user)

    @extend_schema(
        operation_id="imports_orders_jobs_create",
        request={"text/csv": OpenApiTypes.BINARY, "multipart/form-data": OpenApiTypes.OBJECT},
        responses={202: OrderImportJobSerializer},
    )
    def post(self, request: Request) -> Response:
        upload = uploaded_file(request)
        try:
            job, _created = order_import_job_create(actor=request.user, upload=upload)
        except OrderFileError as error:
            raise ValidationError({"file": [str(error)]}) from error
        finally:
            upload.close()
        job.refresh_from_db()
        return Response(OrderImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class OrderImportJobApi(APIView):
    """One orders import job: its status, progress and, once done, its report."""

    permission_classes = [IsAuthenticated, IsHQ]

    @extend_schema(responses={200: OrderImportJobSerializer})
    def get(self, request: Request, pk) -> Response:
        job = get_object_or_404(order_import_job_list(actor=request.user), pk=pk)
        return Response(OrderImportJobSerializer(job).data)
