"""Calendar features: the slot of the day, the day of the week and what kind of day it is.

Load on a public holiday or a transferred day off looks like a Sunday's, and a working Saturday
like a Friday's, so the day's type comes from a working-day calendar: Kazakhstan's
(`egsu.calendar_kz`, with the Government's transfers), weekends only (`none`), or another
country's public holidays from the `holidays` package (for data from elsewhere, e.g. `AU-VIC`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

import holidays
import numpy as np
import pandas as pd

from egsu import calendar_kz
from egsu.analytics.forecast.errors import ForecastError
from egsu.analytics.forecast.series import Resolution
from egsu.calendar_kz import DayType

FEATURES: tuple[str, ...] = ("slot", "dow", "day_kind", "working", "prev_working", "next_working")

# Day kinds as numbers for the models (the order is part of trained models: append only).
DAY_KINDS: tuple[DayType, ...] = (
    DayType.WORKING,
    DayType.WEEKEND,
    DayType.HOLIDAY,
    DayType.TRANSFERRED_DAY_OFF,
    DayType.WORKING_WEEKEND,
)
_KIND_CODE = {kind: code for code, kind in enumerate(DAY_KINDS)}


class DayCalendar(Protocol):
    name: str

    def day_type(self, day: date) -> DayType: ...


@dataclass(frozen=True)
class KazakhstanCalendar:
    """Kazakhstan: public holidays by law and the Government's transfers (egsu.calendar_kz)."""

    name: str = "KZ"

    def day_type(self, day: date) -> DayType:
        return calendar_kz.day_type(day)


@dataclass(frozen=True)
class WeekendCalendar:
    """No holidays: Saturday and Sunday off, every other day worked."""

    name: str = "none"

    def day_type(self, day: date) -> DayType:
        return DayType.WEEKEND if day.weekday() >= 5 else DayType.WORKING


@dataclass(frozen=True)
class CountryCalendar:
    """Another country's public holidays from the `holidays` package (no transfers table of ours)."""

    country: str
    subdivision: str | None = None

    @property
    def name(self) -> str:
        return f"{self.country}-{self.subdivision}" if self.subdivision else self.country

    def day_type(self, day: date) -> DayType:
        known = _country_days(self.country, self.subdivision, day.year)
        if day in known:
            return DayType.HOLIDAY
        if day.weekday() >= 5:
            workdays = holidays.country_holidays(self.country, subdiv=self.subdivision, years=day.year)
            return DayType.WORKING_WEEKEND if day in workdays.weekend_workdays else DayType.WEEKEND
        return DayType.WORKING


_COUNTRY_CACHE: dict[tuple[str, str | None, int], frozenset[date]] = {}


def _country_days(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    key = (country, subdivision, year)
    if key not in _COUNTRY_CACHE:
        _COUNTRY_CACHE[key] = frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))
    return _COUNTRY_CACHE[key]


def calendar_for(name: str) -> DayCalendar:
    """`KZ` (default), `none`, or a country code the `holidays` package knows, with an optional subdivision (AU-VIC)."""
    text = name.strip()
    if text.upper() == "KZ":
        return KazakhstanCalendar()
    if text.lower() == "none":
        return WeekendCalendar()
    country, _, subdivision = text.partition("-")
    try:
        holidays.country_holidays(country.upper(), subdiv=subdivision or None, years=2020)
    except NotImplementedError as exc:
        raise ForecastError(
            f"unknown holiday calendar {name!r}: use KZ, none, or a country code such as AU-VIC"
        ) from exc
    return CountryCalendar(country.upper(), subdivision or None)


def calendar_features(local_times: pd.Series, resolution: Resolution, calendar: DayCalendar) -> pd.DataFrame:
    """One row of features per time (wall-clock times of the series' zone, without offset)."""
    local = pd.to_datetime(local_times).reset_index(drop=True)
    days = local.dt.normalize()
    unique_days = pd.DatetimeIndex(days.unique())
    around = pd.DatetimeIndex(
        sorted(
            set(unique_days)
            | set(unique_days - pd.Timedelta(days=1))
            | set(unique_days + pd.Timedelta(days=1))
        )
    )
    kinds = {day: calendar.day_type(day.date()) for day in around}
    kind_code = pd.Series({day: _KIND_CODE[kind] for day, kind in kinds.items()})
    working = pd.Series({day: int(kind.working) for day, kind in kinds.items()})
    seconds = (local - days).dt.total_seconds().to_numpy()
    step = resolution.step.total_seconds()
    return pd.DataFrame(
        {
            "slot": (seconds // step).astype(np.int16)
            if not resolution.daily
            else np.zeros(len(local), np.int16),
            "dow": local.dt.dayofweek.to_numpy().astype(np.int8),
            "day_kind": days.map(kind_code).to_numpy().astype(np.int8),
            "working": days.map(working).to_numpy().astype(np.int8),
            "prev_working": (days - pd.Timedelta(days=1)).map(working).to_numpy().astype(np.int8),
            "next_working": (days + pd.Timedelta(days=1)).map(working).to_numpy().astype(np.int8),
        }
    )


__all__ = [
    "FEATURES",
    "CountryCalendar",
    "DayCalendar",
    "KazakhstanCalendar",
    "WeekendCalendar",
    "calendar_features",
    "calendar_for",
]
