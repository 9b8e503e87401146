"""DejaVu fonts for the PDFs we make (exports, commission acts): Kazakh and Russian text needs them.

Found on the machine, never fetched (air-gapped): `EGSU_FONT_DIR` first, then the folders where
distributions put DejaVu (and one folder deeper), then fontconfig when asked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

# Debian/Ubuntu (fonts-dejavu-core), Fedora/RHEL, Alpine, generic, macOS Homebrew.
SEARCH_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/dejavu-sans-fonts",
    "/usr/share/fonts/TTF",
    "/usr/share/fonts/truetype",
    "/usr/local/share/fonts",
    "/opt/homebrew/share/fonts",
    "/usr/share/fonts",
)


class FontMissingError(RuntimeError):
    """The font is not on this machine: PDFs with Cyrillic text cannot be made."""


def find_font(
    name: str = "DejaVuSans.ttf", dirs: Sequence[str | Path] | None = None, *, fontconfig=None
) -> Path:
    """The path of a font file; ``fontconfig`` (default: when no dirs are given) also asks fc-match."""
    search = [os.environ["EGSU_FONT_DIR"]] if os.environ.get("EGSU_FONT_DIR") else []
    search += [str(d) for d in (SEARCH_DIRS if dirs is None else dirs)]
    for folder in search:
        candidate = Path(folder) / name
        if candidate.is_file():
            return candidate
    for folder in search:  # one level deeper, e.g. /usr/share/fonts/truetype/<family>/
        root = Path(folder)
        if root.is_dir():
            for candidate in sorted(root.glob(f"*/{name}")):
                return candidate
    asked = dirs is None if fontconfig is None else fontconfig
    if asked and (fc_match := shutil.which("fc-match")):
        style = "Bold" if "Bold" in name else "Book"
        found = subprocess.run(
            [fc_match, "-f", "%{file}", f"DejaVu Sans:style={style}"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        if found.endswith(name) and Path(found).is_file():
            return Path(found)
    raise FontMissingError(
        f"{name} was not found in {', '.join(search)}{' nor by fc-match' if asked else ''}; install the DejaVu "
        "fonts (Debian: apt-get install fonts-dejavu-core) or set EGSU_FONT_DIR"
    )
