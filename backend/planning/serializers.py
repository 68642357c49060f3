"""The plan API's input and output shapes."""

from rest_framework import serializers

from fieldline.conf import fieldline_settings
from sync.serializers import (
    FiniteFloatField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
)

GRADE_KEYS = ("A", "B", "C")


class GradeMinutesField(serializers.DictField):
    """`{"A": n, "B": n, "C": n}`: one whole number per grade, each in its range."""

    def __init__(self, *, low: int, high: int, **kwargs):
        self.low, self.high = low, high
        super().__init__(child=serializers.IntegerField(), **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, dict) or set(data) != set(GRADE_KEYS):
            raise serializers.ValidationError('Give one value for each grade: {"A", "B", "C"}.')
        for grade, value in data.items():
            if not isinstance(value, int) or isinstance(value, bool):
                raise serializers.ValidationError(f"{grade}: a whole number is required.")
            if not self.low <= value <= self.high:
                raise serializers.ValidationError(f"{grade}: between {self.low} and {self.high}.")
        return {grade: data[grade] for grade in GRADE_KEYS}


class PlanRulesSerializer(StrictSerializer):
    region = StrictCharField(max_length=32)
    frequency_weeks = GradeMinutesField(
        low=1, high=52, help_text="Weeks between visits by grade (a store without grade: C)."
    )
    prospect_weeks = StrictIntegerField(
        min_value=0, max_value=52, help_text="Weeks between visits of a prospect; 0: none."
    )
    visit_minutes = GradeMinutesField(low=1, high=480, help_text="Minutes a visit takes.")
    day_minutes = StrictIntegerField(
        min_value=30, max_value=1440, help_text="A rep's working minutes a day."
    )
    work_days = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=7),
        min_length=1,
        max_length=7,
        help_text="Working ISO weekdays, Monday = 1.",
    )
    travel_kmh = FiniteFloatField(
        min_value=1, max_value=200, help_text="Average speed between stops."
    )
    holidays = serializers.ListField(
        child=serializers.DateField(), max_length=366, help_text="Dates without visits."
    )


class PlanRulesListSerializer(serializers.Serializer):
    results = PlanRulesSerializer(many=True)


class PlanRulesQuerySerializer(StrictSerializer):
    region = StrictCharField(max_length=32, required=False)


class PlanGenerateSerializer(StrictSerializer):
    region = StrictCharField(max_length=32)
    start = serializers.DateField(help_text="The first day of the plan (today or later).")
    weeks = StrictIntegerField(min_value=1)
    dry_run = StrictBooleanField(required=False, default=False)
    request_id = serializers.UUIDField(
        required=False,
        help_text=(
            "Chosen by the client, new for each plan it means to make. A retry with the same "
            "id (the answer was lost) answers the plan it made and changes nothing; reused "
            "for another region, start or length: 409."
        ),
    )

    def validate_weeks(self, value: int) -> int:
        limit = fieldline_settings.PLAN_MAX_WEEKS
        if value > limit:
            raise serializers.ValidationError(f"At most {limit} weeks; plan the rest later.")
        return value


class UnplannedVisitSerializer(serializers.Serializer):
    store = serializers.UUIDField()
    rep = serializers.IntegerField(allow_null=True)
    date = serializers.DateField(allow_null=True, help_text="The day it was wanted on.")
    reason = serializers.ChoiceField(
        choices=[
            "no_rep",
            "closed_on_working_days",
            "no_open_day",
            "visit_longer_than_day",
            "day_full",
        ]
    )


class PlanAnswerSerializer(serializers.Serializer):
    id = serializers.UUIDField(required=False, help_text="The plan made (not for a dry run).")
    required = serializers.IntegerField(help_text="Visits the stores' cadence asks for.")
    planned = serializers.IntegerField(help_text="Visits in the plan, kept ones included.")
    kept = serializers.IntegerField(help_text="Started or done visits of earlier plans kept.")
    created = serializers.IntegerField(required=False, help_text="Visit tasks made.")
    replaced = serializers.IntegerField(
        required=False, help_text="Open visits of earlier plans in the period, cancelled."
    )
    unplanned = UnplannedVisitSerializer(many=True)
    by_rep = serializers.DictField(
        child=serializers.DictField(child=serializers.DictField()),
        help_text='{"<user id>": {"<date>": {"visits": k, "minutes": x}}}; minutes: visits '
        "plus travel.",
    )


class PlanPeriodQuerySerializer(StrictSerializer):
    region = StrictCharField(max_length=32, required=False, help_text="HQ: which region.")
    rep = serializers.IntegerField(min_value=1, required=False, help_text="A rep's user id.")
    # `from` is a Python keyword: declared through the class namespace.
    locals()["from"] = serializers.DateField(required=False)
    to = serializers.DateField(required=False)

    def validate(self, attrs):
        start, end = attrs.get("from"), attrs.get("to")
        if start and end and start > end:
            raise serializers.ValidationError({"to": ["Before from."]})
        if start and end and (end - start).days > 366:
            raise serializers.ValidationError({"to": ["At most a year after from."]})
        return attrs


class DayOverloadSerializer(serializers.Serializer):
    rep = serializers.IntegerField()
    date = serializers.DateField()
    visits = serializers.IntegerField()
    minutes = serializers.FloatField(help_text="Visits plus travel in route order.")
    day_minutes = serializers.FloatField(help_text="The region's working minutes a day.")


class DayOverloadListSerializer(serializers.Serializer):
    results = DayOverloadSerializer(many=True)


class ComplianceFiguresSerializer(serializers.Serializer):
    planned = serializers.IntegerField(help_text="Planned visits due in the period.")
    done = serializers.IntegerField(help_text="Of them, tasks marked done.")
    verified = serializers.IntegerField(
        help_text="Of them, backed by a geofence-verified visit to the store on the planned day ±1."
    )
    rate = serializers.FloatField(allow_null=True, help_text="verified / planned.")


class ComplianceRepSerializer(ComplianceFiguresSerializer):
    rep = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()


class ComplianceGradeSerializer(ComplianceFiguresSerializer):
    grade = serializers.CharField()


class ComplianceWeekSerializer(ComplianceFiguresSerializer):
    week = serializers.DateField(help_text="The week's Monday.")


class ComplianceSerializer(ComplianceFiguresSerializer):
    region = serializers.CharField()
    locals()["from"] = serializers.DateField()
    to = serializers.DateField()
    by_rep = ComplianceRepSerializer(many=True)
    by_grade = ComplianceGradeSerializer(many=True)
    by_week = ComplianceWeekSerializer(many=True)


def compliance_wire(compliance) -> dict:
    """A `selectors.Compliance` in the API's shape."""

    def figures(row) -> dict:
        return {
            "planned": row.planned,
            "done": row.done,
            "verified": row.verified,
            "rate": round(row.rate, 4) if row.rate is not None else None,
        }

    return {
        "region": compliance.region,
        "from": compliance.start,
        "to": compliance.end,
        **figures(compliance.total),
        "by_rep": [
            {
                "rep": int(row.key) if row.key != "None" else None,
                "name": compliance.rep_names.get(row.key, ""),
                **figures(row),
            }
            for row in compliance.by_rep
        ],
        "by_grade": [{"grade": row.key, **figures(row)} for row in compliance.by_grade],
        "by_week": [{"week": row.key, **figures(row)} for row in compliance.by_week],
    }
