"""The models of the `crm` app, one module per sub-domain package; imported here so that the
app (and its migrations) see them all under the one `crm` label."""

from crm.analytics.models import AnalyticsRun, AnalyticsRunKind, TagRule
from crm.calls.models import OPEN_CALL_STATUSES, Call, CallOutcome, CallQueue, CallStatus
from crm.orders.models import Order, OrderImportJob, OrderImportStatus, OrderLine
from crm.subsidies.models import (
    BudgetEntry,
    BudgetEntryKind,
    Campaign,
    CampaignStatus,
    CampaignStore,
    Coupon,
    CouponBatch,
    CouponState,
    SubsidyBudget,
)

__all__ = [
    "OPEN_CALL_STATUSES",
    "AnalyticsRun",
    "AnalyticsRunKind",
    "BudgetEntry",
    "BudgetEntryKind",
    "Call",
    "CallOutcome",
    "CallQueue",
    "CallStatus",
    "Campaign",
    "CampaignStatus",
    "CampaignStore",
    "Coupon",
    "CouponBatch",
    "CouponState",
    "Order",
    "OrderImportJob",
    "OrderImportStatus",
    "OrderLine",
    "SubsidyBudget",
    "TagRule",
]
