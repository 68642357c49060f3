"""Reads of surveys: completeness against the template version each survey was taken with.

A survey's required items are the template's required fields, its conditional fields
whose condition holds, one item per photo section with a minimum (met by that many photos
whose bytes have arrived), and the GPS fix (inside the store's geofence when the template
says so). Score = present required items / required items.

Everything is SQL: the few templates are read once and turned into one CASE branch per
template, so scoring fifty thousand surveys is one query, and the per-survey and the
aggregated figures come from the same expressions.
"""

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import (
    ASin,
    Cast,
    Coalesce,
    Cos,
    Least,
    NullIf,
    Power,
    Radians,
    Sin,
    Sqrt,
)
from django.utils import timezone

from accounts.models import User
from accounts.scope import scope_filter
from fieldline.conf import fieldline_settings
from stores.models import Store
from stores.selectors import EARTH_RADIUS_M, Near, json_list_has, within_radius
from surveys.models import Photo, ReviewStatus, SiteSurvey, SurveyTemplate

# Survey fields a template may require, and how "present" reads for each.
TEXT_FIELDS = ("trade_area_type", "signal_quality", "notes")
VALUE_FIELDS = ("footfall_weekday", "footfall_weekend", "area_m2", "fresh_shelf_m", "captured_at")
LIST_FIELDS = ("customer_groups", "competitors", "equipment")
OBJECT_FIELDS = ("footfall_slots",)
REQUIRABLE_FIELDS = (*TEXT_FIELDS, *VALUE_FIELDS, *LIST_FIELDS, *OBJECT_FIELDS)
# Fields a conditional requirement may depend on (choice fields: `in` a list of values).
CONDITION_FIELDS = ("trade_area_type", "signal_quality")
PHOTO_ITEM = "photos."
GPS_ITEM = "gps"
# Like visit check-ins: the reported accuracy widens the fence, up to this many metres.
DEFAULT_GEOFENCE_MAX_SLACK_M = 100.0


@dataclass(frozen=True)
class Condition:
    field: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class TemplateRules:
    """One template version, read once per request."""

    trade_area_type: str
    version: int
    created_at: dt.datetime
    required_fields: tuple[str, ...]
    conditional_fields: tuple[tuple[str, Condition], ...]
    min_photos: tuple[tuple[str, int], ...]
    gps_within_geofence: bool

    @classmethod
    def of(cls, template: SurveyTemplate) -> "TemplateRules":
        required = tuple(dict.fromkeys(template.required_fields))
        conditional = tuple(
            (
                rule["field"],
                Condition(field=rule["when"]["field"], values=tuple(rule["when"]["in"])),
            )
            for rule in template.conditional_fields
            if rule["field"] not in required
        )
        return cls(
            trade_area_type=template.trade_area_type,
            version=template.version,
            created_at=template.created_at,
            required_fields=required,
            conditional_fields=conditional,
            min_photos=tuple(sorted((s, n) for s, n in template.min_photos.items() if n > 0)),
            gps_within_geofence=template.gps_within_geofence,
        )

    def items(self) -> list[tuple[str, Q | None, Q]]:
        """(item, condition under which it is required or None, when it is present)."""
        items: list[tuple[str, Q | None, Q]] = [
            (name, None, field_present(name)) for name in self.required_fields
        ]
        for name, condition in self.conditional_fields:
            static = self.static_condition(condition)
            if static is False:
                continue
            items.append((name, None if static else condition_q(condition), field_present(name)))
        items += [
            (f"{PHOTO_ITEM}{section}", None, Q(**{f"_photos_{section}__gte": minimum}))
            for section, minimum in self.min_photos
        ]
        items.append((GPS_ITEM, None, gps_present(within_geofence=self.gps_within_geofence)))
        return items

    def static_condition(self, condition: Condition) -> bool | None:
        """A condition on the trade-area type is known from the template itself."""
        if condition.field == "trade_area_type":
            return self.trade_area_type in condition.values
        return None


