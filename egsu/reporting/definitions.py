"""Which regular reports exist (ANA-05..07): kinds, levels, frequencies and their periods. Plain Python.

A report is (kind, frequency, level, area, period). The kinds are fixed by the order: turnover of
crude oil, gas condensate, raw and commodity gas (App.2, oil and gas by product); electricity, heat
and gas consumption (AMI); arrivals and data quality (MON-01/02). The levels are ANA-07's local
(one subject), regional (one region) and national. Labels are English source strings; the web
layer translates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from egsu_core.vocabulary import Energy, gettext_noop


class Kind(StrEnum):
    OIL_GAS_TURNOVER = "oil_gas_turnover"
    CONSUMPTION = "consumption"
    ARRIVALS = "arrivals"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


class Level(StrEnum):
    NATIONAL = "national"
    REGIONAL = "regional"
    LOCAL = "local"  # one subject

    @property
    def label(self) -> str:
        return _LEVEL_LABELS[self]


class Frequency(StrEnum):
    DAILY = "daily"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    URGENT = "urgent"  # built at once, e.g. when a critical alarm opens (ANA-07)

    @property
    def label(self) -> str:
        return _FREQUENCY_LABELS[self]


_KIND_LABELS = {
    Kind.OIL_GAS_TURNOVER: gettext_noop("Turnover of crude oil, gas condensate, raw and commodity gas"),
    Kind.CONSUMPTION: gettext_noop("Electricity, heat and gas consumption"),
    Kind.ARRIVALS: gettext_noop("Arrivals and data quality"),
}
_LEVEL_LABELS = {
    Level.NATIONAL: gettext_noop("national"),
    Level.REGIONAL: gettext_noop("regional"),
    Level.LOCAL: gettext_noop("local (subject)"),
}
_FREQUENCY_LABELS = {
    Frequency.DAILY: gettext_noop("daily"),
    Frequency.MONTHLY: gettext_noop("monthly"),
    Frequency.QUARTERLY: gettext_noop("quarterly"),
    Frequency.URGENT: gettext_noop("urgent"),
}

# The energies each kind reports on (the modules that open them are the gate's business).
KIND_ENERGIES: dict[Kind, tuple[Energy, ...]] = {
    Kind.OIL_GAS_TURNOVER: (Energy.OIL_GAS,),
    Kind.CONSUMPTION: (Energy.ELECTRICITY, Energy.HEAT, Energy.GAS),
    Kind.ARRIVALS: (),
}
# What a level's rows are per: the national report per region, a region's per subject, a subject's per object.
BREAKDOWN = {Level.NATIONAL: "region", Level.REGIONAL: "subject", Level.LOCAL: "object"}
REGULAR = (Frequency.DAILY, Frequency.MONTHLY, Frequency.QUARTERLY)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def month_start(day: date) -> date:
    return day.replace(day=1)


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def last_complete(frequency: Frequency, today: date) -> Period:
    """The latest period of this frequency that ended before `today` (an Astana date)."""
    if frequency is Frequency.DAILY:
        day = today - timedelta(days=1)
        return Period(day, day)
    if frequency is Frequency.MONTHLY:
        start = _add_months(month_start(today), -1)
        return Period(start, month_start(today) - timedelta(days=1))
    if frequency is Frequency.QUARTERLY:
        start = _add_months(quarter_start(today), -3)
        return Period(start, quarter_start(today) - timedelta(days=1))
    raise ValueError(f"{frequency} has no regular period")


def bucket_for(period: Period) -> str | None:
    """How a report's "by period" section is cut: days within a month, months within a quarter."""
    if period.days == 1:
        return None
    return "P1D" if period.days <= 31 else "P1M"
