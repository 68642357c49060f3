"""Chart geometry for server-rendered inline SVG: plain numbers in, shapes out.

No chart script and no external call: the templates draw these rectangles, lines and
points into an `<svg viewBox>` that scales with the page.
"""

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import date_format

WIDTH = 640
HEIGHT = 240
MARGIN_LEFT = 76
MARGIN_RIGHT = 28
MARGIN_TOP = 12
MARGIN_BOTTOM = 44
# The y axis is divided in at most this many steps of a "nice" size.
MAX_STEPS = 5
NICE_STEPS = (1, 2, 2.5, 5)


LABEL_LINE_CHARS = 12


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    label_x: float

    @property
    def label_lines(self) -> list[str]:
        """The label in lines of about LABEL_LINE_CHARS, so neighbours do not overlap."""
        lines: list[str] = []
        for word in str(self.label).split():
            if lines and len(lines[-1]) + 1 + len(word) <= LABEL_LINE_CHARS:
                lines[-1] += " " + word
            else:
                lines.append(word)
        return lines or [""]


@dataclass(frozen=True)
class Tick:
    value: float
    y: float


@dataclass(frozen=True)
class Axis:
    """The y axis: its title says what is counted and in which unit."""

    title: str
    ticks: list[Tick]
    title_x: float
    title_y: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    axis: Axis
    baseline_y: float
    plot_left: int
    plot_right: int

    @property
    def ticks(self) -> list[Tick]:
        return self.axis.ticks


def nice_step(value: float, *, whole: bool) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^n step that covers `value` in at most MAX_STEPS
    steps (whole numbers only when the data are counts)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value / MAX_STEPS))
    while True:
        for step in NICE_STEPS:
            candidate = step * magnitude
            if whole and (candidate < 1 or candidate != int(candidate)):
                continue
            if math.ceil(value / candidate - 1e-9) <= MAX_STEPS:
                return float(candidate)
        magnitude *= 10


def scale(value: float, *, whole: bool) -> tuple[float, float]:
    """The axis top for data up to `value` (from zero) and its step: the first step
    boundary at or above the largest value, so the tallest bar or point nearly fills the
    plot, whatever the magnitude (3 stores or 12,400 euros)."""
    step = nice_step(value, whole=whole)
    steps = max(1, math.ceil(value / step - 1e-9))
    return steps * step, step


def nice_max(value: float, *, whole: bool = False) -> float:
    return scale(value, whole=whole)[0]


def ticks(top: float, step: float, *, plot_top: float, plot_bottom: float) -> list[Tick]:
    count = round(top / step)
    return [
        Tick(
            value=round(step * i, 6), y=round(plot_bottom - (plot_bottom - plot_top) * i / count, 1)
        )
        for i in range(count + 1)
    ]


def axis(title: str, top: float, step: float, *, plot_bottom: float) -> Axis:
    return Axis(
        title=title,
        ticks=ticks(top, step, plot_top=MARGIN_TOP, plot_bottom=plot_bottom),
        title_x=14,
        title_y=round((MARGIN_TOP + plot_bottom) / 2, 1),
    )


def bar_chart(items: Sequence[tuple[str, float]], *, axis_title: str) -> BarChart:
    """Vertical bars, one per (label, count), on a shared scale from zero."""
    plot_bottom = HEIGHT - MARGIN_BOTTOM
    plot_height = plot_bottom - MARGIN_TOP
    top, step = scale(max((value for _label, value in items), default=0), whole=True)
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
        axis=axis(axis_title, top, step, plot_bottom=plot_bottom),
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
    axis: Axis
    labels: list[DayLabel]
    baseline_y: float
    plot_left: int
    plot_right: int

    @property
    def ticks(self) -> list[Tick]:
        return self.axis.ticks

    @property
    def flagged(self) -> list[Point]:
        return [point for point in self.points if point.flagged]


def line_chart(
    days: Sequence[tuple[dt.date, Decimal | float, bool, float | None]], *, axis_title: str
) -> LineChart:
    """A daily series (date, amount, flagged, change) as a line from zero to the data's
    own top, each flagged day a marker (flagged by the anomaly rule, nothing else), and a
    date label at every Monday."""
    plot_bottom = HEIGHT - MARGIN_BOTTOM
    plot_height = plot_bottom - MARGIN_TOP
    top, step = scale(max((float(amount) for _d, amount, _f, _c in days), default=0), whole=False)
    spacing = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(len(days) - 1, 1)
    points = [
        Point(
            date=day,
            value=float(amount),
            x=round(MARGIN_LEFT + index * spacing, 1),
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
        axis=axis(axis_title, top, step, plot_bottom=plot_bottom),
        labels=[
            DayLabel(date_format(p.date, "MONTH_DAY_FORMAT"), p.x)
            for p in points
            if p.date.weekday() == 0
        ],
        baseline_y=plot_bottom,
        plot_left=MARGIN_LEFT,
        plot_right=WIDTH - MARGIN_RIGHT,
    )
