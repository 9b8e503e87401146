"""The readings store interface: one long-format row per measured value (design.md).

Rows are never updated in place. Writing a value for a key that already holds
the same value changes nothing (DUPLICATE); a different value adds a revision
(REVISED) that points at its source. "The same value" is `repeats_stored()`: the
same number and unit, unless a delivered value replaces an estimate. Backends: SQL
(SQLite, PostgreSQL), the embedded default, and ClickHouse at national scale
(docs/decisions/0006-readings-at-scale.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Context, Decimal, InvalidOperation
from enum import StrEnum
from itertools import islice
from typing import Literal, Protocol

from egsu.vocabulary import Interval

# The intervals a value may cover (ISO 8601 durations; egsu.vocabulary.Interval says what each is).
KNOWN_INTERVALS: frozenset[str] = Interval.stored_codes()

# A value must survive every backend exactly: PostgreSQL numeric keeps any digits, but SQLite
# keeps a decimal column as a double, which holds 15 significant digits. We therefore accept at
# most 15 significant digits, at most 12 after the point and at most 15 before it.
VALUE_SIGNIFICANT_DIGITS = 15
VALUE_DECIMAL_PLACES = 12
VALUE_INTEGER_DIGITS = 15


# Longest text each backend keeps per column (the SQL schema's limits; ClickHouse keeps the same).
TEXT_LIMITS: dict[str, int] = {
    "object_id": 64,
    "device_id": 64,
    "quantity": 32,
    "unit": 16,
    "quality": 32,
    "source": 100,
}

# Aggregation buckets: 15-minute and hourly buckets are the same on every clock (Astana's offsets
# are whole hours); day and month buckets follow the Astana clock, whose offset changed on
# 1 March 2024 (INT-37), so a bucket is not a fixed number of seconds.
Bucket = Literal["PT15M", "PT1H", "P1D", "P1M"]
BUCKETS: tuple[str, ...] = Interval.bucket_codes()

# What an aggregate row is per: a series, an object (per quantity), a quantity, or everything
# matched (the caller filters to comparable quantities first).
Group = Literal["series", "object", "quantity", "all"]
GROUPS: tuple[str, ...] = ("series", "object", "quantity", "all")


class StoreUnavailableError(RuntimeError):
    """The backend could not be reached; the call that raised acknowledged nothing."""


class UnrepresentableValueError(ValueError):
    """A value that a backend could not store exactly; refused rather than rounded."""


def value_fits(value: Decimal) -> bool:
    """Whether a value can be stored and read back unchanged by every backend.

    Digits are counted without trailing zeros: the value fits when its leading digit is at most
    the 15th before the point and it is a whole multiple of the place of its last allowed digit
    (the 12th decimal, or the 15th significant digit when that comes first). Quantizing to that
    place and comparing (exact in any context) decides this without taking the number apart,
    which the intake does twice per value.
    """
    if not isinstance(value, Decimal) or not value.is_finite():
        return False
    if value.is_zero():
        return True
    leading = value.adjusted()  # the exponent of the leading digit: 10**leading <= |value|
    if leading >= VALUE_INTEGER_DIGITS:
        return False
    last = leading - VALUE_SIGNIFICANT_DIGITS + 1
    if last < -VALUE_DECIMAL_PLACES:
        last = -VALUE_DECIMAL_PLACES
    # At most 15 digits result, well within the precision of _QUANTIZE; rounding changes the
    # value exactly when it has a non-zero digit right of `last`. (Context positionally: a
    # keyword argument costs more than the rest of the check.)
    return value.quantize(_PLACES[last], None, _QUANTIZE) == value


_PLACES = {n: Decimal((0, (1,), n)) for n in range(-VALUE_DECIMAL_PLACES, VALUE_INTEGER_DIGITS)}
_QUANTIZE = Context(prec=VALUE_INTEGER_DIGITS + VALUE_DECIMAL_PLACES + 1, traps=[InvalidOperation])


def tidy_value(value: Decimal) -> Decimal:
    """The same number without a column's padding zeros: 132936.600000000000 → 132936.6."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def check_row(row: ReadingRow) -> ReadingRow:
    """Refuse, before anything is written, a row some backend would reject or round."""
    if row.interval not in KNOWN_INTERVALS:
        raise ValueError(f"unknown interval {row.interval!r}; known: {', '.join(sorted(KNOWN_INTERVALS))}")
    if row.period_start.tzinfo is None:
        raise ValueError("naive datetime: the readings store takes aware instants only")
    if not value_fits(row.value):
        raise UnrepresentableValueError(f"value {row.value!r} cannot be stored exactly")
    key = row.key
    if (
        len(key.object_id) > _OBJECT_ID_LIMIT
        or len(key.device_id) > _DEVICE_ID_LIMIT
        or len(key.quantity) > _QUANTITY_LIMIT
        or len(row.unit) > _UNIT_LIMIT
        or len(row.quality) > _QUALITY_LIMIT
        or len(row.source) > _SOURCE_LIMIT
    ):  # every row passes here (the intake's hot path); name the first text too long
        texts = {
            "object_id": key.object_id,
            "device_id": key.device_id,
            "quantity": key.quantity,
            "unit": row.unit,
            "quality": row.quality,
            "source": row.source,
        }
        for name, text in texts.items():
            if len(text) > TEXT_LIMITS[name]:
                raise ValueError(f"{name} is longer than {TEXT_LIMITS[name]} characters: {text[:20]!r}…")
    return row


