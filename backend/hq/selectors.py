"""Reads behind the HQ pages that no API serves yet: the map's stores with the score of
their latest survey, segment sizes, and daily order totals with their anomaly verdicts.

Each is a fixed number of SQL aggregates over the actor's scope; the completeness
figures, the review queue and the anomaly rule itself come from their own apps.
"""

import datetime as dt
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.models import Region, User
from accounts.scope import scope_filter, scoped_queryset
from crm.analytics.scoring import anomaly_verdict
from crm.orders.models import Order
from fieldline.conf import fieldline_settings
from hq.labels import localized
from stores.models import Segment, Store
from surveys.models import (
    ReviewStatus,
    SiteSurvey,
)
from surveys.selectors import (
    StoreSelection,
    has_live_survey,
    scored,
    stale_before,
    store_selection,
)
from tasks.models import OPEN_TASK_STATUSES, Task, TaskType
from tasks.selectors import open_task_exists


def store_list(*, actor: User) -> QuerySet[Store]:
    return Store.objects.filter(scope_filter(user=actor), deleted=False)


def region_list(*, actor: User) -> QuerySet[Region]:
    """The regions `actor` works in: all for HQ, their own for a manager."""
    if actor.is_hq:
        return Region.objects.order_by("code")
    return Region.objects.filter(pk=actor.region_id)


# --- stores to survey ---------------------------------------------------------------


def stores_needing_survey(*, actor: User) -> QuerySet[Store]:
    """Stores in scope with no survey captured in STALE_SURVEY_DAYS (none at all, or only
    stale ones): the dispatch filter `no_survey_days`, so the page and a dispatch agree.
    `survey_task_open` tells those a survey task is already out for (a survey dispatch
    skips them) from those that still need one."""
    days = fieldline_settings.STALE_SURVEY_DAYS
    return (
        store_selection(actor=actor, selection=StoreSelection(no_survey_days=days))
        .annotate(
            surveyed=has_live_survey(),
            survey_task_open=open_task_exists(task_type=TaskType.SURVEY),
        )
        .order_by("region_id", "name", "pk")
    )


# --- map ----------------------------------------------------------------------------


class MapBand:
    """How a store is drawn: by the completeness of its latest survey."""

    NONE = "none"  # no survey
    STALE = "stale"  # latest survey older than STALE_SURVEY_DAYS
    UNSCORED = "unscored"  # no template for its trade-area type
    POOR = "poor"  # below MAP_SCORE_POOR_BELOW
    PARTIAL = "partial"
    COMPLETE = "complete"

    LEGEND = (
        (COMPLETE, gettext_lazy("complete")),
        (PARTIAL, gettext_lazy("partly complete")),
        (POOR, gettext_lazy("poor")),
        (STALE, gettext_lazy("stale survey")),
        (UNSCORED, gettext_lazy("no template")),
        (NONE, gettext_lazy("no survey")),
    )


@dataclass(frozen=True)
class MapStore:
    id: uuid.UUID
    name: str
    region: str
    lat: float
    lon: float
    score: float | None
    captured_at: dt.datetime | None
    band: str
    owner: str


def map_band(
    *, surveyed: bool, score: float | None, captured_at: dt.datetime | None, now: dt.datetime
) -> str:
    if not surveyed:
        return MapBand.NONE
    if captured_at is None or captured_at < stale_before(now=now):
        return MapBand.STALE
    if score is None:
        return MapBand.UNSCORED
    if score >= 1.0:
        return MapBand.COMPLETE
    if score < fieldline_settings.MAP_SCORE_POOR_BELOW:
        return MapBand.POOR
    return MapBand.PARTIAL


def owner_label(*, username: str | None, first_name: str | None, last_name: str | None) -> str:
    """A rep by full name where one is recorded, else by user name; "" for no owner."""
    if not username:
        return ""
    full = f"{first_name or ''} {last_name or ''}".strip()
    return f"{full} ({username})" if full else username


