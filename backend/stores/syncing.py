"""The store as a syncable entity."""

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
        # Server-set: the store a merged duplicate went into; the kinds of computed tags.
        readonly=("merged_into", "tag_kinds"),
        scope_rule=ScopeRule(owner="owner", region="region"),
        deleters=OFFICE_ROLES,
    )
)
