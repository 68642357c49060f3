"""Photos as a syncable entity: their metadata syncs; the bytes travel by their own URL."""

from collections.abc import Mapping
from typing import Any

from photos.flags import photo_derive, photo_prefetch
from photos.serializers import PhotoWireSerializer
from surveys.models import Photo
from sync.registry import FIELD_ROLES, EntitySpec, FieldSpec, RefKind, ScopeRule, register


def photo_has_owner(values: Mapping[str, Any]) -> dict[str, list[str]]:
    if values.get("survey") is None and values.get("visit") is None:
        return {"survey": ["A photo belongs to a survey or a visit."]}
    return {}


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
        prefetch=photo_prefetch,
        derive=photo_derive,
    )
)
