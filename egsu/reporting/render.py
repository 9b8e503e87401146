"""Draw a report's contents as Excel (a sheet per section, with a native chart) or PDF (tables and a
chart drawn with ReportLab's graphics), in the active language (ANA-06: easy to take in).

Both read the same contents (egsu.reporting.contents), so the file and the library page agree.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from egsu.reporting.definitions import Frequency, Kind, Level
from egsu.reports.fonts import register_font
from egsu.spreadsheets import as_text
from egsu_core.clock import to_astana

PALETTE = ["#1f5fa8", "#d9822b", "#2e8b57", "#a83232", "#6a4c93", "#3c8dbc", "#8c6d31", "#555555"]
MAX_CATEGORIES = 25  # a chart shows at most this many bars per series (the table holds them all)


def title_of(parts: list[str]) -> str:
    return " · ".join(_(p) for p in parts if p)


def header_lines(report) -> list[tuple[str, str]]:
    """Who the report is about and when, as (label, value) in the active language."""
    period = date_format(report.period_start, "SHORT_DATE_FORMAT")
    if report.period_end != report.period_start:
        period += " – " + date_format(report.period_end, "SHORT_DATE_FORMAT")
    lines = [
        (_("Report"), _(Kind(report.kind).label)),
        (_("Level"), _(Level(report.level).label) + (f": {report.area_label}" if report.area_label else "")),
        (_("Frequency"), _(Frequency(report.frequency).label)),
        (_("Period (Astana days)"), period),
        (_("Built at (Astana time)"), date_format(to_astana(report.built_at), "SHORT_DATETIME_FORMAT")
         if report.built_at else "—"),
    ]  # fmt: skip
    if report.reason:
        lines.append((_("Reason"), report.reason))
    return lines


def _cell(value, numeric: bool):
    if value is None:
        return None
    if numeric:
        return Decimal(str(value)) if not isinstance(value, int) else value
    return str(value)


def _chart_rows(chart: dict) -> tuple[list[str], list[dict]]:
    categories = chart["categories"][:MAX_CATEGORIES]
    series = [{"name": s["name"], "values": s["values"][: len(categories)]} for s in chart["series"]]
    return categories, series


def write_xlsx(report, contents: dict) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for number, section in enumerate(contents.get("sections", []), start=1):
        sheet = book.create_sheet(title=f"{number}. {title_of(section['title'])}"[:31])
        sheet.append([title_of(section["title"])])
        sheet["A1"].font = Font(bold=True, size=13)
        for label, value in header_lines(report):
            sheet.append([label, value])
        sheet.append([])
        sheet.append([_(c[0]) for c in section["columns"]])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in section["rows"]:
            sheet.append([_cell(v, c[1]) for v, c in zip(row, section["columns"], strict=False)])
            for cell in sheet[sheet.max_row]:
                as_text(cell)  # names are typed by people: shown, never run as formulas
        if section.get("note"):
            sheet.append([_(section["note"])])
        for index, column in enumerate(section["columns"], start=1):
            sheet.column_dimensions[get_column_letter(index)].width = 14 if column[1] else 28
        chart = section.get("chart")
        if chart and chart["categories"]:
            _xlsx_chart(sheet, chart, len(section["columns"]) + 2)
    if not book.sheetnames:
        book.create_sheet(title=_("Report"))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_chart(sheet, chart: dict, column: int) -> None:
    """The chart's numbers in a small block to the right of the table, and a native chart over them."""
    categories, series = _chart_rows(chart)
    top = 1
    sheet.cell(row=top, column=column, value=_(chart["title"]))
    for offset, s in enumerate(series, start=1):
        sheet.cell(row=top, column=column + offset, value=_(s["name"]))
    for row, category in enumerate(categories, start=top + 1):
        sheet.cell(row=row, column=column, value=category)
        for offset, s in enumerate(series, start=1):
            sheet.cell(row=row, column=column + offset, value=s["values"][row - top - 1])
    drawn = LineChart() if chart["type"] == "line" else BarChart()
    drawn.title = f"{_(chart['title'])}, {chart['unit']}".strip(", ")
    drawn.y_axis.title = chart["unit"]
    drawn.height, drawn.width = 8, 16
    data = Reference(
        sheet, min_col=column + 1, max_col=column + len(series), min_row=top, max_row=top + len(categories)
    )
    drawn.add_data(data, titles_from_data=True)
    drawn.set_categories(Reference(sheet, min_col=column, min_row=top + 1, max_row=top + len(categories)))
    sheet.add_chart(drawn, f"{get_column_letter(column)}{top + len(categories) + 3}")


