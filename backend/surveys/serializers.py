"""Wire forms of surveys and photos, with their validation."""

import re

from rest_framework import serializers

from surveys.models import (
    CompetitorKind,
    CustomerGroup,
    Equipment,
    Photo,
    SiteSurvey,
)
from sync.serializers import (
    FiniteFloatField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictSerializer,
    WireSerializer,
    choice_list,
    record_ref,
)

SHA256 = re.compile(r"^[0-9a-f]{64}$")
FOOTFALL_SLOTS = ("morning", "lunch", "evening")
PHOTO_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")


class CompetitorSerializer(StrictSerializer):
    name = StrictCharField(max_length=100)
    kind = StrictChoiceField(choices=CompetitorKind.choices)
    distance_m = FiniteFloatField(min_value=0, max_value=50_000)


class FootfallSlotsField(serializers.DictField):
    child = StrictIntegerField(min_value=0, max_value=1_000_000)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        unknown = sorted(set(value) - set(FOOTFALL_SLOTS))
        if unknown:
            raise serializers.ValidationError(
                {name: [f"Unknown slot; use {', '.join(FOOTFALL_SLOTS)}."] for name in unknown}
            )
        return value


class SurveyWireSerializer(WireSerializer):
    store = record_ref()
    customer_groups = choice_list(CustomerGroup.choices, required=False)
    competitors = serializers.ListField(child=CompetitorSerializer(), max_length=50, required=False)
    equipment = choice_list(Equipment.choices, required=False)
    footfall_slots = FootfallSlotsField(required=False)
    distance_m = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = SiteSurvey
        fields = [
            *WireSerializer.META_FIELDS,
            "store",
            "trade_area_type",
            "footfall_weekday",
            "footfall_weekend",
            "footfall_slots",
            "customer_groups",
            "competitors",
            "area_m2",
            "equipment",
            "signal_quality",
            "fresh_shelf_m",
            "lat",
            "lon",
            "accuracy_m",
            "captured_at",
            "notes",
            "review_status",
            "distance_m",
        ]


class PhotoWireSerializer(WireSerializer):
    survey = record_ref(allow_null=True, required=False)
    visit = record_ref(allow_null=True, required=False)
    content_type = StrictChoiceField(choices=[(c, c) for c in PHOTO_CONTENT_TYPES])
    uploaded_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When the bytes arrived; null until then."
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
        ]

    def validate_sha256(self, value: str) -> str:
        if not SHA256.match(value):
            raise serializers.ValidationError("64 lowercase hexadecimal digits are required.")
        return value
