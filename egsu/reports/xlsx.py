"""Excel export (AMI-07) with openpyxl in write-only mode: constant memory for any row count."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from egsu.reports.tables import ExportTable
from egsu.spreadsheets import as_text
from egsu_core.clock import to_astana

PROGRESS_EVERY = 1000
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


def _cell(sheet, value, *, bold: bool = False):
    if isinstance(value, datetime):
        value = to_astana(value).replace(tzinfo=None)  # Excel has no zones; the header says Astana time
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    if bold:
        cell.font = Font(bold=True)
    return as_text(cell)


def write_xlsx(table: ExportTable, out: BinaryIO, on_progress: Callable[[int], None] | None = None) -> int:
    """Header block, blank line, the column titles and every row, blank line, totals. Returns rows written."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=table.title[:31])
    sheet.append([_cell(sheet, table.title, bold=True)])
    for label, value in table.header:
        sheet.append([_cell(sheet, label, bold=True), _cell(sheet, value)])
    sheet.append([])
    sheet.append([_cell(sheet, c.label, bold=True) for c in table.columns])
    done = 0
    for row in table.rows():
        sheet.append([_cell(sheet, value) for value in row])
        done += 1
        if on_progress is not None and done % PROGRESS_EVERY == 0:
            on_progress(done)
    if table.totals:
        sheet.append([])
        sheet.append([_cell(sheet, c.label, bold=True) for c in table.totals_columns])
        for row in table.totals:
            sheet.append([_cell(sheet, value) for value in row])
    book.save(out)
    if on_progress is not None:
        on_progress(done)
    return done
