"""Chart geometry: bars and points land where the scale says."""

import datetime as dt

import pytest

from hq.charts import HEIGHT, MARGIN_BOTTOM, MARGIN_TOP, bar_chart, line_chart, nice_max


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 1.0), (0.3, 1.0), (1, 1.0), (7, 10.0), (12, 20.0), (480, 500.0), (623, 1000.0)],
)
def test_nice_max_rounds_up_to_1_2_5(value, expected):
    assert nice_max(value) == expected


def test_bars_share_one_scale_from_zero():
    chart = bar_chart([("a", 50), ("b", 100), ("c", 0)])
    plot = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP

    heights = [bar.height for bar in chart.bars]
    assert heights == [plot / 2, plot, 0]
    assert all(bar.y + bar.height == chart.baseline_y for bar in chart.bars)
    assert chart.bars[0].x < chart.bars[1].x < chart.bars[2].x
    assert [t.value for t in chart.ticks] == [0, 25, 50, 75, 100]


def test_line_marks_flagged_days_and_labels_mondays():
    start = dt.date(2026, 11, 16)  # a Monday
    days = [
        (start + dt.timedelta(days=n), 10 * n, n == 7, -0.5 if n == 7 else None) for n in range(10)
    ]

    chart = line_chart(days)

    assert [p.date for p in chart.flagged] == [dt.date(2026, 11, 23)]
    assert [label.text for label in chart.labels] == ["16 Nov", "23 Nov"]
    assert chart.points[0].y == chart.baseline_y
    plot = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    assert chart.points[-1].y == round(chart.baseline_y - plot * 0.9, 1)  # 90 of 100
    assert chart.polyline.count(",") == 10
