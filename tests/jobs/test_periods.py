"""Schedules cut time into periods: aligned steps on UTC, and daily times on the Astana clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from egsu.jobs.periods import Daily, Every


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_every_five_minutes_is_aligned_on_the_clock():
    five = Every(minutes=5)
    assert five.period_start(utc(2026, 5, 1, 10, 7, 59)) == utc(2026, 5, 1, 10, 5)
    assert five.period_start(utc(2026, 5, 1, 10, 5)) == utc(
        2026, 5, 1, 10, 5
    )  # a start belongs to its period
    assert five.next_start(utc(2026, 5, 1, 10, 7, 59)) == utc(2026, 5, 1, 10, 10)


def test_an_offset_shifts_the_periods():
    hourly_at_quarter = Every(hours=1, offset=timedelta(minutes=15))
    assert hourly_at_quarter.period_start(utc(2026, 5, 1, 10, 10)) == utc(2026, 5, 1, 9, 15)
    assert hourly_at_quarter.describe() == "every 1 h (+15 min)"


@pytest.mark.parametrize(
    ("now", "start"),
    [
        (
            utc(2024, 2, 28, 21, 0),
            utc(2024, 2, 28, 20, 30),
        ),  # 29 Feb 02:30 at UTC+06:00 (before 1 March 2024)
        (
            utc(2024, 3, 2, 21, 0),
            utc(2024, 3, 1, 21, 30),
        ),  # 02:30 at UTC+05:00: not yet today, so yesterday's
        (utc(2024, 3, 2, 21, 30), utc(2024, 3, 2, 21, 30)),
    ],
    ids=["utc+6", "utc+5-before-the-time", "utc+5-at-the-time"],
)
def test_daily_times_are_astana_wall_clock_across_the_2024_change(now, start):
    assert Daily("02:30").period_start(now) == start


def test_the_next_daily_start_is_the_next_astana_day():
    # from 29 Feb 03:00 (UTC+06:00) to 1 March 02:30, already at UTC+05:00: 23 hours later
    assert Daily("02:30").next_start(utc(2024, 2, 28, 21, 0)) == utc(2024, 2, 29, 21, 30)


@pytest.mark.parametrize("bad", [lambda: Every(), lambda: Every(minutes=1, offset=timedelta(minutes=1)),
                                 lambda: Daily("25:00")], ids=["empty", "offset-too-long", "no-such-time"])  # fmt: skip
def test_a_malformed_schedule_is_refused(bad):
    with pytest.raises(ValueError):
        bad()
