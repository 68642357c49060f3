"""Reads of the customer analytics: per-store order figures, RFM, ABC and churn.

The per-store figures are one aggregate query over the orders (GROUP BY store) and one
query over the stores with their latest survey's features (correlated subqueries); what
follows — averages, segments, grades, churn flags — are pure functions over those rows,
with no further queries.
"""

import datetime as dt
import json
import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum

from accounts.models import Role, User
from accounts.scope import scoped_queryset
from crm.models import Order, OrderImportJob, OrderImportStatus, OrderLine
from stores.models import Segment, Store, TradeAreaType
from surveys.models import SiteSurvey


@dataclass(frozen=True)
class AnalyticsParameters:
    """The thresholds of one recomputation, from FIELDLINE unless given."""

    as_of: dt.date
    window_days: int
    trend_days: int
    intent_weight: float
    a_min: float
    b_min: float
    full_footfall: int
    full_area_m2: float
    churn_factor: float
    churn_min_orders: int
    reactivation_due_days: int

    @classmethod
    def from_settings(cls, *, as_of: dt.date) -> "AnalyticsParameters":
        conf = settings.FIELDLINE
        return cls(
            as_of=as_of,
            window_days=conf["RFM_WINDOW_DAYS"],
            trend_days=conf["ABC_TREND_DAYS"],
            intent_weight=conf["ABC_INTENT_WEIGHT"],
            a_min=conf["ABC_A_MIN"],
            b_min=conf["ABC_B_MIN"],
            full_footfall=conf["ABC_FULL_FOOTFALL"],
            full_area_m2=conf["ABC_FULL_AREA_M2"],
            churn_factor=conf["CHURN_INTERVAL_FACTOR"],
            churn_min_orders=conf["CHURN_MIN_ORDERS"],
            reactivation_due_days=conf["REACTIVATION_DUE_DAYS"],
        )

    def wire(self) -> dict[str, Any]:
        return {**self.__dict__, "as_of": self.as_of.isoformat()}


@dataclass(frozen=True)
class StoreOrderStats:
    """A store's orders up to the as-of date."""

    store_id: uuid.UUID
    orders: int
    first_order: dt.date
    last_order: dt.date
    window_orders: int
    window_amount: Decimal
    trend_recent: int
    trend_prior: int


def store_order_stats(*, params: AnalyticsParameters) -> list[StoreOrderStats]:
    """One GROUP BY over the orders of live stores up to `as_of`."""
    as_of = params.as_of
    window = Q(order_date__gt=as_of - dt.timedelta(days=params.window_days))
    trend = dt.timedelta(days=params.trend_days)
    recent = Q(order_date__gt=as_of - trend)
    prior = Q(order_date__gt=as_of - 2 * trend, order_date__lte=as_of - trend)
    rows = (
        Order.objects.filter(order_date__lte=as_of, store__deleted=False)
        .values("store_id")
        .annotate(
            orders=Count("id"),
            first_order=Min("order_date"),
            last_order=Max("order_date"),
            window_orders=Count("id", filter=window),
            window_amount=Sum("amount", filter=window),
            trend_recent=Count("id", filter=recent),
            trend_prior=Count("id", filter=prior),
        )
        .order_by()
    )
    return [
        StoreOrderStats(**{**row, "window_amount": row["window_amount"] or Decimal(0)})
        for row in rows.iterator(chunk_size=5000)
    ]


# --- RFM ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RfmAverages:
    """Averages over the active stores (at least one order in the window)."""

    recency_days: float
    frequency: float
    monetary: Decimal
    active_stores: int


# (recent, frequent, high value) -> segment. The two cells DOMAIN.md leaves open go to the
# nearest segment by M then F: recent, frequent, low value -> early_growth (the one recent
# low-value segment); not recent, frequent, low value -> tail_churn (likewise).
SEGMENT_OF_CELL: dict[tuple[bool, bool, bool], str] = {
    (True, True, True): Segment.HEAD_ACTIVE,
    (False, True, True): Segment.HEAD_WARNING,
    (True, False, True): Segment.MID_GROWTH,
    (True, False, False): Segment.EARLY_GROWTH,
    (False, False, True): Segment.MID_CHURN,
    (False, False, False): Segment.TAIL_CHURN,
    (True, True, False): Segment.EARLY_GROWTH,
    (False, True, False): Segment.TAIL_CHURN,
}


def recency_days(*, stats: StoreOrderStats, as_of: dt.date) -> int:
    return (as_of - stats.last_order).days


