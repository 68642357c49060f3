"""Admin views of the office-side records: calls, tag rules, budgets and their ledger,
campaigns, coupon batches, coupons and orders import jobs. HQ staff may look; nobody
changes anything here. Their writes carry rules (locks, ledger entries, follow-ups synced
to phones) that live in the services, which the admin's own save() would bypass; the
ledger is append-only."""

from django.contrib import admin
from django.http import HttpRequest

from accounts.models import Role
from crm.models import (
    BudgetEntry,
    Call,
    Campaign,
    Coupon,
    CouponBatch,
    OrderImportJob,
    SubsidyBudget,
    TagRule,
)
from sync.admin import ReadOnlyAdmin


class OfficeReadOnlyAdmin(ReadOnlyAdmin):
    """Read-only, and only for HQ staff: a manager's office scope is one region, which the
    admin does not know about."""

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        user = request.user
        return user.is_active and user.is_staff and (user.is_superuser or user.role == Role.HQ)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)


@admin.register(Call)
class CallAdmin(OfficeReadOnlyAdmin):
    list_display = ["store", "queue", "status", "due_at", "claimed_by", "outcome", "completed_at"]
    list_filter = ["queue", "status", "outcome", "store__region"]
    search_fields = ["store__name", "store__phone", "reason", "notes"]
    list_select_related = ["store", "claimed_by"]
    date_hierarchy = "created_at"


@admin.register(TagRule)
class TagRuleAdmin(OfficeReadOnlyAdmin):
    list_display = ["name", "description", "active", "created_by", "updated_at"]
    list_filter = ["active"]
    search_fields = ["name", "description"]


@admin.register(SubsidyBudget)
class SubsidyBudgetAdmin(OfficeReadOnlyAdmin):
    list_display = ["region", "period_start", "period_end", "amount", "reserved", "used"]
    list_filter = ["region"]
    search_fields = ["region__code", "region__name"]


@admin.register(BudgetEntry)
class BudgetEntryAdmin(OfficeReadOnlyAdmin):
    list_display = ["id", "budget", "kind", "amount", "available_after", "coupon", "actor"]
    list_filter = ["kind", "budget__region"]
    search_fields = ["note", "coupon__code"]
    list_select_related = ["budget", "coupon", "actor"]


@admin.register(Campaign)
class CampaignAdmin(OfficeReadOnlyAdmin):
    list_display = ["name", "budget", "status", "starts_on", "ends_on", "floor_a", "cap_b"]
    list_filter = ["status", "budget__region"]
    search_fields = ["name"]
    list_select_related = ["budget"]


@admin.register(CouponBatch)
class CouponBatchAdmin(OfficeReadOnlyAdmin):
    list_display = [
        "campaign",
        "count",
        "issued",
        "face_value",
        "claim_opens_at",
        "claim_closes_at",
    ]
    list_filter = ["campaign__status"]
    search_fields = ["campaign__name"]
    list_select_related = ["campaign"]


@admin.register(Coupon)
class CouponAdmin(OfficeReadOnlyAdmin):
    list_display = ["code", "store", "value", "state", "claimed_at", "use_until", "order"]
    list_filter = ["state", "store__region"]
    search_fields = ["code", "store__name"]
    list_select_related = ["store", "order"]


@admin.register(OrderImportJob)
class OrderImportJobAdmin(OfficeReadOnlyAdmin):
    list_display = ["created_at", "file_name", "status", "rows_done", "rows_total", "requested_by"]
    list_filter = ["status"]
    search_fields = ["file_name", "sha256", "error"]
    list_select_related = ["requested_by"]
