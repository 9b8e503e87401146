"""Helpers the command groups share: how a shell user writes a moment, and where output goes."""

from __future__ import annotations

from datetime import date, datetime

import typer
from rich.console import Console

from egsu_core.clock import astana_midnight, from_astana


def console() -> Console:
    # Built per call so that a test runner's captured stdout is the one written to.
    return Console(width=200, highlight=False, soft_wrap=True)


def moment(text: str | None, option: str) -> datetime | None:
    """2024-03-01 (Astana midnight), 2024-03-01T10:00 (Astana) or with an explicit offset (INT-37)."""
    if not text:
        return None
    try:
        if len(text) == 10:
            return astana_midnight(date.fromisoformat(text))
        return from_astana(datetime.fromisoformat(text))
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not an ISO date or date-time", param_hint=option) from exc
