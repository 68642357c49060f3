"""Photos as a syncable entity: their metadata syncs; the bytes travel by their own URL."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Model

from accounts.models import Role
from photos.flags import photo_derive, photo_prefetch
from photos.serializers import PhotoWireSerializer
from surveys.models import Photo, ReviewStatus, SiteSurvey
from sync.registry import (
    FIELD_ROLES,
    EntitySpec,
    FieldSpec,
    RefKind,
    Refusal,
    ScopeRule,
    WriteContext,
    register,
)


def photo_has_owner(values: Mapping[str, Any]) -> dict[str, list[str]]:
    if values.get("survey") is None and values.get("visit") is None:
        return {"survey": ["A photo belongs to a survey or a visit."]}
    return {}


def approved_survey_photo_kept(record: Model, context: WriteContext) -> Refusal | None:
    """A rep may not delete a photo of an approved survey (the evidence it was approved
    on); as for the survey itself, 409 with the code `survey_approved`."""
    if getattr(context.actor, "role", None) != Role.REP or record.survey_id is None:
        return None
    held = context.held("survey", record.survey_id)
    if held is not None:
        approved = held.review_status == ReviewStatus.APPROVED
    else:
        approved = SiteSurvey.objects.filter(
            pk=record.survey_id, review_status=ReviewStatus.APPROVED
        ).exists()
    if not approved:
        return None
    return Refusal(
        {
            "detail": "This photo belongs to an approved survey: it can no longer be deleted "
            "from the app. Ask your manager to remove it."
        },
        reason="conflict",
        code="survey_approved",
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
        # Set by the server: when the bytes arrived, reuse flags (photos.flags), and the
        # upload state (photos.upload_state).
        readonly=("uploaded_at", "flags", "upload_state"),
        scope_rule=ScopeRule(parents=("survey", "visit")),
        creators=FIELD_ROLES,
        deleters=FIELD_ROLES,
        record_checks=(photo_has_owner,),
        delete_checks=(approved_survey_photo_kept,),
        prefetch=photo_prefetch,
        derive=photo_derive,
    )
)
