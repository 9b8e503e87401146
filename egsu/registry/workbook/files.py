"""Reading and writing the registry workbook's sheets: one xlsx, or CSV files in a folder or zip.

Only tabular I/O lives here; what a column means is in ``columns``. Row numbers are the
ones a person sees in a spreadsheet: the header is row 1, data starts at row 2.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath

from openpyxl import Workbook, load_workbook

CSV_ENCODING = "utf-8-sig"  # a BOM lets spreadsheet programs open the files as UTF-8


class WorkbookFormatError(ValueError):
    """The file is not a workbook we can read (wrong extension, damaged, missing)."""


@dataclass
class Sheet:
    name: str
    headers: list[str]
    rows: list[tuple[int, list[object]]] = field(default_factory=list)  # (spreadsheet row number, cells)


def workbook_format(path: Path) -> str:
    """'xlsx', 'zip' (CSV files in a zip), 'dir' (CSV files in a folder) or 'csv' (one CSV sheet)."""
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return "xlsx"
    if suffix == ".zip":
        return "zip"
    if suffix == ".csv":
        return "csv"
    if path.is_dir() or suffix == "":
        return "dir"
    raise WorkbookFormatError(f"{path}: use an .xlsx workbook, a .zip of CSV files or a folder of CSV files")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _sheet_from_rows(name: str, raw_rows) -> Sheet:
    headers: list[str] | None = None
    sheet = Sheet(name=name, headers=[])
    for number, cells in enumerate(raw_rows, start=1):
        cells = list(cells)
        if headers is None:
            if all(_blank(cell) for cell in cells):
                continue
            headers = ["" if cell is None else str(cell).strip().lower() for cell in cells]
            while headers and headers[-1] == "":
                headers.pop()
            sheet.headers = headers
            continue
        if all(_blank(cell) for cell in cells):
            continue
        sheet.rows.append((number, cells))
    return sheet


def read_sheets(path: Path) -> list[Sheet]:
    """Every sheet in the workbook, in file order."""
    path = Path(path)
    kind = workbook_format(path)
    if not path.exists():
        raise WorkbookFormatError(f"{path} does not exist")
    if kind == "xlsx":
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
            raise WorkbookFormatError(f"{path}: not a readable xlsx workbook ({exc})") from exc
        try:
            return [_sheet_from_rows(ws.title, ws.iter_rows(values_only=True)) for ws in book.worksheets]
        finally:
            book.close()
    if kind == "csv":
        with path.open(encoding=CSV_ENCODING, newline="") as handle:
            return [_sheet_from_rows(path.stem, csv.reader(handle))]
    if kind == "dir":
        if not path.is_dir():
            raise WorkbookFormatError(f"{path} is not a folder of CSV files")
        sheets = []
        for file in sorted(path.glob("*.csv")):
            with file.open(encoding=CSV_ENCODING, newline="") as handle:
                sheets.append(_sheet_from_rows(file.stem, csv.reader(handle)))
        return sheets
    try:
        with zipfile.ZipFile(path) as archive:
            sheets = []
            for member in sorted(archive.namelist()):
                member_path = PurePosixPath(member)
                if member.endswith("/") or member_path.suffix.lower() != ".csv":
                    continue
                text = archive.read(member).decode(CSV_ENCODING)
                sheets.append(_sheet_from_rows(member_path.stem, csv.reader(io.StringIO(text, newline=""))))
            return sheets
    except zipfile.BadZipFile as exc:
        raise WorkbookFormatError(f"{path}: not a readable zip file ({exc})") from exc


def _csv_text(headers: list[str], rows: list[list[object]]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if cell is None else _csv_cell(cell) for cell in row])
    return buffer.getvalue()


def _csv_cell(cell: object) -> str:
    if isinstance(cell, datetime | date):
        return cell.isoformat()
    return str(cell)


def write_sheets(path: Path, sheets: list[tuple[str, list[str], list[list[object]], set[str]]]) -> None:
    """Write (name, headers, rows, text_columns) sheets; text columns keep leading zeros in spreadsheets."""
    path = Path(path)
    kind = workbook_format(path)
    if kind == "xlsx":
        book = Workbook()
        book.remove(book.active)
        for name, headers, rows, text_columns in sheets:
            ws = book.create_sheet(title=name)
            ws.append(headers)
            text_indexes = [i for i, header in enumerate(headers) if header in text_columns]
            for row in rows:
                ws.append(row)
            for index in text_indexes:
                for (cell,) in ws.iter_rows(min_row=2, min_col=index + 1, max_col=index + 1):
                    cell.number_format = "@"
            ws.freeze_panes = "A2"
        path.parent.mkdir(parents=True, exist_ok=True)
        book.save(path)
        return
    if kind == "csv":
        raise WorkbookFormatError("export writes the whole registry: give an .xlsx, a .zip or a folder")
    if kind == "dir":
        path.mkdir(parents=True, exist_ok=True)
        for name, headers, rows, _text in sheets:
            (path / f"{name}.csv").write_text(_csv_text(headers, rows), encoding=CSV_ENCODING, newline="")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, headers, rows, _text in sheets:
            archive.writestr(f"{name}.csv", _csv_text(headers, rows).encode(CSV_ENCODING))
