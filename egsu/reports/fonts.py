"""The PDF font: DejaVu Sans, so Kazakh and Russian text renders (no font is fetched at run time)."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

FONT_NAME = "DejaVuSans"
FONT_FILE = "DejaVuSans.ttf"
# Debian/Ubuntu (fonts-dejavu-core), Fedora/RHEL, Alpine, macOS Homebrew, and a local override dir.
SEARCH_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/dejavu-sans-fonts",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "/opt/homebrew/share/fonts",
)


class FontMissingError(RuntimeError):
    """No DejaVu Sans on this machine: PDFs with Cyrillic text cannot be made."""


def find_font(extra_dirs: tuple[str | Path, ...] = ()) -> Path:
    """The DejaVu Sans file: the given dirs, the usual system dirs, then fontconfig's answer."""
    for directory in (*extra_dirs, *SEARCH_DIRS):
        candidate = Path(directory) / FONT_FILE
        if candidate.is_file():
            return candidate
    if fc_match := shutil.which("fc-match"):
        found = subprocess.run(
            [fc_match, "-f", "%{file}", "DejaVu Sans:style=Book"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        if found.endswith(FONT_FILE) and Path(found).is_file():
            return Path(found)
    raise FontMissingError(
        f"{FONT_FILE} was not found in {', '.join(SEARCH_DIRS)} nor by fc-match; "
        "install the DejaVu fonts (Debian: apt-get install fonts-dejavu-core) to make PDF exports"
    )


@cache
def register_font() -> str:
    """Register DejaVu Sans with reportlab once; returns the font name to draw with."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT_NAME, str(find_font())))
    return FONT_NAME
