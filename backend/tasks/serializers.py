"""The task's wire form and its validation."""

from rest_framework import serializers

from fieldline.conf import fieldline_settings
from stores.models import Grade, Segment, StoreStatus, TradeAreaType
from stores.selectors import Near
from surveys.models import Equipment
from surveys.selectors import StoreSelection
from sync.serializers import (
    FiniteFloatField,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictSerializer,
    WireSerializer,
    choice_list,
    record_ref,
    user_ref,
)
from tasks.models import Dispatch, Task, TaskType
from tasks.services import TaskTemplate


class TaskWireSerializer(WireSerializer):
    store = record_ref()
    assignee = user_ref(allow_null=True, required=False)
    plan = serializers.UUIDField(
        read_only=True, allow_null=True, help_text="The visit plan that made this task."
    )

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
            "plan",
        ]


def filter_max_items() -> int:
    return fieldline_settings.FILTER_MAX_ITEMS


class OneOrMany(serializers.ListField):
    """A value or a list of values of the same kind: `"north"` or `["north", "south"]`;
    at most FILTER_MAX_ITEMS of them unless the field says fewer (a filter's list is
    bounded: 20,000 tags took a dispatch 20 s)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", filter_max_items())
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(data if isinstance(data, list) else [data])


class NearSerializer(StrictSerializer):
    lat = FiniteFloatField(min_value=-90, max_value=90)
    lon = FiniteFloatField(min_value=-180, max_value=180)
    radius_m = FiniteFloatField(min_value=1, max_value=500_000)


class StoreSelectionSerializer(StrictSerializer):
    region = OneOrMany(child=StrictCharField(max_length=32), required=False, max_length=50)
    grade = OneOrMany(child=StrictChoiceField(choices=Grade.choices), required=False)
    segment = OneOrMany(child=StrictChoiceField(choices=Segment.choices), required=False)
    status = OneOrMany(child=StrictChoiceField(choices=StoreStatus.choices), required=False)
    trade_area_type = OneOrMany(
        child=StrictChoiceField(choices=TradeAreaType.choices), required=False
    )
    owner = OneOrMany(child=StrictIntegerField(min_value=1), required=False, max_length=500)
    tags = serializers.ListField(
        child=StrictCharField(max_length=50), required=False, max_length=filter_max_items()
    )
    equipment = choice_list(Equipment.choices, required=False)
    footfall_min = StrictIntegerField(min_value=0, required=False)
    footfall_max = StrictIntegerField(min_value=0, required=False)
    no_survey_days = StrictIntegerField(
        min_value=0, max_value=36_500, required=False, help_text="No survey in this many days."
    )
    near = NearSerializer(required=False)

    def validate(self, attrs):
        low, high = attrs.get("footfall_min"), attrs.get("footfall_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"footfall_max": ["Below footfall_min."]})
        return attrs

    def selection(self) -> StoreSelection:
        data = self.validated_data
        near = data.get("near")
        return StoreSelection(
            regions=tuple(data.get("region", ())),
            grades=tuple(data.get("grade", ())),
            segments=tuple(data.get("segment", ())),
            statuses=tuple(data.get("status", ())),
            trade_area_types=tuple(data.get("trade_area_type", ())),
            owners=tuple(data.get("owner", ())),
            tags=tuple(data.get("tags", ())),
            equipment=tuple(data.get("equipment", ())),
            footfall_min=data.get("footfall_min"),
            footfall_max=data.get("footfall_max"),
            no_survey_days=data.get("no_survey_days"),
            near=Near(**near) if near else None,
        )


class TaskTemplateSerializer(StrictSerializer):
    type = StrictChoiceField(choices=TaskType.choices)
    title = StrictCharField(max_length=200)
    due_date = serializers.DateField(
        required=False,
        help_text=(
            "Every dispatched task has a due date: left out, it is DISPATCH_DUE_DAYS "
            "(default 7) after today."
        ),
    )
    priority = StrictIntegerField(min_value=1, max_value=3, required=False, default=2)
    notes = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")

    def template(self) -> TaskTemplate:
        return TaskTemplate(**self.validated_data)


class DispatchRequestSerializer(StrictSerializer):
    filter = StoreSelectionSerializer()
    task = TaskTemplateSerializer()
    dry_run = StrictBooleanField(required=False, default=False)
    include_existing = StrictBooleanField(
        required=False,
        default=False,
        help_text=(
            "Also send the task to matching stores that already have an open task (open, "
            "accepted, in progress) of the same type. By default they are skipped, and "
            "counted in `skipped_existing`."
        ),
    )
    request_id = serializers.UUIDField(
        required=False,
        help_text=(
            "Chosen by the client, new for each dispatch it means to make. A retry with the "
            "same id (the answer was lost) answers the dispatch it made, and creates nothing; "
            "reusing it for another filter or task is refused with 409."
        ),
    )


class PreviewStoreSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    address = serializers.CharField()
    region = serializers.CharField()
    owner = serializers.IntegerField()
    owner_name = serializers.CharField(help_text="The owner's full name, else their username.")


class DispatchPreviewSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Tasks a dispatch would create.")
    unowned = serializers.IntegerField(help_text="Matching stores without an owner: skipped.")
    skipped_existing = serializers.IntegerField(
        help_text="Matching stores skipped: they already have an open task of this type."
    )
    include_existing = serializers.BooleanField()
    sample = PreviewStoreSerializer(many=True, help_text="A few of the stores that get a task.")
    skipped_sample = PreviewStoreSerializer(
        many=True, help_text="A few of the stores skipped for an open task of this type."
    )


class DispatchSerializer(serializers.ModelSerializer):
    created = serializers.IntegerField(source="task_count", read_only=True)
    created_by = serializers.IntegerField(source="created_by_id", read_only=True)
    cancelled_by = serializers.IntegerField(
        source="cancelled_by_id", read_only=True, allow_null=True
    )

    class Meta:
        model = Dispatch
        fields = [
            "id",
            "created",
            "created_by",
            "created_at",
            "store_filter",
            "task_template",
            "cancelled_at",
            "cancelled_by",
            "request_id",
            "include_existing",
            "skipped_existing",
        ]
        read_only_fields = fields
