"""Reads of the customer analytics: per-store order figures, site features, churn
warnings, anomalies and the sales forecast.

The per-store figures are one aggregate query over the orders (GROUP BY store) and one
query over the stores with their latest survey's features (correlated subqueries); what
follows — averages, segments, grades, churn flags — are the pure functions of
`crm.analytics.scoring` over those rows, with no further queries.
"""

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, Subquery, Sum

from accounts.models import User
from accounts.scope import scoped_queryset
from crm.analytics.scoring import (
    AnalyticsParameters,
    SiteFeatures,
    StoreOrderStats,
    anomaly_baseline_date,
    anomaly_verdict,
    churn_flags,
    forecast_amounts,
    forecast_total,
)
from crm.orders.models import Order, OrderLine
from fieldline.conf import fieldline_settings
from stores.models import Store, TradeAreaType
from surveys.models import ReviewStatus, SiteSurvey


def analytics_parameters(*, as_of: dt.date) -> AnalyticsParameters:
    """The thresholds of a recomputation as of `as_of`, from the FIELDLINE settings."""
    conf = fieldline_settings
    return AnalyticsParameters(
        as_of=as_of,
        window_days=conf.RFM_WINDOW_DAYS,
        trend_days=conf.ABC_TREND_DAYS,
        intent_weight=conf.ABC_INTENT_WEIGHT,
        a_min=conf.ABC_A_MIN,
        b_min=conf.ABC_B_MIN,
        full_footfall=conf.ABC_FULL_FOOTFALL,
        full_area_m2=conf.ABC_FULL_AREA_M2,
        churn_factor=conf.CHURN_INTERVAL_FACTOR,
        churn_min_orders=conf.CHURN_MIN_ORDERS,
        reactivation_due_days=conf.REACTIVATION_DUE_DAYS,
    )


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


def store_site_features(
    *, store_ids: Iterable[uuid.UUID] | None = None, approved_only: bool = False
) -> list[SiteFeatures]:
    """Every live store (or those of `store_ids`) with its current segment, grade and tags
    and its latest survey's features, in one query.

    `approved_only`: the latest *approved* survey's features (for money: a rep's
    unreviewed survey with inflated footfall must not raise a subsidy)."""
    latest = SiteSurvey.objects.filter(store=OuterRef("pk"), deleted=False)
    if approved_only:
        latest = latest.filter(review_status=ReviewStatus.APPROVED)
    latest = latest.order_by("-captured_at", "-created_at")
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
    params = analytics_parameters(as_of=as_of)
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


def latest_order_day(*, actor: User, on_or_before: dt.date | None = None) -> dt.date | None:
    """The latest day with orders from a store `actor` may see (at most `on_or_before`):
    what a report about "the latest day" means, since orders arrive from the ERP a day or
    two after they are placed, so today usually has none yet. None: no orders at all."""
    stores = scoped_queryset(user=actor, model=Store).filter(deleted=False)
    orders = Order.objects.filter(store__in=stores.values("pk"))
    if on_or_before is not None:
        orders = orders.filter(order_date__lte=on_or_before)
    return orders.aggregate(latest=Max("order_date"))["latest"]


def order_anomalies(*, actor: User, day: dt.date, level: str = "store") -> list[AnomalyRow]:
    """Each store (level "store") or region (level "region") that `actor` may see and that
    ordered on `day` or on its baseline day, largest drop first: one GROUP BY with a
    conditional sum per day. A region's figures are the sums over its live stores."""
    conf = fieldline_settings
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
            drop=conf.ANOMALY_DROP,
            min_baseline=conf.ANOMALY_MIN_BASELINE,
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
    window_days = fieldline_settings.FORECAST_WINDOW_DAYS
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
        per_store, forecast = forecast_amounts(
            stores=count, ordering_stores=ordering, window_amount=amount
        )
        types.append(
            ForecastTypeRow(
                trade_area_type=tat,
                stores=count,
                ordering_stores=ordering,
                window_amount=amount,
                per_store_amount=per_store,
                forecast_amount=forecast,
            )
        )
    return SalesForecast(
        region=region,
        sku=sku,
        as_of=as_of,
        window_days=window_days,
        types=types,
        stores_without_type=store_counts.get("", 0),
        total=forecast_total(row.forecast_amount for row in types),
    )
