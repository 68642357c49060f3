"""Visits and follow-ups as syncable entities."""

from collections.abc import Mapping
from typing import Any

from sync.registry import (
    ALL_ROLES,
    FIELD_ROLES,
    EntitySpec,
    FieldSpec,
    RefKind,
    ScopeRule,
    register,
)
from visits.geofencing import (
    check_in_within_geofence,
    one_open_visit_per_rep,
    visit_derive,
    visit_prefetch,
)
from visits.models import FollowUp, Visit
from visits.serializers import FollowUpWireSerializer, VisitWireSerializer


def check_out_after_check_in(values: Mapping[str, Any]) -> dict[str, list[str]]:
    check_in, check_out = values.get("check_in_at"), values.get("check_out_at")
    if check_in and check_out and str(check_out) < str(check_in):
        return {"check_out_at": ["Must not be before check_in_at."]}
    return {}


def visit_field(name: str) -> FieldSpec:
    return FieldSpec(name, writers=FIELD_ROLES)


VISIT = register(
    EntitySpec(
        name="visit",
        model=Visit,
        serializer=VisitWireSerializer,
        fields=(
            # Managers re-attach records when they merge duplicate stores (stores.services).
            FieldSpec(
                "store",
                writers=ALL_ROLES,
                creators=FIELD_ROLES,
                ref=RefKind.RECORD,
                ref_entity="store",
            ),
            visit_field("purpose"),
            visit_field("check_in_at"),
            visit_field("check_in_lat"),
            visit_field("check_in_lon"),
            visit_field("check_in_accuracy_m"),
            visit_field("check_out_at"),
            visit_field("notes"),
            visit_field("outcome"),
        ),
        # Computed by the server (visits.geofencing, visits.fraud); a push that sets them is
        # refused like any unknown field.
        readonly=("distance_m", "geofence", "flags"),
        scope_rule=ScopeRule(parents=("store",)),
        creators=FIELD_ROLES,
        deleters=FIELD_ROLES,
        record_checks=(check_out_after_check_in,),
        prefetch=visit_prefetch,
        write_checks=(check_in_within_geofence, one_open_visit_per_rep),
        derive=visit_derive,
    )
)

FOLLOWUP = register(
    EntitySpec(
        name="followup",
        model=FollowUp,
        serializer=FollowUpWireSerializer,
        fields=(
            # Managers re-attach records when they merge duplicate stores (stores.services).
            FieldSpec(
                "store",
                writers=ALL_ROLES,
                creators=FIELD_ROLES,
                ref=RefKind.RECORD,
                ref_entity="store",
            ),
            FieldSpec("visit", writers=FIELD_ROLES, ref=RefKind.RECORD, ref_entity="visit"),
            FieldSpec("due_date", writers=FIELD_ROLES),
            FieldSpec("note", writers=FIELD_ROLES),
            FieldSpec("done", writers=FIELD_ROLES),
        ),
        scope_rule=ScopeRule(parents=("store",)),
        creators=FIELD_ROLES,
        deleters=FIELD_ROLES,
    )
)
