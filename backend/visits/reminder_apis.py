from rest_framework import serializers
from rest_framework.generics import ListAPIView

from visits.models import FollowUpReminder
from visits.selectors import reminder_list


class ReminderSerializer(serializers.ModelSerializer):
    followup = serializers.UUIDField(source="followup_id")
    store = serializers.UUIDField(source="followup.store_id")
    note = serializers.CharField(source="followup.note")

    class Meta:
        model = FollowUpReminder
        fields = ["followup", "store", "note", "due_date", "raised_at"]
        read_only_fields = fields


class ReminderListApi(ListAPIView):
    """Follow-ups of yours due soon that are still open (raised by the daily job)."""

    serializer_class = ReminderSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return FollowUpReminder.objects.none()
        return reminder_list(user=self.request.user)
