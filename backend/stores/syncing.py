"""The store as a syncable entity."""

from collections.abc import Collection, Sequence

from stores.models import Store, StoreStatus
from stores.serializers import StoreWireSerializer
from sync.merge import Policy
from sync.registry import (
    ALL_ROLES,
    OFFICE_ROLES,
    EntitySpec,
    FieldSpec,
    RefKind,
    ScopeRule,
    Touched,
    WriteContext,
    register,
)


def store_derive(
    touched: Sequence[Touched], data: object, context: WriteContext
) -> Collection[str]:
    """What call outcomes set is undone by the change that answers it: a new phone number
    is one to try (verified again), a closed store needs no closing proposal."""
    names: set[str] = set()
    for item in touched:
        store = item.record
        if "phone" in item.changed and "phone_verified" not in item.changed:
            store.phone_verified = True
            names.add("phone_verified")
        if "status" in item.changed and store.status == StoreStatus.CHURNED:
            store.closing_proposed_at = None
            names.add("closing_proposed_at")
    return names


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
            # Visits are judged by confirmed hours: reps propose, the office confirms.
            FieldSpec(
                "opening_hours",
                writers=OFFICE_ROLES,
                denied="Opening hours are confirmed by a manager: send your hours as "
                "opening_hours_proposed instead.",
            ),
            FieldSpec("opening_hours_proposed", writers=ALL_ROLES),
            FieldSpec("geofence_radius_m", writers=OFFICE_ROLES),
            # Set by call outcomes (crm.calls); the office may correct them.
            FieldSpec("phone_verified", policy=Policy.SERVER, writers=OFFICE_ROLES),
            FieldSpec("closing_proposed_at", policy=Policy.SERVER, writers=OFFICE_ROLES),
        ),
        # Server-set: the store a merged duplicate went into; the kinds of computed tags.
        readonly=("merged_into", "tag_kinds"),
        scope_rule=ScopeRule(owner="owner", region="region"),
        deleters=OFFICE_ROLES,
        derive=store_derive,
    )
)
