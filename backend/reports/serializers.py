from rest_framework import serializers

from reports.selectors import GroupBy


class CompletenessQuerySerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=[(g.value, g.value) for g in GroupBy])


class CompletenessRowSerializer(serializers.Serializer):
    group = serializers.CharField(
        allow_null=True, help_text="Region code, rep username or trade-area type."
    )
    surveys = serializers.IntegerField()
    average_score = serializers.FloatField(allow_null=True)
    complete = serializers.IntegerField(help_text="Surveys scoring 1.")
    missing_photos = serializers.IntegerField(help_text="Surveys below a photo minimum.")
    stores_without_survey = serializers.IntegerField()
    stores_with_stale_survey = serializers.IntegerField()


class CompletenessReportSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    stale_survey_days = serializers.IntegerField()
    results = CompletenessRowSerializer(many=True)
