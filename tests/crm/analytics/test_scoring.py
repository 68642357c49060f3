"""The pure scoring rules of the analytics (crm.analytics.scoring), no database: examples,
then properties over generated stores."""

import datetime as dt
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.analytics.scoring import (
    SEGMENT_OF_CELL,
    AnalyticsParameters,
    SiteFeatures,
    StoreOrderStats,
    abc_grade,
    anomaly_baseline_date,
    anomaly_verdict,
    churn_flags,
    forecast_amounts,
    forecast_total,
    intent_score,
    potential_score,
    rfm_segments,
)
from stores.models import Segment

REPO_ROOT = Path(__file__).resolve().parents[3]
AS_OF = dt.date(2026, 3, 31)
PARAMS = AnalyticsParameters(
    as_of=AS_OF,
    window_days=90,
    trend_days=30,
    intent_weight=0.5,
    a_min=0.7,
    b_min=0.4,
    full_footfall=1000,
    full_area_m2=200.0,
    churn_factor=2.0,
    churn_min_orders=3,
    reactivation_due_days=7,
)
GRADE_RANK = {"C": 0, "B": 1, "A": 2}


def stats(**fields) -> StoreOrderStats:
    values = {
        "store_id": uuid.uuid4(),
        "orders": 4,
        "first_order": AS_OF - dt.timedelta(days=60),
        "last_order": AS_OF - dt.timedelta(days=5),
        "window_orders": 4,
        "window_amount": Decimal("400.00"),
        "trend_recent": 2,
        "trend_prior": 2,
    }
    return StoreOrderStats(**(values | fields))


def site(**fields) -> SiteFeatures:
    values = {
        "store_id": uuid.uuid4(),
        "segment": "",
        "grade": "",
        "trade_area_type": "office",
        "footfall_weekday": 500,
        "area_m2": 100.0,
        "equipment": ("microwave",),
    }
    return SiteFeatures(**(values | fields))


# --- examples -------------------------------------------------------------------------


def test_the_segments_are_the_stores_segments():
    assert set(SEGMENT_OF_CELL.values()) == set(Segment.values)


def test_a_recent_frequent_big_store_is_head_active_and_a_lapsed_small_one_tail_churn():
    big = stats(last_order=AS_OF, window_orders=10, window_amount=Decimal("1000"))
    small = stats(
        last_order=AS_OF - dt.timedelta(days=80), window_orders=1, window_amount=Decimal("10")
    )
    segments, averages = rfm_segments(stats=[big, small], as_of=AS_OF)
    assert segments == {big.store_id: "head_active", small.store_id: "tail_churn"}
    assert averages.active_stores == 2
    assert averages.frequency == 5.5


def test_a_score_on_the_cut_makes_the_grade():
    assert abc_grade(intent=0.7, potential=0.7, params=PARAMS) == "A"
    assert abc_grade(intent=0.4, potential=0.4, params=PARAMS) == "B"
    assert abc_grade(intent=0.39, potential=0.4, params=PARAMS) == "C"


def test_a_store_past_twice_its_interval_is_flagged_with_its_own_interval():
    lapsed = stats(
        orders=4,
        first_order=AS_OF - dt.timedelta(days=100),
        last_order=AS_OF - dt.timedelta(days=70),
    )
    steady = stats(orders=4, first_order=AS_OF - dt.timedelta(days=30), last_order=AS_OF)
    [warning] = churn_flags(stats=[lapsed, steady], segment_of={}, params=PARAMS)
    assert warning.store_id == lapsed.store_id
    assert warning.average_interval_days == 10.0
    assert warning.interval_source == "own"
    assert warning.days_since_last_order == 70


def test_without_a_store_with_enough_orders_nothing_is_flagged():
    few = stats(orders=1, first_order=AS_OF - dt.timedelta(days=300))
    few = stats(orders=1, first_order=few.first_order, last_order=few.first_order)
    assert churn_flags(stats=[few], segment_of={}, params=PARAMS) == []


def test_a_friday_is_compared_with_the_friday_before():
    friday = dt.date(2026, 3, 27)
    assert anomaly_baseline_date(day=friday) == dt.date(2026, 3, 20)


def test_a_drop_from_a_real_baseline_is_flagged_and_from_a_few_euros_is_not():
    assert anomaly_verdict(
        amount=Decimal("40"), baseline_amount=Decimal("100"), drop=0.5, min_baseline=50
    ) == (-0.6, True)
    assert anomaly_verdict(
        amount=Decimal("4"), baseline_amount=Decimal("10"), drop=0.5, min_baseline=50
    ) == (-0.6, False)
    assert anomaly_verdict(
        amount=Decimal("4"), baseline_amount=Decimal("0"), drop=0.5, min_baseline=50
    ) == (None, False)


