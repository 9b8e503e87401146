"""Kazakhstan's working-day calendar: the law's holidays, their moved days off and the Government's
transfers, over 2024 (Capital Day on a Saturday; Saturday 4 May worked for Wednesday 8 May)."""

from __future__ import annotations

from datetime import date

import pytest

from egsu import calendar_kz
from egsu.calendar_kz import (
    TRANSFERS,
    DayType,
    add_working_days,
    day_type,
    is_working_day,
    working_days_between,
)


def test_a_holiday_on_a_weekend_moves_its_day_off_to_the_next_working_day():
    # Capital Day, Saturday 6 July 2024: the day off moves to Monday 8 July (Labour Code art. 85.2).
    assert day_type(date(2024, 7, 6)) is DayType.HOLIDAY
    assert day_type(date(2024, 7, 7)) is DayType.WEEKEND
    assert day_type(date(2024, 7, 8)) is DayType.HOLIDAY
    assert not is_working_day(date(2024, 7, 8))
    assert is_working_day(date(2024, 7, 9))


def test_a_transferred_working_saturday_is_worked_and_its_day_off_is_rested():
    assert day_type(date(2024, 5, 4)) is DayType.WORKING_WEEKEND
    assert is_working_day(date(2024, 5, 4))
    assert day_type(date(2024, 5, 8)) is DayType.TRANSFERRED_DAY_OFF
    assert not is_working_day(date(2024, 5, 8))
    assert day_type(date(2024, 5, 11)) is DayType.WEEKEND  # an ordinary Saturday


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        pytest.param(date(2024, 5, 3), 1, date(2024, 5, 4), id="friday-to-the-working-saturday"),
        pytest.param(date(2024, 5, 6), 1, date(2024, 5, 10), id="over-7-8-9-may"),
        pytest.param(date(2024, 5, 10), -1, date(2024, 5, 6), id="backwards-over-7-8-9-may"),
        pytest.param(date(2024, 5, 3), 0, date(2024, 5, 3), id="zero"),
        pytest.param(date(2024, 7, 5), 1, date(2024, 7, 9), id="over-capital-day-moved-to-monday"),
        pytest.param(date(2024, 12, 31), 3, date(2025, 1, 8), id="over-new-year-transfer-and-christmas"),
    ],
)
def test_add_working_days(start, n, expected):
    assert add_working_days(start, n) == expected


def test_may_2024_has_twenty_working_days():
    # 23 weekdays, less 1, 7, 8 (transferred) and 9 May, plus Saturday 4 May.
    assert working_days_between(date(2024, 5, 1), date(2024, 6, 1)) == 20


def test_a_transfer_may_turn_a_moved_day_off_back_into_a_working_day():
    # 2020: Victory Day fell on Saturday 9 May, its day off moved to Monday 11 May, and the
    # Government moved that day off to Friday 8 May.
    assert is_working_day(date(2020, 5, 11))
    assert day_type(date(2020, 5, 8)) is DayType.TRANSFERRED_DAY_OFF


@pytest.mark.parametrize("year", sorted(TRANSFERS))
def test_our_transfers_agree_with_the_holidays_package(year):
    """Two independent sources; a difference means one of them needs a look."""
    ours = [(t.day_off, t.working_day) for t in TRANSFERS[year]]
    theirs = [(t.day_off, t.working_day) for t in calendar_kz.package_transfers(year)]
    assert ours == theirs


def test_every_transfer_names_its_source_and_rests_a_weekday():
    for transfers in TRANSFERS.values():
        for transfer in transfers:
            assert transfer.source
            assert transfer.day_off.weekday() < 5
            assert transfer.day_off != transfer.working_day


def test_a_year_without_a_table_follows_the_law_alone():
    assert 2031 not in calendar_kz.transfers() and 2024 in calendar_kz.transfers()
    assert day_type(date(2031, 1, 1)) is DayType.HOLIDAY
    assert is_working_day(date(2031, 1, 6))
