"""Site surveys and their photos: what reps capture about a store and its surroundings;
the templates HQ scores them against, and the reviews managers and HQ make of them."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

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


# What a survey measures of its store, in the order forms, exports and the review page show
# it: one list, so the wire serializer, the sync registry, the CSV export and the review
# sheet cannot drift apart (the trade-area type precedes it wherever it is shown).
SURVEY_MEASURES = (
    "footfall_weekday",
    "footfall_weekend",
    "footfall_slots",
    "customer_groups",
    "competitors",
    "area_m2",
    "equipment",
    "signal_quality",
    "fresh_shelf_m",
)


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
    # The template version the phone captured the survey with; empty: the latest version
    # of the trade-area type at `captured_at` applies.
    template_version = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(1_000_000)]
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


class PhotoUploadState(models.TextChoices):
    """Where a photo's bytes are: a phone shows and retries each photo on its own."""

    PENDING = "pending", "Bytes not arrived"
    UPLOADED = "uploaded", "Bytes stored and checked"
    THUMBNAIL_READY = "thumbnail_ready", "Thumbnail made"


class PhotoFlag(models.TextChoices):
    REUSED = "photo_reused", "The same bytes (SHA-256) were already used at another store"


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
    # PhotoFlag codes, sorted; computed by the server (photos.flags), never by phones.
    flags = models.JSONField(default=list, blank=True)
    # Set by the server as the bytes arrive and their thumbnail is made (read-only on the wire).
    upload_state = models.CharField(
        max_length=16, choices=PhotoUploadState.choices, default=PhotoUploadState.PENDING
    )

    class Meta(SyncableModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=models.Q(survey__isnull=False) | models.Q(visit__isnull=False),
                name="photo_belongs_to_survey_or_visit",
            ),
        ]


class PhotoThumbnail(models.Model):
    """The server's thumbnail of a photo's bytes (not synced: phones fetch it by URL).

    One row per photo once a thumbnail job has run: `name` is the stored JPEG, or empty
    with `error` when the bytes could not be decoded (so the sweep does not retry them).
    `source_sha256` is the photo's sha256 the thumbnail was made from; a photo whose
    sha256 has changed since needs a new one.
    """

    photo = models.OneToOneField(Photo, on_delete=models.CASCADE, related_name="thumbnail")
    source_sha256 = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    made_at = models.DateTimeField()


class SurveyTemplate(models.Model):
    """What a complete survey of one trade-area type holds. Rows are never changed: a new
    rule is a new version, so a survey keeps being scored by the version it was taken with.

    `conditional_fields`: [{"field": name, "when": {"field": name, "in": [values]}}], a
    field required only when another field holds one of the values. `min_photos`:
    {section: n}, photos with uploaded bytes needed per section. With
    `gps_within_geofence`, the survey's GPS fix counts only inside the store's geofence.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    trade_area_type = models.CharField(max_length=16, choices=TradeAreaType.choices)
    version = models.PositiveIntegerField()
    required_fields = models.JSONField(default=list, blank=True)
    conditional_fields = models.JSONField(default=list, blank=True)
    min_photos = models.JSONField(default=dict, blank=True)
    gps_within_geofence = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["trade_area_type", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["trade_area_type", "version"], name="survey_template_version_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="survey_template_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trade_area_type} v{self.version}"


class ReviewVerdict(models.TextChoices):
    APPROVED = "approved", "Approved"
    HAS_ISSUES = "has_issues", "Has issues"
    REJECTED = "rejected", "Rejected"


class ReviewReason(models.TextChoices):
    """Why a survey is sent back, per field or for the whole survey (DOMAIN.md's list)."""

    MISSING = "missing", _("Missing")
    IMPLAUSIBLE = "implausible", _("Implausible value")
    PHOTO_UNCLEAR = "photo_unclear", _("Photo unclear")
    WRONG_STORE = "wrong_store", _("Wrong store")
    OUTSIDE_GEOFENCE = "outside_geofence", _("Taken outside the store's geofence")
    OTHER = "other", _("Other (say what in the comment)")


class SurveyReview(models.Model):
    """One review action on a survey, kept for good: who, when, which verdict and why."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    survey = models.ForeignKey(SiteSurvey, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    verdict = models.CharField(max_length=16, choices=ReviewVerdict.choices)
    # {field: [ReviewReason]}
    reasons = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True, max_length=5000)
    created_at = models.DateTimeField()
    # The review_fix task sent to the store's owner, when the verdict asked for one.
    task_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["survey", "created_at"]
        indexes = [models.Index(fields=["survey", "created_at"], name="survey_review_history")]
