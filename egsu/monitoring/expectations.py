"""What a metering point owes: its slots on chosen Astana days, due by now (INT-33/34, COL-05, AMI-44).

A point owes each of its intervals (`MeteringPoint.owed_intervals`: PT2H and P1D for an oil and
gas device, the band's interval for a gas meter, PT15M for electricity and heat) from `owes_from`
(installation, else registration) to `owes_until` (removal), both included, while it owes at all
(`MeteringPoint.owes`: active, on an active object; a removed device still owes its last days).
A slot is expected once it is overdue: ``due_at + grace <= now``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings

from egsu.monitoring import slots as slot_rules
from egsu.monitoring.slots import Slot
from egsu_core.clock import astana_date, utcnow

DEFAULT_GRACE_MINUTES = 30


def grace() -> timedelta:
    """The allowance after a slot is due before it counts late (EGSU_ARRIVAL_GRACE_MINUTES, default 30)."""
    return timedelta(minutes=int(getattr(settings, "EGSU_ARRIVAL_GRACE_MINUTES", DEFAULT_GRACE_MINUTES)))


def owing(points_qs):
    """The points that owe anything at all."""
    return points_qs.filter(owes=True)


def expected_slots(
    point, interval: str, start: date, end: date, *, now: datetime | None = None
) -> list[Slot]:
    """The slots of one interval a point owes on Astana days start..end (inclusive) that are overdue by now."""
    if not point.owes or interval not in point.intervals:
        return []
    first, last = max(point.owes_from, start), min(point.owes_until or end, end)
    if first > last:
        return []
    return slot_rules.slots_between(interval, first, last, due_by=(now or utcnow()) - grace())


class ExpectedCounter:
    """Expected slots for any life window inside the period, in O(1) by prefix sums per interval.

    The sums of an interval are built when it is first counted, so a period's ten-minute grid
    (144 slots a day) costs nothing while no point owes it.
    """

    def __init__(self, start: date, end: date, now: datetime, intervals=None):
        self.start, self.end = start, end
        self.due_by = now - grace()
        self.intervals = {slot_rules.SlotInterval(i) for i in (intervals or slot_rules.SLOT_INTERVALS)}
        self.prefix: dict[str, list[int]] = {}

    def _prefix(self, interval: str) -> list[int] | None:
        if interval not in self.intervals:
            return None
        if interval not in self.prefix:
            running = [0]
            for n in slot_rules.due_count_by_day(interval, self.start, self.end, self.due_by):
                running.append(running[-1] + n)
            self.prefix[interval] = running
        return self.prefix[interval]

    def count(self, intervals: str, first: date, last: date | None) -> int:
        """Expected slots of the comma-separated intervals over a life window first..last."""
        first, last = max(first, self.start), min(last or self.end, self.end)
        if first > last:
            return 0
        i, j = (first - self.start).days, (last - self.start).days + 1
        total = 0
        for interval in intervals.split(","):
            prefix = self._prefix(interval) if interval else None
            if prefix is not None:
                total += prefix[j] - prefix[i]
        return total


def periods_in_grace(now: datetime, intervals=None) -> dict[str, list[datetime]]:
    """Interval → the starts of its periods that have begun by now but are not yet owed
    (``due_at + grace > now``): what arrived for them is counted as arrived, not yet as expected.

    A few periods an interval (the longest, a day, is owed by the next day's 00:00 plus the grace).
    """
    cut = now - grace()
    first, last = astana_date(cut - timedelta(days=2)), astana_date(now)
    found = {}
    for interval in intervals or slot_rules.SLOT_INTERVALS:
        starts = [s.period_start for s in slot_rules.slots_between(interval, first, last) if s.due_at > cut]
        found[str(interval)] = [start for start in starts if start <= now]
    return found
