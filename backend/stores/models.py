"""The store: the customer outlet a rep owns and visits."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from sync.models import SyncableModel


class StoreStatus(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    ACTIVE = "active", "Active"
    DORMANT = "dormant", "Dormant"
    CHURNED = "churned", "Churned"


class TradeAreaType(models.TextChoices):
    OFFICE = "office", "Office"
    RESIDENTIAL = "residential", "Residential"
    TRANSIT = "transit", "Transit hub"
    SCHOOL = "school", "School"
    HOSPITAL = "hospital", "Hospital"
    INDUSTRIAL = "industrial", "Industrial"
    TOURIST = "tourist", "Tourist"
    MIXED = "mixed", "Mixed"


class Grade(models.TextChoices):
    A = "A", "A (key account)"
    B = "B", "B"
    C = "C", "C"


class Segment(models.TextChoices):
    HEAD_ACTIVE = "head_active", "Head, active"
    HEAD_WARNING = "head_warning", "Head, warning"
    MID_GROWTH = "mid_growth", "Mid, growth"
    EARLY_GROWTH = "early_growth", "Early growth"
    MID_CHURN = "mid_churn", "Mid, churning"
    TAIL_CHURN = "tail_churn", "Tail, churning"


LATITUDE_VALIDATORS = [MinValueValidator(-90.0), MaxValueValidator(90.0)]
LONGITUDE_VALIDATORS = [MinValueValidator(-180.0), MaxValueValidator(180.0)]


class Store(SyncableModel):
    name = models.CharField(max_length=200)
    chain_name = models.CharField(max_length=100, blank=True, help_text="Empty: independent.")
    phone = models.CharField(max_length=20, blank=True, db_index=True, help_text="E.164.")
    address = models.CharField(max_length=300, blank=True)
    lat = models.FloatField(validators=LATITUDE_VALIDATORS)
    lon = models.FloatField(validators=LONGITUDE_VALIDATORS)
    region = models.ForeignKey("accounts.Region", on_delete=models.PROTECT, related_name="stores")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_stores",
    )
    status = models.CharField(max_length=16, choices=StoreStatus.choices, default="prospect")
    trade_area_type = models.CharField(max_length=16, choices=TradeAreaType.choices, blank=True)
    grade = models.CharField(max_length=1, choices=Grade.choices, blank=True)
    segment = models.CharField(max_length=16, choices=Segment.choices, blank=True)
    tags = models.JSONField(default=list, blank=True)
    # Server-set by the analytics recompute: the kind (fact, model, predicted, rule) of each
    # computed tag in `tags`; tags not named here were set by hand.
    tag_kinds = models.JSONField(default=dict, blank=True, editable=False)
    # The hours visits are judged by (`outside_opening_hours`): confirmed by a manager or
    # HQ. Reps propose hours in `opening_hours_proposed` (empty: no proposal), which a
    # manager confirms into `opening_hours` (stores.services.opening_hours_confirm).
    opening_hours = models.JSONField(default=dict, blank=True)
    opening_hours_proposed = models.JSONField(default=dict, blank=True)
    geofence_radius_m = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(10.0), MaxValueValidator(5000.0)]
    )
    # Set when a manager merged this store into another (its tombstone then says where).
    merged_into = models.UUIDField(null=True, blank=True, editable=False)
    # A call found the number wrong: the store leaves the call queues until someone
    # corrects `phone`, which sets this again (stores.syncing).
    phone_verified = models.BooleanField(default=True)
    # A call found the store closed for good: its manager closes it (status `churned`, which
    # clears this) or clears it; until then it is called no more.
    closing_proposed_at = models.DateTimeField(null=True, blank=True)

    class Meta(SyncableModel.Meta):
        indexes = [
            *SyncableModel.Meta.indexes,
            models.Index(fields=["region", "trade_area_type"], name="store_region_tat"),
        ]

    def __str__(self) -> str:
        return self.name
