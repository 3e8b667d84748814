"""Inline SVG charts for the HTML monitoring report.

Each chart is a string of SVG markup that sits inside an HTML page: no scripts, no external
references (not even an ``xmlns`` URL, which inline SVG in HTML does not need), every text
through :func:`html.escape`. The output depends only on the arguments, so the same report
renders to the same bytes. A chart function returns ``None`` when its data cannot be drawn
(lengths that do not match, no finite value), and the page shows a note instead.

Colours: reference vs current are Okabe-Ito blue and vermillion, which stay distinct under
the common colour-vision deficiencies; lines also differ by dash pattern.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

REFERENCE_COLOUR = "#0072B2"
CURRENT_COLOUR = "#D55E00"
LINE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MARKER_COLOUR = "#4d4d4d"
POINTS_WITH_DOTS = 60
"""A series with more points is drawn as a line with one tooltip (lowest, highest, last): a dot
and a tooltip for each of a day's 288 five-minute points weighed ~50 KB a chart."""
GRID_COLOUR = "#e3e3e3"
AXIS_COLOUR = "#8c8c8c"
FONT_SIZE = 12.0
CHAR_WIDTH = 0.6 * FONT_SIZE
"""Approximate width of one character, for layout (labels are also clipped)."""

Formatter = Callable[[float], str]


@dataclass(frozen=True)
class Frame:
    """A chart's outer size and the margins around its plot area."""

    width: float
    height: float
    left: float = 64.0
    right: float = 24.0
    top: float = 34.0
    bottom: float = 46.0

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.width - self.right

    @property
    def y0(self) -> float:
        """Bottom of the plot area (SVG y grows downwards)."""
        return self.height - self.bottom

    @property
    def y1(self) -> float:
        return self.top


@dataclass(frozen=True)
class Scale:
    """Linear map from data values in [lo, hi] to pixels in [start, end]."""

    lo: float
    hi: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = self.hi - self.lo
        if span == 0:
            return (self.start + self.end) / 2
        return self.start + (value - self.lo) / span * (self.end - self.start)


@dataclass(frozen=True)
class LegendItem:
    """One legend entry; ``shape`` is box, solid, outline, line, band or marker."""

    label: str
    colour: str
    shape: str = "box"
    dash: str = ""


@dataclass(frozen=True)
class Series:
    """One line of a line chart; ``low``/``high`` draw a band around it."""

    label: str
    values: Sequence[float | None]
    colour: str
    dash: str = ""
    low: Sequence[float | None] | None = None
    high: Sequence[float | None] | None = None
    band_label: str | None = None


@dataclass(frozen=True)
class Marker:
    """A vertical marker at ``x`` (e.g. where the served version changes)."""

    x: float
    label: str


@dataclass(frozen=True)
class HLine:
    """A horizontal reference line (e.g. the golden-set metric), shown in the legend."""

    y: float
    label: str
    colour: str


# -- numbers -------------------------------------------------------------------------------


def finite(value: object) -> float | None:
    """``value`` as a float when it is a finite real number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] with about ``count`` steps (1, 2, 2.5, 5 x 10^k)."""
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = magnitude * 10
    for multiple in (1.0, 2.0, 2.5, 5.0, 10.0):
        if multiple * magnitude >= raw * (1 - 1e-9):
            step = multiple * magnitude
            break
    first = math.floor(lo / step + 1e-9) * step
    last = math.ceil(hi / step - 1e-9) * step
    steps = round((last - first) / step)
    return [_clean(first + index * step, step) for index in range(steps + 1)]


def _clean(value: float, step: float) -> float:
    """Drop float noise (0.30000000000000004) and negative zero from a tick value."""
    value = round(value, 12)
    return 0.0 if abs(value) < step * 1e-9 else value


def _decimals(step: float) -> int:
    for decimals in range(10):
        if abs(round(step, decimals) - step) <= abs(step) * 1e-6:
            return decimals
    return 10


