from django.urls import path

from crm.apis import (
    AnalyticsRecomputeApi,
    AnalyticsRunApi,
    AnomalyListApi,
    ChurnWarningListApi,
    OrdersImportApi,
    SalesForecastApi,
)
from crm.call_apis import (
    CallClaimApi,
    CallClaimNextApi,
    CallCompleteApi,
    CallListApi,
    CallSlaApi,
)
from crm.tag_apis import TagRuleDetailApi, TagRuleListApi

urlpatterns = [
    path("imports/orders", OrdersImportApi.as_view(), name="orders-import"),
    path("analytics/recompute", AnalyticsRecomputeApi.as_view(), name="analytics-recompute"),
    path("analytics/runs/<uuid:pk>", AnalyticsRunApi.as_view(), name="analytics-run"),
    path("analytics/churn", ChurnWarningListApi.as_view(), name="analytics-churn"),
    path("analytics/anomalies", AnomalyListApi.as_view(), name="analytics-anomalies"),
    path("analytics/forecast", SalesForecastApi.as_view(), name="analytics-forecast"),
    path("analytics/tag-rules/", TagRuleListApi.as_view(), name="tag-rules"),
    path("analytics/tag-rules/<uuid:pk>", TagRuleDetailApi.as_view(), name="tag-rule"),
    path("calls/", CallListApi.as_view(), name="calls"),
    path("calls/claim-next", CallClaimNextApi.as_view(), name="calls-claim-next"),
    path("calls/sla", CallSlaApi.as_view(), name="calls-sla"),
    path("calls/<uuid:pk>/claim", CallClaimApi.as_view(), name="call-claim"),
    path("calls/<uuid:pk>/complete", CallCompleteApi.as_view(), name="call-complete"),
]
