"""The common case: metering software exports CSV or xlsx files into a folder.

Format (long, one sample a row), header names case-insensitive:

    tag,time,value,fault
    T1.level,2026-03-10T00:15:00,5.25,
    T1.level,2026-03-10 00:30,5.5,no

``time`` is ISO 8601; without an offset it is Astana time (INT-37). ``value`` may use a
decimal comma (then separate columns with ``;``). ``fault`` is optional. An xlsx file
holds the same columns on its first sheet. A file is read whole; once its samples
are kept, it moves to the ``done`` folder (default ``<folder>/done``). A bad row makes
the whole file wait (logged with its line), so nothing is half-read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from datetime import datetime
from pathlib import Path

from egsu_agent.config import FolderSourceConfig
from egsu_agent.samples import Sample
from egsu_agent.sources import Batch, SourceError
from egsu_agent.sources.timestamps import parse_fault, parse_time, parse_value

log = logging.getLogger("egsu_agent.sources.folder")
COLUMNS = ("tag", "time", "value")


class FolderSource:
    def __init__(self, config: FolderSourceConfig) -> None:
        self.name = config.name
        self.path = config.path
        self.pattern = config.pattern
        self.done_dir = config.done_dir

    def read(self, now: datetime, *, since=None, seen=lambda path, sha: False) -> Batch:
        samples: list[Sample] = []
        files: list[tuple[str, str]] = []
        moves: list[Path] = []
        for path in sorted(self.path.glob(self.pattern)):
            if not path.is_file():
                continue
            content = path.read_bytes()
            sha = hashlib.sha256(content).hexdigest()
            moves.append(path)
            if seen(path.name, sha):
                continue  # kept before a crash, not yet moved: move it now
            try:
                rows = read_rows(path.name, content)
            except ValueError as exc:
                moves.pop()
                log.error("export %s is not readable: %s", path.name, exc)
                continue
            samples.extend(rows)
            files.append((path.name, sha))

        def move() -> None:
            self.done_dir.mkdir(parents=True, exist_ok=True)
            for path in moves:
                path.replace(self.done_dir / path.name)

        return Batch(samples=samples, files=files, done=move)

    def close(self) -> None:
        pass


def read_rows(name: str, content: bytes) -> list[Sample]:
    """Samples of one export; ValueError naming the line of the first bad row."""
    if name.lower().endswith(".xlsx"):
        rows = _xlsx_rows(content)
    else:
        rows = _csv_rows(content)
    try:
        header = [str(cell or "").strip().lower() for cell in next(rows)]
    except StopIteration:
        return []
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise ValueError(f"the header lacks {', '.join(missing)} (it has {', '.join(header)})")
    index = {name: header.index(name) for name in header}
    samples = []
    for line, row in enumerate(rows, start=2):
        if not any(cell not in (None, "") for cell in row):
            continue
        try:
            cells = {name: row[i] if i < len(row) else None for name, i in index.items()}
            tag = str(cells["tag"]).strip()
            if not tag:
                raise ValueError("tag is empty")
            samples.append(
                Sample(
                    at=parse_time(cells["time"]),
                    tag=tag,
                    value=parse_value(cells["value"]),
                    fault=parse_fault(cells.get("fault")),
                )
            )
        except (ValueError, TypeError) as exc:
            raise ValueError(f"line {line}: {exc}") from None
    return samples


def _csv_rows(content: bytes):
    text = content.decode("utf-8-sig")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return iter(list(csv.reader(io.StringIO(text), delimiter=delimiter)))


def _xlsx_rows(content: bytes):
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise ValueError(f"not an xlsx workbook: {exc}") from None
    sheet = book.worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    book.close()
    return iter(rows)


__all__ = ["FolderSource", "read_rows", "SourceError"]