_OBJECT_ID_LIMIT, _DEVICE_ID_LIMIT = TEXT_LIMITS["object_id"], TEXT_LIMITS["device_id"]
_QUANTITY_LIMIT, _UNIT_LIMIT = TEXT_LIMITS["quantity"], TEXT_LIMITS["unit"]
_QUALITY_LIMIT, _SOURCE_LIMIT = TEXT_LIMITS["quality"], TEXT_LIMITS["source"]


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
    # Substituted for a missing value by the head-end (profile, interpolation), AMI-16
    ESTIMATED = "estimated"


def repeats_stored(value: Decimal, unit: str, quality: str, row: ReadingRow) -> bool:
    """Whether `row` repeats the newest stored revision (value, unit, quality): DUPLICATE, nothing written.

    The same number in the same unit is a repeat whatever the quality, with one exception: a
    delivered value (any quality but estimated) for a slot whose newest revision is an estimate
    is a new revision even when the number matches, so the slot shows that it now holds what the
    meter measured (AMI-16: substituted values stay visible as such, and stop being shown once
    replaced). An estimate arriving for a delivered value of the same number is a repeat: it
    must not relabel a measured value as estimated. Every backend decides with this rule.
    """
    if value != row.value or unit != row.unit:
        return False
    return not (quality == Quality.ESTIMATED and row.quality != Quality.ESTIMATED)


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


@dataclass(frozen=True)
class AggregateRow:
    """Newest revisions of one group in one bucket. Fields outside the group are None.

    first/last are the values with the earliest/latest period_start; when several series of a
    group share that instant, the smallest (first) or largest (last) (object, device, quantity).
    """

    object_id: str | None
    device_id: str | None
    quantity: str | None
    bucket_start: datetime  # UTC, aware
    sum: Decimal
    min: Decimal
    max: Decimal
    count: int
    first: Decimal
    last: Decimal


@dataclass(frozen=True)
class WriteSummary:
    """What a bulk write did, counted by outcome."""

    new: int = 0
    duplicate: int = 0
    revised: int = 0

    def __add__(self, other: WriteSummary) -> WriteSummary:
        return WriteSummary(
            self.new + other.new, self.duplicate + other.duplicate, self.revised + other.revised
        )

    @classmethod
    def of(cls, outcomes: Iterable[WriteOutcome]) -> WriteSummary:
        counts = dict.fromkeys(WriteOutcome, 0)
        for outcome in outcomes:
            counts[outcome] += 1
        return cls(counts[WriteOutcome.NEW], counts[WriteOutcome.DUPLICATE], counts[WriteOutcome.REVISED])


def batched(rows: Iterable[ReadingRow], size: int) -> Iterator[list[ReadingRow]]:
    """Cut a stream of rows into lists of at most `size` (the last may be shorter)."""
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


class ReadingsStore(Protocol):
    def write(self, rows: Sequence[ReadingRow]) -> list[WriteOutcome]:
        """Store rows atomically; one outcome per row, in order. Safe under concurrent writers."""

    def latest(self, query: ReadingQuery) -> Iterable[ReadingRow]:
        """The newest revision of every matching (key, interval, period_start), ordered by key and time."""

    def history(self, key: SeriesKey, interval: str, period_start: datetime) -> list[ReadingRow]:
        """Every revision of one value, oldest first."""

    def count(self, query: ReadingQuery) -> int:
        """How many values (newest revisions) match."""

    def aggregate(self, query: ReadingQuery, *, bucket: Bucket, group: Group) -> list[AggregateRow]:
        """sum/min/max/count/first/last of the newest revisions per group and bucket (Astana clock).

        Ordered by (object_id, device_id, quantity, bucket_start); None sorts first.
        """

    def totals(self, query: ReadingQuery) -> dict[str, Decimal]:
        """Sum of the newest revisions that match, per quantity."""

    def write_many(self, rows: Iterable[ReadingRow], *, batch_size: int = 100_000) -> WriteSummary:
        """Bulk path for loads and replays: `write()` per batch of `batch_size`; each batch atomic."""
