"""Reads of the survey review page: one survey against its template, its photos, where it
was taken, and its neighbours in the review queue (hq.review_views)."""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from hq.labels import localized
from stores.fences import store_fences
from stores.models import TradeAreaType
from surveys.models import (
    SURVEY_MEASURES,
    CompetitorKind,
    CustomerGroup,
    Equipment,
    Photo,
    PhotoThumbnail,
    ReviewStatus,
    SignalQuality,
    SiteSurvey,
    SurveyReview,
)
from surveys.models import PhotoSection as PhotoSectionChoice
from surveys.selectors import (
    GPS_ITEM,
    PHOTO_ITEM,
    Completeness,
    TemplateRules,
    review_queue,
    scored,
    survey_completeness,
    survey_list,
    template_rules,
)

# --- one survey under review -------------------------------------------------------------

ANSWER_FIELDS = ("trade_area_type", *SURVEY_MEASURES, "notes")
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "trade_area_type": dict(localized(TradeAreaType.choices)),
    "signal_quality": dict(localized(SignalQuality.choices)),
    "customer_groups": dict(localized(CustomerGroup.choices)),
    "equipment": dict(localized(Equipment.choices)),
}
FIELD_LABELS = {
    "trade_area_type": _("Trade area type"),
    "footfall_weekday": _("Footfall (weekday)"),
    "footfall_weekend": _("Footfall (weekend)"),
    "footfall_slots": _("Footfall by time of day"),
    "customer_groups": _("Customer groups"),
    "competitors": _("Competitors"),
    "area_m2": _("Area (m²)"),
    "equipment": _("Equipment"),
    "signal_quality": _("Mobile signal"),
    "fresh_shelf_m": _("Fresh shelf (m)"),
    "notes": _("Notes"),
}
PREVIOUS_SURVEYS = 10


@dataclass(frozen=True)
class Answer:
    """One survey field as the reviewer reads it, against the template."""

    name: str
    label: str
    value: str
    required: bool
    missing: bool


@dataclass(frozen=True)
class ReviewPhoto:
    id: uuid.UUID
    section: str
    section_label: str
    uploaded: bool  # its bytes are stored here (metadata alone does not show a picture)
    thumbnail: bool
    flags: list[str]
    taken_at: dt.datetime | None


@dataclass(frozen=True)
class PhotoSection:
    section: str
    label: str
    needed: int
    uploaded: int
    photos: list[ReviewPhoto]

    @property
    def short(self) -> bool:
        return self.uploaded < self.needed


@dataclass(frozen=True)
class SurveySheet:
    """Everything the review page shows of one survey, read in a fixed number of queries."""

    survey: SiteSurvey
    completeness: Completeness
    answers: list[Answer]
    photo_sections: list[PhotoSection]
    geofence_m: float
    gps_required: bool
    gps_missing: bool
    previous: list[dict[str, Any]]
    reviews: list[SurveyReview]
    queue_previous: uuid.UUID | None
    queue_next: uuid.UUID | None
    queue_position: int | None
    queue_size: int

    @property
    def missing_other(self) -> list[str]:
        """Missing items that are neither a field nor a photo section nor the GPS fix."""
        shown = {a.name for a in self.answers} | {GPS_ITEM}
        shown |= {f"{PHOTO_ITEM}{s.section}" for s in self.photo_sections}
        return [item for item in self.completeness.missing if item not in shown]


def competitor_text(competitor: dict[str, Any]) -> str:
    kind = dict(CompetitorKind.choices).get(competitor.get("kind"), competitor.get("kind"))
    distance = competitor.get("distance_m")
    where = f", {distance:g} m" if isinstance(distance, int | float) else ""
    return f"{competitor.get('name') or '?'} ({kind}{where})"


