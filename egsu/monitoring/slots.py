"""Reporting slots on the Astana clock: which periods a device owes, and when each is due.

Plain Python (no Django), so the agent and the server share one definition.

Definitions (INT-33, INT-34, COL-05, AMI-44):

- A *slot* is one reporting period of one device and interval, named by its start (UTC).
- Slots are laid on the Astana wall clock (zone Asia/Almaty, never a fixed offset): a slot starts
  at every instant of an Astana day whose local time is a whole multiple of the interval since
  local midnight. So a day holds 12 two-hourly slots (00:00, 02:00 … 22:00) and one daily slot
  (00:00), also on 29 February 2024, the 25-hour day when the clock went from UTC+6 to UTC+5.
  Fifteen-minute slots (COL-05, electricity and heat), hourly and ten-minute slots (AMI-44, gas
  meters by consumption band) follow the same rule: 96, 24 and 144 a day, and 100, 25 and 150 on
  that long day (the repeated hour has its own quarter hours, hour and ten-minute periods).
- A slot is *due* when its period ends: at the next slot start on the wall clock. For a 2-hourly
  slot that is S+2h (INT-34: data every 2 hours from 02:00); a daily slot for day D is due at
  D+1 00:00 (INT-33). On 29 February 2024 the 22:00 slot lasts three hours and is due at
  1 March 00:00 (UTC+5); slots of an hour or less always last their step.
- The *Astana day* of a slot is the local date of its start; rollups and period pickers count by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from math import gcd

from egsu_core.clock import ASTANA, astana_date, astana_midnight
from egsu_core.vocabulary import Interval

# The monitoring's intervals are the vocabulary's (egsu_core.vocabulary.Interval); a month is no slot.
SlotInterval = Interval
SLOT_INTERVALS: tuple[Interval, ...] = tuple(i for i in Interval if i.stored)
STEP = {interval: interval.step for interval in SLOT_INTERVALS}
_DAY = timedelta(days=1)
# Every offset Asia/Almaty used since 1924 (+5, +6, +7; only the LMT of +5:07:48 before it was not)
# is a whole hour, so a whole number of quarter hours, the weaker fact the grid relies on: on a day
# whose offset changes, stepping from local midnight by gcd(interval, 15 min) visits every
# wall-clock-aligned instant (quarter hours for PT15M … PT2H, 5 minutes for PT10M).
_OFFSET_QUANTUM = timedelta(minutes=15)
_PROBE = {
    interval: timedelta(seconds=gcd(int(step.total_seconds()), int(_OFFSET_QUANTUM.total_seconds())))
    for interval, step in STEP.items()
}

# What each facility kind owes: oil and gas objects (App.2 kinds 1.1–1.9) send a daily record at
# 00:00 and a record every 2 hours from 02:00 (INT-33/34), i.e. 13 slots a day.
OIL_AND_GAS = (SlotInterval.TWO_HOURS, SlotInterval.DAY)


def intervals_for_kind(kind: str) -> tuple[SlotInterval, ...]:
    """The intervals a device on a facility of this kind owes (power/heat kinds will add PT15M)."""
    return OIL_AND_GAS if kind.startswith("1.") else ()


# AMI meters (COL-05, AMI-41/44): one slot per meter at the interval of its channels, PT15M for
# electricity and heat, by consumption band for gas (egsu.ami.catalog.GAS_BAND_INTERVALS): below
# 500 m³/h daily, 500–2,000 m³/h hourly, above 2,000 m³/h every 10 minutes.
GAS_BAND_INTERVALS = {"low": Interval.DAY, "medium": Interval.HOUR, "high": Interval.TEN_MINUTES}
ENERGY_INTERVALS = {"electricity": Interval.QUARTER_HOUR, "heat": Interval.QUARTER_HOUR}


def meter_interval(energy: str, gas_band: str = "") -> SlotInterval | None:
    """The slot interval an AMI meter owes, or None for an energy or band it cannot owe (no band set)."""
    if energy == "gas":
        return GAS_BAND_INTERVALS.get(gas_band)
    return ENERGY_INTERVALS.get(energy)


@dataclass(frozen=True)
class Slot:
    interval: SlotInterval
    period_start: datetime  # UTC
    due_at: datetime  # UTC: the end of the period (next wall-clock slot start)

    @property
    def day(self) -> date:
        return astana_date(self.period_start)


def _aligned(moment: datetime, interval: SlotInterval) -> bool:
    local = moment.astimezone(ASTANA)
    since_midnight = timedelta(hours=local.hour, minutes=local.minute, seconds=local.second)
    return local.microsecond == 0 and since_midnight % STEP[interval] == timedelta(0)


def _steady(start: datetime, end: datetime) -> bool:
    """Whether a day keeps one offset: 24 hours from a local 00:00, the same offset at both ends.

    Asia/Almaty never changed its offset twice within a day, so such a day has no change at all.
    """
    first, last = start.astimezone(ASTANA), (end - timedelta(microseconds=1)).astimezone(ASTANA)
    return end - start == _DAY and first.hour == first.minute == 0 and first.utcoffset() == last.utcoffset()


@lru_cache(maxsize=8192)
def day_slots(interval: SlotInterval | str, day: date) -> tuple[Slot, ...]:
    """Every slot of one Astana day, in order, with its due time."""
    interval = SlotInterval(interval)
    start, end = astana_midnight(day), astana_midnight(day + timedelta(days=1))
    if interval is SlotInterval.DAY:
        return (Slot(interval, start, end),)
    step = STEP[interval]
    if _steady(start, end):  # nearly every day: the slots are plain arithmetic
        starts = [start + n * step for n in range(_DAY // step)]
    else:  # a change of offset: probe the day for wall-clock-aligned instants
        starts, moment, probe = [], start, _PROBE[interval]
        while moment < end:
            if _aligned(moment, interval):
                starts.append(moment)
            moment += probe
    ends = [*starts[1:], end]
    return tuple(Slot(interval, s, e) for s, e in zip(starts, ends, strict=True))


@lru_cache(maxsize=8192)
def _day_index(interval: SlotInterval, day: date) -> dict[datetime, Slot]:
    return {slot.period_start: slot for slot in day_slots(interval, day)}


def slot_of(interval: SlotInterval | str, period_start: datetime) -> Slot | None:
    """The slot that starts at this instant, or None when the instant is not a slot start."""
    instant = period_start.astimezone(UTC)
    return _day_index(SlotInterval(interval), astana_date(instant)).get(instant)


def due_at(interval: SlotInterval | str, period_start: datetime) -> datetime:
    """When a period's data is due; an unaligned start (never stored) is due one step later."""
    slot = slot_of(interval, period_start)
    return slot.due_at if slot else period_start.astimezone(UTC) + STEP[SlotInterval(interval)]


def days(first: date, last: date) -> list[date]:
    """The Astana days first..last, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def slots_between(
    interval: SlotInterval | str, first: date, last: date, *, due_by: datetime | None = None
) -> list[Slot]:
    """The slots of days first..last (inclusive); with due_by, only those already due then."""
    found = [slot for day in days(first, last) for slot in day_slots(SlotInterval(interval), day)]
    return found if due_by is None else [slot for slot in found if slot.due_at <= due_by]


def due_count_by_day(interval: SlotInterval | str, first: date, last: date, due_by: datetime) -> list[int]:
    """How many slots of each day first..last are due by due_by (for prefix sums)."""
    counts = []
    for day in days(first, last):
        slots = day_slots(SlotInterval(interval), day)
        if slots and slots[-1].due_at <= due_by:
            counts.append(len(slots))
        else:
            counts.append(sum(1 for slot in slots if slot.due_at <= due_by))
    return counts
