from django.urls import path

from crm.apis import (
    AnalyticsRecomputeApi,
    AnalyticsRunApi,
    AnomalyListApi,
    ChurnWarningListApi,
    OrderImportJobApi,
    OrderImportJobListApi,
    OrdersImportApi,
    SalesForecastApi,
)
from crm.call_apis import (
    CallClaimApi,
    CallClaimNextApi,
    CallCompleteApi,
    CallListApi,
    CallReleaseApi,
    CallSlaApi,
)
from crm.subsidy_apis import (
    CampaignApproveApi,
    CampaignCloseApi,
    CampaignDetailApi,
    CampaignListApi,
    CampaignQuoteApi,
    CouponBatchListApi,
    CouponClaimApi,
    CouponListApi,
    CouponUseApi,
    SubsidyAlertListApi,
    SubsidyBudgetAllocateApi,
    SubsidyBudgetDetailApi,
    SubsidyBudgetLedgerApi,
    SubsidyBudgetListApi,
)
from crm.tag_apis import TagRuleDetailApi, TagRuleListApi

urlpatterns = [
    path("imports/orders", OrdersImportApi.as_view(), name="orders-import"),
    path("imports/orders/jobs", OrderImportJobListApi.as_view(), name="orders-import-jobs"),
    path("imports/orders/jobs/<uuid:pk>", OrderImportJobApi.as_view(), name="orders-import-job"),
    path("analytics/recompute", AnalyticsRecomputeApi.as_view(), name="analytics-recompute"),
    path("analytics/runs/<uuid:pk>", AnalyticsRunApi.as_view(), name="analytics-run"),
    path("analytics/churn", ChurnWarningListApi.as_view(), name="analytics-churn"),
    path("analytics/anomalies", AnomalyListApi.as_view(), name="analytics-anomalies"),
    path("analytics/forecast", SalesForecastApi.as_view(), name="analytics-forecast"),
    # Subsidies and coupons.
    path("subsidies/budgets/", SubsidyBudgetListApi.as_view(), name="subsidy-budgets"),
    path("subsidies/budgets/<uuid:pk>/", SubsidyBudgetDetailApi.as_view(), name="subsidy-budget"),
    path(
        "subsidies/budgets/<uuid:pk>/allocations",
        SubsidyBudgetAllocateApi.as_view(),
        name="subsidy-budget-allocate",
    ),
    path(
        "subsidies/budgets/<uuid:pk>/ledger",
        SubsidyBudgetLedgerApi.as_view(),
        name="subsidy-budget-ledger",
    ),
    path("subsidies/campaigns/", CampaignListApi.as_view(), name="subsidy-campaigns"),
    path("subsidies/campaigns/<uuid:pk>/", CampaignDetailApi.as_view(), name="subsidy-campaign"),
    path(
        "subsidies/campaigns/<uuid:pk>/approve",
        CampaignApproveApi.as_view(),
        name="subsidy-campaign-approve",
    ),
    path(
        "subsidies/campaigns/<uuid:pk>/close",
        CampaignCloseApi.as_view(),
        name="subsidy-campaign-close",
    ),
    path(
        "subsidies/campaigns/<uuid:pk>/quote",
        CampaignQuoteApi.as_view(),
        name="subsidy-campaign-quote",
    ),
    path("subsidies/batches/", CouponBatchListApi.as_view(), name="subsidy-batches"),
    path("subsidies/alerts", SubsidyAlertListApi.as_view(), name="subsidy-alerts"),
    path("coupons/", CouponListApi.as_view(), name="coupons"),
    path("coupons/claim", CouponClaimApi.as_view(), name="coupon-claim"),
    path("coupons/<uuid:pk>/use", CouponUseApi.as_view(), name="coupon-use"),
    path("analytics/tag-rules/", TagRuleListApi.as_view(), name="tag-rules"),
    path("analytics/tag-rules/<uuid:pk>", TagRuleDetailApi.as_view(), name="tag-rule"),
    path("calls/", CallListApi.as_view(), name="calls"),
    path("calls/claim-next", CallClaimNextApi.as_view(), name="calls-claim-next"),
    path("calls/sla", CallSlaApi.as_view(), name="calls-sla"),
    path("calls/<uuid:pk>/claim", CallClaimApi.as_view(), name="call-claim"),
    path("calls/<uuid:pk>/complete", CallCompleteApi.as_view(), name="call-complete"),
    path("calls/<uuid:pk>/release", CallReleaseApi.as_view(), name="call-release"),
]
