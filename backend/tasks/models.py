"""Work dispatched to reps: one task per store, with a status lifecycle."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from sync.models import SyncableModel


class TaskType(models.TextChoices):
    SURVEY = "survey", "Site survey"
    VISIT = "visit", "Visit"
    NEW_PRODUCT = "new_product", "New product"
    REACTIVATION = "reactivation", "Reactivation"
    REVIEW_FIX = "review_fix", "Fix a reviewed survey"
    CALLBACK = "callback", "Callback"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


# A task someone still has to do.
OPEN_TASK_STATUSES = (TaskStatus.OPEN, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS)


class Task(SyncableModel):
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="tasks")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    type = models.CharField(max_length=16, choices=TaskType.choices)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default="open")
    priority = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(3)], help_text="1 = high"
    )
    due_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True, max_length=5000)
    dispatch = models.ForeignKey(
        "tasks.Dispatch", null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    # The visit plan (planning.Plan) that made this task; a plain id, since plans sit above
    # tasks. Phones see it (read-only): a planned visit is shown as one.
    plan = models.UUIDField(null=True, blank=True, editable=False)

    class Meta(SyncableModel.Meta):
        indexes = [
            *SyncableModel.Meta.indexes,
            models.Index(fields=["assignee", "status", "due_date"], name="task_assignee_status"),
            models.Index(fields=["plan", "due_date"], name="task_plan_due"),
        ]


class Dispatch(models.Model):
    """One manager action that sent a task to every store a filter matched: who, what, how
    many — and, when cancelled, the whole of it at once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dispatches"
    )
    created_at = models.DateTimeField()
    store_filter = models.JSONField(default=dict)
    task_template = models.JSONField(default=dict)
    task_count = models.PositiveIntegerField(default=0)
    # Matching stores left out because they already had an open task of the same type
    # (none left out when the manager asked to include them).
    include_existing = models.BooleanField(default=False)
    skipped_existing = models.PositiveIntegerField(default=0)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Chosen by the client so that a retry (the answer was lost) finds this dispatch
    # instead of making a second one.
    request_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "request_id"], name="dispatch_request_once"
            )
        ]
