"""Wire and HTTP forms of stores (the syncable record, nearby stores, duplicates and
merges), with their validation."""

import math
import re

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from stores.models import Store
from stores.phones import PhoneNumberError, normalize_phone
from sync.serializers import StrictCharField, WireSerializer, user_ref

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


class OpeningHoursField(serializers.DictField):
    """`{"mon": [["07:00", "22:00"]], ...}`: per weekday, a list of open intervals."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_a_dict", input_type=type(data).__name__)
        errors = {}
        for day, intervals in data.items():
            if day not in WEEKDAYS:
                errors[day] = [f"Unknown weekday; use one of {', '.join(WEEKDAYS)}."]
                continue
            if not isinstance(intervals, list) or len(intervals) > 4:
                errors[day] = ["A list of at most 4 [open, close] pairs is required."]
                continue
            for interval in intervals:
                if (
                    not isinstance(interval, list)
                    or len(interval) != 2
                    or not all(isinstance(t, str) and HHMM.match(t) for t in interval)
                    or interval[0] >= interval[1]
                ):
                    errors[day] = ['Each interval is ["HH:MM", "HH:MM"], opening first.']
                    break
        if errors:
            raise serializers.ValidationError(errors)
        return data


class StoreWireSerializer(WireSerializer):
    # Typed any usual way ("0049 (0) 40 / 3290-4100"); stored in E.164, at most 16 characters.
    phone = StrictCharField(max_length=50, allow_blank=True, required=False)
    owner = user_ref(allow_null=True, required=False)
    region = StrictCharField(max_length=32)
    tags = serializers.ListField(
        child=StrictCharField(max_length=50), max_length=50, required=False
    )
    opening_hours = OpeningHoursField(
        required=False,
        help_text="Confirmed hours, which visits are judged by; set by managers and HQ. "
        "Reps send `opening_hours_proposed`.",
    )
    opening_hours_proposed = OpeningHoursField(
        required=False,
        help_text="Hours a rep proposes (empty: none); a manager confirms them with "
        "POST /api/stores/{id}/opening-hours/confirm/.",
    )
    tag_kinds = serializers.DictField(
        child=serializers.ChoiceField(choices=["fact", "model", "predicted", "rule"]),
        read_only=True,
        help_text="Computed tags and their kind (set by the analytics recompute); a tag in "
        "`tags` not named here was set by hand.",
    )

    class Meta:
        model = Store
        fields = [
            *WireSerializer.META_FIELDS,
            "name",
            "chain_name",
            "phone",
            "address",
            "lat",
            "lon",
            "region",
            "owner",
            "status",
            "trade_area_type",
            "grade",
            "segment",
            "tags",
            "tag_kinds",
            "opening_hours",
            "opening_hours_proposed",
            "geofence_radius_m",
            "phone_verified",
            "closing_proposed_at",
        ]
        extra_kwargs = {
            "phone_verified": {
                "help_text": "False after a call found the number wrong; a corrected `phone` "
                "sets it again."
            },
            "closing_proposed_at": {
                "help_text": "When a call found the store closed for good: its manager sets "
                "the status to `churned` (which clears this) or clears it."
            },
        }

    def validate_phone(self, value: str) -> str:
        if not value:
            return value
        try:
            return normalize_phone(value)
        except PhoneNumberError as error:
            raise serializers.ValidationError(str(error)) from error


class QueryFloatField(serializers.FloatField):
    """A number from a query string: "nan" and "inf" parse as floats but are no places."""

    default_error_messages = {"invalid": "A finite number is required."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class PositionQuerySerializer(serializers.Serializer):
    """`?lat=&lon=`: where the caller stands."""

    lat = QueryFloatField(min_value=-90.0, max_value=90.0)
    lon = QueryFloatField(min_value=-180.0, max_value=180.0)


# --- nearby ----------------------------------------------------------------------------

MAX_RADIUS_M = 50_000


class StoresNearbyQuerySerializer(PositionQuerySerializer):
    radius_m = QueryFloatField(min_value=1.0, max_value=MAX_RADIUS_M, default=1000.0)
    limit = serializers.IntegerField(min_value=1, max_value=500, default=100)


class NearbyStoreSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    address = serializers.CharField()
    lat = serializers.FloatField()
    lon = serializers.FloatField()
    trade_area_type = serializers.CharField()
    status = serializers.CharField()
    distance_m = serializers.FloatField()


# --- duplicates and merge --------------------------------------------------------------


class DuplicateStoreSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    phone = serializers.CharField()
    address = serializers.CharField()
    lat = serializers.FloatField()
    lon = serializers.FloatField()
    region = serializers.CharField(source="region_id")
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    created_at = serializers.DateTimeField()


class PhoneDuplicatesSerializer(serializers.Serializer):
    phone = serializers.CharField()
    stores = DuplicateStoreSerializer(many=True)


class NearbyDuplicateSerializer(serializers.Serializer):
    stores = serializers.SerializerMethodField()
    distance_m = serializers.FloatField()
    name_similarity = serializers.FloatField()

    @extend_schema(responses=DuplicateStoreSerializer(many=True))
    def get_stores(self, pair) -> list[dict]:
        return DuplicateStoreSerializer([pair.first, pair.second], many=True).data

    def to_representation(self, instance):
        body = super().to_representation(instance)
        body["distance_m"] = round(body["distance_m"], 2)
        body["name_similarity"] = round(body["name_similarity"], 3)
        return body


class StoreDuplicatesSerializer(serializers.Serializer):
    count_by_phone = serializers.IntegerField()
    count_nearby = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    by_phone = PhoneDuplicatesSerializer(many=True)
    nearby = NearbyDuplicateSerializer(many=True)


class DuplicatesPageSerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False)
    page_size = serializers.IntegerField(min_value=1, required=False)

    def validate_page_size(self, value: int) -> int:
        most = self.context["max_page_size"]
        if value > most:
            raise serializers.ValidationError(f"At most {most}.")
        return value


class StoreMergeRequestSerializer(serializers.Serializer):
    winner = serializers.UUIDField()
    loser = serializers.UUIDField()


class StoreMergeResponseSerializer(serializers.Serializer):
    winner = serializers.UUIDField(source="winner_id")
    loser = serializers.UUIDField(source="loser_id")
    moved = serializers.DictField(child=serializers.IntegerField())