@dataclass(frozen=True)
class Completeness:
    survey_id: uuid.UUID
    trade_area_type: str
    template_version: int | None
    score: float | None
    required_items: int
    present_items: int
    missing: list[str] = field(default_factory=list)


def field_present(name: str) -> Q:
    if name in TEXT_FIELDS:
        return ~Q(**{name: ""})
    if name in VALUE_FIELDS:
        return Q(**{f"{name}__isnull": False})
    if name in LIST_FIELDS:
        return ~Q(**{name: []})
    if name in OBJECT_FIELDS:
        return ~Q(**{name: {}})
    raise ValueError(f"{name} is not a field a template may require")


def condition_q(condition: Condition) -> Q:
    column = "_scored_type" if condition.field == "trade_area_type" else condition.field
    return Q(**{f"{column}__in": list(condition.values)})


def gps_present(*, within_geofence: bool) -> Q:
    present = Q(lat__isnull=False, lon__isnull=False)
    if within_geofence:
        present &= Q(_gps_excess_m__lte=0)
    return present


def haversine_m(lat1: Combinable, lon1: Combinable, lat2: Combinable, lon2: Combinable):
    half_dlat = Radians(lat2 - lat1) / 2
    half_dlon = Radians(lon2 - lon1) / 2
    a = Power(Sin(half_dlat), 2) + Cos(Radians(lat1)) * Cos(Radians(lat2)) * Power(
        Sin(half_dlon), 2
    )
    return ExpressionWrapper(
        2 * EARTH_RADIUS_M * ASin(Least(Sqrt(a), Value(1.0))), output_field=FloatField()
    )


