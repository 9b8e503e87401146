"""The readings store interface: one long-format row per measured value (design.md).

Rows are never updated in place. Writing a value for a key that already holds
the same value changes nothing (DUPLICATE); a different value adds a revision
(REVISED) that points at its source. Backends: SQL (SQLite, PostgreSQL) now,
ClickHouse at national scale.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

# The intervals a value may cover (ISO 8601 durations). PT2H and P1D are the oil and gas
# slots (INT-33/34), PT15M electricity and heat (COL-05), PT1H the hourly gas band (AMI-44).
KNOWN_INTERVALS: frozenset[str] = frozenset({"PT15M", "PT1H", "PT2H", "P1D"})

# A value must survive every backend exactly: PostgreSQL numeric keeps any digits, but SQLite
# keeps a decimal column as a double, which holds 15 significant digits. We therefore accept at
# most 15 significant digits, at most 12 after the point and at most 15 before it.
VALUE_SIGNIFICANT_DIGITS = 15
VALUE_DECIMAL_PLACES = 12
VALUE_INTEGER_DIGITS = 15


class UnrepresentableValueError(ValueError):
    """A value that a backend could not store exactly; refused rather than rounded."""


def value_fits(value: Decimal) -> bool:
    """Whether a value can be stored and read back unchanged by every backend."""
    if not isinstance(value, Decimal) or not value.is_finite():
        return False
    if value.is_zero():
        return True
    # as_tuple() rather than normalize(): normalize() rounds to the context precision first.
    _sign, digits, exponent = value.as_tuple()
    while len(digits) > 1 and digits[-1] == 0:  # trailing zeros are not significant
        digits = digits[:-1]
        exponent += 1
    significant = len(digits)
    decimals = max(0, -exponent)
    integer_digits = max(0, significant + exponent)
    return (
        significant <= VALUE_SIGNIFICANT_DIGITS
        and decimals <= VALUE_DECIMAL_PLACES
        and integer_digits <= VALUE_INTEGER_DIGITS
    )


def tidy_value(value: Decimal) -> Decimal:
    """The same number without a column's padding zeros: 132936.600000000000 → 132936.6."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


class WriteOutcome(StrEnum):
    NEW = "NEW"
    DUPLICATE = "DUPLICATE"
    REVISED = "REVISED"


class Quality(StrEnum):
    """Quality flags stored with a value (a comma-free short code)."""

    GOOD = "good"
    DEVICE_FAULT = "device_fault"  # deviceStatus = no (FMT-05)
    DEVICE_UNKNOWN = "device_unknown"  # deviceStatus absent
    CORRECTED = "corrected"  # manual correction under an act (Rules §53)


@dataclass(frozen=True)
class SeriesKey:
    object_id: str
    device_id: str
    quantity: str  # App.3 field name: tankLevel, volume, mass, …


@dataclass(frozen=True)
class ReadingRow:
    key: SeriesKey
    interval: str  # ISO 8601 duration: PT2H, P1D, PT15M
    period_start: datetime  # UTC, aware
    value: Decimal
    unit: str  # App.3 unit symbol
    quality: str
    source: str  # message id (or act id) the value came from
    commercial: bool = False
    revision: int = 1  # ignored by write(): the store assigns revisions
    recorded_at: datetime | None = None  # set by the store on read; ignored by write()


@dataclass(frozen=True)
class ReadingQuery:
    object_ids: Sequence[str] | None = None
    device_ids: Sequence[str] | None = None
    quantities: Sequence[str] | None = None
    interval: str | None = None
    start: datetime | None = None  # inclusive, UTC
    end: datetime | None = None  # exclusive, UTC
    commercial: bool | None = None


class ReadingsStore(Protocol):
    def write(self, rows: Sequence[ReadingRow]) -> list[WriteOutcome]:
        """Store rows atomically; one outcome per row, in order. Safe under concurrent writers."""

    def latest(self, query: ReadingQuery) -> Iterable[ReadingRow]:
        """The newest revision of every matching (key, interval, period_start), ordered by key and time."""

    def history(self, key: SeriesKey, interval: str, period_start: datetime) -> list[ReadingRow]:
        """Every revision of one value, oldest first."""

    def count(self, query: ReadingQuery) -> int:
        """How many values (newest revisions) match."""
