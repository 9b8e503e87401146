"""The PDF font: DejaVu Sans, so Kazakh and Russian text renders (no font is fetched at run time)."""

from __future__ import annotations

import shutil  # noqa: F401 - tests replace shutil.which here to switch fontconfig off
from functools import cache
from pathlib import Path

from egsu import fonts as shared
from egsu.fonts import FontMissingError

FONT_NAME = "DejaVuSans"
FONT_FILE = "DejaVuSans.ttf"
SEARCH_DIRS = shared.SEARCH_DIRS

__all__ = ["FONT_NAME", "FontMissingError", "find_font", "register_font"]


def find_font(extra_dirs: tuple[str | Path, ...] = ()) -> Path:
    """DejaVu Sans: the given dirs, the usual system dirs, then fontconfig's answer (egsu.fonts)."""
    return shared.find_font(FONT_FILE, (*extra_dirs, *SEARCH_DIRS), fontconfig=True)


@cache
def register_font() -> str:
    """Register DejaVu Sans with reportlab once; returns the font name to draw with."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT_NAME, str(find_font())))
    return FONT_NAME