def uploaded_photos(section: str) -> Coalesce:
    counted = (
        Photo.objects.filter(
            survey=OuterRef("pk"), section=section, deleted=False, uploaded_at__isnull=False
        )
        .order_by()
        .values("survey")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def templates_in_force() -> QuerySet[SurveyTemplate]:
    """The latest version of each trade-area type's template: what a new survey is
    scored against, and what the rep's app renders its form from."""
    latest = (
        SurveyTemplate.objects.filter(trade_area_type=OuterRef("trade_area_type"))
        .order_by("-version")
        .values("version")[:1]
    )
    return SurveyTemplate.objects.filter(version=Subquery(latest)).order_by("trade_area_type")


def template_rules() -> list[TemplateRules]:
    return [
        TemplateRules.of(t) for t in SurveyTemplate.objects.order_by("trade_area_type", "version")
    ]


def by_template(
    templates: Sequence[TemplateRules],
    branch: Callable[[TemplateRules], Any],
    output_field: Any,
) -> Case:
    """One CASE picking the survey's template: the version it names if that exists, else
    the latest version created at or before `captured_at` (the latest one when the capture
    time is unknown, the first one for a capture before any template)."""
    by_type: dict[str, list[TemplateRules]] = {}
    for rules in templates:
        by_type.setdefault(rules.trade_area_type, []).append(rules)
    whens = [
        When(
            Q(_scored_type=rules.trade_area_type, template_version=rules.version),
            then=branch(rules),
        )
        for rules in templates
    ]
    for trade_area_type, versions in by_type.items():
        versions = sorted(versions, key=lambda r: r.version)
        latest, first = versions[-1], versions[0]
        whens.append(
            When(Q(_scored_type=trade_area_type, captured_at__isnull=True), then=branch(latest))
        )
        whens += [
            When(
                Q(_scored_type=trade_area_type, captured_at__gte=rules.created_at),
                then=branch(rules),
            )
            for rules in reversed(versions[1:])
        ]
        whens.append(When(Q(_scored_type=trade_area_type), then=branch(first)))
    if not whens:
        return Case(default=Value(None), output_field=output_field)
    return Case(*whens, default=Value(None), output_field=output_field)


def ones(condition: Q) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def required_count(rules: TemplateRules) -> Any:
    total: Any = Value(0)
    for _name, condition, _present in rules.items():
        total = total + (Value(1) if condition is None else ones(condition))
    return total


def present_count(rules: TemplateRules) -> Any:
    total: Any = Value(0)
    for _name, condition, present in rules.items():
        total = total + ones(present if condition is None else condition & present)
    return total


def photos_short(rules: TemplateRules) -> Any:
    needed = [Q(**{f"_photos_{s}__lt": n}) for s, n in rules.min_photos]
    if not needed:
        return Value(0)
    short = needed[0]
    for q in needed[1:]:
        short |= q
    return ones(short)


def with_item_inputs(
    surveys: QuerySet[SiteSurvey], *, templates: Sequence[TemplateRules]
) -> QuerySet[SiteSurvey]:
    """The aliases items read: the trade-area type a survey is scored as (its own, else its
    store's), how far the GPS fix lies outside the geofence, uploaded photos per section."""
    fence = fieldline_settings
    allowed_m = Coalesce(
        F("store__geofence_radius_m"), Value(float(fence.GEOFENCE_RADIUS_M))
    ) + Least(
        Coalesce(F("accuracy_m"), Value(0.0)),
        Value(float(fence.GEOFENCE_MAX_SLACK_M)),
    )
    sections = sorted({s for rules in templates for s, _n in rules.min_photos})
    return surveys.alias(
        _scored_type=Coalesce(NullIf(F("trade_area_type"), Value("")), F("store__trade_area_type")),
        _gps_excess_m=ExpressionWrapper(
            haversine_m(F("lat"), F("lon"), F("store__lat"), F("store__lon")) - allowed_m,
            output_field=FloatField(),
        ),
        **{f"_photos_{s}": uploaded_photos(s) for s in sections},
    )


def scored(surveys: QuerySet[SiteSurvey], *, templates: Sequence[TemplateRules] | None = None):
    """Annotate surveys with `scored_type`, `scored_version` (null: no template for the
    type), `required_items`, `present_items`, `score` in [0, 1], `complete` and
    `photos_short` (1 when a photo section is below its minimum)."""
    templates = template_rules() if templates is None else templates
    surveys = with_item_inputs(surveys, templates=templates)
    surveys = surveys.annotate(
        scored_type=F("_scored_type"),
        scored_version=by_template(templates, lambda r: Value(r.version), IntegerField()),
        required_items=by_template(templates, required_count, IntegerField()),
        present_items=by_template(templates, present_count, IntegerField()),
        photos_short=Coalesce(by_template(templates, photos_short, IntegerField()), 0),
    )
    return surveys.annotate(
        score=Case(
            When(required_items=0, then=Value(1.0)),
            When(
                required_items__gt=0,
                then=Cast("present_items", FloatField()) / Cast("required_items", FloatField()),
            ),
            default=Value(None),
            output_field=FloatField(),
        ),
        complete=ones(Q(required_items__isnull=False, present_items=F("required_items"))),
    )


def survey_list(*, actor: User) -> QuerySet[SiteSurvey]:
    return SiteSurvey.objects.filter(scope_filter(user=actor), deleted=False)


def survey_completeness(*, survey: SiteSurvey) -> Completeness:
    """One survey's score, and the required items it lacks, in two queries."""
    templates = template_rules()
    row = (
        scored(SiteSurvey.objects.filter(pk=survey.pk), templates=templates)
        .values("scored_type", "scored_version", "required_items", "present_items", "score")
        .get()
    )
    rules = next(
        (
            r
            for r in templates
            if (r.trade_area_type, r.version) == (row["scored_type"], row["scored_version"])
        ),
        None,
    )
    missing: list[str] = []
    if rules is not None:
        items = rules.items()
        flags = (
            with_item_inputs(SiteSurvey.objects.filter(pk=survey.pk), templates=[rules])
            .annotate(
                **{
                    f"item_{n}": ones(present if cond is None else present | ~cond)
                    for n, (_name, cond, present) in enumerate(items)
                }
            )
            .values(*(f"item_{n}" for n in range(len(items))))
            .get()
        )
        missing = [name for n, (name, _c, _p) in enumerate(items) if not flags[f"item_{n}"]]
    return Completeness(
        survey_id=survey.pk,
        trade_area_type=row["scored_type"] or "",
        template_version=row["scored_version"],
        score=None if row["score"] is None else round(row["score"], 4),
        required_items=row["required_items"] or 0,
        present_items=row["present_items"] or 0,
        missing=missing,
    )


def review_queue(*, actor: User) -> QuerySet[SiteSurvey]:
    """Pending surveys in scope, least complete first (unscored ones before all)."""
    return (
        scored(survey_list(actor=actor).filter(review_status=ReviewStatus.PENDING))
        .order_by(F("score").asc(nulls_first=True), F("captured_at").asc(nulls_first=True), "pk")
        .values(
            "id",
            "store_id",
            "store__name",
            "store__owner_id",
            "scored_type",
            "scored_version",
            "score",
            "captured_at",
        )
    )


def stale_before(*, now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=fieldline_settings.STALE_SURVEY_DAYS)


def has_live_survey(**filters: Any) -> Exists:
    return Exists(SiteSurvey.objects.filter(store=OuterRef("pk"), deleted=False, **filters))


# --- stores by sales and site features --------------------------------------------------
# The selection a manager makes (dispatch, the HQ map): every criterion becomes SQL on the
# store table, site features from each store's latest survey through a correlated
# subquery, so a selection of fifty thousand stores is one query, not a loop.


@dataclass(frozen=True)
class StoreSelection:
    """Which stores: each criterion narrows; an empty one does not apply."""

    regions: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    trade_area_types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    equipment: tuple[str, ...] = ()
    footfall_min: int | None = None
    footfall_max: int | None = None
    no_survey_days: int | None = None
    near: Near | None = None
    owners: tuple[int, ...] = field(default=())


def store_selection(*, actor: User, selection: StoreSelection) -> QuerySet[Store]:
    """Live stores in the actor's scope that match every criterion of `selection`."""
    stores = Store.objects.filter(scope_filter(user=actor), deleted=False)
    for name, values in (
        ("region_id__in", selection.regions),
        ("grade__in", selection.grades),
        ("segment__in", selection.segments),
        ("status__in", selection.statuses),
        ("trade_area_type__in", selection.trade_area_types),
        ("owner_id__in", selection.owners),
    ):
        if values:
            stores = stores.filter(**{name: values})
    for tag in selection.tags:
        stores = stores.filter(json_list_has("tags", tag))
    latest = SiteSurvey.objects.filter(store=OuterRef("pk"), deleted=False).order_by(
        F("captured_at").desc(nulls_last=True), "-created_at"
    )
    if (
        selection.equipment
        or selection.footfall_min is not None
        or (selection.footfall_max is not None)
    ):
        stores = stores.annotate(latest_survey=Subquery(latest.values("pk")[:1]))
        surveyed = SiteSurvey.objects.filter(pk=OuterRef("latest_survey"))
        for item in selection.equipment:
            surveyed = surveyed.filter(json_list_has("equipment", item))
        if selection.footfall_min is not None:
            surveyed = surveyed.filter(footfall_weekday__gte=selection.footfall_min)
        if selection.footfall_max is not None:
            surveyed = surveyed.filter(footfall_weekday__lte=selection.footfall_max)
        stores = stores.filter(Exists(surveyed))
    if selection.no_survey_days is not None:
        since = timezone.now() - dt.timedelta(days=selection.no_survey_days)
        recent = SiteSurvey.objects.filter(
            store=OuterRef("pk"), deleted=False, captured_at__gte=since
        )
        stores = stores.filter(~Exists(recent))
    if selection.near is not None:
        stores = within_radius(stores, near=selection.near)
    return stores
