"""Visit plans: each region's rules, and the plans generated from them.

The planned visits themselves are `visit` tasks (tasks.Task) whose `plan` names the plan
that made them: phones pull them as any task, and the rep's day serves them.
"""

import uuid

from django.conf import settings
from django.db import models


class PlanRules(models.Model):
    """One region's rules; a region without a row plans with the FIELDLINE defaults."""

    region = models.OneToOneField(
        "accounts.Region", primary_key=True, on_delete=models.CASCADE, related_name="plan_rules"
    )
    frequency_weeks = models.JSONField(help_text='Weeks between visits by grade: {"A": 1, ...}')
    prospect_weeks = models.PositiveSmallIntegerField(
        default=0, help_text="Weeks between visits of a prospect; 0: prospects not planned."
    )
    visit_minutes = models.JSONField(help_text='Minutes a visit takes by grade: {"A": 30, ...}')
    day_minutes = models.PositiveSmallIntegerField()
    work_days = models.JSONField(help_text="ISO weekdays (Monday = 1) reps work.")
    travel_kmh = models.FloatField()
    holidays = models.JSONField(default=list, help_text="Dates without visits (YYYY-MM-DD).")
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        # A region's rules are one set: "plan rules" would be the same word twice in the admin.
        verbose_name = "plan rule set"
        verbose_name_plural = "plan rule sets"


class Plan(models.Model):
    """One generation: the region and weeks it planned, with the rules it used and its
    answer (counts, unplanned visits, per rep and day), kept so that a retried request
    answers the same plan."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    region = models.ForeignKey("accounts.Region", on_delete=models.PROTECT, related_name="plans")
    start = models.DateField()
    weeks = models.PositiveSmallIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="plans"
    )
    created_at = models.DateTimeField()
    request_id = models.UUIDField(null=True, blank=True)
    rules = models.JSONField(default=dict)
    required = models.PositiveIntegerField(default=0)
    planned = models.PositiveIntegerField(default=0)
    unplanned = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0, help_text="Visit tasks this plan made.")
    replaced = models.PositiveIntegerField(
        default=0, help_text="Open visits of earlier plans it cancelled."
    )
    kept = models.PositiveIntegerField(
        default=0, help_text="Started or done visits of earlier plans it kept."
    )
    answer = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["created_by", "request_id"], name="plan_request_once")
        ]
