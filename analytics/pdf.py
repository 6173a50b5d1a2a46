"""A dashboard view as a presentation-ready PDF (reportlab, pure Python).

A4 landscape: the title and scope, the key figures, the goals in words, the six
charts each followed by its table, and the top posts. Text is set in DejaVu Sans
where the system has it (every interface language, Turkish included), else in the
Bitstream Vera that reportlab ships. The document's title, author, subject and
language are set in its metadata.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext
from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from analytics.presentation import (
    COLUMNS_BY_KEY,
    NO_FIGURE,
    ChartBlock,
    dashboard_blocks,
    fmt,
    goal_period,
    goal_sentence,
    goal_title,
    key_figures,
    range_label,
    scope_label,
)
from analytics.schedule import zone_of
from analytics.selectors import Dashboard

FONT_CANDIDATES = (
    (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ),
)
# The series colours of the page's charts (app.css), so both read the same.
SERIES_COLOURS = (
    colors.HexColor("#1f5fa8"),
    colors.HexColor("#b3541e"),
    colors.HexColor("#2e7d32"),
    colors.HexColor("#6a1b9a"),
)
SERIES_DASHES: tuple[list[float] | None, ...] = (None, [6, 3], [2, 2], [8, 3, 2, 3])
INK = colors.HexColor("#1a1a1a")
MUTED = colors.HexColor("#555555")
RULE = colors.HexColor("#c8c8c8")
PAGE = landscape(A4)
MARGIN = 15 * mm

_fonts: list[tuple[str, str]] = []


def _register_fonts() -> tuple[str, str]:
    """(regular, bold) font names, registered once per process."""
    if _fonts:
        return _fonts[0]
    names = ("Helvetica", "Helvetica-Bold")
    for regular, bold in FONT_CANDIDATES:
        if regular.exists() and bold.exists():
            pdfmetrics.registerFont(TTFont("GovSans", str(regular)))
            pdfmetrics.registerFont(TTFont("GovSans-Bold", str(bold)))
            names = ("GovSans", "GovSans-Bold")
            break
    else:
        import reportlab

        vera = Path(reportlab.__file__).parent / "fonts"
        if (vera / "Vera.ttf").exists():
            pdfmetrics.registerFont(TTFont("GovSans", str(vera / "Vera.ttf")))
            pdfmetrics.registerFont(TTFont("GovSans-Bold", str(vera / "VeraBd.ttf")))
            names = ("GovSans", "GovSans-Bold")
    _fonts.append(names)
    return names


class _Styles:
    def __init__(self) -> None:
        regular, bold = _register_fonts()
        self.regular, self.bold = regular, bold
        self.title = ParagraphStyle("title", fontName=bold, fontSize=20, leading=24, textColor=INK)
        self.subtitle = ParagraphStyle(
            "subtitle", fontName=regular, fontSize=11, leading=15, textColor=MUTED
        )
        self.heading = ParagraphStyle(
            "heading", fontName=bold, fontSize=13, leading=17, spaceBefore=8, textColor=INK
        )
        self.body = ParagraphStyle(
            "body", fontName=regular, fontSize=9.5, leading=12.5, textColor=INK, alignment=TA_LEFT
        )
        self.cell = ParagraphStyle("cell", fontName=regular, fontSize=8.5, leading=10.5)
        self.cell_bold = ParagraphStyle("cell_bold", fontName=bold, fontSize=8, leading=10)
        self.cell_bold_right = ParagraphStyle(
            "cell_bold_right", fontName=bold, fontSize=8, leading=10, alignment=TA_RIGHT
        )
        self.figure = ParagraphStyle("figure", fontName=bold, fontSize=16, leading=19)
        self.small = ParagraphStyle(
            "small", fontName=regular, fontSize=8, leading=10, textColor=MUTED
        )


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _table_style(styles: _Styles, *, totals: bool, numeric: bool = True) -> TableStyle:
    commands: list[tuple[object, ...]] = [
        ("FONTNAME", (0, 0), (-1, 0), styles.bold),
        ("FONTNAME", (0, 1), (-1, -1), styles.regular),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if numeric:
        commands.append(("ALIGN", (1, 0), (-1, -1), "RIGHT"))
    if totals:
        commands += [
            ("FONTNAME", (0, -1), (-1, -1), styles.bold),
            ("LINEABOVE", (0, -1), (-1, -1), 0.8, INK),
        ]
    return TableStyle(commands)


CHART_GAP = 8 * mm
CHART_WIDTH = (PAGE[0] - 2 * MARGIN - CHART_GAP) / 2
CHART_HEIGHT = 44 * mm


def _chart_drawing(block: ChartBlock, styles: _Styles) -> Drawing:
    """The page's chart, drawn again in the PDF from the same geometry (scaled, and
    with the y axis turned the PDF's way up)."""
    chart = block.chart
    scale = CHART_WIDTH / chart.width
    height = CHART_HEIGHT
    y_scale = height / chart.height
    drawing = Drawing(CHART_WIDTH, height)

    def x(value: float) -> float:
        return value * scale

    def y(value: float) -> float:
        return height - value * y_scale

    for tick in chart.y_ticks:
        drawing.add(
            Line(
                x(chart.left),
                y(tick.position),
                x(chart.plot_right),
                y(tick.position),
                strokeColor=RULE,
                strokeWidth=0.4,
            )
        )
        drawing.add(
            String(
                x(chart.left - 6),
                y(tick.position) - 2.5,
                tick.label,
                fontName=styles.regular,
                fontSize=6.5,
                fillColor=MUTED,
                textAnchor="end",
            )
        )
    drawing.add(
        Line(
            x(chart.left),
            y(chart.baseline_y),
            x(chart.plot_right),
            y(chart.baseline_y),
            strokeColor=MUTED,
            strokeWidth=0.6,
        )
    )
    for tick in chart.x_labels:
        drawing.add(
            String(
                x(tick.position),
                y(chart.plot_bottom) - 9,
                tick.label,
                fontName=styles.regular,
                fontSize=6.5,
                fillColor=MUTED,
                textAnchor="middle",
            )
        )
    for number, series in enumerate(chart.series):
        colour = SERIES_COLOURS[number % len(SERIES_COLOURS)]
        dash = SERIES_DASHES[number % len(SERIES_DASHES)]
        for bar in series.bars:
            drawing.add(
                Rect(
                    x(bar.x),
                    y(bar.y + bar.height),
                    x(bar.width),
                    bar.height * y_scale,
                    fillColor=colour if number == 0 else colors.white,
                    strokeColor=colour,
                    strokeWidth=0.8 if number else 0,
                )
            )
        for segment in series.segments:
            if len(segment) > 1:
                points = [coordinate for px, py in segment for coordinate in (x(px), y(py))]
                drawing.add(
                    PolyLine(
                        points,
                        strokeColor=colour,
                        strokeWidth=1.4,
                        strokeDashArray=dash,
                        fillColor=None,
                    )
                )
        for marker in series.markers:
            drawing.add(Circle(x(marker.x), y(marker.y), 1.6, fillColor=colour, strokeColor=None))
    # The legend, laid out with the PDF font's own widths.
    legend_x, legend_y = x(chart.left), y(17)
    for number, series in enumerate(chart.series if len(chart.series) > 1 else []):
        colour = SERIES_COLOURS[number % len(SERIES_COLOURS)]
        if chart.kind == "bar":
            drawing.add(
                Rect(
                    legend_x,
                    legend_y - 3,
                    8,
                    8,
                    fillColor=colour if number == 0 else colors.white,
                    strokeColor=colour,
                    strokeWidth=0.8,
                )
            )
        else:
            drawing.add(
                Line(
                    legend_x,
                    legend_y + 1,
                    legend_x + 14,
                    legend_y + 1,
                    strokeColor=colour,
                    strokeWidth=1.4,
                    strokeDashArray=SERIES_DASHES[number % len(SERIES_DASHES)],
                )
            )
        drawing.add(
            String(
                legend_x + 18,
                legend_y - 1.5,
                series.label,
                fontName=styles.regular,
                fontSize=7,
                fillColor=INK,
            )
        )
        legend_x += 30 + pdfmetrics.stringWidth(series.label, styles.regular, 7)
    return drawing