def tick_formatter(ticks: Sequence[float], percent: bool = False) -> Formatter:
    """A formatter that shows ``ticks`` with as few decimals as their step needs."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    factor = 100.0 if percent else 1.0
    decimals = _decimals(step * factor) if step else 0
    suffix = "%" if percent else ""
    largest = max((abs(tick) for tick in ticks), default=0.0) * factor
    if largest >= 1e7 or (0 < largest < 1e-4):
        return lambda value: f"{value * factor:.3g}{suffix}"
    return lambda value: f"{value * factor:,.{decimals}f}{suffix}"


_TIME_STEPS = (
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    21600,
    43200,
    86400,
    172800,
    604800,
    1209600,
    2592000,
    7776000,
    15552000,
    31536000,
)


def time_ticks(lo: float, hi: float, count: int = 6) -> tuple[list[float], list[str]]:
    """Tick positions (POSIX seconds) at round UTC times over [lo, hi], and their labels.

    Steps under a day show the time, with the date on the first tick and where the day changes.
    """
    span = max(hi - lo, 1.0)
    step = float(next((s for s in _TIME_STEPS if span / s <= count), math.ceil(span / count)))
    first = math.ceil(lo / step) * step
    ticks = [first + index * step for index in range(int((hi - first) // step) + 1)]
    moments = [datetime.fromtimestamp(tick, UTC) for tick in ticks]
    if step >= 86400:
        return ticks, [moment.strftime("%Y-%m-%d") for moment in moments]
    clock = "%H:%M" if step >= 60 else "%H:%M:%S"
    labels = []
    for index, moment in enumerate(moments):
        new_day = index == 0 or moment.date() != moments[index - 1].date()
        labels.append(moment.strftime(f"%Y-%m-%d {clock}" if new_day else clock))
    return ticks, labels


def _labels(ticks: Sequence[float], percent: bool = False) -> list[str]:
    fmt = tick_formatter(ticks, percent)
    return [fmt(tick) for tick in ticks]


def _n(value: float) -> str:
    """A coordinate, rounded so output is compact and stable."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


# -- building blocks -----------------------------------------------------------------------


def _open(frame: Frame, label: str, kind: str) -> str:
    return (
        f'<svg class="chart chart-{kind}" viewBox="0 0 {_n(frame.width)} {_n(frame.height)}" '
        f'role="img" aria-label="{escape(label)}" preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(label)}</title>"
    )


def _text(x: float, y: float, text: str, cls: str, anchor: str = "start", extra: str = "") -> str:
    return (
        f'<text class="{cls}" x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}"{extra}>'
        f"{escape(text)}</text>"
    )


def _title(frame: Frame, title: str) -> str:
    limit = int((frame.width - frame.x0 - 4) / (0.62 * 13))  # bold 13px
    return _text(frame.x0, 20, clip(title, limit), "chart-title")


def _y_axis(frame: Frame, scale: Scale, ticks: Sequence[float], fmt: Formatter, label: str) -> str:
    parts = []
    for tick in ticks:
        y = scale(tick)
        parts.append(
            f'<line x1="{_n(frame.x0)}" x2="{_n(frame.x1)}" y1="{_n(y)}" y2="{_n(y)}" '
            f'stroke="{GRID_COLOUR}" stroke-width="1"/>'
        )
        parts.append(_text(frame.x0 - 6, y + 4, fmt(tick), "tick", "end"))
    middle = (frame.y0 + frame.y1) / 2
    parts.append(
        f'<text class="axis-label" x="0" y="0" text-anchor="middle" '
        f'transform="translate(14 {_n(middle)}) rotate(-90)">{escape(label)}</text>'
    )
    return "".join(parts)


