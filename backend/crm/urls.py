from django.urls import path

from crm.apis import (
    AnalyticsRecomputeApi,
    AnomalyListApi,
    ChurnWarningListApi,
    OrdersImportApi,
    SalesForecastApi,
)

urlpatterns = [
    path("imports/orders", OrdersImportApi.as_view(), name="orders-import"),
    path("analytics/recompute", AnalyticsRecomputeApi.as_view(), name="analytics-recompute"),
    path("analytics/churn", ChurnWarningListApi.as_view(), name="analytics-churn"),
    path("analytics/anomalies", AnomalyListApi.as_view(), name="analytics-anomalies"),
    path("analytics/forecast", SalesForecastApi.as_view(), name="analytics-forecast"),
]
