"""Reads of syncable records, always through the actor's scope."""

from django.db.models import QuerySet

from accounts.models import User
from accounts.scope import scope_filter
from sync.registry import EntitySpec


def record_list(*, actor: User, spec: EntitySpec, include_deleted: bool = False) -> QuerySet:
    queryset = spec.model.objects.filter(scope_filter(user=actor))
    if not include_deleted:
        queryset = queryset.filter(deleted=False)
    return queryset.order_by("-updated_at", "id")
