"""Visits to stores, verified by GPS, and the follow-ups they leave behind."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from stores.models import LATITUDE_VALIDATORS, LONGITUDE_VALIDATORS
from sync.models import SyncableModel


class VisitPurpose(models.TextChoices):
    ROUTINE = "routine", "Routine"
    SURVEY = "survey", "Site survey"
    NEW_PRODUCT = "new_product", "New product"
    REACTIVATION = "reactivation", "Reactivation"
    COMPLAINT = "complaint", "Complaint"


class GeofenceVerdict(models.TextChoices):
    UNKNOWN = "unknown", "Not checked"
    PASS = "pass", "Inside the geofence"
    FLAGGED = "flagged", "Outside the geofence"


class VisitFlag(models.TextChoices):
    """Signs that a check-in may not be what it claims; set by the server (visits.fraud)."""

    OUTSIDE_GEOFENCE = "outside_geofence", "Checked in outside the store's geofence"
    IMPOSSIBLE_TRAVEL = "impossible_travel", "Too fast from or to the rep's neighbouring check-in"
    OUTSIDE_OPENING_HOURS = "outside_opening_hours", "Checked in while the store was closed"
    PHOTO_REUSED = "photo_reused", "A photo of the visit was already used at another store"


class Visit(SyncableModel):
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="visits")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(max_length=16, choices=VisitPurpose.choices, default="routine")
    check_in_at = models.DateTimeField()
    check_in_lat = models.FloatField(null=True, blank=True, validators=LATITUDE_VALIDATORS)
    check_in_lon = models.FloatField(null=True, blank=True, validators=LONGITUDE_VALIDATORS)
    check_in_accuracy_m = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(100_000.0)]
    )
    check_out_at = models.DateTimeField(null=True, blank=True)
    distance_m = models.FloatField(null=True, blank=True)
    geofence = models.CharField(
        max_length=16, choices=GeofenceVerdict.choices, default=GeofenceVerdict.UNKNOWN
    )
    notes = models.TextField(blank=True, max_length=5000)
    outcome = models.CharField(max_length=200, blank=True)
    # VisitFlag codes, sorted; computed by the server on every write path, never by phones.
    flags = models.JSONField(default=list, blank=True)

    class Meta(SyncableModel.Meta):
        indexes = [
            *SyncableModel.Meta.indexes,
            models.Index(fields=["store", "check_in_at"], name="visit_store_check_in"),
            # A rep's check-ins in time order: the neighbours impossible travel compares.
            models.Index(fields=["rep", "check_in_at"], name="visit_rep_check_in"),
        ]
        constraints = [
            # A rep is at one store at a time: at most one visit without a check-out.
            models.UniqueConstraint(
                fields=["rep"],
                condition=models.Q(check_out_at__isnull=True, deleted=False, rep__isnull=False),
                name="visit_one_open_per_rep",
            ),
        ]


class FollowUp(SyncableModel):
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="followups")
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="followups"
    )
    due_date = models.DateField()
    note = models.TextField(blank=True, max_length=2000)
    done = models.BooleanField(default=False)

    class Meta(SyncableModel.Meta):
        indexes = [
            *SyncableModel.Meta.indexes,
            models.Index(fields=["scope_owner", "done", "due_date"], name="followup_owner_due"),
        ]


class FollowUpReminder(models.Model):
    """A reminder raised for a follow-up before it is due: once per follow-up, for the rep
    who owns it then. Phones see reminders through `GET /api/me/reminders`."""

    followup = models.OneToOneField(FollowUp, on_delete=models.CASCADE, related_name="reminder")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followup_reminders"
    )
    due_date = models.DateField()
    raised_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "due_date"], name="reminder_user_due")]
