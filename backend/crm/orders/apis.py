"""HTTP for the orders import: a CSV file at once, or in the background as a job."""

import io
import shutil
import tempfile
from typing import BinaryIO

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiTypes, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsHQ
from crm.orders.imports import OrderFileError
from crm.orders.models import OrderImportJob
from crm.orders.selectors import order_import_job_list, order_import_job_progress
from crm.orders.services import order_import_job_create, orders_import
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
