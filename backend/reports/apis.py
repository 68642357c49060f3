from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsOffice
from accounts.scope import scope_filter
from fieldline.conf import fieldline_settings
from fieldline.replicas import replica_stream, replica_view
from reports.exports import export_download_name, store_geojson, survey_csv
from reports.models import CsvDialect, ExportKind
from reports.selectors import GroupBy, completeness_report, export_job_list
from reports.serializers import (
    CompletenessQuerySerializer,
    CompletenessReportSerializer,
    ExportJobRequestSerializer,
    ExportJobSerializer,
)
from reports.services import (
    ExportExpired,
    ExportFiltersInvalid,
    ExportNotReady,
    export_job_create,
    export_job_file,
    export_region,
)
from stores.filters import StoreFilter
from stores.models import Store
from surveys.filters import SurveyFilter
from surveys.models import SiteSurvey
from surveys.selectors import review_queue, survey_list
from surveys.serializers import ReviewQueueEntrySerializer


class CompletenessReportApi(APIView):
    """Survey completeness in your scope, grouped by region, rep or trade-area type, with the
    stores that have no survey or only a stale one."""

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(
        parameters=[
            OpenApiParameter("group_by", str, enum=[g.value for g in GroupBy], required=True)
        ],
        responses={200: CompletenessReportSerializer},
    )
    @replica_view
    def get(self, request: Request) -> Response:
        query = CompletenessQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        group_by = GroupBy(query.validated_data["group_by"])
        rows = completeness_report(actor=request.user, group_by=group_by)
        body = {
            "group_by": group_by.value,
            "stale_survey_days": fieldline_settings.STALE_SURVEY_DAYS,
            "results": rows,
        }
        return Response(CompletenessReportSerializer(body).data)


class ReviewQueueApi(ListAPIView):
    """Surveys waiting for review in your scope, least complete first."""

    permission_classes = [IsAuthenticated, IsOffice]
    serializer_class = ReviewQueueEntrySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SiteSurvey.objects.none()
        return review_queue(actor=self.request.user)

    @replica_view
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


def filter_parameters(filterset_class) -> list[OpenApiParameter]:
    """An export's query parameters are its list's filters (documented as strings)."""
    return [OpenApiParameter(name, str) for name in filterset_class.base_filters]


class SurveyCsvExportApi(GenericAPIView):
    """Surveys in your scope as CSV, with their completeness; the survey list's filters
    apply. Streamed: any size, constant memory."""

    permission_classes = [IsAuthenticated, IsOffice]
    filterset_class = SurveyFilter
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SiteSurvey.objects.none()
        return survey_list(actor=self.request.user)

    @extend_schema(
        operation_id="exports_surveys_csv",
        parameters=[
            *filter_parameters(SurveyFilter),
            OpenApiParameter(
                "dialect",
                str,
                enum=CsvDialect.values,
                description="`excel`: UTF-8 with a byte-order mark, `;` between cells and "
                "decimal commas, so a spreadsheet in a comma-decimal locale (German Excel) "
                "opens it as it is. Default `standard`: comma-separated UTF-8 (RFC 4180).",
            ),
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        dialect = csv_dialect(request)
        surveys = self.filter_queryset(self.get_queryset())
        response = StreamingHttpResponse(
            replica_stream(survey_csv(surveys, dialect=dialect), reader=request.user.pk),
            content_type="text/csv",
        )
        response["Content-Disposition"] = download_disposition(request, kind=ExportKind.SURVEYS_CSV)
        return response


def csv_dialect(request: Request) -> str:
    value = request.query_params.get("dialect", CsvDialect.STANDARD)
    if value not in CsvDialect.values:
        raise ValidationError(
            {"dialect": [f"Use one of: {', '.join(CsvDialect.values)} (not {value!r})."]}
        )
    return value


def download_disposition(request: Request, *, kind: str) -> str:
    """`attachment` under a name saying what the file holds and when it was made
    (`surveys-north-2026-12-04.csv`)."""
    filters = request.query_params
    name = export_download_name(
        kind=kind,
        filters=filters,
        region=export_region(actor=request.user, filters=filters),
        on=timezone.localdate(),
    )
    return f'attachment; filename="{name}"'


class StoreGeoJsonExportApi(GenericAPIView):
    """Stores in your scope as a GeoJSON FeatureCollection; the store list's filters apply.
    Streamed: any size, constant memory."""

    permission_classes = [IsAuthenticated, IsOffice]
    filterset_class = StoreFilter
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Store.objects.none()
        return Store.objects.filter(scope_filter(user=self.request.user), deleted=False)

    @extend_schema(
        operation_id="exports_stores_geojson",
        parameters=filter_parameters(StoreFilter),
        responses={(200, "application/geo+json"): OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        stores = self.filter_queryset(self.get_queryset())
        response = StreamingHttpResponse(
            replica_stream(store_geojson(stores), reader=request.user.pk),
            content_type="application/geo+json",
        )
        response["Content-Disposition"] = download_disposition(
            request, kind=ExportKind.STORES_GEOJSON
        )
        return response


class ExportJobCreateApi(APIView):
    """Start an export in the background (any size): the answer is the job, to poll until
    its `status` is `done`, then fetch its `download`. The rows are those the streamed
    export would give you, with the same filters."""

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(request=ExportJobRequestSerializer, responses={202: ExportJobSerializer})
    def post(self, request: Request) -> Response:
        payload = ExportJobRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            job = export_job_create(actor=request.user, **payload.validated_data)
        except ExportFiltersInvalid as error:
            raise ValidationError({"filters": error.errors}) from error
        job.refresh_from_db()
        return Response(ExportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ExportJobApi(APIView):
    """One of your export jobs: its status, progress (rows written of the total) and, when
    done, where to download the file. Other users' jobs answer 404."""

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(responses={200: ExportJobSerializer})
    def get(self, request: Request, pk) -> Response:
        job = get_object_or_404(export_job_list(actor=request.user), pk=pk)
        return Response(ExportJobSerializer(job).data)


class ExportJobDownloadApi(APIView):
    """The file of one of your finished export jobs, streamed; 409 while it is not done, 410
    once the retention sweep has removed it."""

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(
        operation_id="exports_jobs_download",
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/geo+json"): OpenApiTypes.OBJECT,
            409: OpenApiTypes.OBJECT,
            410: OpenApiTypes.OBJECT,
        },
    )
    def get(self, request: Request, pk) -> FileResponse | Response:
        job = get_object_or_404(export_job_list(actor=request.user), pk=pk)
        try:
            return export_job_file(job=job)
        except ExportNotReady:
            return Response(
                {"detail": f"The export is {job.status}, not done."},
                status=status.HTTP_409_CONFLICT,
            )
        except ExportExpired:
            days = fieldline_settings.EXPORT_RETENTION_DAYS
            return Response(
                {
                    "detail": f"This export's file was removed {days} days after it was made; "
                    "request the export again."
                },
                status=status.HTTP_410_GONE,
            )
