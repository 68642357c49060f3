"""Chart geometry for server-rendered inline SVG: plain numbers in, shapes out.

No chart script and no external call: the templates draw these rectangles, lines and
points into an `<svg viewBox>` that scales with the page.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 640
HEIGHT = 240
MARGIN_LEFT = 56
MARGIN_RIGHT = 28
MARGIN_TOP = 12
MARGIN_BOTTOM = 44


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    label_x: float


@dataclass(frozen=True)
class Tick:
    value: float
    y: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    baseline_y: float
    plot_left: int
    plot_right: int


def nice_max(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^n at or above `value`, at least 1 (amounts are money
    and counts: a scale below 1 would only show rounding)."""
    if value <= 0:
        return 1.0
    scale = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1.0
    for step in (1, 2, 5, 10):
        if value <= step * scale:
            return float(step * scale)
    return float(10 * scale)


def ticks(top: float, *, plot_top: float, plot_bottom: float, count: int = 4) -> list[Tick]:
    return [
        Tick(value=top * i / count, y=plot_bottom - (plot_bottom - plot_top) * i / count)
        for i in range(count + 1)
    ]


def bar_chart(items: Sequence[tuple[str, float]]) -> BarChart:
    """Vertical bars, one per (label, value), on a shared scale from zero."""
    plot_bottom = HEIGHT - MARGIN_BOTTOM
    plot_height = plot_bottom - MARGIN_TOP
    top = nice_max(max((value for _label, value in items), default=0))
    slot = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(len(items), 1)
    bars = []
    for index, (label, value) in enumerate(items):
        height = plot_height * value / top
        x = MARGIN_LEFT + index * slot + slot * 0.15
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(x, 1),
                y=round(plot_bottom - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                label_x=round(x + slot * 0.35, 1),
            )
        )
    return BarChart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        ticks=ticks(top, plot_top=MARGIN_TOP, plot_bottom=plot_bottom),
        baseline_y=plot_bottom,
        plot_left=MARGIN_LEFT,
        plot_right=WIDTH - MARGIN_RIGHT,
    )


@dataclass(frozen=True)
class Point:
    date: dt.date
    value: float
    x: float
    y: float
    flagged: bool
    change: float | None


@dataclass(frozen=True)
class DayLabel:
    text: str
    x: float


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    points: list[Point]
    polyline: str
    ticks: list[Tick]
    labels: list[DayLabel]
    baseline_y: float
    plot_left: int
    plot_right: int

    @property
    def flagged(self) -> list[Point]:
        return [point for point in self.points if point.flagged]


def line_chart(
    days: Sequence[tuple[dt.date, Decimal | float, bool, float | None]],
) -> LineChart:
    """A daily series (date, amount, flagged, change) as a line, each flagged day a marker,
    and a date label at every Monday."""
    plot_bottom = HEIGHT - MARGIN_BOTTOM
    plot_height = plot_bottom - MARGIN_TOP
    top = nice_max(max((float(amount) for _d, amount, _f, _c in days), default=0))
    step = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(len(days) - 1, 1)
    points = [
        Point(
            date=day,
            value=float(amount),
            x=round(MARGIN_LEFT + index * step, 1),
            y=round(plot_bottom - plot_height * float(amount) / top, 1),
            flagged=flagged,
            change=change,
        )
        for index, (day, amount, flagged, change) in enumerate(days)
    ]
    return LineChart(
        width=WIDTH,
        height=HEIGHT,
        points=points,
        polyline=" ".join(f"{p.x},{p.y}" for p in points),
        ticks=ticks(top, plot_top=MARGIN_TOP, plot_bottom=plot_bottom),
        labels=[DayLabel(p.date.strftime("%d %b"), p.x) for p in points if p.date.weekday() == 0],
        baseline_y=plot_bottom,
        plot_left=MARGIN_LEFT,
        plot_right=WIDTH - MARGIN_RIGHT,
    )