def test_the_forecast_is_the_average_per_ordering_store_times_the_stores():
    # Both rounded from the exact average (half to even, Decimal's default).
    assert forecast_amounts(stores=3, ordering_stores=2, window_amount=Decimal("100.01")) == (
        Decimal("50.00"),
        Decimal("150.02"),
    )
    assert forecast_amounts(stores=3, ordering_stores=0, window_amount=Decimal(0)) == (
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert forecast_total([Decimal("1.005"), Decimal("2")]) == Decimal("3.00")


# --- properties -----------------------------------------------------------------------

store_stats = st.builds(
    lambda orders, span, since, window, amount, recent, prior: stats(
        orders=orders,
        first_order=AS_OF - dt.timedelta(days=since + span),
        last_order=AS_OF - dt.timedelta(days=since),
        window_orders=min(window, orders),
        window_amount=Decimal(amount) if min(window, orders) else Decimal(0),
        trend_recent=recent,
        trend_prior=prior,
    ),
    st.integers(min_value=1, max_value=50),
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=0, max_value=50),
    st.integers(min_value=1, max_value=10_000),
    st.integers(min_value=0, max_value=20),
    st.integers(min_value=0, max_value=20),
)
unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@given(st.lists(store_stats, max_size=30))
def test_every_store_gets_one_segment_and_one_without_window_orders_a_low_one(rows):
    segments, averages = rfm_segments(stats=rows, as_of=AS_OF)
    assert set(segments) == {row.store_id for row in rows}
    assert set(segments.values()) <= set(SEGMENT_OF_CELL.values())
    assert averages.active_stores == sum(1 for row in rows if row.window_orders)
    for row in rows:
        if not row.window_orders:
            assert segments[row.store_id] in {"early_growth", "tail_churn"}


@given(unit, unit, unit, unit)
def test_more_intent_or_potential_never_lowers_the_grade(intent, potential, more_i, more_p):
    lower = abc_grade(intent=intent, potential=potential, params=PARAMS)
    higher = abc_grade(intent=max(intent, more_i), potential=max(potential, more_p), params=PARAMS)
    assert GRADE_RANK[higher] >= GRADE_RANK[lower]


@given(st.integers(min_value=0, max_value=100), st.integers(min_value=0, max_value=100))
def test_intent_is_a_share(recent, prior):
    assert 0.0 <= intent_score(recent=recent, prior=prior) <= 1.0


@given(
    st.one_of(st.none(), st.integers(min_value=0, max_value=10_000)),
    st.one_of(st.none(), st.floats(min_value=0, max_value=5_000)),
    st.lists(st.sampled_from(["microwave", "oven", "freezer", "coffee_machine"]), unique=True),
    st.sampled_from(["office", "residential", "unknown", ""]),
)
def test_potential_is_a_share(footfall, area, equipment, trade_area):
    features = site(
        footfall_weekday=footfall,
        area_m2=area,
        equipment=tuple(equipment),
        trade_area_type=trade_area,
    )
    assert 0.0 <= potential_score(site=features, params=PARAMS) <= 1.0 + 1e-9


@given(st.lists(store_stats, max_size=30))
def test_a_flagged_store_is_overdue_by_the_factor_and_none_ordered_today(rows):
    for warning in churn_flags(stats=rows, segment_of={}, params=PARAMS):
        assert warning.days_since_last_order > 0
        # The interval is rounded to cents of a day for display.
        assert warning.days_since_last_order > PARAMS.churn_factor * (
            warning.average_interval_days - 0.005
        )


@given(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2040, 12, 31)))
def test_the_baseline_is_the_same_weekday_a_week_before(day):
    baseline = anomaly_baseline_date(day=day)
    assert (day - baseline).days == 7
    assert baseline.weekday() == day.weekday()


amounts = st.decimals(min_value=0, max_value=100_000, places=2)


@given(amounts, amounts, st.floats(min_value=0.01, max_value=1), st.floats(0, 1000))
def test_a_flag_means_a_drop_of_at_least_the_threshold_from_a_real_baseline(
    amount, baseline, drop, min_baseline
):
    change, flagged = anomaly_verdict(
        amount=amount, baseline_amount=baseline, drop=drop, min_baseline=min_baseline
    )
    if baseline == 0:
        assert (change, flagged) == (None, False)
        return
    assert change == round(float((amount - baseline) / baseline), 4)
    if flagged:
        assert amount < baseline
        assert baseline >= Decimal(str(min_baseline))
    if amount >= baseline:
        assert not flagged


@given(
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=10_000),
    st.decimals(min_value=0, max_value=10_000_000, places=2),
)
def test_the_forecast_is_per_store_times_stores_to_the_cent(stores, ordering, amount):
    per_store, forecast = forecast_amounts(
        stores=stores, ordering_stores=ordering, window_amount=amount
    )
    assert per_store == per_store.quantize(Decimal("0.01"))
    if not ordering:
        assert (per_store, forecast) == (0, 0)
    else:
        # Each is rounded once, from the exact average: within a cent of each other.
        assert abs(forecast - per_store * stores) <= Decimal("0.005") * (stores + 1)


# --- purity ---------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["crm.analytics.scoring"])
def test_the_scoring_rules_import_no_django(module):
    code = (
        "import sys\n"
        f"import {module}\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "project = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'accounts', 'stores', 'surveys', 'sync', 'fieldline'})\n"
        "print(','.join(loaded + project))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT / "backend",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == ""
