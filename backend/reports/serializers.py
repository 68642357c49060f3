from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from reports.models import CsvDialect, ExportJob, ExportKind, ExportStatus
from reports.selectors import GroupBy, export_job_progress
from sync.serializers import StrictCharField, StrictChoiceField, StrictSerializer


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


class ExportJobRequestSerializer(StrictSerializer):
    kind = StrictChoiceField(choices=ExportKind.choices)
    filters = serializers.DictField(
        child=StrictCharField(max_length=200, allow_blank=True),
        required=False,
        default=dict,
        help_text="The export's list filters as query-parameter strings, e.g. "
        '{"review_status": "pending", "region": "north"}.',
    )
    dialect = StrictChoiceField(
        choices=CsvDialect.choices,
        required=False,
        default=CsvDialect.STANDARD,
        help_text="CSV exports: `excel` writes UTF-8 with a byte-order mark, `;` between "
        "cells and decimal commas (German Excel opens it as it is). Ignored for GeoJSON.",
    )


class ExportJobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField(
        help_text="Share of rows written, 0 to 1; null until the rows are counted."
    )
    download = serializers.SerializerMethodField(help_text="Where the file is, once done.")

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "kind",
            "filters",
            "dialect",
            "status",
            "rows_done",
            "rows_total",
            "progress",
            "download",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_progress(self, job: ExportJob) -> float | None:
        return export_job_progress(job=job)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_download(self, job: ExportJob) -> str | None:
        if job.status != ExportStatus.DONE:
            return None
        return reverse("export-job-download", kwargs={"pk": job.pk})
