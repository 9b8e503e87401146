"""PDF export (AMI-07) drawn line by line on a reportlab canvas: fast for tens of thousands of rows.

DejaVu Sans is embedded so Kazakh and Russian render (egsu.reports.fonts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import BinaryIO

from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from egsu.reports.fonts import register_font
from egsu.reports.tables import Column, ExportTable
from egsu_core.clock import to_astana

PAGE = landscape(A4)
MARGIN = 12 * mm
FONT_SIZE = 8
LINE = 11  # points between lines
PROGRESS_EVERY = 1000


def text(value) -> str:
    """How a cell prints: Astana time for instants, plain digits for decimals, a dash for nothing."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return to_astana(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


class _Pages:
    def __init__(self, out: BinaryIO, title: str) -> None:
        self.font = register_font()
        self.canvas = Canvas(out, pagesize=PAGE, pageCompression=1)
        self.canvas.setTitle(title)
        self.title = title
        self.number = 0
        self.y = 0.0
        self.repeat: tuple[list[Column], list[float]] | None = None
        self._new_page()

    def _new_page(self) -> None:
        if self.number:
            self.canvas.showPage()
        self.number += 1
        self.canvas.setFont(self.font, FONT_SIZE)
        self.canvas.drawRightString(PAGE[0] - MARGIN, MARGIN / 2, f"{self.title} · {self.number}")
        self.y = PAGE[1] - MARGIN
        if self.repeat is not None:
            self.row([c.label for c in self.repeat[0]], *self.repeat, bold=True)

    def need(self, lines: int = 1) -> None:
        if self.y - lines * LINE < MARGIN:
            self._new_page()

    def line(self, value: str, size: int = FONT_SIZE) -> None:
        self.need()
        self.canvas.setFont(self.font, size)
        self.canvas.drawString(MARGIN, self.y - size, value)
        self.canvas.setFont(self.font, FONT_SIZE)
        self.y -= max(LINE, size + 4)

    def row(self, cells: Iterable, columns: list[Column], xs: list[float], *, bold: bool = False) -> None:
        self.need()
        baseline = self.y - FONT_SIZE
        for value, column, (left, width) in zip(
            cells, columns, zip(xs, _widths(xs), strict=False), strict=False
        ):
            shown = _fit(text(value), width - 4, self.font)
            if column.numeric:
                self.canvas.drawRightString(left + width - 2, baseline, shown)
            else:
                self.canvas.drawString(left + 2, baseline, shown)
        if bold:
            self.canvas.line(MARGIN, baseline - 2, PAGE[0] - MARGIN, baseline - 2)
        self.y -= LINE

    def table(
        self, columns: list[Column], rows: Iterable[tuple], on_row: Callable[[], None] | None = None
    ) -> None:
        xs = _positions(columns)
        self.need(2)
        self.row([c.label for c in columns], columns, xs, bold=True)
        self.repeat = (columns, xs)
        for cells in rows:
            self.row(cells, columns, xs)
            if on_row is not None:
                on_row()
        self.repeat = None

    def save(self) -> None:
        self.canvas.save()


def _positions(columns: list[Column]) -> list[float]:
    usable = PAGE[0] - 2 * MARGIN
    total = sum(c.width for c in columns)
    xs, x = [], MARGIN
    for column in columns:
        xs.append(x)
        x += usable * column.width / total
    xs.append(x)
    return xs


def _widths(xs: list[float]) -> list[float]:
    return [b - a for a, b in zip(xs, xs[1:], strict=False)]


def _fit(value: str, width: float, font: str) -> str:
    if stringWidth(value, font, FONT_SIZE) <= width:
        return value
    while value and stringWidth(value + "…", font, FONT_SIZE) > width:
        value = value[:-1]
    return value + "…"


def write_pdf(table: ExportTable, out: BinaryIO, on_progress: Callable[[int], None] | None = None) -> int:
    """Title, header block, every row (column titles repeated on each page), totals. Returns rows written."""
    pages = _Pages(out, table.title)
    pages.line(table.title, size=14)
    for label, value in table.header:
        pages.line(f"{label}: {value}")
    pages.y -= LINE / 2
    done = 0

    def counted() -> None:
        nonlocal done
        done += 1
        if on_progress is not None and done % PROGRESS_EVERY == 0:
            on_progress(done)

    pages.table(table.columns, table.rows(), counted)
    if table.totals:
        pages.y -= LINE
        pages.need(3)
        pages.line(_("Totals"), size=10)
        pages.table(table.totals_columns, table.totals)
    pages.save()
    if on_progress is not None:
        on_progress(done)
    return done