def map_stores(*, actor: User) -> list[MapStore]:
    """Every store in scope with the score of its latest survey: one query (the latest
    survey is scored in a subquery, the same expressions as the completeness report)."""
    newest_first = SiteSurvey.objects.filter(store=OuterRef("pk"), deleted=False).order_by(
        F("captured_at").desc(nulls_last=True), "-created_at"
    )
    # Only the score needs the scoring expression (a CASE per template, costly to build in
    # Python); the capture time comes from the same ordering without it.
    rows = (
        store_list(actor=actor)
        .annotate(
            surveyed=has_live_survey(),
            latest_score=Subquery(scored(newest_first).values("score")[:1]),
            latest_captured_at=Subquery(newest_first.values("captured_at")[:1]),
        )
        .order_by("pk")
        .values(
            "id",
            "name",
            "region_id",
            "lat",
            "lon",
            "surveyed",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
        )
        .annotate(score=F("latest_score"), captured_at=F("latest_captured_at"))
    )
    now = timezone.now()
    return [
        MapStore(
            id=row["id"],
            name=row["name"],
            region=row["region_id"],
            lat=row["lat"],
            lon=row["lon"],
            score=None if row["score"] is None else round(row["score"], 4),
            captured_at=row["captured_at"],
            band=map_band(
                surveyed=row["surveyed"],
                score=row["score"],
                captured_at=row["captured_at"],
                now=now,
            ),
            owner=owner_label(
                username=row["owner__username"],
                first_name=row["owner__first_name"],
                last_name=row["owner__last_name"],
            ),
        )
        for row in rows.iterator(chunk_size=5000)
    ]


# --- analytics ----------------------------------------------------------------------


SEGMENTS = tuple(Segment.values)
# The RFM segments in plain words (recent, frequent, big orders; crm.analytics.scoring's
# SEGMENT_OF_CELL): what a manager reads instead of "head_warning".
SEGMENT_WORDS = {
    "head_active": gettext_lazy("Best customers: frequent, big and recent orders"),
    "head_warning": gettext_lazy("Best customers gone quiet: no recent order"),
    "mid_growth": gettext_lazy("Big recent orders, not yet frequent"),
    "early_growth": gettext_lazy("Recent customers with small orders"),
    "mid_churn": gettext_lazy("Slipping away: used to order big"),
    "tail_churn": gettext_lazy("Slipping away: small, infrequent orders"),
    "": gettext_lazy("No orders yet"),
}
# The same, short enough to stand under a bar.
SEGMENT_SHORT = {
    "head_active": gettext_lazy("Best"),
    "head_warning": gettext_lazy("Gone quiet"),
    "mid_growth": gettext_lazy("Growing, big"),
    "early_growth": gettext_lazy("New, small"),
    "mid_churn": gettext_lazy("Slipping, big"),
    "tail_churn": gettext_lazy("Slipping, small"),
    "": gettext_lazy("No orders"),
}


@dataclass(frozen=True)
class SegmentSize:
    segment: str
    label: str
    stores: int

    @property
    def short(self) -> str:
        return SEGMENT_SHORT[self.segment]


def segment_sizes(*, actor: User) -> list[SegmentSize]:
    """Stores in scope per RFM segment, in the segments' order (stores with no orders,
    hence no segment, last): one GROUP BY."""
    counts = dict(
        store_list(actor=actor)
        .values("segment")
        .annotate(n=Count("pk"))
        .values_list("segment", "n")
        .order_by()
    )
    sizes = [SegmentSize(value, SEGMENT_WORDS[value], counts.get(value, 0)) for value in SEGMENTS]
    sizes.append(SegmentSize("", SEGMENT_WORDS[""], counts.get("", 0)))
    return sizes


@dataclass(frozen=True)
class OrderDay:
    date: dt.date
    amount: Decimal
    baseline_amount: Decimal
    change: float | None
    flagged: bool


@dataclass(frozen=True)
class RegionOrders:
    region: str
    days: list[OrderDay]

    @property
    def flagged(self) -> list[OrderDay]:
        return [day for day in self.days if day.flagged]

    @property
    def total(self) -> Decimal:
        return sum((day.amount for day in self.days), Decimal(0))


