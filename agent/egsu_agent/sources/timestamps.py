"""Reading the times and values exports carry: ISO 8601, naive times on the Astana clock (INT-37)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from egsu_core.clock import ASTANA


def parse_time(value: object) -> datetime:
    """An aware UTC instant from an ISO 8601 text or a datetime; naive means Astana wall-clock time."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip().replace(" ", "T", 1)
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ASTANA)
    return moment.astimezone(UTC)


def parse_value(value: object) -> Decimal:
    """A decimal from a number or text; a decimal comma is read as a point."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = str(value).strip().replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


def parse_fault(value: object) -> bool:
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in ("", "0", "no", "false", "ok"):
        return False
    if text in ("1", "yes", "true", "fault"):
        return True
    raise ValueError(f"{value!r} is not a fault flag (yes/no, 1/0, true/false)")
