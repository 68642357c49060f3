"""The store as a syncable entity."""

from collections.abc import Mapping
from typing import Any

from accounts.models import Role, User
from stores.models import Store
from stores.serializers import StoreWireSerializer
from sync.merge import Policy
from sync.registry import (
    ALL_ROLES,
    OFFICE_ROLES,
    EntitySpec,
    FieldSpec,
    RefKind,
    ScopeRule,
    register,
)


def owner_is_a_rep_of_the_region(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """A store is owned by a rep of its region, whichever of the two a write changes."""
    owner = values.get("owner")
    if owner is None:
        return {}
    found = User.objects.filter(pk=owner).values_list("role", "region_id").first()
    if found is None:
        return {}  # An unknown user is the reference check's "Not found."
    role, region = found
    if role != Role.REP:
        return {"owner": ["Must be a rep."]}
    if region != values.get("region"):
        return {"owner": ["Must work in the record's region."]}
    return {}


STORE = register(
    EntitySpec(
        name="store",
        model=Store,
        serializer=StoreWireSerializer,
        fields=(
            FieldSpec("name", writers=OFFICE_ROLES, creators=ALL_ROLES),
            FieldSpec("chain_name", writers=OFFICE_ROLES, creators=ALL_ROLES),
            FieldSpec("phone", writers=ALL_ROLES),
            FieldSpec("address", writers=OFFICE_ROLES, creators=ALL_ROLES),
            FieldSpec("lat", writers=OFFICE_ROLES, creators=ALL_ROLES),
            FieldSpec("lon", writers=OFFICE_ROLES, creators=ALL_ROLES),
            FieldSpec("region", writers=OFFICE_ROLES, creators=ALL_ROLES, ref=RefKind.REGION),
            FieldSpec(
                "owner",
                policy=Policy.SERVER,
                writers=OFFICE_ROLES,
                creators=ALL_ROLES,
                ref=RefKind.USER,
            ),
            FieldSpec("status", writers=OFFICE_ROLES),
            FieldSpec("trade_area_type", writers=OFFICE_ROLES, creators=ALL_ROLES),
            FieldSpec("grade", policy=Policy.SERVER, writers=OFFICE_ROLES),
            FieldSpec("segment", policy=Policy.SERVER, writers=frozenset({"hq"})),
            FieldSpec("tags", policy=Policy.UNION, writers=OFFICE_ROLES),
            FieldSpec("opening_hours", writers=ALL_ROLES),
            FieldSpec("geofence_radius_m", writers=OFFICE_ROLES),
        ),
        scope_rule=ScopeRule(owner="owner", region="region"),
        deleters=OFFICE_ROLES,
        record_checks=(owner_is_a_rep_of_the_region,),
    )
)
