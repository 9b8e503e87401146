"""Export the whole registry as one workbook (xlsx, or CSV in a folder or zip)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from egsu.registry.workbook.columns import SHEETS
from egsu.registry.workbook.files import write_sheets
from egsu.registry.workbook.rows import SOURCES

Progress = Callable[[str, int, int], None]


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return value


def export_workbook(path: str | Path, *, progress: Progress | None = None) -> dict[str, int]:
    """Write every sheet; the password column is always blank. Returns rows written per sheet."""
    sheets = []
    counts: dict[str, int] = {}
    for name, columns in SHEETS.items():
        queryset, to_row = SOURCES[name]
        headers = [column.name for column in columns]
        objects = list(queryset())
        rows = []
        for done, obj in enumerate(objects, start=1):
            row = to_row(obj)
            rows.append([_cell(row.get(header)) for header in headers])
            if progress and (done % 500 == 0 or done == len(objects)):
                progress(name, done, len(objects))
        counts[name] = len(rows)
        sheets.append((name, headers, rows, {column.name for column in columns if column.text}))
    write_sheets(Path(path), sheets)
    return counts
