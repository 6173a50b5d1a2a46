"""Charts drawn on the server as inline SVG: the geometry is computed here, the
markup is in ``analytics/_chart.html``.

No JavaScript and no style attributes (the CSP forbids inline styles): colours and
dash patterns come from classes in app.css, and every series is told apart by its
dash pattern and its legend as well as its colour. Each chart carries a title and a
one-sentence description, and the page puts the same numbers in a table next to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH = 720
HEIGHT = 280
LEFT = 64
RIGHT = 16
TOP = 36  # room for the legend
BOTTOM = 44
MAX_X_LABELS = 8
MARKERS_UP_TO = 40  # points; more would crowd the line
Y_TICKS = 4


@dataclass(frozen=True)
class SeriesInput:
    label: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Marker:
    x: float
    y: float


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float


@dataclass
class Series:
    label: str
    css_class: str
    path: str = ""
    # The line's unbroken runs of points (a missing figure breaks the line).
    segments: list[list[tuple[float, float]]] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    legend_x: float = 0.0
    # The bars' fill: the second series of a bar chart is hatched (see _chart.html).
    hatch_id: str = ""

    # The bars and markers as SVG elements, written here rather than by a template loop
    # (a dashboard draws hundreds of them on every view: a tenth of its CPU as a loop).
    # The coordinates are numbers (never markup); the class and fill are escaped once.
    @property
    def bars_svg(self) -> SafeString:
        if self.hatch_id:
            fill = str(format_html('fill="url(#{})" stroke="#b3541e"', self.hatch_id))
        else:
            fill = 'fill="#1f5fa8"'
        return mark_safe(  # noqa: S308 - numbers and the fill above (escaped)
            "".join(
                f'<rect class="chart-bar" x="{bar.x}" y="{bar.y}" '
                f'width="{bar.width}" height="{bar.height}" {fill}/>'
                for bar in self.bars
            )
        )

    @property
    def markers_svg(self) -> SafeString:
        css_class = escape(self.css_class)
        return mark_safe(  # noqa: S308 - numbers and an escaped class name
            "".join(
                f'<circle class="chart-marker {css_class}" cx="{marker.x}" cy="{marker.y}" r="3"/>'
                for marker in self.markers
            )
        )


@dataclass
class Chart:
    slug: str
    title: str
    description: str
    kind: str  # "line" or "bar"
    series: list[Series]
    y_ticks: list[Tick]
    x_labels: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    plot_right: int = WIDTH - RIGHT
    plot_bottom: int = HEIGHT - BOTTOM
    empty: bool = False
    # Where the value 0 sits (bars grow from it).
    baseline_y: float = 0.0
    # The y axis in values: lowest, highest, and the step between grid lines.
    y_low: float = 0.0
    y_high: float = 1.0
    y_step: float = 1.0

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def nice_step(span: float, ticks: int = Y_TICKS) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) dividing ``span`` into about
    ``ticks`` parts."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


def y_range(values: Sequence[float]) -> tuple[float, float, float]:
    """(low, high, step) of the y axis: zero included, round numbers at the ends."""
    low = min([0.0, *values])
    high = max([0.0, *values])
    if high == low:
        high = low + 1
    step = nice_step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def build_chart(
    *,
    slug: str,
    title: str,
    description: str,
    kind: str,
    labels: Sequence[str],
    series: Sequence[SeriesInput],
    number: Callable[[float], str],
    integer_axis: bool = True,
) -> Chart:
    """Place ``series`` (one value per label; None for "no figure") on a chart."""
    known = [v for s in series for v in s.values if v is not None]
    count = len(labels)
    low, high, step = y_range(known)
    if integer_axis and step < 1:
        step = 1.0
        high = max(high, low + 1)
    plot_left, plot_right = LEFT, WIDTH - RIGHT
    plot_top, plot_bottom = TOP, HEIGHT - BOTTOM
    plot_width = plot_right - plot_left
    plot_height = plot_bottom - plot_top
    slot = plot_width / max(count, 1)

    def y_of(value: float) -> float:
        return round(plot_bottom - (value - low) / (high - low) * plot_height, 1)

    def x_of(index: int) -> float:
        return round(plot_left + (index + 0.5) * slot, 1)

    ticks = []
    tick = low
    while tick <= high + step / 1000:
        ticks.append(Tick(y_of(tick), number(tick)))
        tick += step
    every = max(1, math.ceil(count / MAX_X_LABELS))
    x_labels = [Tick(x_of(i), labels[i]) for i in range(0, count, every)]

    placed: list[Series] = []
    bar_group = slot * 0.7
    bar_width = bar_group / max(len(series), 1)
    legend_x = float(plot_left)
    for number_in_chart, item in enumerate(series):
        shaped = Series(
            label=item.label,
            css_class=f"chart-s{number_in_chart % 4}",
            hatch_id=f"chart-{slug}-hatch" if kind == "bar" and number_in_chart == 1 else "",
        )
        shaped.legend_x = legend_x
        # Wide enough for the dashboard grid's larger type (its charts are drawn small).
        legend_x += 36 + 11.5 * len(item.label)
        if kind == "bar":
            for index, value in enumerate(item.values):
                if value is None:
                    continue
                x = plot_left + index * slot + (slot - bar_group) / 2 + number_in_chart * bar_width
                top, bottom = sorted((y_of(value), y_of(max(low, 0.0))))
                shaped.bars.append(
                    Bar(round(x, 1), top, round(max(bar_width - 1, 1), 1), round(bottom - top, 1))
                )
        else:
            commands: list[str] = []
            pen_down = False
            for index, value in enumerate(item.values):
                if value is None:
                    pen_down = False
                    continue
                x, y = x_of(index), y_of(value)
                commands.append(f"{'L' if pen_down else 'M'}{x} {y}")
                if pen_down:
                    shaped.segments[-1].append((x, y))
                else:
                    shaped.segments.append([(x, y)])
                pen_down = True
                if count <= MARKERS_UP_TO:
                    shaped.markers.append(Marker(x, y))
            shaped.path = " ".join(commands)
        placed.append(shaped)
    chart = Chart(
        slug=slug,
        title=title,
        description=description,
        kind=kind,
        series=placed,
        y_ticks=ticks,
        x_labels=x_labels,
        empty=not known,
        baseline_y=y_of(max(low, 0.0)),
        y_low=low,
        y_high=high,
        y_step=step,
    )
    return chart