def _chart_grid(blocks: list[ChartBlock], styles: _Styles) -> Table:
    cells = [
        [_p(block.chart.title, styles.heading), _chart_drawing(block, styles)] for block in blocks
    ]
    rows = [cells[index : index + 2] for index in range(0, len(cells), 2)]
    if len(rows[-1]) == 1:
        rows[-1].append([])
    grid = Table(rows, colWidths=[CHART_WIDTH + CHART_GAP / 2] * 2)
    grid.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), CHART_GAP / 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return grid


# The figures table, split in two so that every column stays readable on the page.
FIGURE_TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "audience",
        (
            "followers",
            "followers_gained",
            "posts_published",
            "likes",
            "shares",
            "replies",
            "quotes",
            "impressions",
            "engagement",
        ),
    ),
    (
        "inbox",
        (
            "inbox_received",
            "inbox_answered",
            "response_median_minutes",
            "sla_measured",
            "sla_met",
            "sla_share",
        ),
    ),
)


def _figures_table(dashboard: Dashboard, keys: tuple[str, ...], styles: _Styles) -> Table:
    columns = [COLUMNS_BY_KEY[key] for key in keys]
    header: list[object] = [_p(gettext("Period"), styles.cell_bold)] + [
        _p(str(column.label), styles.cell_bold_right) for column in columns
    ]
    rows: list[list[object]] = [header]
    for row in dashboard.rows:
        rows.append([row.period.label, *[fmt(getattr(row, c.key), c.kind) for c in columns]])
    totals = dashboard.totals
    rows.append([gettext("Whole range"), *[fmt(getattr(totals, c.key), c.kind) for c in columns]])
    first = 42 * mm
    rest = (PAGE[0] - 2 * MARGIN - first) / len(columns)
    table = Table(rows, colWidths=[first] + [rest] * len(columns), repeatRows=1)
    table.setStyle(_table_style(styles, totals=True))
    return table


