from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import OFFICE_ROLES, Role


class IsOffice(BasePermission):
    """Managers and HQ: actions a rep may not take at all answer 403."""

    message = "Only managers and HQ may do this."

    def has_permission(self, request, view) -> bool:
        return request.user.is_authenticated and request.user.role in OFFICE_ROLES


class IsHQ(BasePermission):
    """HQ only (templates, imports, analytics runs): other roles answer 403."""

    message = "Only HQ may do this."

    def has_permission(self, request, view) -> bool:
        return request.user.is_authenticated and request.user.role == Role.HQ


class IsHQOrReadOnly(BasePermission):
    """Reads pass (the view's other permissions decide who reads); writes are HQ's alone
    (budgets, campaigns, coupon batches, tag rules), others get 403."""

    message = IsHQ.message

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or IsHQ().has_permission(request, view)
