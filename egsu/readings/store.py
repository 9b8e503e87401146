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
    revision: int = 1


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
