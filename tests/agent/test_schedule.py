"""The App.1 slots on the Astana clock (INT-33, INT-34, INT-37), and the controllable clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from egsu_agent.schedule import (
    DAY,
    TWO_HOURS,
    ManualClock,
    closed_periods,
    day_period,
    local_instant,
    next_slot,
    periods_of_day,
    slot_periods,
)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "slot"),
    [
        pytest.param(utc(2026, 3, 9, 19, 0), utc(2026, 3, 9, 21, 0), id="at-a-slot-the-next-one"),
        pytest.param(utc(2026, 3, 9, 19, 0, 1), utc(2026, 3, 9, 21, 0), id="just-after-midnight-astana"),
        pytest.param(utc(2026, 3, 10, 18, 30), utc(2026, 3, 10, 19, 0), id="next-astana-midnight-is-19z"),
        pytest.param(
            utc(2024, 2, 29, 16, 30), utc(2024, 2, 29, 19, 0), id="before-the-2024-change-00-00-is-19z"
        ),
        pytest.param(utc(2024, 1, 10, 17, 0), utc(2024, 1, 10, 18, 0), id="utc+6-before-march-2024"),
    ],
)
def test_next_slot_is_the_next_even_astana_hour(now, slot):
    assert next_slot(now) == slot


def test_a_normal_day_has_twelve_two_hour_periods_and_one_daily():
    periods = periods_of_day(date(2026, 3, 10))
    assert [p.interval for p in periods].count(TWO_HOURS) == 12
    assert [p.interval for p in periods].count(DAY) == 1
    assert periods[0].start == utc(2026, 3, 9, 19) and periods[0].end == utc(2026, 3, 9, 21)
    assert periods[-1] == day_period(date(2026, 3, 10))
    assert all(p.end - p.start == timedelta(hours=2) for p in periods if p.interval == TWO_HOURS)


def test_29_february_2024_lasts_25_hours_on_the_zone_not_a_fixed_offset():
    # Asia/Almaty went from UTC+6 to UTC+5 at 00:00 on 1 March 2024 (the clock fell back to 23:00)
    day = day_period(date(2024, 2, 29))
    assert day.start == utc(2024, 2, 28, 18) and day.end == utc(2024, 2, 29, 19)
    last = [p for p in periods_of_day(date(2024, 2, 29)) if p.interval == TWO_HOURS][-1]
    assert (last.start, last.end) == (utc(2024, 2, 29, 16), utc(2024, 2, 29, 19))
    assert periods_of_day(date(2024, 3, 1))[0].start == utc(2024, 2, 29, 19)


def test_the_midnight_slot_sends_the_last_two_hours_and_the_day():
    slot = local_instant(date(2026, 3, 11), 0)
    two_hours, day = slot_periods(slot)
    assert (two_hours.interval, two_hours.start, two_hours.end) == (
        TWO_HOURS,
        slot - timedelta(hours=2),
        slot,
    )
    assert day == day_period(date(2026, 3, 10))
    assert [p.interval for p in slot_periods(local_instant(date(2026, 3, 11), 2))] == [TWO_HOURS]


def test_a_time_that_is_not_a_slot_is_refused():
    with pytest.raises(ValueError):
        slot_periods(local_instant(date(2026, 3, 11), 3))


def test_closed_periods_are_those_whose_end_has_come_oldest_first():
    now = local_instant(date(2026, 3, 11), 4)
    periods = list(closed_periods(date(2026, 3, 10), now))
    assert len(periods) == 13 + 2
    assert periods == sorted(periods, key=lambda p: p.order)
    assert all(p.end <= now for p in periods)


def test_the_manual_clock_jumps_instead_of_sleeping():
    clock = ManualClock(utc(2026, 3, 9, 19))
    clock.sleep_until(utc(2026, 3, 9, 21))
    clock.sleep_until(utc(2026, 3, 9, 20))  # the past: no move back
    assert clock.now() == utc(2026, 3, 9, 21)
    assert clock.sleeps == [utc(2026, 3, 9, 21), utc(2026, 3, 9, 20)]
    with pytest.raises(ValueError):
        ManualClock(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test
