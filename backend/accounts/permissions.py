from rest_framework.permissions import BasePermission

from accounts.models import Role


class IsOffice(BasePermission):
    """Managers and HQ: actions a rep may not take at all answer 403."""

    message = "Only managers and HQ may do this."

    def has_permission(self, request, view) -> bool:
        return request.user.is_authenticated and request.user.role in (Role.MANAGER, Role.HQ)


class IsHQ(BasePermission):
    """HQ only (templates, imports, analytics runs): other roles answer 403."""

    message = "Only HQ may do this."

    def has_permission(self, request, view) -> bool:
        return request.user.is_authenticated and request.user.role == Role.HQ
