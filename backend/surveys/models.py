"""Site surveys and their photos: what reps capture about a store and its surroundings."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from stores.models import LATITUDE_VALIDATORS, LONGITUDE_VALIDATORS, TradeAreaType
from sync.models import SyncableModel


class CustomerGroup(models.TextChoices):
    OFFICE_WORKERS = "office_workers", "Office workers"
    STUDENTS = "students", "Students"
    RESIDENTS = "residents", "Residents"
    COMMUTERS = "commuters", "Commuters"
    TOURISTS = "tourists", "Tourists"
    WORKERS = "workers", "Industrial workers"
    PATIENTS_VISITORS = "patients_visitors", "Patients and visitors"
    FAMILIES = "families", "Families"
    SENIORS = "seniors", "Seniors"


class Equipment(models.TextChoices):
    COFFEE_MACHINE = "coffee_machine", "Coffee machine"
    MICROWAVE = "microwave", "Microwave"
    OPEN_CHILLER = "open_chiller", "Open chiller"
    FREEZER = "freezer", "Freezer"
    HOT_FOOD_CABINET = "hot_food_cabinet", "Hot food cabinet"
    OVEN = "oven", "Oven"
    BAKE_OFF = "bake_off", "Bake-off station"
    SEATING = "seating", "Seating"


class CompetitorKind(models.TextChoices):
    CONVENIENCE = "convenience", "Convenience store"
    SUPERMARKET = "supermarket", "Supermarket"
    BAKERY = "bakery", "Bakery"
    CAFE = "cafe", "Café"
    FAST_FOOD = "fast_food", "Fast food"
    VENDING = "vending", "Vending machines"
    OTHER = "other", "Other"


class SignalQuality(models.TextChoices):
    NONE = "none", "No signal"
    POOR = "poor", "Poor"
    FAIR = "fair", "Fair"
    GOOD = "good", "Good"
    EXCELLENT = "excellent", "Excellent"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    HAS_ISSUES = "has_issues", "Has issues"
    REJECTED = "rejected", "Rejected"


class SiteSurvey(SyncableModel):
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="surveys")
    captured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    trade_area_type = models.CharField(max_length=16, choices=TradeAreaType.choices, blank=True)
    footfall_weekday = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(1_000_000)]
    )
    footfall_weekend = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(1_000_000)]
    )
    # {"morning": n, "lunch": n, "evening": n}, each optional.
    footfall_slots = models.JSONField(default=dict, blank=True)
    customer_groups = models.JSONField(default=list, blank=True)
    # [{"name": str, "kind": CompetitorKind, "distance_m": number}]
    competitors = models.JSONField(default=list, blank=True)
    area_m2 = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(100_000.0)]
    )
    equipment = models.JSONField(default=list, blank=True)
    signal_quality = models.CharField(max_length=16, choices=SignalQuality.choices, blank=True)
    fresh_shelf_m = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(1000.0)]
    )
    lat = models.FloatField(null=True, blank=True, validators=LATITUDE_VALIDATORS)
    lon = models.FloatField(null=True, blank=True, validators=LONGITUDE_VALIDATORS)
    accuracy_m = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(100_000.0)]
    )
    captured_at = models.DateTimeField(null=True, blank=True)
    distance_m = models.FloatField(null=True, blank=True)
    notes = models.TextField(blank=True, max_length=5000)
    review_status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )

    class Meta(SyncableModel.Meta):
        indexes = [
            *SyncableModel.Meta.indexes,
            models.Index(fields=["store", "captured_at"], name="survey_store_captured"),
        ]


class PhotoSection(models.TextChoices):
    STOREFRONT = "storefront", "Storefront"
    INTERIOR = "interior", "Interior"
    SHELF = "shelf", "Fresh shelf"
    EQUIPMENT = "equipment", "Equipment"
    SURROUNDINGS = "surroundings", "Surroundings"
    OTHER = "other", "Other"


class Photo(SyncableModel):
    survey = models.ForeignKey(
        SiteSurvey, null=True, blank=True, on_delete=models.PROTECT, related_name="photos"
    )
    visit = models.ForeignKey(
        "visits.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="photos"
    )
    section = models.CharField(max_length=16, choices=PhotoSection.choices, default="other")
    sha256 = models.CharField(max_length=64, db_index=True)
    content_type = models.CharField(max_length=32, default="image/jpeg")
    taken_at = models.DateTimeField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True, validators=LATITUDE_VALIDATORS)
    lon = models.FloatField(null=True, blank=True, validators=LONGITUDE_VALIDATORS)
    content = models.FileField(upload_to="photos/%Y/%m/", blank=True)
    size_bytes = models.PositiveIntegerField(null=True, blank=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)

    class Meta(SyncableModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=models.Q(survey__isnull=False) | models.Q(visit__isnull=False),
                name="photo_belongs_to_survey_or_visit",
            ),
        ]
