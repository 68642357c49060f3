from django.urls import path

from reports.apis import (
    CompletenessReportApi,
    ReviewQueueApi,
    StoreGeoJsonExportApi,
    SurveyCsvExportApi,
)

urlpatterns = [
    path("reports/completeness", CompletenessReportApi.as_view(), name="report-completeness"),
    path("reports/review-queue", ReviewQueueApi.as_view(), name="report-review-queue"),
    path("exports/surveys.csv", SurveyCsvExportApi.as_view(), name="export-surveys-csv"),
    path("exports/stores.geojson", StoreGeoJsonExportApi.as_view(), name="export-stores-geojson"),
]