def _x_axis(
    frame: Frame, scale: Scale, ticks: Sequence[float], labels: Sequence[str], label: str
) -> str:
    """The x axis line, tick marks, as many tick labels as fit without overlapping, and its label."""
    axis = (
        f'<line x1="{_n(frame.x0)}" x2="{_n(frame.x1)}" y1="{_n(frame.y0)}" y2="{_n(frame.y0)}" '
        f'stroke="{AXIS_COLOUR}" stroke-width="1"/>'
    )
    parts = [axis]
    free_from = -math.inf  # labels left to right, each only where it does not touch the last
    for tick, text in zip(ticks, labels, strict=True):
        x = scale(tick)
        parts.append(
            f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(frame.y0)}" y2="{_n(frame.y0 + 4)}" '
            f'stroke="{AXIS_COLOUR}" stroke-width="1"/>'
        )
        half = len(text) * CHAR_WIDTH * 0.92 / 2  # tick labels are 11px
        if x - half >= free_from:
            parts.append(_text(x, frame.y0 + 17, text, "tick", "middle"))
            free_from = x + half + 10
    parts.append(_text((frame.x0 + frame.x1) / 2, frame.y0 + 36, label, "axis-label", "middle"))
    return "".join(parts)


def _swatch(item: LegendItem, x: float, y: float) -> str:
    if item.shape == "line":
        dash = f' stroke-dasharray="{item.dash}"' if item.dash else ""
        return (
            f'<line x1="{_n(x)}" x2="{_n(x + 18)}" y1="{_n(y)}" y2="{_n(y)}" '
            f'stroke="{item.colour}" stroke-width="2.5"{dash}/>'
        )
    if item.shape == "marker":
        return (
            f'<line x1="{_n(x + 9)}" x2="{_n(x + 9)}" y1="{_n(y - 7)}" y2="{_n(y + 7)}" '
            f'stroke="{item.colour}" stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
    styles = {"band": ("0.2", "1"), "outline": ("0.12", "2"), "solid": ("0.8", "1")}
    opacity, stroke = styles.get(item.shape, ("0.5", "1"))
    return (
        f'<rect x="{_n(x)}" y="{_n(y - 6)}" width="18" height="12" fill="{item.colour}" '
        f'fill-opacity="{opacity}" stroke="{item.colour}" stroke-width="{stroke}"/>'
    )


def legend_height(items: Sequence[LegendItem], width: float) -> float:
    """Height the legend of ``items`` takes when laid out in rows across ``width``."""
    return _legend(items, 0.0, 0.0, width)[1]


def _legend(items: Sequence[LegendItem], x0: float, y0: float, width: float) -> tuple[str, float]:
    """Legend entries flowed left to right, wrapped to ``width``; markup and height."""
    if not items:
        return "", 0.0
    parts = ['<g class="legend">']
    x, y, row = x0, y0 + 8, 18.0
    for item in items:
        label = clip(item.label, 60)
        size = 24 + len(label) * CHAR_WIDTH + 16
        if x > x0 and x + size > x0 + width:
            x, y = x0, y + row
        parts.append(_swatch(item, x, y))
        parts.append(_text(x + 24, y + 4, label, "legend-label"))
        x += size
    parts.append("</g>")
    return "".join(parts), (y - y0) + row


def _frame_with_legend(
    width: float,
    plot_height: float,
    items: Sequence[LegendItem],
    left: float = 64.0,
    right: float = 24.0,
) -> tuple[Frame, float]:
    """A frame whose bottom margin leaves room for the axis label and the legend."""
    legend = legend_height(items, width - left - right)
    bottom = 50.0 + legend
    frame = Frame(width, 34.0 + plot_height + bottom, left=left, right=right, bottom=bottom)
    return frame, legend


# -- charts --------------------------------------------------------------------------------


def histogram(
    edges: Sequence[object],
    reference: Sequence[object],
    current: Sequence[object],
    *,
    title: str,
    x_label: str,
    labels: tuple[str, str] = ("reference", "current"),
    width: float = 560.0,
) -> str | None:
    """Overlaid histogram bars of two distributions given as shares of rows per bin.

    ``edges`` has one more value than ``reference`` and ``current``; bins may be unequal.
    """
    bounds = [finite(edge) for edge in edges]
    ref = [finite(value) for value in reference]
    cur = [finite(value) for value in current]
    if (
        len(bounds) < 2
        or len(ref) != len(bounds) - 1
        or len(cur) != len(ref)
        or any(v is None for v in [*bounds, *ref, *cur])
    ):
        return None
    xs = [v for v in bounds if v is not None]
    if any(b < a for a, b in itertools.pairwise(xs)):
        return None
    heights = [[v or 0.0 for v in ref], [v or 0.0 for v in cur]]
    items = [
        LegendItem(labels[0], REFERENCE_COLOUR),
        LegendItem(labels[1], CURRENT_COLOUR, "outline"),
    ]
    frame, _ = _frame_with_legend(width, 190.0, items)
    y_ticks = nice_ticks(0.0, max(max(heights[0]), max(heights[1]), 1e-9), 4)
    y_scale = Scale(0.0, y_ticks[-1], frame.y0, frame.y1)
    lo, hi = xs[0], xs[-1]
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    x_ticks = [
        t
        for t in nice_ticks(lo, hi, 6)
        if lo - 1e-9 * abs(hi - lo) <= t <= hi + 1e-9 * abs(hi - lo)
    ]
    x_scale = Scale(lo, hi, frame.x0, frame.x1)
    parts = [
        _open(frame, f"{title}: {labels[0]} vs {labels[1]}", "histogram"),
        _title(frame, title),
    ]
    parts.append(
        _y_axis(frame, y_scale, y_ticks, tick_formatter(y_ticks, percent=True), "share of rows")
    )
    styles = (  # reference filled, current mostly outline: the overlap stays readable
        (heights[0], REFERENCE_COLOUR, labels[0], "0.5", "1"),
        (heights[1], CURRENT_COLOUR, labels[1], "0.12", "2"),
    )
    for values, colour, name, opacity, stroke in styles:
        parts.append(
            f'<g class="bars" fill="{colour}" fill-opacity="{opacity}" stroke="{colour}" '
            f'stroke-width="{stroke}">'
        )
        for index, share in enumerate(values):
            left, right = x_scale(xs[index]), x_scale(xs[index + 1])
            top = y_scale(share)
            tip = f"{name}: {share * 100:.1f}% in [{xs[index]:.4g}, {xs[index + 1]:.4g})"
            parts.append(
                f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(max(right - left, 0.5))}" '
                f'height="{_n(frame.y0 - top)}"><title>{escape(tip)}</title></rect>'
            )
        parts.append("</g>")
    parts.append(_x_axis(frame, x_scale, x_ticks, _labels(x_ticks), x_label))
    parts.append(_legend(items, frame.x0, frame.y0 + 46, frame.x1 - frame.x0)[0])
    parts.append("</svg>")
    return "".join(parts)