def dashboard_pdf(dashboard: Dashboard, *, title: str = "") -> bytes:
    """The dashboard as a PDF document, in the current language: key figures and goals,
    the six charts on one page, the figures per period, and the top posts."""
    styles = _Styles()
    organization = dashboard.organization
    heading = title or gettext("Analytics: %(organization)s") % {"organization": organization.name}
    made = timezone.now().astimezone(zone_of(organization.time_zone))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=heading,
        author=organization.name,
        subject=gettext("Social media analytics, %(range)s") % {"range": range_label(dashboard)},
        creator="GovSocial",
        lang=get_language() or "en",
    )
    subtitle = f"{organization.name} · {range_label(dashboard)} · {scope_label(dashboard)}"
    story: list[Flowable] = [
        _p(heading, styles.title),
        Spacer(1, 2 * mm),
        _p(subtitle, styles.subtitle),
        _p(
            gettext("Made on %(date)s (days counted in %(zone)s)")
            % {"date": date_format(made, "DATETIME_FORMAT"), "zone": organization.time_zone},
            styles.small,
        ),
        Spacer(1, 5 * mm),
    ]
    figures = key_figures(dashboard)
    cells = [
        [_p(figure.label, styles.small) for figure in figures],
        [_p(figure.value, styles.figure) for figure in figures],
        [_p(figure.note, styles.small) for figure in figures],
    ]
    key_table = Table(cells, colWidths=[(PAGE[0] - 2 * MARGIN) / len(figures)] * len(figures))
    key_table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEABOVE", (0, 0), (-1, 0), 1.2, INK),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    story += [key_table, Spacer(1, 4 * mm)]
    if dashboard.filters.campaign is not None:
        story.append(
            _p(
                gettext(
                    "Posts and engagement are those of the campaign's posts; followers and "
                    "the inbox are the accounts' own."
                ),
                styles.small,
            )
        )
    story.append(_p(gettext("Goals"), styles.heading))
    if dashboard.goals:
        goal_rows: list[list[object]] = [[gettext("Goal"), gettext("Period"), gettext("Progress")]]
        for progress in dashboard.goals:
            goal_rows.append(
                [
                    _p(goal_title(progress), styles.cell),
                    _p(goal_period(progress), styles.cell),
                    _p(goal_sentence(progress), styles.cell),
                ]
            )
        goal_table = Table(goal_rows, colWidths=[80 * mm, 60 * mm, None], repeatRows=1)
        goal_table.setStyle(_table_style(styles, totals=False, numeric=False))
        story.append(goal_table)
    else:
        story.append(_p(gettext("No goals for this range."), styles.body))
    story += [PageBreak(), _chart_grid(dashboard_blocks(dashboard), styles), PageBreak()]
    story.append(_p(gettext("Figures by period"), styles.heading))
    story.append(
        _p(
            gettext(
                "Engagement figures are what the posts gained in each period. "
                "“%(dash)s” means no figure."
            )
            % {"dash": NO_FIGURE},
            styles.small,
        )
    )
    for _name, keys in FIGURE_TABLES:
        story += [Spacer(1, 3 * mm), _figures_table(dashboard, keys, styles)]
    story.append(_p(gettext("Top posts"), styles.heading))
    if dashboard.top_posts:
        zone = zone_of(organization.time_zone)
        post_rows: list[list[object]] = [
            [
                gettext("Post"),
                gettext("Account"),
                gettext("Published"),
                gettext("Likes"),
                gettext("Shares"),
                gettext("Replies"),
                gettext("Quotes"),
                gettext("Engagement"),
            ]
        ]
        for tracked in dashboard.top_posts:
            post_rows.append(
                [
                    _p(str(tracked.post), styles.cell),
                    _p(tracked.channel_account.handle, styles.cell),
                    date_format(tracked.published_at.astimezone(zone), "DATE_FORMAT"),
                    fmt(tracked.likes),
                    fmt(tracked.shares),
                    fmt(tracked.replies),
                    fmt(tracked.quotes),
                    fmt(tracked.engagement),
                ]
            )
        post_table = Table(
            post_rows, colWidths=[90 * mm, 45 * mm, 28 * mm] + [None] * 5, repeatRows=1
        )
        post_table.setStyle(_table_style(styles, totals=False))
        story.append(post_table)
    else:
        story.append(_p(gettext("No posts were published in this range."), styles.body))
    document.build(story, onFirstPage=_footer(styles), onLaterPages=_footer(styles))
    return buffer.getvalue()


def _footer(styles: _Styles) -> Callable[[Canvas, Any], None]:
    def draw(canvas: Canvas, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(styles.regular, 8)
        canvas.setFillColor(MUTED)
        canvas.drawRightString(
            PAGE[0] - MARGIN,
            8 * mm,
            gettext("Page %(number)d") % {"number": document.page},
        )
        canvas.restoreState()

    return draw