def order_days(*, actor: User, until: dt.date, days: int) -> list[RegionOrders]:
    """Each region's order amount per day over the `days` days up to `until`, every day
    judged like `crm.analytics.selectors.order_anomalies` at region level (against the same weekday
    a week before, with the same thresholds): one GROUP BY over days + 7."""
    conf = fieldline_settings
    first = until - dt.timedelta(days=days - 1)
    stores = scoped_queryset(user=actor, model=Store).filter(deleted=False)
    totals: dict[str, dict[dt.date, Decimal]] = defaultdict(dict)
    rows = (
        Order.objects.filter(
            Q(order_date__gte=first - dt.timedelta(days=7), order_date__lte=until),
            store__in=stores.values("pk"),
        )
        .values("store__region_id", "order_date")
        .annotate(amount=Sum("amount"))
        .order_by()
    )
    for row in rows:
        totals[row["store__region_id"]][row["order_date"]] = row["amount"] or Decimal(0)
    regions = sorted(set(region_list(actor=actor).values_list("code", flat=True)) | set(totals))
    result = []
    for region in regions:
        by_day = totals.get(region, {})
        series = []
        for offset in range(days):
            day = first + dt.timedelta(days=offset)
            amount = by_day.get(day, Decimal(0))
            baseline = by_day.get(day - dt.timedelta(days=7), Decimal(0))
            change, flagged = anomaly_verdict(
                amount=amount,
                baseline_amount=baseline,
                drop=conf.ANOMALY_DROP,
                min_baseline=conf.ANOMALY_MIN_BASELINE,
            )
            series.append(OrderDay(day, amount, baseline, change, flagged))
        result.append(RegionOrders(region=region, days=series))
    return result


# --- the store list and a store's page ----------------------------------------------------


def store_search(*, actor: User, q: str = "") -> QuerySet[Store]:
    """Live stores in scope whose name or address contains `q`, or whose phone matches it
    (written any usual way: "040 3290 4100", "+49 40 ..." or a part of the digits), by
    name then address, so stores of the same name stand apart by where they are."""
    stores = store_list(actor=actor)
    q = q.strip()
    if q:
        match = Q(name__icontains=q) | Q(address__icontains=q)
        digits = re.sub(r"\D", "", q)
        if len(digits) >= 4:
            match |= Q(phone__contains=digits)
            if digits.startswith("0"):  # a national number: the E.164 form drops the 0
                match |= Q(phone__contains=digits.lstrip("0"))
        stores = stores.filter(match)
    return stores.select_related("owner").order_by("name", "address", "pk")


def same_name_counts(*, actor: User, names: list[str]) -> dict[str, int]:
    """How many stores in scope bear each of these names: one GROUP BY."""
    return dict(
        store_list(actor=actor)
        .filter(name__in=names)
        .values("name")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("name", "n")
    )


@dataclass(frozen=True)
class StorePage:
    store: Store
    surveys: list[dict[str, Any]]
    open_tasks: list[Any]
    same_name: int


def store_page(*, actor: User, store_id: uuid.UUID) -> StorePage | None:
    """A store in scope with its surveys (scored, newest first) and its open tasks."""
    store = store_list(actor=actor).select_related("owner").filter(pk=store_id).first()
    if store is None:
        return None
    surveys = list(
        scored(SiteSurvey.objects.filter(store=store, deleted=False))
        .order_by(F("captured_at").desc(nulls_last=True), "-created_at")
        .values("id", "captured_at", "review_status", "score", "captured_by__username")[:20]
    )
    statuses = dict(localized(ReviewStatus.choices))
    for row in surveys:
        row["review_status_label"] = statuses.get(row["review_status"], row["review_status"])
    open_tasks = list(
        Task.objects.filter(store=store, deleted=False, status__in=OPEN_TASK_STATUSES)
        .select_related("assignee")
        .order_by("due_date", "pk")
    )
    return StorePage(
        store=store,
        surveys=surveys,
        open_tasks=open_tasks,
        same_name=same_name_counts(actor=actor, names=[store.name]).get(store.name, 1),
    )
