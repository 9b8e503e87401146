"""Kazakhstan's working-day calendar: public holidays by law plus the Government's transfers.

Deadlines count working days and forecasts tell working days from days off, so both ask this
module. Two sources make the calendar:

* the law's public holidays (Labour Code art. 84 with the list of the Law "On holidays"), and
  its rule that a holiday falling on a Saturday or Sunday moves the day off to the next working
  day (art. 85.2; not for Kurban ait and Orthodox Christmas) — taken from the `holidays`
  package (country KZ), which tracks the law's changes;
* the Government's yearly transfers of days off (art. 85.3): a weekend day made a working day
  and a working day made a day off, decided by decree. The years up to the code's writing live
  in `TRANSFERS` below, one small table per year with its source. The operator keeps them
  current as data (egsu.workdays: a year and its transfers, edited in the admin); a year the
  operator has entered replaces this table's year (`set_transfer_source`). Nothing else in the
  project states transfers.

The `holidays` package knows some transfers too. The calendar ignores the package's transfers
and uses ours; tests compare the two for the years both cover, so a disagreement is seen.
A five-day week is assumed (Saturday and Sunday off), as the transfers themselves are.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType

import holidays


@dataclass(frozen=True)
class Transfer:
    """One Government transfer: `working_day` (usually a Saturday) is worked, `day_off` is rested."""

    day_off: date
    working_day: date
    source: str


# The Government's transfers of days off per year (Labour Code art. 85.3). A year present with an
# empty tuple had no transfer; a year absent is not known here yet (egsu.workdays.services.unconfirmed_years).
# Sources: the Government decrees in the Adilet legal database (adilet.zan.kz), by document code,
# as the `holidays` package's references list them; 2022 also from the Prime Minister's press
# release on decree No. 713. Add a year when its decree is published.
TRANSFERS: dict[int, tuple[Transfer, ...]] = {
    2020: (
        Transfer(date(2020, 1, 3), date(2020, 1, 5), "Government decree, Adilet P1900000820"),
        # The Victory Day day off (Saturday 9 May, observed Monday 11 May) moved to Friday 8 May.
        Transfer(date(2020, 5, 8), date(2020, 5, 11), "Government decree, Adilet P1900000820"),
        Transfer(date(2020, 12, 18), date(2020, 12, 20), "Government decree, Adilet P1900000820"),
    ),
    2021: (Transfer(date(2021, 7, 5), date(2021, 7, 3), "Government decree, Adilet P2000000930"),),
    2022: (
        Transfer(date(2022, 3, 7), date(2022, 3, 5), "Government decree No. 713 of 6 October 2021"),
        Transfer(date(2022, 8, 29), date(2022, 8, 27), "Government decree No. 713 of 6 October 2021"),
        Transfer(date(2022, 10, 24), date(2022, 10, 22), "Government decree, Adilet P2200000796"),
    ),
    2023: (Transfer(date(2023, 7, 7), date(2023, 7, 1), "Government decree, Adilet P2300000326"),),
    2024: (Transfer(date(2024, 5, 8), date(2024, 5, 4), "Government decree, Adilet G24G0000109"),),
    2025: (Transfer(date(2025, 1, 3), date(2025, 1, 5), "Government decree, Adilet G24G0000436"),),
    # The e-government holiday calendar for 2026 shows only the law's moved days off (8 March,
    # Nauryz and 9 May fall on weekends); no Government transfer was found.
    2026: (),
}


class DayType(StrEnum):
    """Why a day is worked or not: forecasts use it as a feature, deadlines only its `working`."""

    WORKING = "working"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"  # a public holiday or the weekday its day off moved to (art. 85.2)
    TRANSFERRED_DAY_OFF = "transferred_day_off"  # a working day the Government made a day off
    WORKING_WEEKEND = "working_weekend"  # a weekend day the Government made a working day

    @property
    def working(self) -> bool:
        return self in (DayType.WORKING, DayType.WORKING_WEEKEND)


TransferSource = Callable[[], Mapping[int, tuple[Transfer, ...]]]
_source: TransferSource | None = None
_loaded: tuple[float, dict[int, tuple[Transfer, ...]], dict[date, DayType]] | None = None
SOURCE_TTL_S = 60.0  # another process's change to the operator's data is seen within this time


def set_transfer_source(source: TransferSource | None) -> None:
    """Where the operator's transfers come from (years it returns replace `TRANSFERS`' years)."""
    global _source
    _source = source
    invalidate()


def invalidate() -> None:
    """Forget the loaded transfers (the operator changed them in this process)."""
    global _loaded
    _loaded = None


def transfers() -> dict[int, tuple[Transfer, ...]]:
    """The transfers per year in force: this module's table with the operator's years over it."""
    return _state()[1]


def _state() -> tuple[float, dict[int, tuple[Transfer, ...]], dict[date, DayType]]:
    global _loaded
    now = time.monotonic()
    if _loaded is not None and now - _loaded[0] < SOURCE_TTL_S:
        return _loaded
    years = dict(TRANSFERS)
    if _source is not None:
        try:
            years.update(_source())
        except Exception:  # noqa: BLE001 - no database yet (migrations, tools): the built-in table
            pass
    _loaded = (now, years, _transfer_days(years))
    return _loaded


@lru_cache(maxsize=64)
def public_holidays(year: int) -> Mapping[date, str]:
    """The law's days off in `year` (holidays and their moved days off), without the package's transfers.

    Where the package's transfer cancelled a moved day off (2020: the day off of Monday 11 May
    went to Friday 8 May), that day is missing here too; `TRANSFERS` makes it a working day anyway.
    """
    package = holidays.country_holidays("KZ", years=year, language="en_US")
    transferred = {t.day_off for t in package_transfers(year)}
    return MappingProxyType(
        dict(sorted((day, name) for day, name in package.items() if day not in transferred))
    )


@lru_cache(maxsize=64)
def package_transfers(year: int) -> tuple[Transfer, ...]:
    """The transfers the `holidays` package knows for `year` (compared with ours in tests)."""
    package = holidays.country_holidays("KZ", years=year, language="en_US")
    label = package.tr(package.substituted_label)
    prefix, _, suffix = label.partition("%s")
    date_format = package.tr(package.substituted_date_format)
    result = []
    for day, name in package.items():
        if name.startswith(prefix) and name.endswith(suffix):
            text = name[len(prefix) : len(name) - len(suffix)]
            worked = datetime.strptime(text, date_format).date()  # noqa: DTZ007 (a date, no time)
            result.append(Transfer(day, worked, "holidays package"))
    return tuple(sorted(result, key=lambda t: t.day_off))


def _transfer_days(years: Mapping[int, tuple[Transfer, ...]]) -> dict[date, DayType]:
    days: dict[date, DayType] = {}
    for year_transfers in years.values():
        for transfer in year_transfers:
            days[transfer.day_off] = DayType.TRANSFERRED_DAY_OFF
            worked = transfer.working_day
            days[worked] = DayType.WORKING_WEEKEND if worked.weekday() >= 5 else DayType.WORKING
    return days


def day_type(day: date) -> DayType:
    """What kind of day `day` is in Kazakhstan (five-day week)."""
    transferred = _state()[2].get(day)
    if transferred is not None:
        return transferred
    if day in public_holidays(day.year):
        return DayType.HOLIDAY
    return DayType.WEEKEND if day.weekday() >= 5 else DayType.WORKING


def is_working_day(day: date) -> bool:
    """Whether `day` is a working day: a transferred working Saturday is, a transferred day off is not."""
    return day_type(day).working


def add_working_days(day: date, n: int) -> date:
    """The `n`-th working day after `day` (before it when `n` is negative); `day` itself is not counted.

    `add_working_days(d, 0)` is `d`. A deadline of "five working days from receipt on d" is
    `add_working_days(d, 5)`.
    """
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    current = day
    while remaining:
        current += timedelta(days=step)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """How many working days lie in [start, end)."""
    count = 0
    current = start
    while current < end:
        count += is_working_day(current)
        current += timedelta(days=1)
    return count


__all__ = [
    "TRANSFERS",
    "DayType",
    "Transfer",
    "add_working_days",
    "day_type",
    "invalidate",
    "is_working_day",
    "package_transfers",
    "public_holidays",
    "set_transfer_source",
    "transfers",
    "working_days_between",
]
