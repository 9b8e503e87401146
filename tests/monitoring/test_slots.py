"""Slot arithmetic on the Astana clock (INT-33/34, COL-05, AMI-44), across the 1 March 2024 offset change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egsu.monitoring.slots import (
    SLOT_INTERVALS,
    STEP,
    SlotInterval,
    day_slots,
    due_at,
    slot_of,
    slots_between,
)
from egsu_core.clock import ASTANA, astana_midnight


@pytest.mark.parametrize(
    ("interval", "day", "count"),
    [
        ("PT2H", date(2024, 2, 28), 12),
        ("PT2H", date(2024, 2, 29), 12),  # 25 hours long: the last slot lasts 3 hours
        ("PT2H", date(2024, 3, 1), 12),
        ("P1D", date(2024, 2, 29), 1),
        ("PT15M", date(2024, 2, 28), 96),
        ("PT15M", date(2024, 2, 29), 100),  # the repeated hour has its own quarter hours
        ("PT15M", date(2024, 3, 1), 96),
        ("PT1H", date(2024, 2, 29), 25),
        ("PT10M", date(2025, 6, 2), 144),  # AMI-44: gas above 2,000 m³/h
        ("PT10M", date(2024, 2, 28), 144),
        ("PT10M", date(2024, 2, 29), 150),  # the repeated hour has its own six ten-minute periods
        ("PT10M", date(2024, 3, 1), 144),
    ],
    ids=lambda v: str(v),
)
def test_slots_per_astana_day(interval, day, count):
    assert len(day_slots(interval, day)) == count


@pytest.mark.parametrize(
    ("interval", "start", "due"),
    [
        # UTC+6 before the change: 2024-02-28 10:00 Astana is 04:00 UTC, due at 12:00 Astana.
        ("PT2H", datetime(2024, 2, 28, 4, tzinfo=UTC), datetime(2024, 2, 28, 6, tzinfo=UTC)),
        # The 22:00 (UTC+6) slot of 29 Feb 2024 runs to 1 March 00:00 (UTC+5): three hours.
        ("PT2H", datetime(2024, 2, 29, 16, tzinfo=UTC), datetime(2024, 2, 29, 19, tzinfo=UTC)),
        # First slot after the change: 1 March 00:00 UTC+5 = 19:00 UTC, due 02:00 Astana.
        ("PT2H", datetime(2024, 2, 29, 19, tzinfo=UTC), datetime(2024, 2, 29, 21, tzinfo=UTC)),
        # Daily: day D due at D+1 00:00 Astana; 29 Feb starts at 18:00 UTC (UTC+6), ends 19:00 UTC (UTC+5).
        ("P1D", datetime(2024, 2, 28, 18, tzinfo=UTC), datetime(2024, 2, 29, 19, tzinfo=UTC)),
        ("P1D", datetime(2025, 5, 31, 19, tzinfo=UTC), datetime(2025, 6, 1, 19, tzinfo=UTC)),
        ("PT15M", datetime(2025, 6, 1, 7, 45, tzinfo=UTC), datetime(2025, 6, 1, 8, tzinfo=UTC)),
        ("PT10M", datetime(2025, 6, 1, 7, 50, tzinfo=UTC), datetime(2025, 6, 1, 8, tzinfo=UTC)),
        # 29 Feb 2024 23:50 UTC+6 ends at the first 23:00 UTC+5: ten minutes, not an hour and ten.
        ("PT10M", datetime(2024, 2, 29, 17, 50, tzinfo=UTC), datetime(2024, 2, 29, 18, tzinfo=UTC)),
        # The repeated 23:50 (UTC+5) is the day's last slot, due at 1 March 00:00 UTC+5.
        ("PT10M", datetime(2024, 2, 29, 18, 50, tzinfo=UTC), datetime(2024, 2, 29, 19, tzinfo=UTC)),
        ("PT10M", datetime(2024, 2, 29, 19, tzinfo=UTC), datetime(2024, 2, 29, 19, 10, tzinfo=UTC)),
    ],
    ids=[
        "utc6",
        "long-slot",
        "first-utc5",
        "daily-long-day",
        "daily-2025",
        "quarter",
        "ten-minutes",
        "ten-minutes-before-the-change",
        "ten-minutes-last-of-the-long-day",
        "ten-minutes-first-utc5",
    ],
)
def test_due_times(interval, start, due):
    assert due_at(interval, start) == due


def test_the_wall_clock_grid_before_and_after_the_change():
    before = [s.period_start for s in day_slots("PT2H", date(2024, 2, 29))]
    after = [s.period_start for s in day_slots("PT2H", date(2024, 3, 1))]

    assert before[0] == datetime(2024, 2, 28, 18, tzinfo=UTC) and before[-1] == datetime(
        2024, 2, 29, 16, tzinfo=UTC
    )
    assert after[0] == datetime(2024, 2, 29, 19, tzinfo=UTC) and after[1] == datetime(
        2024, 2, 29, 21, tzinfo=UTC
    )
    assert [s.astimezone(ASTANA).hour for s in before + after] == list(range(0, 24, 2)) * 2


def test_an_odd_hour_is_not_a_slot_start():
    assert slot_of("PT2H", datetime(2025, 6, 1, 0, tzinfo=UTC)) is None  # 05:00 Astana


def test_ten_minute_slots_of_the_long_day_repeat_the_last_hour():
    # given 29 February 2024: 00:00 … 23:50 at UTC+6, then 23:00 … 23:50 again at UTC+5
    local = [
        s.period_start.astimezone(ASTANA) for s in day_slots(SlotInterval.TEN_MINUTES, date(2024, 2, 29))
    ]
    wall = [(t.hour, t.minute) for t in local]
    # then every wall-clock ten minutes is a slot, and those of 23:00 … 23:50 twice, once per offset
    assert wall == [(h, m) for h in range(24) for m in range(0, 60, 10)] + [(23, m) for m in range(0, 60, 10)]
    assert {t.utcoffset() for t in local[:144]} == {timedelta(hours=6)}
    assert {t.utcoffset() for t in local[144:]} == {timedelta(hours=5)}


@pytest.mark.parametrize("minute", [5, 15, 25, 55])
def test_a_time_between_ten_minute_boundaries_is_not_a_slot_start(minute):
    moment = datetime(2025, 6, 2, 10, minute, tzinfo=ASTANA)
    assert slot_of(SlotInterval.TEN_MINUTES, moment) is None
    assert slot_of(SlotInterval.TEN_MINUTES, moment.replace(minute=minute - 5)).due_at == moment + timedelta(
        minutes=5
    )


def test_slots_between_stops_at_due_by():
    due_by = datetime(2025, 6, 1, 6, tzinfo=ASTANA)  # the 00:00, 02:00 and 04:00 slots; P1D is not

    assert len(slots_between("PT2H", date(2025, 6, 1), date(2025, 6, 2), due_by=due_by)) == 3
    assert slots_between("P1D", date(2025, 6, 1), date(2025, 6, 1), due_by=due_by) == []


@given(day=st.dates(min_value=date(2023, 1, 1), max_value=date(2026, 12, 31)))
def test_two_hourly_slots_tile_every_day_on_even_wall_clock_hours(day):
    slots = day_slots(SlotInterval.TWO_HOURS, day)

    assert [s.period_start.astimezone(ASTANA).hour for s in slots] == list(range(0, 24, 2))
    assert all(s.period_start.astimezone(ASTANA).date() == day for s in slots)
    assert all(a.due_at == b.period_start for a, b in zip(slots, slots[1:], strict=False))
    next_midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=ASTANA)
    assert slots[-1].due_at == next_midnight.astimezone(UTC)
    assert all(s.due_at - s.period_start in (timedelta(hours=2), timedelta(hours=3)) for s in slots)


@given(day=st.dates(min_value=date(1970, 1, 1), max_value=date(2040, 12, 31)))
def test_ten_minute_slots_tile_every_day_on_the_wall_clock(day):
    slots = day_slots(SlotInterval.TEN_MINUTES, day)
    start, end = astana_midnight(day), astana_midnight(day + timedelta(days=1))

    assert len(slots) == (end - start) // timedelta(minutes=10)  # 144 on a 24-hour day
    assert slots[0].period_start == start and slots[-1].due_at == end
    assert all(a.due_at == b.period_start for a, b in zip(slots, slots[1:], strict=False))
    assert all(s.due_at - s.period_start == timedelta(minutes=10) for s in slots)
    for slot in slots:
        local = slot.period_start.astimezone(ASTANA)
        assert (local.date(), local.minute % 10, local.second) == (day, 0, 0)
        assert slot_of(SlotInterval.TEN_MINUTES, slot.period_start) is slot


def _probed(interval: SlotInterval, day: date) -> list[datetime]:
    """The definition, walked literally: every 5 minutes of the day, kept if its wall-clock time
    since local midnight is a whole multiple of the interval (every Asia/Almaty offset since 1924
    is a whole hour)."""
    start, end = astana_midnight(day), astana_midnight(day + timedelta(days=1))
    found, moment = [], start
    while moment < end:
        local = moment.astimezone(ASTANA)
        since_midnight = timedelta(hours=local.hour, minutes=local.minute, seconds=local.second)
        if since_midnight % STEP[interval] == timedelta(0):
            found.append(moment)
        moment += timedelta(minutes=5)
    return found


# Days whose offset changed: into and out of summer time (at 00:00 and at 02:00/03:00 local),
# the 1991/1992 moves, and the move to UTC+5 on 1 March 2024.
CHANGE_DAYS = [date(1981, 4, 1), date(1981, 9, 30), date(1984, 9, 30), date(1985, 3, 31), date(1991, 9, 29),
               date(1992, 1, 19), date(2004, 10, 31), date(2024, 2, 29), date(2024, 3, 1)]  # fmt: skip


@pytest.mark.parametrize("day", CHANGE_DAYS, ids=str)
@pytest.mark.parametrize("interval", [i for i in SLOT_INTERVALS if i is not SlotInterval.DAY], ids=str)
def test_slot_starts_are_the_wall_clock_definition_on_days_of_a_change(interval, day):
    assert [s.period_start for s in day_slots(interval, day)] == _probed(interval, day)


@given(
    day=st.dates(min_value=date(1970, 1, 1), max_value=date(2040, 12, 31)),
    interval=st.sampled_from([i for i in SLOT_INTERVALS if i is not SlotInterval.DAY]),
)
def test_slot_starts_are_the_wall_clock_definition_on_any_day(interval, day):
    assert [s.period_start for s in day_slots(interval, day)] == _probed(interval, day)
