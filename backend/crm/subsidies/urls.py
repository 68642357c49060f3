from django.urls import path

from crm.subsidies.apis import (
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

urlpatterns = [
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
]
