"""When to send what: the App.1 slots on the Astana clock, and clocks the tests can drive.

INT-33: daily data at 00:00 sharp, for the Astana day just closed.
INT-34: two-hourly data at 02:00, 04:00 … 22:00, 00:00, each for the two hours just closed.
INT-37: every time is Astana time — the IANA zone Asia/Almaty, never a fixed offset. On
1 March 2024 the zone moved from UTC+6 to UTC+5 (the wall clock went from 00:00 back to
23:00 on 29 February), so that day's 22:00–00:00 period lasts three real hours and the day
25: periods are defined on the wall clock and converted through the zone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from egsu_core.clock import ASTANA, astana_date, utcnow

TWO_HOURS = "PT2H"
DAY = "P1D"
SLOT_HOURS = tuple(range(0, 24, 2))


@dataclass(frozen=True)
class Period:
    """A reporting period: [start, end) as UTC instants; ``interval`` is the ISO 8601 duration."""

    end: datetime
    interval: str
    start: datetime

    @property
    def order(self) -> tuple[datetime, bool]:
        """Oldest end first; at 00:00 the last two hours before the day they close (INT-15)."""
        return self.end, self.is_daily

    @property
    def is_daily(self) -> bool:
        return self.interval == DAY

    @property
    def label(self) -> str:
        local = self.start.astimezone(ASTANA)
        if self.is_daily:
            return f"{local.date().isoformat()} daily"
        return f"{local.strftime('%Y-%m-%d %H:%M')} two-hourly"


def local_instant(day: date, hour: int) -> datetime:
    """The UTC instant of ``hour``:00 on the Astana wall clock of ``day`` (hour 24 = next midnight)."""
    if hour == 24:
        day, hour = day + timedelta(days=1), 0
    return datetime(day.year, day.month, day.day, hour, tzinfo=ASTANA).astimezone(UTC)


def day_period(day: date) -> Period:
    return Period(end=local_instant(day, 24), interval=DAY, start=local_instant(day, 0))


def two_hour_period(day: date, hour: int) -> Period:
    return Period(end=local_instant(day, hour + 2), interval=TWO_HOURS, start=local_instant(day, hour))


def periods_of_day(day: date, *, daily: bool = True, two_hourly: bool = True) -> list[Period]:
    """The 12 two-hourly periods and the daily period of an Astana day, in order of their end."""
    periods = [two_hour_period(day, hour) for hour in SLOT_HOURS] if two_hourly else []
    if daily:
        periods.append(day_period(day))
    return sorted(periods, key=lambda period: period.order)


def closed_periods(
    first_day: date, now: datetime, *, daily: bool = True, two_hourly: bool = True
) -> Iterator[Period]:
    """Every period from ``first_day`` on whose end has come (end <= now), oldest first."""
    day = first_day
    last = astana_date(now)
    while day <= last:
        for period in periods_of_day(day, daily=daily, two_hourly=two_hourly):
            if period.end <= now:
                yield period
        day += timedelta(days=1)


def next_slot(now: datetime) -> datetime:
    """The first slot (an even Astana hour) strictly after ``now``."""
    day = astana_date(now)
    for offset in range(3):
        for hour in SLOT_HOURS:
            candidate = local_instant(day + timedelta(days=offset), hour)
            if candidate > now:
                return candidate
    raise AssertionError("unreachable: a slot comes every two hours")


def slot_periods(slot: datetime, *, daily: bool = True, two_hourly: bool = True) -> list[Period]:
    """What a slot sends: the two hours just closed and, at 00:00, the day just closed."""
    local = slot.astimezone(ASTANA)
    if local.minute or local.second or local.microsecond or local.hour % 2:
        raise ValueError(f"{local.isoformat()} is not a slot (an even Astana hour)")
    closed_day = local.date() - timedelta(days=1)
    previous = local_instant(local.date(), local.hour - 2) if local.hour else local_instant(closed_day, 22)
    out = []
    if two_hourly:
        out.append(Period(end=slot, interval=TWO_HOURS, start=previous))
    if daily and local.hour == 0:
        out.append(day_period(closed_day))
    return out


def next_day_start(moment: datetime) -> datetime:
    """00:00 Astana of the day after ``moment``'s Astana day."""
    return local_instant(astana_date(moment) + timedelta(days=1), 0)


# ---------------------------------------------------------------- clocks


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep_until(self, moment: datetime) -> None: ...


class SystemClock:
    """The wall clock; sleeping can be cut short by ``stop`` (signals, tests)."""

    def __init__(self, stop: threading.Event | None = None) -> None:
        self.stop = stop or threading.Event()

    def now(self) -> datetime:
        return utcnow()

    def sleep_until(self, moment: datetime) -> None:
        remaining = (moment - utcnow()).total_seconds()
        if remaining > 0:
            self.stop.wait(remaining)


class ManualClock:
    """A clock that only moves when told: ``sleep_until`` jumps there at once (never sleeps)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs an aware instant")
        self._now = start.astimezone(UTC)
        self.sleeps: list[datetime] = []

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def sleep_until(self, moment: datetime) -> None:
        self.sleeps.append(moment)
        if moment > self._now:
            self._now = moment.astimezone(UTC)


__all__ = [
    "TWO_HOURS",
    "DAY",
    "Period",
    "local_instant",
    "day_period",
    "two_hour_period",
    "periods_of_day",
    "closed_periods",
    "next_slot",
    "slot_periods",
    "next_day_start",
    "Clock",
    "SystemClock",
    "ManualClock",
]
