"""The words every part of the System shares: intervals, energies and feeds, defined once.

Plain Python (no Django): the intake, the store, the monitoring, the pages, the API and the agent
derive their choices, lengths, checks and labels from these enums. Labels are English source
strings marked for translation; the web layer translates them (egsu.choices), so people read
"2 hours", never "PT2H".
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum


def gettext_noop(text: str) -> str:
    """Mark a label for the catalogues without translating it here (Django-free)."""
    return text


class Interval(StrEnum):
    """ISO 8601 durations a value may cover or an aggregate may be bucketed by.

    PT2H and P1D are the oil and gas slots (INT-33/34); PT15M electricity and heat (COL-05);
    P1D, PT1H and PT10M the gas consumption bands (AMI-44); P1M only buckets aggregates (ANA-05).
    """

    TEN_MINUTES = "PT10M"
    QUARTER_HOUR = "PT15M"
    HOUR = "PT1H"
    TWO_HOURS = "PT2H"
    DAY = "P1D"
    MONTH = "P1M"

    @property
    def step(self) -> timedelta | None:
        """The length of one period on a steady clock; None for a month (28 to 31 days)."""
        return _STEP.get(self)

    @property
    def stored(self) -> bool:
        """Whether a stored value may cover this interval (a month is only an aggregate bucket)."""
        return self is not Interval.MONTH

    @property
    def bucket(self) -> bool:
        """Whether aggregates may be bucketed by it (PT15M, PT1H, P1D, P1M)."""
        return self in _BUCKETS

    @property
    def label(self) -> str:
        """How a person names one period: "15 minutes", "2 hours"."""
        return _LABELS[self]

    @property
    def current_within(self) -> timedelta:
        """How old the newest value may be, from the end of its period, for a point to be current.

        A 2-hourly value is due after its slot (INT-34), a daily one after the day (INT-33); the
        allowance covers the usual transmission delay of each feed.
        """
        return _CURRENT_WITHIN[self]

    @classmethod
    def stored_codes(cls) -> frozenset[str]:
        return frozenset(i.value for i in cls if i.stored)

    @classmethod
    def bucket_codes(cls) -> tuple[str, ...]:
        return tuple(i.value for i in cls if i.bucket)


_STEP = {
    Interval.TEN_MINUTES: timedelta(minutes=10),
    Interval.QUARTER_HOUR: timedelta(minutes=15),
    Interval.HOUR: timedelta(hours=1),
    Interval.TWO_HOURS: timedelta(hours=2),
    Interval.DAY: timedelta(days=1),
}
_BUCKETS = (Interval.QUARTER_HOUR, Interval.HOUR, Interval.DAY, Interval.MONTH)
_LABELS = {
    Interval.TEN_MINUTES: gettext_noop("10 minutes"),
    Interval.QUARTER_HOUR: gettext_noop("15 minutes"),
    Interval.HOUR: gettext_noop("1 hour"),
    Interval.TWO_HOURS: gettext_noop("2 hours"),
    Interval.DAY: gettext_noop("1 day"),
    Interval.MONTH: gettext_noop("1 month"),
}
_CURRENT_WITHIN = {
    Interval.TEN_MINUTES: timedelta(hours=1),
    Interval.QUARTER_HOUR: timedelta(hours=1),
    Interval.HOUR: timedelta(hours=3),
    Interval.TWO_HOURS: timedelta(hours=4),
    Interval.DAY: timedelta(hours=26),
    Interval.MONTH: timedelta(days=3),
}


class Feed(StrEnum):
    """How data reaches the System: the wire formats differ, everything past the intake is shared."""

    ISUN = "isun"  # signed SOAP messages through the gateway (App.1)
    AMI = "ami"  # metering head-ends: REST and MQTT batches (AMI-05..12)

    @property
    def label(self) -> str:
        return {Feed.ISUN: gettext_noop("Gateway (oil and gas)"), Feed.AMI: gettext_noop("Metering systems")}[
            self
        ]


class Energy(StrEnum):
    """What a metering point measures, as a facet of every list, total and arrivals page.

    OIL_GAS is the oil, gas condensate, raw and commodity gas turnover of App.2 (the gateway feed);
    ELECTRICITY, HEAT and GAS are the commercial metering of the AMI feed (COL-05, AMI-44).
    """

    OIL_GAS = "oil_gas"
    ELECTRICITY = "electricity"
    HEAT = "heat"
    GAS = "gas"

    @property
    def label(self) -> str:
        return _ENERGY_LABELS[self]

    @property
    def feed(self) -> Feed:
        return Feed.ISUN if self is Energy.OIL_GAS else Feed.AMI


_ENERGY_LABELS = {
    Energy.OIL_GAS: gettext_noop("Oil and gas"),
    Energy.ELECTRICITY: gettext_noop("Electricity"),
    Energy.HEAT: gettext_noop("Heat"),
    Energy.GAS: gettext_noop("Gas"),
}

# The energies AMI meters measure (the order of the energy switch in the cabinet).
METER_ENERGIES: tuple[Energy, ...] = (Energy.ELECTRICITY, Energy.HEAT, Energy.GAS)


class Severity(StrEnum):
    """How urgent an alarm is (MON-05): what it is shown as, who is told and how fast."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def label(self) -> str:
        return _SEVERITY_LABELS[self]

    @property
    def rank(self) -> int:
        """Orders severities: a subscription to WARNING also receives CRITICAL."""
        return list(Severity).index(self)


_SEVERITY_LABELS = {
    Severity.INFO: gettext_noop("Information"),
    Severity.WARNING: gettext_noop("Warning"),
    Severity.CRITICAL: gettext_noop("Critical"),
}


class AlarmState(StrEnum):
    """An alarm's lifecycle: open until someone acknowledges it, closed when its condition clears."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return _ALARM_STATE_LABELS[self]

    @property
    def active(self) -> bool:
        return self is not AlarmState.CLOSED


_ALARM_STATE_LABELS = {
    AlarmState.OPEN: gettext_noop("Open"),
    AlarmState.ACKNOWLEDGED: gettext_noop("Acknowledged"),
    AlarmState.CLOSED: gettext_noop("Closed"),
}
