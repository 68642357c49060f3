"""Surveys as syncable entities (photos register theirs in the photos app)."""

from surveys.models import SiteSurvey
from surveys.serializers import SurveyWireSerializer
from surveys.survey_distance import survey_derive, survey_prefetch
from sync.merge import Policy
from sync.registry import (
    ALL_ROLES,
    FIELD_ROLES,
    OFFICE_ROLES,
    EntitySpec,
    FieldSpec,
    RefKind,
    ScopeRule,
    register,
)


def survey_field(name: str, policy: Policy = Policy.LWW) -> FieldSpec:
    return FieldSpec(name, policy=policy, writers=FIELD_ROLES)


SURVEY = register(
    EntitySpec(
        name="survey",
        model=SiteSurvey,
        serializer=SurveyWireSerializer,
        fields=(
            # Managers re-attach records when they merge duplicate stores (stores.services).
            FieldSpec(
                "store",
                writers=ALL_ROLES,
                creators=FIELD_ROLES,
                ref=RefKind.RECORD,
                ref_entity="store",
            ),
            survey_field("trade_area_type"),
            survey_field("footfall_weekday"),
            survey_field("footfall_weekend"),
            survey_field("footfall_slots"),
            survey_field("customer_groups", Policy.UNION),
            survey_field("competitors", Policy.UNION),
            survey_field("area_m2"),
            survey_field("equipment", Policy.UNION),
            survey_field("signal_quality"),
            survey_field("fresh_shelf_m"),
            survey_field("lat"),
            survey_field("lon"),
            survey_field("accuracy_m"),
            survey_field("captured_at"),
            survey_field("notes"),
            survey_field("template_version"),
            FieldSpec("review_status", policy=Policy.SERVER, writers=OFFICE_ROLES),
        ),
        readonly=("distance_m",),
        scope_rule=ScopeRule(parents=("store",)),
        creators=FIELD_ROLES,
        deleters=FIELD_ROLES,
        prefetch=survey_prefetch,
        derive=survey_derive,
    )
)