def grouped_bars(
    categories: Sequence[object],
    series: Sequence[tuple[str, str, Sequence[object]]],
    *,
    title: str,
    x_label: str = "share of rows",
    width: float = 560.0,
) -> str | None:
    """Horizontal grouped bars: one row per category, one bar per series (label, colour, shares)."""
    names = [str(category) for category in categories]
    rows = [[finite(value) for value in values] for _, _, values in series]
    if not names or not series or any(len(values) != len(names) for values in rows):
        return None
    if any(value is None for values in rows for value in values):
        return None
    label_chars = min(max(len(name) for name in names), 20)
    left = max(56.0, label_chars * CHAR_WIDTH + 14)
    items = [LegendItem(label, colour, "solid") for label, colour, _ in series]
    bar, gap = 11.0, 9.0
    band = bar * len(series) + gap
    frame, _ = _frame_with_legend(width, band * len(names), items, left=left, right=52.0)
    largest = max((value or 0.0) for values in rows for value in values)
    x_ticks = nice_ticks(0.0, max(largest, 1e-9), 5)
    x_scale = Scale(0.0, x_ticks[-1], frame.x0, frame.x1)
    parts = [_open(frame, title, "bars"), _title(frame, title)]
    for tick in x_ticks:
        x = x_scale(tick)
        parts.append(
            f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(frame.y1)}" y2="{_n(frame.y0)}" '
            f'stroke="{GRID_COLOUR}" stroke-width="1"/>'
        )
    for row, name in enumerate(names):
        top = frame.y1 + row * band + gap / 2
        parts.append(f'<g class="category"><title>{escape(name)}</title>')
        parts.append(
            _text(frame.x0 - 6, top + band / 2 - gap / 2 + 4, clip(name, 20), "tick", "end")
        )
        for index, (label, colour, _) in enumerate(series):
            share = rows[index][row] or 0.0
            y = top + index * bar
            end = x_scale(share)
            parts.append(
                f'<rect x="{_n(frame.x0)}" y="{_n(y)}" width="{_n(max(end - frame.x0, 0.0))}" '
                f'height="{_n(bar - 1)}" fill="{colour}" fill-opacity="0.8">'
                f"<title>{escape(f'{label}: {share * 100:.1f}%')}</title></rect>"
            )
            parts.append(_text(end + 4, y + bar - 2.5, f"{share * 100:.1f}%", "value"))
        parts.append("</g>")
    parts.append(
        f'<line x1="{_n(frame.x0)}" x2="{_n(frame.x0)}" y1="{_n(frame.y1)}" y2="{_n(frame.y0)}" '
        f'stroke="{AXIS_COLOUR}" stroke-width="1"/>'
    )
    parts.append(_x_axis(frame, x_scale, x_ticks, _labels(x_ticks, percent=True), x_label))
    parts.append(_legend(items, frame.x0, frame.y0 + 46, frame.x1 - frame.x0)[0])
    parts.append("</svg>")
    return "".join(parts)


