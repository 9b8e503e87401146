"""When a periodic job is due: schedules as plain values (no Django), so they are easy to test.

A schedule cuts time into periods; a periodic job runs once per period, however many schedulers
look at it (the database keeps one row per job and period start). Daily times are on the business
clock (Astana, egsu_core.clock), so a job "at 02:30" stays at 02:30 local across the 2024 offset change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from egsu_core.clock import ASTANA, to_astana

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Every:
    """Fixed-length periods aligned on UTC (every 5 minutes: :00, :05, …), optionally shifted."""

    seconds: float = 0
    minutes: float = 0
    hours: float = 0
    offset: timedelta = timedelta(0)

    @property
    def length(self) -> timedelta:
        return timedelta(seconds=self.seconds, minutes=self.minutes, hours=self.hours)

    def __post_init__(self) -> None:
        if self.length <= timedelta(0):
            raise ValueError("a period must be longer than zero")
        if not timedelta(0) <= self.offset < self.length:
            raise ValueError("the offset must be within one period")

    def period_start(self, now: datetime) -> datetime:
        steps = (now - EPOCH - self.offset) // self.length
        return EPOCH + self.offset + steps * self.length

    def next_start(self, now: datetime) -> datetime:
        return self.period_start(now) + self.length

    def describe(self) -> str:
        return f"every {_span(self.length)}" + (f" (+{_span(self.offset)})" if self.offset else "")


@dataclass(frozen=True)
class Daily:
    """One period a day, starting at a wall-clock time in Astana (e.g. Daily("02:30"))."""

    at: str = "00:00"

    def __post_init__(self) -> None:
        time.fromisoformat(self.at)  # "HH:MM": a clear ValueError otherwise

    def _start_on(self, day) -> datetime:
        local = datetime.combine(day, time.fromisoformat(self.at), tzinfo=ASTANA)
        return local.astimezone(UTC)

    def period_start(self, now: datetime) -> datetime:
        today = to_astana(now).date()
        start = self._start_on(today)
        return start if start <= now else self._start_on(today - timedelta(days=1))

    def next_start(self, now: datetime) -> datetime:
        return self._start_on(to_astana(self.period_start(now)).date() + timedelta(days=1))

    def describe(self) -> str:
        return f"daily at {self.at} (Astana)"


Schedule = Every | Daily


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{delta.total_seconds():g} s"
