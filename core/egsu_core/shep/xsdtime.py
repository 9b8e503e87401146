"""xsd:dateTime as the gateway writes it, read strictly into aware datetimes.

``datetime.fromisoformat`` accepts forms that are not xsd:dateTime (dates
without time, a space separator, basic format), so envelope dates go through
this parser instead. A value without an offset is Astana wall-clock time
(INT-37), never the server's local time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from egsu_core.clock import ASTANA, from_astana

_DATETIME = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"T(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?",
    re.ASCII,
)


def parse_xsd_datetime(text: str) -> datetime:
    """Parse an xsd:dateTime; raise ValueError when it is not one (or not representable)."""
    try:
        moment = _parse(text)
        moment.astimezone(UTC).astimezone(ASTANA)  # representable on both clocks, or refused here
    except OverflowError:
        raise ValueError("date out of range") from None
    return moment


def _parse(text: str) -> datetime:
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise ValueError("not an xsd:dateTime")
    fraction = match["fraction"] or ""
    hour = int(match["hour"])
    end_of_day = hour == 24  # xsd allows 24:00:00 for the midnight that ends a day
    if end_of_day:
        if match["minute"] != "00" or match["second"] != "00" or fraction.strip("0"):
            raise ValueError("24 is only allowed as 24:00:00")
        hour = 0
    moment = datetime(  # noqa: DTZ001 - the zone is attached below, from the text or as Astana time
        int(match["year"]),
        int(match["month"]),
        int(match["day"]),
        hour,
        int(match["minute"]),
        int(match["second"]),
        int(fraction[:6].ljust(6, "0")) if fraction else 0,
    )
    if end_of_day:
        moment += timedelta(days=1)
    zone = match["zone"]
    if zone is None:
        return from_astana(moment)
    if zone == "Z":
        return moment.replace(tzinfo=UTC)
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    if minutes > 59 or hours > 14 or (hours == 14 and minutes):
        raise ValueError("time-zone offset out of range")
    offset = timedelta(hours=hours, minutes=minutes)
    return moment.replace(tzinfo=timezone(-offset if zone[0] == "-" else offset))


__all__ = ["parse_xsd_datetime"]
