"""Reading exported files and pages back: the xlsx blocks, external converters, phone-friendly markup."""

from __future__ import annotations

import re
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from lxml import html
from openpyxl import load_workbook


def xlsx_blocks(content: bytes) -> tuple[dict[str, str], list[tuple], list[tuple]]:
    """(header block, data rows, totals rows) of an export written by egsu.reports.xlsx."""
    sheet = load_workbook(BytesIO(content), read_only=True).worksheets[0]
    rows = [tuple(cell for cell in row) for row in sheet.iter_rows(values_only=True)]
    blank = [i for i, row in enumerate(rows) if not any(c is not None for c in row)]
    header = {row[0]: row[1] for row in rows[1 : blank[0]]}
    data = rows[blank[0] + 2 : blank[1]] if len(blank) > 1 else rows[blank[0] + 2 :]
    totals = rows[blank[1] + 2 :] if len(blank) > 1 else []
    return header, data, totals


def tool(*names: str) -> str:
    for name in names:
        if found := shutil.which(name):
            return found
    pytest.skip(
        f"{' / '.join(names)} is not installed (apt-get install -y poppler-utils libreoffice-calc-nogui)"
    )


def run(args: list, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, check=True)


def libreoffice_csv(xlsx: Path, out_dir: Path) -> str:
    soffice = tool("soffice", "libreoffice")
    profile = (out_dir / "lo-profile").as_uri()
    # 44,34,76: comma-separated, double-quoted, UTF-8
    run(
        [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
            out_dir,
            xlsx,
        ]
    )
    return (out_dir / (xlsx.stem + ".csv")).read_text(encoding="utf-8", errors="replace")


def phone_friendly_problems(content: bytes | str) -> list[str]:
    """Problems found; an empty list means the page passes."""
    doc = html.fromstring(content)
    problems = []
    if not doc.xpath('//meta[@name="viewport" and contains(@content, "width=device-width")]'):
        problems.append("no responsive viewport meta")
    for table in doc.iter("table"):
        if "table-wrap" not in (table.getparent().get("class") or ""):
            problems.append(f"table {table.get('class')} is not inside .table-wrap")
    for element in doc.xpath("//*[@style]"):
        if re.search(r"(min-)?width\s*:\s*\d{3,}px", element.get("style")):
            problems.append(f"fixed width on <{element.tag}>")
    labelled = set(doc.xpath("//label/@for"))
    for field in doc.xpath('//input[not(@type="hidden") and not(@type="submit")] | //select | //textarea'):
        if field.get("id") not in labelled and not field.get("aria-label"):
            problems.append(f"<{field.tag} name={field.get('name')}> has no label")
    return problems