def rfm_averages(*, stats: Iterable[StoreOrderStats], as_of: dt.date) -> RfmAverages:
    active = [row for row in stats if row.window_orders > 0]
    if not active:
        return RfmAverages(recency_days=0.0, frequency=0.0, monetary=Decimal(0), active_stores=0)
    return RfmAverages(
        recency_days=sum(recency_days(stats=row, as_of=as_of) for row in active) / len(active),
        frequency=sum(row.window_orders for row in active) / len(active),
        monetary=sum((row.window_amount for row in active), Decimal(0)) / len(active),
        active_stores=len(active),
    )


def rfm_segment(*, stats: StoreOrderStats, averages: RfmAverages, as_of: dt.date) -> str:
    """The segment of a store that has ordered: R is recent when at most the average, F and
    M are high when at least the average (and not zero: no order in the window is low)."""
    recent = recency_days(stats=stats, as_of=as_of) <= averages.recency_days
    frequent = stats.window_orders > 0 and stats.window_orders >= averages.frequency
    high_value = stats.window_amount > 0 and stats.window_amount >= averages.monetary
    return SEGMENT_OF_CELL[(recent, frequent, high_value)]


def rfm_segments(
    *, stats: Sequence[StoreOrderStats], as_of: dt.date
) -> tuple[dict[uuid.UUID, str], RfmAverages]:
    averages = rfm_averages(stats=stats, as_of=as_of)
    return {
        row.store_id: rfm_segment(stats=row, averages=averages, as_of=as_of) for row in stats
    }, averages


# --- ABC ------------------------------------------------------------------------------

# How well each trade area suits fresh convenience food (lunch and commuter trade first).
TRADE_AREA_SCORE = {
    "office": 1.0,
    "transit": 1.0,
    "hospital": 0.9,
    "school": 0.8,
    "mixed": 0.7,
    "tourist": 0.7,
    "industrial": 0.6,
    "residential": 0.5,
}
# The equipment that lets a store sell ready meals, hot food and coffee.
KEY_EQUIPMENT = ("microwave", "coffee_machine", "open_chiller", "hot_food_cabinet", "oven")
POTENTIAL_WEIGHTS = {"footfall": 0.3, "area": 0.2, "equipment": 0.3, "trade_area": 0.2}


@dataclass(frozen=True)
class SiteFeatures:
    """A store's features from its latest survey (the store's own trade area if unset)."""

    store_id: uuid.UUID
    segment: str
    grade: str
    trade_area_type: str
    footfall_weekday: int | None
    area_m2: float | None
    equipment: tuple[str, ...]
    # What the tags are computed from and written over.
    region: str = ""
    status: str = ""
    has_survey: bool = False
    tags: tuple[str, ...] = ()
    tag_kinds: Mapping[str, str] = field(default_factory=dict)


def store_site_features(*, store_ids: Iterable[uuid.UUID] | None = None) -> list[SiteFeatures]:
    """Every live store (or those of `store_ids`) with its current segment, grade and tags
    and its latest survey's features, in one query."""
    latest = SiteSurvey.objects.filter(store=OuterRef("pk"), deleted=False).order_by(
        "-captured_at", "-created_at"
    )
    stores = Store.objects.filter(deleted=False)
    if store_ids is not None:
        stores = stores.filter(pk__in=list(store_ids))
    rows = (
        stores.annotate(
            survey_tat=Subquery(latest.values("trade_area_type")[:1]),
            survey_footfall=Subquery(latest.values("footfall_weekday")[:1]),
            survey_area=Subquery(latest.values("area_m2")[:1]),
            survey_equipment=Subquery(latest.values("equipment")[:1]),
            has_survey=Exists(SiteSurvey.objects.filter(store=OuterRef("pk"), deleted=False)),
        )
        .values_list(
            "pk",
            "segment",
            "grade",
            "trade_area_type",
            "survey_tat",
            "survey_footfall",
            "survey_area",
            "survey_equipment",
            "region_id",
            "status",
            "has_survey",
            "tags",
            "tag_kinds",
        )
        .order_by()
    )
    features = []
    for (
        pk,
        segment,
        grade,
        tat,
        survey_tat,
        footfall,
        area,
        equipment,
        region,
        status,
        has_survey,
        tags,
        tag_kinds,
    ) in rows.iterator(chunk_size=5000):
        if isinstance(equipment, str):  # a JSON column read through a subquery on SQLite
            equipment = json.loads(equipment)
        features.append(
            SiteFeatures(
                store_id=pk,
                segment=segment,
                grade=grade,
                trade_area_type=survey_tat or tat or "",
                footfall_weekday=footfall,
                area_m2=area,
                equipment=tuple(item for item in equipment or () if isinstance(item, str)),
                region=region,
                status=status,
                has_survey=bool(has_survey),
                tags=tuple(tag for tag in tags or () if isinstance(tag, str)),
                tag_kinds=tag_kinds if isinstance(tag_kinds, dict) else {},
            )
        )
    return features


