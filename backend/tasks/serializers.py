"""The task's wire form and its validation."""

from sync.serializers import WireSerializer, record_ref, user_ref
from tasks.models import Task


class TaskWireSerializer(WireSerializer):
    store = record_ref()
    assignee = user_ref(allow_null=True, required=False)

    class Meta:
        model = Task
        fields = [
            *WireSerializer.META_FIELDS,
            "store",
            "assignee",
            "type",
            "title",
            "status",
            "priority",
            "due_date",
            "notes",
        ]
