"""Analytics runs (what each recompute used and changed) and the HQ's rule tags."""

import uuid

from django.conf import settings
from django.db import models


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


class TagRule(models.Model):
    """An HQ-defined rule tag: stores matching every condition carry the tag after the next
    analytics recompute. Conditions are data ({field, op, value}), never code."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=50, unique=True)
    description = models.CharField(max_length=300, blank=True)
    conditions = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