def intent_score(*, recent: int, prior: int) -> float:
    """Order frequency trend in [0, 1]: no recent order 0; steady 0.5; doubled (or new
    and ordering) 1."""
    if recent == 0:
        return 0.0
    if prior == 0:
        return 1.0
    return min(recent / prior, 2.0) / 2.0


def potential_score(*, site: SiteFeatures, params: AnalyticsParameters) -> float:
    """Site potential in [0, 1]: a weighted sum of footfall, area, key equipment and trade
    area, each scaled to [0, 1]."""
    footfall = min((site.footfall_weekday or 0) / params.full_footfall, 1.0)
    area = min((site.area_m2 or 0.0) / params.full_area_m2, 1.0)
    equipment = len(set(site.equipment) & set(KEY_EQUIPMENT)) / len(KEY_EQUIPMENT)
    trade_area = TRADE_AREA_SCORE.get(site.trade_area_type, 0.0)
    weights = POTENTIAL_WEIGHTS
    return (
        weights["footfall"] * footfall
        + weights["area"] * area
        + weights["equipment"] * equipment
        + weights["trade_area"] * trade_area
    )


def abc_grade(*, intent: float, potential: float, params: AnalyticsParameters) -> str:
    """A (key account), B or C from intent x potential: a weighted sum against two cuts."""
    score = params.intent_weight * intent + (1 - params.intent_weight) * potential
    # Rounded so that a score on a cut is not pushed below it by float noise.
    score = round(score, 9)
    if score >= params.a_min:
        return "A"
    if score >= params.b_min:
        return "B"
    return "C"


# --- churn ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChurnWarning:
    store_id: uuid.UUID
    segment: str
    orders: int
    last_order: dt.date
    days_since_last_order: int
    average_interval_days: float
    interval_source: str  # "own" or "segment" (or "all" when the segment has none)


def own_interval(stats: StoreOrderStats) -> float:
    return (stats.last_order - stats.first_order).days / (stats.orders - 1)


def churn_flags(
    *,
    stats: Sequence[StoreOrderStats],
    segment_of: Mapping[uuid.UUID, str],
    params: AnalyticsParameters,
) -> list[ChurnWarning]:
    """Stores whose days since the last order exceed factor x their average interval.

    Stores with fewer than `churn_min_orders` orders use the average interval of the stores
    of their segment that have enough; when that segment has none, of all such stores.
    Without any store with enough orders nothing is flagged.
    """
    enough = [row for row in stats if row.orders >= params.churn_min_orders]
    by_segment: dict[str, list[float]] = defaultdict(list)
    for row in enough:
        by_segment[segment_of.get(row.store_id, "")].append(own_interval(row))
    overall = [interval for intervals in by_segment.values() for interval in intervals]
    overall_mean = sum(overall) / len(overall) if overall else math.nan
    warnings = []
    for row in stats:
        segment = segment_of.get(row.store_id, "")
        if row.orders >= params.churn_min_orders:
            interval, source = own_interval(row), "own"
        elif by_segment.get(segment):
            interval, source = sum(by_segment[segment]) / len(by_segment[segment]), "segment"
        else:
            interval, source = overall_mean, "all"
        days = recency_days(stats=row, as_of=params.as_of)
        if not math.isnan(interval) and days > params.churn_factor * interval:
            warnings.append(
                ChurnWarning(
                    store_id=row.store_id,
                    segment=segment,
                    orders=row.orders,
                    last_order=row.last_order,
                    days_since_last_order=days,
                    average_interval_days=round(interval, 2),
                    interval_source=source,
                )
            )
    return warnings


@dataclass(frozen=True)
class ChurnWarningRow:
    """A churn warning with the store's name, region, owner and grade, for the list."""

    store_id: uuid.UUID
    store_name: str
    region: str
    owner: int | None
    grade: str
    segment: str
    orders: int
    last_order: dt.date
    days_since_last_order: int
    average_interval_days: float
    interval_source: str