def chart_drawing(chart: dict, width: float = 250 * mm, height: float = 75 * mm) -> Drawing:
    """The chart as a ReportLab drawing (vector, embedded in the PDF, fonts that read Kazakh)."""
    font = register_font()
    categories, series = _chart_rows(chart)
    drawing = Drawing(width, height)
    drawing.add(
        String(0, height - 10, f"{_(chart['title'])}, {chart['unit']}".strip(", "), fontName=font, fontSize=9)
    )
    plot = HorizontalLineChart() if chart["type"] == "line" else VerticalBarChart()
    plot.x, plot.y, plot.width, plot.height = 45, 30, width - 200, height - 50
    plot.data = [tuple(s["values"]) or (0,) for s in series]
    plot.categoryAxis.categoryNames = [c[:18] for c in categories]
    plot.categoryAxis.labels.fontName = font
    plot.categoryAxis.labels.fontSize = 6
    plot.categoryAxis.labels.angle = 30 if len(categories) > 6 else 0
    plot.categoryAxis.labels.boxAnchor = "ne" if len(categories) > 6 else "n"
    plot.valueAxis.labels.fontName = font
    plot.valueAxis.labels.fontSize = 7
    plot.valueAxis.valueMin = 0
    for index in range(len(series)):
        color = colors.HexColor(PALETTE[index % len(PALETTE)])
        if chart["type"] == "line":
            plot.lines[index].strokeColor = color
            plot.lines[index].strokeWidth = 1.5
        else:
            plot.bars[index].fillColor = color
    drawing.add(plot)
    legend = Legend()
    legend.x, legend.y = width - 145, height - 25
    legend.fontName, legend.fontSize = font, 7
    legend.colorNamePairs = [
        (colors.HexColor(PALETTE[i % len(PALETTE)]), _(s["name"])[:30]) for i, s in enumerate(series)
    ]
    drawing.add(legend)
    return drawing


def write_pdf(report, contents: dict) -> bytes:
    font = register_font()
    out = BytesIO()
    title = _(Kind(report.kind).label)
    document = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                                 topMargin=12 * mm, bottomMargin=12 * mm, title=title)  # fmt: skip
    big = ParagraphStyle("big", fontName=font, fontSize=14, leading=18, spaceAfter=4)
    head = ParagraphStyle("head", fontName=font, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4)
    small = ParagraphStyle("small", fontName=font, fontSize=8, leading=10)
    story: list = [Paragraph(_escape(title), big)]
    story += [
        Paragraph(f"{_escape(label)}: {_escape(value)}", small) for label, value in header_lines(report)
    ]
    for section in contents.get("sections", []):
        story.append(Paragraph(_escape(title_of(section["title"])), head))
        chart = section.get("chart")
        if chart and chart["categories"]:
            story.append(KeepTogether([chart_drawing(chart), Spacer(1, 4 * mm)]))
        if section["rows"]:
            data = [[_(c[0]) for c in section["columns"]]] + [
                [_text(v) for v in row] for row in section["rows"]
            ]
            table = Table(data, repeatRows=1)
            style = [("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 7),
                     ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                     ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f2f4f7")])]  # fmt: skip
            style += [("ALIGN", (i, 0), (i, -1), "RIGHT") for i, c in enumerate(section["columns"]) if c[1]]
            table.setStyle(TableStyle(style))
            story.append(table)
        if section.get("note"):
            story.append(Paragraph(_escape(_(section["note"])), small))
    document.build(story)
    return out.getvalue()


def _text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _escape(value: str) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