def _runs(values: Sequence[float | None]) -> list[list[int]]:
    """Indices of consecutive non-missing values."""
    runs: list[list[int]] = []
    current: list[int] = []
    for index, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(index)
    if current:
        runs.append(current)
    return runs


def _series_range(series: Sequence[Series], hlines: Sequence[HLine]) -> tuple[float, float] | None:
    values = [line.y for line in hlines]
    for item in series:
        for group in (item.values, item.low or (), item.high or ()):
            values.extend(v for v in group if v is not None)
    return (min(values), max(values)) if values else None


def _band(item: Series, xs: Sequence[float], x_scale: Scale, y_scale: Scale) -> str:
    if item.low is None or item.high is None:
        return ""
    pairs = [
        (low, high) if low is not None and high is not None else None
        for low, high in zip(item.low, item.high, strict=False)
    ]
    parts = []
    for run in _runs([None if pair is None else 0.0 for pair in pairs]):
        upper = [f"{_n(x_scale(xs[i]))},{_n(y_scale(pairs[i][1]))}" for i in run]  # type: ignore[index]
        lower = [f"{_n(x_scale(xs[i]))},{_n(y_scale(pairs[i][0]))}" for i in reversed(run)]  # type: ignore[index]
        if len(run) == 1:
            x = x_scale(xs[run[0]])
            low, high = pairs[run[0]]  # type: ignore[misc]
            parts.append(
                f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(y_scale(low))}" y2="{_n(y_scale(high))}" '
                f'stroke="{item.colour}" stroke-opacity="0.35" stroke-width="8"/>'
            )
        else:
            parts.append(
                f'<polygon class="band" points="{" ".join(upper + lower)}" fill="{item.colour}" '
                f'fill-opacity="0.16" stroke="none"/>'
            )
    return "".join(parts)