def churn_warnings(*, actor: User, as_of: dt.date) -> list[ChurnWarningRow]:
    """The churn warnings of the stores `actor` may see (managers: their region; HQ: all),
    most overdue first. Intervals are averaged over all stores, whoever asks."""
    params = AnalyticsParameters.from_settings(as_of=as_of)
    stats = store_order_stats(params=params)
    stores = scoped_queryset(user=actor, model=Store).filter(deleted=False)
    info = {
        pk: (name, region, owner, grade, segment)
        for pk, name, region, owner, grade, segment in stores.values_list(
            "pk", "name", "region_id", "owner_id", "grade", "segment"
        ).iterator(chunk_size=5000)
    }
    all_segments = dict(
        Store.objects.filter(deleted=False)
        .exclude(segment="")
        .values_list("pk", "segment")
        .iterator(chunk_size=5000)
    )
    flagged = churn_flags(stats=stats, segment_of=all_segments, params=params)
    rows = [
        ChurnWarningRow(
            store_id=warning.store_id,
            store_name=info[warning.store_id][0],
            region=info[warning.store_id][1],
            owner=info[warning.store_id][2],
            grade=info[warning.store_id][3],
            segment=warning.segment,
            orders=warning.orders,
            last_order=warning.last_order,
            days_since_last_order=warning.days_since_last_order,
            average_interval_days=warning.average_interval_days,
            interval_source=warning.interval_source,
        )
        for warning in flagged
        if warning.store_id in info
    ]
    rows.sort(key=lambda row: (-row.days_since_last_order, str(row.store_id)))
    return rows


# --- anomalies ------------------------------------------------------------------------

# Deliveries are next-day, so Friday and Saturday orders (delivered over the weekend) are
# structurally lower than the rest of the week.
LOW_ORDER_WEEKDAYS = frozenset({4, 5})  # date.weekday(): Friday, Saturday


def anomaly_baseline_date(*, day: dt.date) -> dt.date:
    """The day `day` is compared with: the same weekday of the previous week (weekly
    seasonality). So a Friday or Saturday is only ever compared with a Friday or Saturday,
    never with a regular weekday, and its usual dip is not mistaken for a drop."""
    baseline = day - dt.timedelta(days=7)
    if (day.weekday() in LOW_ORDER_WEEKDAYS) != (baseline.weekday() in LOW_ORDER_WEEKDAYS):
        raise ValueError("A Friday/Saturday is compared only with a Friday/Saturday.")
    return baseline


@dataclass(frozen=True)
class AnomalyRow:
    """One store's or region's orders on a day against its baseline day; `change` is the
    fraction (amount - baseline) / baseline, None when the baseline is zero."""

    key: str  # the store id or the region code
    store_name: str
    region: str
    date: dt.date
    amount: Decimal
    baseline_date: dt.date
    baseline_amount: Decimal
    change: float | None
    flagged: bool


def anomaly_verdict(
    *, amount: Decimal, baseline_amount: Decimal, drop: float, min_baseline: float
) -> tuple[float | None, bool]:
    """The change and whether it is flagged: a drop of at least `drop`, from a baseline of
    at least `min_baseline` (a few euros one week and none the next is noise)."""
    if baseline_amount <= 0:
        return None, False
    change = (amount - baseline_amount) / baseline_amount
    flagged = baseline_amount >= Decimal(str(min_baseline)) and change <= -Decimal(str(drop))
    return round(float(change), 4), flagged


def order_anomalies(*, actor: User, day: dt.date, level: str = "store") -> list[AnomalyRow]:
    """Each store (level "store") or region (level "region") that `actor` may see and that
    ordered on `day` or on its baseline day, largest drop first: one GROUP BY with a
    conditional sum per day. A region's figures are the sums over its live stores."""
    conf = settings.FIELDLINE
    baseline_day = anomaly_baseline_date(day=day)
    stores = scoped_queryset(user=actor, model=Store).filter(deleted=False)
    group_by = (
        ("store_id", "store__name", "store__region_id")
        if level == "store"
        else ("store__region_id",)
    )
    rows = (
        Order.objects.filter(order_date__in=[day, baseline_day], store__in=stores.values("pk"))
        .values(*group_by)
        .annotate(
            day_amount=Sum("amount", filter=Q(order_date=day)),
            baseline_amount=Sum("amount", filter=Q(order_date=baseline_day)),
        )
        .order_by()
    )
    anomalies = []
    for row in rows.iterator(chunk_size=5000):
        amount = row["day_amount"] or Decimal(0)
        baseline_amount = row["baseline_amount"] or Decimal(0)
        change, flagged = anomaly_verdict(
            amount=amount,
            baseline_amount=baseline_amount,
            drop=conf["ANOMALY_DROP"],
            min_baseline=conf["ANOMALY_MIN_BASELINE"],
        )
        anomalies.append(
            AnomalyRow(
                key=str(row.get("store_id", row["store__region_id"])),
                store_name=row.get("store__name", ""),
                region=row["store__region_id"],
                date=day,
                amount=amount,
                baseline_date=baseline_day,
                baseline_amount=baseline_amount,
                change=change,
                flagged=flagged,
            )
        )
    anomalies.sort(key=lambda row: (row.change is None, row.change or 0.0, row.key))
    return anomalies


