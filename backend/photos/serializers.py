"""The wire form of a photo's metadata (its bytes travel separately), with its validation."""

import re

from rest_framework import serializers

from surveys.models import Photo, PhotoFlag, PhotoUploadState
from sync.serializers import StrictChoiceField, WireSerializer, record_ref

SHA256 = re.compile(r"^[0-9a-f]{64}$")
PHOTO_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")


class PhotoWireSerializer(WireSerializer):
    survey = record_ref(allow_null=True, required=False)
    visit = record_ref(allow_null=True, required=False)
    content_type = StrictChoiceField(choices=[(c, c) for c in PHOTO_CONTENT_TYPES])
    uploaded_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When the bytes arrived; null until then."
    )
    flags = serializers.ListField(
        child=serializers.ChoiceField(choices=PhotoFlag.choices),
        read_only=True,
        help_text="Set by the server: photo_reused when the bytes were used at another store.",
    )
    upload_state = serializers.ChoiceField(
        choices=PhotoUploadState.choices,
        read_only=True,
        help_text="Set by the server: pending, uploaded (bytes stored and checked), "
        "thumbnail_ready.",
    )

    class Meta:
        model = Photo
        fields = [
            *WireSerializer.META_FIELDS,
            "survey",
            "visit",
            "section",
            "sha256",
            "content_type",
            "taken_at",
            "lat",
            "lon",
            "uploaded_at",
            "flags",
            "upload_state",
        ]

    def validate_sha256(self, value: str) -> str:
        if not SHA256.match(value):
            raise serializers.ValidationError("64 lowercase hexadecimal digits are required.")
        return value
