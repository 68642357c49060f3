"""The scoring rules of the customer analytics, as pure functions over plain data.

RFM segments, ABC grades, churn flags, the anomaly verdict and the forecast arithmetic are
decided here, over the rows the selectors read; this module imports nothing of Django or
of the project, so that the rules are tested (with property tests) without a database,
like the sync engine's merge core.
"""

import datetime as dt
import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class AnalyticsParameters:
    """The thresholds of one recomputation (the selectors read them from the settings)."""

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
    (True, True, True): "head_active",
    (False, True, True): "head_warning",
    (True, False, True): "mid_growth",
    (True, False, False): "early_growth",
    (False, False, True): "mid_churn",
    (False, False, False): "tail_churn",
    (True, True, False): "early_growth",
    (False, True, False): "tail_churn",
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


# --- sales forecast -------------------------------------------------------------------

CENT = Decimal("0.01")


def forecast_amounts(
    *, stores: int, ordering_stores: int, window_amount: Decimal
) -> tuple[Decimal, Decimal]:
    """A trade-area type's average amount per ordering store over the window and the
    forecast for its `stores` (that average x the stores), both in cents."""
    per_store = window_amount / ordering_stores if ordering_stores else Decimal(0)
    return per_store.quantize(CENT), (per_store * stores).quantize(CENT)


def forecast_total(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, Decimal(0)).quantize(CENT)
