"""Wire forms of surveys, templates and reviews, with their validation."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from stores.models import TradeAreaType
from surveys.models import (
    SURVEY_MEASURES,
    CompetitorKind,
    CustomerGroup,
    Equipment,
    PhotoSection,
    ReviewReason,
    ReviewVerdict,
    SignalQuality,
    SiteSurvey,
    SurveyReview,
    SurveyTemplate,
)
from surveys.selectors import CONDITION_FIELDS, REQUIRABLE_FIELDS
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

FOOTFALL_SLOTS = ("morning", "lunch", "evening")


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
            *SURVEY_MEASURES,
            "lat",
            "lon",
            "accuracy_m",
            "captured_at",
            "notes",
            "review_status",
            "template_version",
            "distance_m",
        ]


# --- templates, completeness, reviews -------------------------------------------------


# Field-name choices are documented as plain strings: the same names appear under several
# keys ("field", "required_fields"), which would otherwise collide as schema enums.
@extend_schema_field(
    {"type": "string", "description": f"A survey field: {', '.join(REQUIRABLE_FIELDS)}."}
)
class RequirableFieldChoice(StrictChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=[(name, name) for name in REQUIRABLE_FIELDS], **kwargs)


@extend_schema_field(
    {"type": "string", "description": f"A survey field: {', '.join(CONDITION_FIELDS)}."}
)
class ConditionFieldChoice(StrictChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=[(name, name) for name in CONDITION_FIELDS], **kwargs)


class TemplateConditionSerializer(StrictSerializer):
    field = ConditionFieldChoice()

    def get_fields(self):
        # `in` is a Python keyword, so it cannot be a class attribute.
        fields = super().get_fields()
        fields["in"] = serializers.ListField(
            child=StrictCharField(max_length=16), min_length=1, max_length=20
        )
        return fields

    def validate(self, attrs):
        allowed = {"trade_area_type": TradeAreaType.values, "signal_quality": SignalQuality.values}
        unknown = sorted(set(attrs["in"]) - set(allowed[attrs["field"]]))
        if unknown:
            raise serializers.ValidationError({"in": [f"Unknown values: {', '.join(unknown)}."]})
        return attrs


class ConditionalFieldSerializer(StrictSerializer):
    field = RequirableFieldChoice()
    when = TemplateConditionSerializer()


class SurveyTemplateInputSerializer(StrictSerializer):
    trade_area_type = StrictChoiceField(choices=TradeAreaType.choices)
    required_fields = serializers.ListField(
        child=RequirableFieldChoice(),
        max_length=len(REQUIRABLE_FIELDS),
        required=False,
        default=list,
    )
    conditional_fields = serializers.ListField(
        child=ConditionalFieldSerializer(), max_length=50, required=False, default=list
    )
    min_photos = serializers.DictField(
        child=StrictIntegerField(min_value=0, max_value=20), required=False, default=dict
    )
    gps_within_geofence = serializers.BooleanField(required=False, default=True)

    def validate_min_photos(self, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(PhotoSection.values))
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown photo section."] for name in unknown}
            )
        return value

    def validate_required_fields(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class SurveyTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = SurveyTemplate
        fields = [
            "id",
            "trade_area_type",
            "version",
            "required_fields",
            "conditional_fields",
            "min_photos",
            "gps_within_geofence",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class SurveyCompletenessSerializer(serializers.Serializer):
    survey = serializers.UUIDField(source="survey_id")
    trade_area_type = serializers.CharField()
    template_version = serializers.IntegerField(allow_null=True)
    score = serializers.FloatField(allow_null=True)
    required_items = serializers.IntegerField()
    present_items = serializers.IntegerField()
    missing = serializers.ListField(
        child=serializers.CharField(),
        help_text='Required items not present: field names, "photos.<section>", "gps".',
    )


REASON_KEYS = (*SurveyWireSerializer.Meta.fields, "photos", "gps", "general")


class SurveyReviewInputSerializer(StrictSerializer):
    verdict = StrictChoiceField(choices=ReviewVerdict.choices)
    reasons = serializers.DictField(
        child=choice_list(ReviewReason.choices),
        required=False,
        default=dict,
        help_text=(
            "Why the survey is sent back: {item: [reason, ...]}, the item a survey field, "
            "`photos`, `gps` or `general` (the whole survey). `has_issues` and `rejected` "
            "need at least one reason; they reach the rep's fix task."
        ),
    )
    comment = StrictCharField(
        max_length=5000,
        required=False,
        default="",
        allow_blank=True,
        help_text="For the rep, in the fix task's notes; required with the reason `other`.",
    )

    def validate_reasons(self, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - set(REASON_KEYS))
        if unknown:
            raise serializers.ValidationError(
                {name: ["Not a survey field, photos, gps or general."] for name in unknown}
            )
        return value


class SurveyReviewSerializer(serializers.ModelSerializer):
    task = serializers.UUIDField(source="task_id", allow_null=True, read_only=True)

    class Meta:
        model = SurveyReview
        fields = ["id", "survey", "reviewer", "verdict", "reasons", "comment", "created_at", "task"]
        read_only_fields = fields


class ReviewQueueEntrySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    store = serializers.UUIDField(source="store_id")
    store_name = serializers.CharField(source="store__name")
    owner = serializers.IntegerField(source="store__owner_id", allow_null=True)
    trade_area_type = serializers.CharField(source="scored_type", allow_null=True)
    template_version = serializers.IntegerField(source="scored_version", allow_null=True)
    score = serializers.FloatField(allow_null=True)
    captured_at = serializers.DateTimeField(allow_null=True)
