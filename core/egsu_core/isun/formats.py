"""How the wire text of numbers, yes/no flags and dates is read (UNIT-01, UNIT-08, FMT-04/05).

Decisions, documented for integrators in schema/isun-data.xsd:
- Numbers: a decimal in ASCII digits with an optional sign (``80.46875``, ``-3``,
  ``.5``); exponent notation with at most two exponent digits (``1.0E-4``, as
  Java's Double.toString and Go's %v print small values), so ``1e400`` is
  refused; a decimal comma (``12,5``) is read as a point and reported, because
  clients running under a ru/kk locale print it. Thousands separators,
  underscores, non-ASCII digits, NaN and Infinity are never accepted.
- Flags (isDaily, deviceStatus): yes/no, true/false, 1/0, да/нет, иә/жоқ,
  in any letter case.
- Dates (datetime, regdatetime): ``YYYY-MM-DD`` (App.3), or an xsd:dateTime
  ``YYYY-MM-DDThh:mm:ss`` with optional fractional seconds and optional offset
  (``Z`` or ``±hh:mm``). Without an offset the time is Astana wall-clock time
  (INT-37), read through the zone, never a fixed offset. Years before 2000 are
  refused: no ISUN data predates them, and it keeps zone arithmetic far from
  the limits of datetime.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache

from egsu_core.clock import astana_midnight, from_astana, to_astana

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]{1,2})?")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})?"
)
MIN_YEAR = 2000
MAX_YEAR = 9998

FLAG_WORDS: dict[str, bool] = {
    "yes": True,
    "no": False,
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "да": True,
    "нет": False,
    "иә": True,
    "жоқ": False,
}


@dataclass(frozen=True)
class ParsedNumber:
    value: Decimal
    decimal_comma: bool  # the sender wrote a comma for the decimal point


def parse_number(text: str) -> ParsedNumber:
    """Read a measured value (already stripped) as a finite Decimal; ValueError when it is not one."""
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"not a decimal number: {text!r}")
    return ParsedNumber(value=Decimal(text.replace(",", ".")), decimal_comma="," in text)


def parse_flag(text: str) -> bool:
    """Read a yes/no flag in any of the accepted spellings; ValueError otherwise."""
    try:
        return FLAG_WORDS[text.strip().casefold()]
    except KeyError:
        raise ValueError(f"not a yes/no flag: {text!r}") from None


@dataclass(frozen=True)
class Moment:
    """A parsed datetime/regdatetime: the instant (UTC) and how it reads on the business clock."""

    instant: datetime  # UTC, aware
    local: datetime  # the same instant on the Astana clock
    date_only: bool  # the sender wrote YYYY-MM-DD: a day, not an instant


def _offset(text: str) -> timezone:
    if text == "Z":
        return UTC
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 14 or minutes > 59 or (hours == 14 and minutes):
        raise ValueError(f"offset out of range: {text}")
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


_CACHED_MOMENT_CHARS = 40  # every sensible date-time fits; a longer text is parsed, never kept


def parse_moment(text: str) -> Moment:
    """Read ``YYYY-MM-DD`` or an xsd:dateTime; no offset means Astana time. ValueError when malformed.

    The records of one message mostly share their datetime (every device, the same period), so
    a short text's reading is kept (Moment is immutable; failures are never kept).
    """
    text = text.strip()
    if len(text) <= _CACHED_MOMENT_CHARS:
        return _cached_moment(text)
    return _read_moment(text)


@lru_cache(maxsize=4096)
def _cached_moment(text: str) -> Moment:
    return _read_moment(text)


def _read_moment(text: str) -> Moment:
    try:
        if match := _DATE.fullmatch(text):
            day = date(*(int(part) for part in match.groups()))
            _check_year(day.year)
            instant = astana_midnight(day)
            return Moment(instant=instant, local=to_astana(instant), date_only=True)
        if match := _DATETIME.fullmatch(text):
            year, month, dd, hh, mm, ss, fraction, offset = match.groups()
            _check_year(int(year))
            micro = int((fraction or "0")[:6].ljust(6, "0"))
            wall = datetime(int(year), int(month), int(dd), int(hh), int(mm), int(ss), micro)  # noqa: DTZ001
            instant = wall.replace(tzinfo=_offset(offset)).astimezone(UTC) if offset else from_astana(wall)
            return Moment(instant=instant, local=to_astana(instant), date_only=False)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a valid date or date-time: {text!r} ({exc})") from None
    raise ValueError(f"not YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.fff][offset]: {text!r}")


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside {MIN_YEAR}…{MAX_YEAR}")
