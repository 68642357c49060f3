"""Orders imported from the ERP: the sales facts the analytics are computed from."""

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


class AnalyticsRunKind(models.TextChoices):
    RECOMPUTE = "recompute", "RFM segments, ABC grades and churn warnings"


class AnalyticsRun(models.Model):
    """One recomputation of the customer analytics: with which thresholds, as of which day,
    and what it changed, so that a segment or grade on a store can be traced to its run."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    kind = models.CharField(max_length=16, choices=AnalyticsRunKind.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    parameters = models.JSONField(default=dict)
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at"]