# --- sales forecast -------------------------------------------------------------------

CENT = Decimal("0.01")


@dataclass(frozen=True)
class ForecastTypeRow:
    """One trade-area type: its stores in the forecast's scope and the comparable sales of
    its stores that ordered in the window (everywhere, so that a region or a product with
    few sales of its own still gets a figure)."""

    trade_area_type: str
    stores: int
    ordering_stores: int
    window_amount: Decimal
    per_store_amount: Decimal
    forecast_amount: Decimal


@dataclass(frozen=True)
class SalesForecast:
    region: str | None
    sku: str | None
    as_of: dt.date
    window_days: int
    types: list[ForecastTypeRow]
    stores_without_type: int
    total: Decimal


def sales_forecast(
    *, actor: User, as_of: dt.date, region: str | None = None, sku: str | None = None
) -> SalesForecast:
    """Sales over the next window: for each trade-area type, the number of live stores of
    that type (in `region`, within what `actor` may see) x the average amount per ordering
    store of that type over the last FORECAST_WINDOW_DAYS (of `sku` only, when given).

    Two GROUP BY queries: stores per type, and orders (or order lines) per type. Stores
    without a trade-area type have nothing comparable; they are counted, not forecast.
    """
    window_days = settings.FIELDLINE["FORECAST_WINDOW_DAYS"]
    start = as_of - dt.timedelta(days=window_days)
    stores = scoped_queryset(user=actor, model=Store).filter(deleted=False)
    if region is not None:
        stores = stores.filter(region_id=region)
    store_counts = dict(
        stores.values("trade_area_type")
        .annotate(count=Count("pk"))
        .values_list("trade_area_type", "count")
        .order_by()
    )
    if sku is None:
        sales = Order.objects.filter(
            order_date__gt=start, order_date__lte=as_of, store__deleted=False
        ).values(tat=F("store__trade_area_type"))
        store_ref = "store_id"
    else:
        sales = OrderLine.objects.filter(
            sku=sku,
            order__order_date__gt=start,
            order__order_date__lte=as_of,
            order__store__deleted=False,
        ).values(tat=F("order__store__trade_area_type"))
        store_ref = "order__store_id"
    comparable = {
        row["tat"]: (row["ordering_stores"], row["window_amount"] or Decimal(0))
        for row in sales.annotate(
            ordering_stores=Count(store_ref, distinct=True), window_amount=Sum("amount")
        ).order_by()
    }
    types = []
    for tat in TradeAreaType.values:
        count = store_counts.get(tat, 0)
        ordering, amount = comparable.get(tat, (0, Decimal(0)))
        if not count and not ordering:
            continue
        per_store = amount / ordering if ordering else Decimal(0)
        types.append(
            ForecastTypeRow(
                trade_area_type=tat,
                stores=count,
                ordering_stores=ordering,
                window_amount=amount,
                per_store_amount=per_store.quantize(CENT),
                forecast_amount=(per_store * count).quantize(CENT),
            )
        )
    return SalesForecast(
        region=region,
        sku=sku,
        as_of=as_of,
        window_days=window_days,
        types=types,
        stores_without_type=store_counts.get("", 0),
        total=sum((row.forecast_amount for row in types), Decimal(0)).quantize(CENT),
    )


# --- orders import jobs ---------------------------------------------------------------


def order_import_job_list(*, actor: User) -> QuerySet[OrderImportJob]:
    """The orders import jobs `actor` may see, newest first: HQ all (imports are HQ's
    work, shared between its members), anyone else only their own."""
    jobs = OrderImportJob.objects.select_related("requested_by")
    if actor.role != Role.HQ:
        jobs = jobs.filter(requested_by=actor)
    return jobs.order_by("-created_at", "pk")


def order_import_job_progress(*, job: OrderImportJob) -> float | None:
    """The share of rows imported, in [0, 1]; None before the job has counted them."""
    if job.status == OrderImportStatus.DONE:
        return 1.0
    if job.rows_total is None:
        return None
    if not job.rows_total:
        return 1.0
    return round(min(job.rows_done / job.rows_total, 1.0), 4)
