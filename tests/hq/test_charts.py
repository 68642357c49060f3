"""Chart geometry: axes scaled to the data, titled with what they count and its unit,
bars and points where the scale says, anomaly marks exactly where the rule flags."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client

from crm.models import Order
from hq.charts import HEIGHT, MARGIN_BOTTOM, MARGIN_TOP, bar_chart, line_chart, nice_max
from tests.conftest import create

PLOT = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP


@pytest.mark.parametrize(
    ("value", "whole", "expected"),
    [
        (0, True, 1.0),
        (3, True, 3.0),  # 3 stores: an axis to 3, not to 10
        (7, True, 8.0),
        (12, True, 15.0),
        (480, False, 500.0),
        (623, False, 800.0),
        (1100, False, 1250.0),
        (12_400, False, 12_500.0),
        (0.3, False, 0.3),
    ],
)
def test_the_axis_top_is_the_first_nice_step_above_the_data(value, whole, expected):
    assert nice_max(value, whole=whole) == pytest.approx(expected)


@pytest.mark.parametrize("top", [1, 3, 7, 12, 99, 480, 623, 1100, 12_400, 987_654])
def test_the_tallest_value_fills_most_of_the_plot(top):
    chart = bar_chart([("a", top), ("b", 0)], axis_title="Stores")

    assert chart.bars[0].height / PLOT >= 0.6
    assert chart.ticks[-1].value >= top
    assert 2 <= len(chart.ticks) <= 6
    values = [tick.value for tick in chart.ticks]
    steps = {round(b - a, 6) for a, b in zip(values, values[1:], strict=False)}
    assert len(steps) == 1
    assert min(steps) >= 1  # counts: whole steps only


def test_bars_share_one_scale_from_zero_and_the_axis_says_what_it_counts():
    chart = bar_chart([("a", 50), ("b", 100), ("c", 0)], axis_title="Stores")

    heights = [bar.height for bar in chart.bars]
    assert heights == [PLOT / 2, PLOT, 0]
    assert all(bar.y + bar.height == chart.baseline_y for bar in chart.bars)
    assert chart.bars[0].x < chart.bars[1].x < chart.bars[2].x
    assert [t.value for t in chart.ticks] == [0, 20, 40, 60, 80, 100]
    assert chart.axis.title == "Stores"


def test_line_marks_flagged_days_and_labels_mondays():
    start = dt.date(2026, 11, 16)  # a Monday
    days = [
        (start + dt.timedelta(days=n), 10 * n, n == 7, -0.5 if n == 7 else None) for n in range(10)
    ]

    chart = line_chart(days, axis_title="Orders per day, EUR")

    assert [p.date for p in chart.flagged] == [dt.date(2026, 11, 23)]
    assert [label.text for label in chart.labels] == ["16 Nov", "23 Nov"]
    assert chart.points[0].y == chart.baseline_y
    assert chart.points[-1].y == round(chart.baseline_y - PLOT * 0.9, 1)  # 90 of 100
    assert chart.polyline.count(",") == 10
    assert chart.axis.title == "Orders per day, EUR"


def office(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_marks_only_past_the_threshold_the_settings_name(people, settings):
    """ANOMALY_DROP 0.30, ANOMALY_MIN_BASELINE 50: a 29 % drop is no mark, 30 % is; a
    drop from a day below 50 is no mark however deep."""
    settings.FIELDLINE = {**settings.FIELDLINE, "ANOMALY_DROP": 0.30, "ANOMALY_MIN_BASELINE": 50}
    store = create("store", name="Corner", lat=53.5, lon=9.9, region="north")
    orders = [
        ("2026-11-09", "100.00"), ("2026-11-16", "71.00"),  # -29 %: no mark
        ("2026-11-10", "100.00"), ("2026-11-17", "70.00"),  # -30 %: a mark
        ("2026-11-11", "49.99"), ("2026-11-18", "0.01"),  # from below 50: no mark
        ("2026-11-12", "1000.00"), ("2026-11-19", "100.00"),  # -90 %: a mark
    ]  # fmt: skip
    for n, (day, amount) in enumerate(orders):
        Order.objects.create(
            external_id=f"o{n}", store_id=store, order_date=day, amount=Decimal(amount)
        )

    html = office(people["hq"]).get("/hq/analytics/?until=2026-11-22").content.decode()

    marked = re.findall(r'class="point anomaly"[^>]*><title>([^<]+)</title>', html)
    assert marked == ["Tue 2026-11-17: €70.00 (-30%)", "Thu 2026-11-19: €100.00 (-90%)"]
    assert "a drop of 30% or more" in html
    assert "at least €50.00" in html
    assert "Orders per day, EUR" in html
    assert "No orders in this period." in html  # south: no chart of nothing
    # The axis is scaled to the data: the largest day (1,000) under a top tick of 1,000.
    north = html[html.index('data-region="north"') :]
    north = north[: north.index("</svg>")]
    ticks = re.findall(r'class="tick"[^>]*>([^<]+)</text>', north)
    assert ticks == ["0", "200", "400", "600", "800", "1,000"]


@pytest.mark.django_db
def test_a_stricter_setting_marks_fewer_days(people, settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "ANOMALY_DROP": 0.50, "ANOMALY_MIN_BASELINE": 50}
    store = create("store", name="Corner", lat=53.5, lon=9.9, region="north")
    for n, (day, amount) in enumerate(
        [("2026-11-10", "100"), ("2026-11-17", "60"), ("2026-11-12", "100"), ("2026-11-19", "40")]
    ):
        Order.objects.create(external_id=f"o{n}", store_id=store, order_date=day, amount=amount)

    html = office(people["hq"]).get("/hq/analytics/?until=2026-11-22").content.decode()

    assert html.count('class="point anomaly"') == 1
    assert "a drop of 50% or more" in html
