"""Background exports: one row per requested export, with its progress and its file."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportKind(models.TextChoices):
    SURVEYS_CSV = "surveys_csv", _("Surveys (CSV)")
    STORES_GEOJSON = "stores_geojson", _("Stores (GeoJSON)")


class CsvDialect(models.TextChoices):
    """How a CSV export is written: `standard` (RFC 4180: comma, UTF-8) for programs,
    `excel` for a spreadsheet in a comma-decimal locale (German Excel opens it as it is):
    UTF-8 with a byte-order mark, `;` between cells, decimal commas."""

    STANDARD = "standard", _("Standard (comma-separated, UTF-8)")
    EXCEL = "excel", _("Excel (semicolon-separated, UTF-8 with BOM, decimal comma)")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired (its file was removed after the retention period)")


class ExportJob(models.Model):
    """An export written to the default storage by a background job. The rows are those the
    requester may see when the job runs, narrowed by `filters` (the list's query
    parameters). Not a syncable record: phones never see it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    kind = models.CharField(max_length=32, choices=ExportKind.choices)
    filters = models.JSONField(default=dict, blank=True)
    dialect = models.CharField(
        max_length=16,
        choices=CsvDialect.choices,
        default=CsvDialect.STANDARD,
        help_text="How a CSV export is written (GeoJSON has one form).",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs"
    )
    status = models.CharField(
        max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="export_job_owner")]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.status})"


class StoredFileKind(models.TextChoices):
    EXPORT = "export", "Export file"
    ORDER_IMPORT = "order_import", "Orders import upload"
    PHOTO = "photo", "Bytes of a deleted photo"
    THUMBNAIL = "thumbnail", "Thumbnail of a deleted photo"


class StoredFileRemoval(models.Model):
    """One file the retention sweep removed from object storage: what it was, how large,
    what it belonged to and why it went. Rows are only ever inserted (the audit of what
    storage no longer holds)."""

    kind = models.CharField(max_length=16, choices=StoredFileKind.choices)
    name = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    subject_id = models.CharField(
        max_length=64, blank=True, help_text="The export job, import job or photo it held."
    )
    reason = models.CharField(max_length=200)
    removed_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-removed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"
