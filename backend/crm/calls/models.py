"""The call center.

Office-side records: calls are worked in the office, never on phones, so they are plain
models, not syncable ones. What a call leaves for a rep (a follow-up) is
written through the sync engine.
"""

import uuid

from django.conf import settings
from django.db import models


class CallQueue(models.TextChoices):
    REACTIVATION = "reactivation", "Reactivation of a churn warning"
    SURVEY_BY_PHONE = "survey_by_phone", "Site survey by phone"
    NEW_CUSTOMER_CALLBACK = "new_customer_callback", "New-customer callback"


class CallStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLAIMED = "claimed", "Claimed by an agent"
    DONE = "done", "Done"
    EXPIRED = "expired", "Expired unclaimed"


class CallOutcome(models.TextChoices):
    """How a call ended; agents pick one to complete a call."""

    REACHED_ORDER_PLACED = "reached_order_placed", "Reached: placed an order"
    REACHED_INTERESTED = "reached_interested", "Reached: interested, no order yet"
    REACHED_NO_INTEREST = "reached_no_interest", "Reached: not interested"
    REACHED_SURVEY_DONE = "reached_survey_done", "Reached: survey questions answered"
    CALLBACK_REQUESTED = "callback_requested", "Asked to be called back"
    NO_ANSWER = "no_answer", "No answer"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    STORE_CLOSED = "store_closed", "Store closed for good"


OPEN_CALL_STATUSES = (CallStatus.OPEN, CallStatus.CLAIMED)


class Call(models.Model):
    """One call the call center owes a store, from a queue, with its SLA deadline."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    queue = models.CharField(max_length=24, choices=CallQueue.choices)
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="calls")
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    due_at = models.DateTimeField(help_text="SLA deadline: created_at + the queue's SLA hours.")
    status = models.CharField(max_length=8, choices=CallStatus.choices, default=CallStatus.OPEN)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=24, choices=CallOutcome.choices, blank=True)
    notes = models.TextField(blank=True, max_length=2000)
    next_contact_on = models.DateField(null=True, blank=True)
    # The follow-up the outcome left for the store's rep (a syncable record's id).
    followup_id = models.UUIDField(null=True, blank=True)
    # New-customer callbacks: which day after the first order this call is for.
    callback_day = models.PositiveSmallIntegerField(null=True, blank=True)
    run = models.ForeignKey(
        # A string, not the class: the call center sits below the analytics that fill it.
        "crm.AnalyticsRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )

    class Meta:
        ordering = ["due_at", "created_at", "id"]
        indexes = [
            models.Index(fields=["queue", "status", "due_at"], name="call_queue_status_due"),
            models.Index(fields=["store", "queue", "created_at"], name="call_store_queue_created"),
        ]
        constraints = [
            # A store waits in a queue at most once: generators and races cannot double it.
            models.UniqueConstraint(
                fields=["store", "queue"],
                condition=models.Q(status__in=["open", "claimed"]),
                name="call_one_open_per_store_queue",
            ),
            models.UniqueConstraint(
                fields=["store", "callback_day"],
                condition=models.Q(queue="new_customer_callback"),
                name="call_one_callback_per_day",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="done") | ~models.Q(outcome=""),
                name="call_done_has_outcome",
            ),
        ]
