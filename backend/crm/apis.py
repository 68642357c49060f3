"""HTTP for the customer analytics: parse, authorize, call a service or selector, render."""

import io
import shutil
import tempfile

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsHQ, IsOffice
from crm.imports import OrderFileError
from crm.models import AnalyticsRun
from crm.selectors import churn_warnings
from crm.services import analytics_recompute, orders_import
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
        upload = request.data.get("file")
        if upload is None or isinstance(upload, str):
            raise ValidationError({"file": ["Send a CSV file as the body or as `file`."]})
        binary = getattr(upload, "file", upload)
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
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
    """Recompute RFM segments, ABC grades and churn warnings now; answers the recorded run."""

    permission_classes = [IsAuthenticated, IsHQ]

    @extend_schema(
        request=AnalyticsRecomputeInputSerializer, responses={201: AnalyticsRunSerializer}
    )
    def post(self, request: Request) -> Response:
        payload = AnalyticsRecomputeInputSerializer(data=request.data or {})
        payload.is_valid(raise_exception=True)
        result = analytics_recompute(actor=request.user, as_of=payload.validated_data.get("as_of"))
        return Response(AnalyticsRunSerializer(result.run).data, status=status.HTTP_201_CREATED)


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