def _line(
    item: Series, xs: Sequence[float], x_scale: Scale, y_scale: Scale, x_names: Sequence[str]
) -> str:
    dash = f' stroke-dasharray="{item.dash}"' if item.dash else ""
    dense = sum(value is not None for value in item.values) > POINTS_WITH_DOTS
    summary = _summary(item, x_names) if dense else ""
    parts = []
    for run in _runs(item.values):
        points = " ".join(f"{_n(x_scale(xs[i]))},{_n(y_scale(item.values[i] or 0.0))}" for i in run)
        if len(run) > 1:
            parts.append(
                f'<polyline class="series" points="{points}" fill="none" stroke="{item.colour}" '
                f'stroke-width="2.2" stroke-linejoin="round"{dash}>{summary}</polyline>'
            )
            summary = ""  # once a series, on its first stretch
        if dense and len(run) > 1:
            continue
        for i in run:
            value = item.values[i] or 0.0
            parts.append(
                f'<circle cx="{_n(x_scale(xs[i]))}" cy="{_n(y_scale(value))}" r="3.2" '
                f'fill="#ffffff" stroke="{item.colour}" stroke-width="2">'
                f"<title>{escape(f'{item.label} at {x_names[i]}: {value:.4g}')}</title></circle>"
            )
    return "".join(parts)


def _summary(item: Series, x_names: Sequence[str]) -> str:
    """One tooltip for a whole dense series: its lowest, highest and last point."""
    known = [(value, i) for i, value in enumerate(item.values) if value is not None]
    low, high, last = min(known), max(known), known[-1]
    text = (f"{item.label}: lowest {low[0]:.4g} at {x_names[low[1]]}, highest {high[0]:.4g} at "
            f"{x_names[high[1]]}, last {last[0]:.4g} at {x_names[last[1]]}")
    return f"<title>{escape(text)}</title>"


def _markers(frame: Frame, markers: Sequence[Marker], x_scale: Scale) -> str:
    parts = []
    for index, marker in enumerate(markers):
        x = x_scale(marker.x)
        label_y = frame.y1 + 12 + (index % 2) * 14
        anchor = "end" if x > frame.x1 - 60 else "start"
        offset = -4 if anchor == "end" else 4
        line = (
            f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(frame.y1)}" y2="{_n(frame.y0)}" '
            f'stroke="{MARKER_COLOUR}" stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
        label = _text(x + offset, label_y, marker.label, "marker-label", anchor)
        parts.append(f'<g class="version-marker">{line}{label}</g>')
    return "".join(parts)


