from django.urls import path

from crm.analytics.apis import (
    AnalyticsRecomputeApi,
    AnalyticsRunApi,
    AnomalyListApi,
    ChurnWarningListApi,
    SalesForecastApi,
    TagRuleDetailApi,
    TagRuleListApi,
)

urlpatterns = [
    path("analytics/recompute", AnalyticsRecomputeApi.as_view(), name="analytics-recompute"),
    path("analytics/runs/<uuid:pk>", AnalyticsRunApi.as_view(), name="analytics-run"),
    path("analytics/churn", ChurnWarningListApi.as_view(), name="analytics-churn"),
    path("analytics/anomalies", AnomalyListApi.as_view(), name="analytics-anomalies"),
    path("analytics/forecast", SalesForecastApi.as_view(), name="analytics-forecast"),
    path("analytics/tag-rules/", TagRuleListApi.as_view(), name="tag-rules"),
    path("analytics/tag-rules/<uuid:pk>", TagRuleDetailApi.as_view(), name="tag-rule"),
]
