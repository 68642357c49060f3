from django.urls import path

from crm.apis import AnalyticsRecomputeApi, ChurnWarningListApi, OrdersImportApi

urlpatterns = [
    path("imports/orders", OrdersImportApi.as_view(), name="orders-import"),
    path("analytics/recompute", AnalyticsRecomputeApi.as_view(), name="analytics-recompute"),
    path("analytics/churn", ChurnWarningListApi.as_view(), name="analytics-churn"),
]
