"""Wire forms of visits and follow-ups, with their validation."""

from rest_framework import serializers

from sync.serializers import WireSerializer, record_ref
from visits.models import FollowUp, Visit, VisitFlag


class VisitWireSerializer(WireSerializer):
    store = record_ref()
    distance_m = serializers.FloatField(read_only=True, allow_null=True)
    geofence = serializers.CharField(read_only=True)
    flags = serializers.ListField(
        child=serializers.ChoiceField(choices=VisitFlag.choices), read_only=True
    )

    class Meta:
        model = Visit
        fields = [
            *WireSerializer.META_FIELDS,
            "store",
            "purpose",
            "check_in_at",
            "check_in_lat",
            "check_in_lon",
            "check_in_accuracy_m",
            "check_out_at",
            "distance_m",
            "geofence",
            "flags",
            "notes",
            "outcome",
        ]


class FollowUpWireSerializer(WireSerializer):
    store = record_ref()
    visit = record_ref(allow_null=True, required=False)

    class Meta:
        model = FollowUp
        fields = [*WireSerializer.META_FIELDS, "store", "visit", "due_date", "note", "done"]
