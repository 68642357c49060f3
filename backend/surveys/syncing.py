"""Surveys and photos as syncable entities."""

from collections.abc import Mapping
from typing import Any

from surveys.models import Photo, SiteSurvey
from surveys.photo_flags import photo_derive, photo_prefetch
from surveys.serializers import PhotoWireSerializer, SurveyWireSerializer
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


def photo_has_owner(values: Mapping[str, Any]) -> dict[str, list[str]]:
    if values.get("survey") is None and values.get("visit") is None:
        return {"survey": ["A photo belongs to a survey or a visit."]}
    return {}


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

PHOTO = register(
    EntitySpec(
        name="photo",
        model=Photo,
        serializer=PhotoWireSerializer,
        fields=(
            FieldSpec("survey", writers=FIELD_ROLES, ref=RefKind.RECORD, ref_entity="survey"),
            FieldSpec("visit", writers=FIELD_ROLES, ref=RefKind.RECORD, ref_entity="visit"),
            FieldSpec("section", writers=FIELD_ROLES),
            FieldSpec("sha256", writers=FIELD_ROLES),
            FieldSpec("content_type", writers=FIELD_ROLES),
            FieldSpec("taken_at", writers=FIELD_ROLES),
            FieldSpec("lat", writers=FIELD_ROLES),
            FieldSpec("lon", writers=FIELD_ROLES),
        ),
        # Set by the server: when the bytes arrived, reuse flags (surveys.photo_flags), and
        # the bytes' upload state (surveys.photo_upload_state).
        readonly=("uploaded_at", "flags", "upload_state"),
        scope_rule=ScopeRule(parents=("survey", "visit")),
        creators=FIELD_ROLES,
        deleters=FIELD_ROLES,
        record_checks=(photo_has_owner,),
        prefetch=photo_prefetch,
        derive=photo_derive,
    )
)
