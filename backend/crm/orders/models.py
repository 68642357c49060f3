"""Orders imported from the ERP (the sales facts the analytics are computed from) and the
background jobs that import them."""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    external_id = models.CharField(max_length=64, unique=True)
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="orders")
    order_date = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta:
        indexes = [models.Index(fields=["store", "order_date"], name="order_store_date")]


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])


class OrderImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class OrderImportJob(models.Model):
    """An orders CSV imported by a background job (`crm.jobs.run_order_import`): the upload is
    kept in the default storage (what was imported stays on record); the report is the
    synchronous import's. One job at a time per file content: the constraint says so."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="order_import_jobs"
    )
    status = models.CharField(
        max_length=16, choices=OrderImportStatus.choices, default=OrderImportStatus.QUEUED
    )
    rows_total = models.PositiveBigIntegerField(null=True, blank=True)
    rows_done = models.PositiveBigIntegerField(default=0)
    report = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["requested_by", "-created_at"], name="order_import_job_owner"),
            models.Index(fields=["-created_at"], name="order_import_job_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["sha256"],
                condition=models.Q(status__in=["queued", "running"]),
                name="order_import_job_one_active_per_file",
            )
        ]

    def __str__(self) -> str:
        return f"orders import {self.pk} ({self.status})"
