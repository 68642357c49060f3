from django.urls import path

from reports.apis import (
    CompletenessReportApi,
    ExportJobApi,
    ExportJobCreateApi,
    ExportJobDownloadApi,
    ReviewQueueApi,
    StoreGeoJsonExportApi,
    SurveyCsvExportApi,
)

urlpatterns = [
    path("reports/completeness", CompletenessReportApi.as_view(), name="report-completeness"),
    path("reports/review-queue", ReviewQueueApi.as_view(), name="report-review-queue"),
    path("exports/surveys.csv", SurveyCsvExportApi.as_view(), name="export-surveys-csv"),
    path("exports/stores.geojson", StoreGeoJsonExportApi.as_view(), name="export-stores-geojson"),
    path("exports/jobs", ExportJobCreateApi.as_view(), name="export-jobs"),
    path("exports/jobs/<uuid:pk>", ExportJobApi.as_view(), name="export-job"),
    path(
        "exports/jobs/<uuid:pk>/download",
        ExportJobDownloadApi.as_view(),
        name="export-job-download",
    ),
]
