"""The business clock: Astana time by the IANA zone, never a fixed offset (INT-37).

Asia/Almaty moved from UTC+06:00 to UTC+05:00 on 1 March 2024; archived data
crosses the change, so every conversion goes through the zone database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ASTANA = ZoneInfo("Asia/Almaty")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_astana(moment: datetime) -> datetime:
    """Show an aware instant on the business clock."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: store and pass aware instants only")
    return moment.astimezone(ASTANA)


def from_astana(local: datetime) -> datetime:
    """Read a wall-clock time without offset as Astana time and return it in UTC."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    return local.replace(tzinfo=ASTANA).astimezone(UTC)


def astana_midnight(day: date) -> datetime:
    """Start of a business day, in UTC."""
    return datetime.combine(day, time(0, 0), tzinfo=ASTANA).astimezone(UTC)


def astana_date(moment: datetime) -> date:
    return to_astana(moment).date()


def format_astana(moment: datetime) -> str:
    """ISO 8601 with the offset in force at that instant, milliseconds, as the gateway writes it."""
    return to_astana(moment).isoformat(timespec="milliseconds")


__all__ = [
    "ASTANA",
    "utcnow",
    "to_astana",
    "from_astana",
    "astana_midnight",
    "astana_date",
    "format_astana",
    "timedelta",
]
