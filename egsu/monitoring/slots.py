"""Reporting slots on the Astana clock: which periods a device owes, and when each is due.

Plain Python (no Django), so the agent and the server share one definition.

Definitions (INT-33, INT-34, COL-05):

- A *slot* is one reporting period of one device and interval, named by its start (UTC).
- Slots are laid on the Astana wall clock (zone Asia/Almaty, never a fixed offset): a slot starts
  at every instant of an Astana day whose local time is a whole multiple of the interval since
  local midnight. So a day holds 12 two-hourly slots (00:00, 02:00 … 22:00) and one daily slot
  (00:00), also on 29 February 2024, the 25-hour day when the clock went from UTC+6 to UTC+5.
  Fifteen-minute slots (COL-05, electricity and heat) plug in with the same rule: 96 a day, 100 on
  that long day (the repeated hour has its own quarter hours).
- A slot is *due* when its period ends: at the next slot start on the wall clock. For a 2-hourly
  slot that is S+2h (INT-34: data every 2 hours from 02:00); a daily slot for day D is due at
  D+1 00:00 (INT-33). On 29 February 2024 the 22:00 slot lasts three hours and is due at
  1 March 00:00 (UTC+5).
- The *Astana day* of a slot is the local date of its start; rollups and period pickers count by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from egsu.clock import ASTANA, astana_date, astana_midnight


class SlotInterval(StrEnum):
    """The intervals the monitoring knows (the same codes as the readings store)."""

    QUARTER_HOUR = "PT15M"  # COL-05: electricity and heat
    HOUR = "PT1H"  # AMI-44: gas meters of the 500–2,000 m³/h band
    TWO_HOURS = "PT2H"  # INT-34
    DAY = "P1D"  # INT-33


STEP = {
    SlotInterval.QUARTER_HOUR: timedelta(minutes=15),
    SlotInterval.HOUR: timedelta(hours=1),
    SlotInterval.TWO_HOURS: timedelta(hours=2),
    SlotInterval.DAY: timedelta(days=1),
}
# Every offset Asia/Almaty ever used is a whole number of quarter hours, so stepping the day in
# quarter hours visits every wall-clock-aligned instant.
_PROBE = timedelta(minutes=15)

# What each facility kind owes: oil and gas objects (App.2 kinds 1.1–1.9) send a daily record at
# 00:00 and a record every 2 hours from 02:00 (INT-33/34), i.e. 13 slots a day.
OIL_AND_GAS = (SlotInterval.TWO_HOURS, SlotInterval.DAY)


def intervals_for_kind(kind: str) -> tuple[SlotInterval, ...]:
    """The intervals a device on a facility of this kind owes (power/heat kinds will add PT15M)."""
    return OIL_AND_GAS if kind.startswith("1.") else ()


# AMI meters (COL-05, AMI-41/44): one slot per meter at the interval of its channels, PT15M for
# electricity and heat, by consumption band for gas. PT10M values (gas above 2,000 m³/h) are stored,
# but their slots are not monitored yet: the slot grid steps in quarter hours (see _PROBE).
GAS_BAND_INTERVALS = {"low": SlotInterval.DAY, "medium": SlotInterval.HOUR}
ENERGY_INTERVALS = {"electricity": SlotInterval.QUARTER_HOUR, "heat": SlotInterval.QUARTER_HOUR}


def meter_interval(energy: str, gas_band: str = "") -> SlotInterval | None:
    """The slot interval an AMI meter owes, or None when nothing it sends can be stored yet."""
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


@lru_cache(maxsize=8192)
def day_slots(interval: SlotInterval | str, day: date) -> tuple[Slot, ...]:
    """Every slot of one Astana day, in order, with its due time."""
    interval = SlotInterval(interval)
    start, end = astana_midnight(day), astana_midnight(day + timedelta(days=1))
    if interval is SlotInterval.DAY:
        return (Slot(interval, start, end),)
    starts = []
    moment = start
    while moment < end:
        if _aligned(moment, interval):
            starts.append(moment)
        moment += _PROBE
    ends = [*starts[1:], end]
    return tuple(Slot(interval, s, e) for s, e in zip(starts, ends, strict=True))


def slot_of(interval: SlotInterval | str, period_start: datetime) -> Slot | None:
    """The slot that starts at this instant, or None when the instant is not a slot start."""
    for slot in day_slots(SlotInterval(interval), astana_date(period_start)):
        if slot.period_start == period_start.astimezone(UTC):
            return slot
    return None


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