def answer_text(name: str, value: Any) -> str:
    labels = CHOICE_LABELS.get(name, {})
    if value in (None, "", [], {}):
        return ""
    if name == "competitors":
        return "; ".join(competitor_text(c) for c in value if isinstance(c, dict))
    if isinstance(value, list):
        return ", ".join(str(labels.get(item, item)) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {count}" for key, count in value.items())
    if isinstance(value, float):
        return format(value, "g")
    return str(labels.get(value, value))


def required_names(rules: TemplateRules | None, survey: SiteSurvey, scored_type: str) -> set[str]:
    """The template's required fields, and its conditional ones whose condition holds."""
    if rules is None:
        return set()
    names = set(rules.required_fields)
    for name, condition in rules.conditional_fields:
        value = (
            scored_type
            if condition.field == "trade_area_type"
            else getattr(survey, condition.field, None)
        )
        if value in condition.values:
            names.add(name)
    return names


def queue_neighbours(
    *, actor: User, survey_id: uuid.UUID
) -> tuple[uuid.UUID | None, uuid.UUID | None, int | None, int]:
    """The surveys before and after this one in the review queue's order, its place (from
    1; None when it is not waiting) and the queue's length: one query over the ids."""
    ids = list(review_queue(actor=actor).values_list("id", flat=True))
    if survey_id not in ids:
        return (None, ids[0] if ids else None, None, len(ids))
    at = ids.index(survey_id)
    before = ids[at - 1] if at > 0 else None
    after = ids[at + 1] if at + 1 < len(ids) else None
    return (before, after, at + 1, len(ids))


def survey_sheet(*, actor: User, survey_id: uuid.UUID) -> SurveySheet | None:
    """The survey in the actor's scope with its answers against its template, photos per
    section, position against the store's fence, earlier surveys of the store, its review
    history and its neighbours in the queue; None when out of scope or unknown."""
    survey = (
        survey_list(actor=actor)
        .select_related("store", "store__owner", "captured_by")
        .filter(pk=survey_id)
        .first()
    )
    if survey is None:
        return None
    completeness = survey_completeness(survey=survey)
    rules = next(
        (
            r
            for r in template_rules()
            if (r.trade_area_type, r.version)
            == (completeness.trade_area_type, completeness.template_version)
        ),
        None,
    )
    required = required_names(rules, survey, completeness.trade_area_type)
    missing = set(completeness.missing)
    answers = [
        Answer(
            name=name,
            label=str(FIELD_LABELS[name]),
            value=answer_text(name, getattr(survey, name)),
            required=name in required,
            missing=name in missing,
        )
        for name in ANSWER_FIELDS
    ]
    photos = list(
        Photo.objects.filter(survey=survey, deleted=False)
        .annotate(
            thumbnail_ready=Exists(
                PhotoThumbnail.objects.filter(
                    photo=OuterRef("pk"), source_sha256=OuterRef("sha256"), error=""
                ).exclude(name="")
            )
        )
        .order_by("section", "taken_at", "pk")
    )
    needed = dict(rules.min_photos) if rules else {}
    section_labels = dict(localized(PhotoSectionChoice.choices))
    sections = []
    for section in sorted(
        {p.section for p in photos} | set(needed),
        key=lambda s: list(section_labels).index(s) if s in section_labels else 99,
    ):
        in_section = [
            ReviewPhoto(
                id=p.pk,
                section=p.section,
                section_label=section_labels.get(p.section, p.section),
                uploaded=p.uploaded_at is not None and bool(p.content.name),
                thumbnail=p.uploaded_at is not None and p.thumbnail_ready,
                flags=list(p.flags or []),
                taken_at=p.taken_at,
            )
            for p in photos
            if p.section == section
        ]
        sections.append(
            PhotoSection(
                section=section,
                label=section_labels.get(section, section),
                needed=needed.get(section, 0),
                uploaded=sum(1 for p in photos if p.section == section and p.uploaded_at),
                photos=in_section,
            )
        )
    fence = store_fences(ids=[survey.store_id])[survey.store_id]
    previous = list(
        scored(
            SiteSurvey.objects.filter(store_id=survey.store_id, deleted=False).exclude(pk=survey.pk)
        )
        .order_by(F("captured_at").desc(nulls_last=True), "-created_at")
        .values(
            "id",
            "captured_at",
            "review_status",
            "score",
            "scored_version",
            "footfall_weekday",
            "area_m2",
            "distance_m",
            "captured_by__username",
        )[:PREVIOUS_SURVEYS]
    )
    statuses = dict(localized(ReviewStatus.choices))
    for row in previous:
        row["review_status_label"] = statuses.get(row["review_status"], row["review_status"])
    before, after, position, size = queue_neighbours(actor=actor, survey_id=survey.pk)
    return SurveySheet(
        survey=survey,
        completeness=completeness,
        answers=answers,
        photo_sections=sections,
        geofence_m=fence.radius_m,
        gps_required=rules is not None,
        gps_missing=GPS_ITEM in missing,
        previous=previous,
        reviews=list(
            SurveyReview.objects.filter(survey=survey)
            .select_related("reviewer")
            .order_by("created_at", "pk")
        ),
        queue_previous=before,
        queue_next=after,
        queue_position=position,
        queue_size=size,
    )
