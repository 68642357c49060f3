"""Scope is data: what each role may see, as one queryset filter per role.

Every syncable record carries the denormalized `scope_owner` (the rep who owns it)
and `scope_region` of the store it belongs to, so that REST lists, sync pull and push
authorization all filter the same two indexed columns.
"""

from typing import TypeVar

from django.db.models import Model, Q, QuerySet

from accounts.models import Role, User


def rep_scope(*, user: User) -> Q:
    return Q(scope_owner_id=user.pk)


def manager_scope(*, user: User) -> Q:
    return Q(scope_region_id=user.region_id)


def hq_scope(*, user: User) -> Q:
    return Q()


M = TypeVar("M", bound=Model)

SCOPE_BY_ROLE = {Role.REP: rep_scope, Role.MANAGER: manager_scope, Role.HQ: hq_scope}


def scope_filter(*, user: User) -> Q:
    """The filter of records `user` may see; an inactive or role-less user sees nothing."""
    rule = SCOPE_BY_ROLE.get(user.role)
    if rule is None or not user.is_active:
        return Q(pk__in=[])
    return rule(user=user)


def scoped_queryset(*, user: User, model: type[M]) -> QuerySet[M]:
    return model.objects.filter(scope_filter(user=user))


def record_in_scope(
    *,
    user: User,
    record: Model | None = None,
    owner_id: int | None = None,
    region_id: str | None = None,
) -> bool:
    """The same rule as `scope_filter`, for one record already in hand."""
    if record is not None:
        owner_id, region_id = record.scope_owner_id, record.scope_region_id
    if not user.is_active:
        return False
    if user.role == Role.HQ:
        return True
    if user.role == Role.MANAGER:
        return region_id is not None and region_id == user.region_id
    if user.role == Role.REP:
        return owner_id is not None and owner_id == user.pk
    return False