def line_chart(
    xs: Sequence[float],
    series: Sequence[Series],
    *,
    title: str,
    y_label: str,
    x_label: str,
    time_axis: bool,
    markers: Sequence[Marker] = (),
    hlines: Sequence[HLine] = (),
    y_range: tuple[float, float] | None = None,
    percent: bool = False,
    width: float = 960.0,
    plot_height: float = 230.0,
) -> str | None:
    """Lines over x (POSIX seconds when ``time_axis``, else window numbers), with optional bands
    (an interval around a series), vertical markers and horizontal reference lines."""
    data_range = _series_range(series, hlines)
    if not xs or data_range is None:
        return None
    items: list[LegendItem] = []
    for item in series:
        items.append(LegendItem(item.label, item.colour, "line", item.dash))
        if item.band_label:
            items.append(LegendItem(item.band_label, item.colour, "band"))
    items.extend(LegendItem(line.label, line.colour, "line", "1 3") for line in hlines)
    if markers:
        items.append(LegendItem("served version changes", MARKER_COLOUR, "marker"))
    frame, _ = _frame_with_legend(width, plot_height, items)
    lo, hi = y_range if y_range is not None else data_range
    y_ticks = nice_ticks(min(lo, data_range[0]), max(hi, data_range[1]), 5)
    y_scale = Scale(y_ticks[0], y_ticks[-1], frame.y0, frame.y1)
    x_lo, x_hi = min(xs), max(xs)
    pad = (x_hi - x_lo) * 0.04 or (1800.0 if time_axis else 0.5)
    x_scale = Scale(x_lo - pad, x_hi + pad, frame.x0, frame.x1)
    if time_axis:
        count = max(3, int((frame.x1 - frame.x0) / 110))
        x_ticks, x_labels = time_ticks(x_lo - pad, x_hi + pad, count)
        x_names = [datetime.fromtimestamp(x, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") for x in xs]
    else:
        x_ticks = [float(t) for t in range(math.ceil(x_lo), math.floor(x_hi) + 1)]
        x_ticks = x_ticks[:: max(1, math.ceil(len(x_ticks) / 10))]
        x_labels = [f"{tick:.0f}" for tick in x_ticks]
        x_names = [f"window {x:.0f}" for x in xs]
    parts = [_open(frame, title, "lines"), _title(frame, title)]
    parts.append(_y_axis(frame, y_scale, y_ticks, tick_formatter(y_ticks, percent), y_label))
    for line in hlines:
        y = y_scale(line.y)
        parts.append(
            f'<line class="reference-line" x1="{_n(frame.x0)}" x2="{_n(frame.x1)}" y1="{_n(y)}" '
            f'y2="{_n(y)}" stroke="{line.colour}" stroke-width="1.5" stroke-dasharray="1 3"/>'
        )
    parts.append(_markers(frame, markers, x_scale))
    parts.extend(_band(item, xs, x_scale, y_scale) for item in series)
    parts.extend(_line(item, xs, x_scale, y_scale, x_names) for item in series)
    parts.append(_x_axis(frame, x_scale, x_ticks, x_labels, x_label))
    parts.append(_legend(items, frame.x0, frame.y0 + 46, frame.x1 - frame.x0)[0])
    parts.append("</svg>")
    return "".join(parts)


def reliability_diagram(
    bins: Sequence[tuple[float, float, float]],
    *,
    title: str = "Reliability diagram",
    width: float = 460.0,
) -> str | None:
    """Observed frequency against mean predicted probability per bin (dot area ~ rows)."""
    points = sorted(bins)
    if not points:
        return None
    items = [
        LegendItem("perfectly calibrated", AXIS_COLOUR, "line", "5 4"),
        LegendItem("observed (dot area ∝ rows)", CURRENT_COLOUR, "line"),
    ]
    frame, _ = _frame_with_legend(width, width - 110, items)
    scale_x = Scale(0.0, 1.0, frame.x0, frame.x1)
    scale_y = Scale(0.0, 1.0, frame.y0, frame.y1)
    ticks = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    fmt = tick_formatter(ticks)
    parts = [_open(frame, title, "reliability"), _title(frame, title)]
    parts.append(_y_axis(frame, scale_y, ticks, fmt, "observed frequency"))
    parts.append(
        f'<line x1="{_n(scale_x(0))}" y1="{_n(scale_y(0))}" x2="{_n(scale_x(1))}" y2="{_n(scale_y(1))}" '
        f'stroke="{AXIS_COLOUR}" stroke-width="1.5" stroke-dasharray="5 4"/>'
    )
    line = " ".join(f"{_n(scale_x(p))},{_n(scale_y(o))}" for p, o, _ in points)
    parts.append(
        f'<polyline points="{line}" fill="none" stroke="{CURRENT_COLOUR}" stroke-width="2"/>'
    )
    largest = max(count for _, _, count in points) or 1.0
    for predicted, observed, count in points:
        radius = 2.5 + 7.5 * math.sqrt(max(count, 0.0) / largest)
        tip = f"predicted {predicted:.3f}, observed {observed:.3f}, {count:.0f} rows"
        parts.append(
            f'<circle cx="{_n(scale_x(predicted))}" cy="{_n(scale_y(observed))}" r="{_n(radius)}" '
            f'fill="{CURRENT_COLOUR}" fill-opacity="0.6" stroke="{CURRENT_COLOUR}" stroke-width="1">'
            f"<title>{escape(tip)}</title></circle>"
        )
    parts.append(_x_axis(frame, scale_x, ticks, _labels(ticks), "mean predicted probability"))
    parts.append(_legend(items, frame.x0, frame.y0 + 46, frame.x1 - frame.x0)[0])
    parts.append("</svg>")
    return "".join(parts)
