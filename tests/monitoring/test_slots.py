"""Slot arithmetic on the Astana clock (INT-33/34, COL-05), across the 1 March 2024 offset change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egsu.clock import ASTANA
from egsu.monitoring.slots import SlotInterval, day_slots, due_at, slot_of, slots_between


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
    ],
    ids=["utc6", "long-slot", "first-utc5", "daily-long-day", "daily-2025", "quarter"],
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
