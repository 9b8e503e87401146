"""The readings store interface: one long-format row per measured value (design.md).

Rows are never updated in place. Writing a value for a key that already holds
the same value changes nothing (DUPLICATE); a different value adds a revision
(REVISED) that points at its source. "The same value" is `repeats()`: the
same number and unit, unless a delivered value replaces an estimate. Backends: SQL
(SQLite, PostgreSQL), the embedded default, and ClickHouse at national scale
(docs/decisions/0006-readings-at-scale.md).

Reading. This interface is the only read path: every page, chart, total, export and API answer
asks it, and every backend answers alike (one contract test suite runs on all of them). Reads
see newest revisions only. `rows()` streams or pages values (keyset `after` or `offset`),
`newest()` gives each series' last value, `count()`/`totals()`/`aggregate()` summarise,
`aggregate_iter()` streams large summaries and `aggregate_chunks()` streams them as chunks of plain
tuples (a region per point, for streamed API answers). `ReadingQuery.series` restricts any of them to a
set of metering points, `after_series` pages per series or object.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Context, Decimal, InvalidOperation
from enum import StrEnum
from itertools import islice
from typing import Literal, Protocol

from egsu_core.vocabulary import Interval

# The intervals a value may cover (ISO 8601 durations; egsu_core.vocabulary.Interval says what each is).
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

# What an aggregate row is per: a series, an object (per quantity), a quantity, everything
# matched (the caller filters to comparable quantities first), or a label the caller gives each
# (object, device) pair, per quantity: a subject, a region (ANA-05/07: local, regional, national).
Group = Literal["series", "object", "quantity", "all", "label"]
GROUPS: tuple[str, ...] = ("series", "object", "quantity", "all", "label")

# What an aggregate computes: every figure, or only sum and count (totals: ANA-04..07), which lets a
# backend answer from coarser pre-aggregates (ClickHouse's national day totals, ADR 0006); the
# figures not asked for (min, max, first, last) are then None on every backend.
Measures = Literal["all", "sums"]
MEASURES: tuple[str, ...] = ("all", "sums")

# The orders `rows()` can stream in, and the key each sorts by (text by code point, as Python
# compares str: bytewise UTF-8 on ClickHouse and SQLite, COLLATE "C" on PostgreSQL when needed).
#   series: (object_id, device_id, quantity, interval, period_start) — a point's history
#   time:   (period_start, object_id, device_id, quantity, interval) — arrivals, exports by time
RowOrder = Literal["series", "time"]
ROW_ORDERS: tuple[str, ...] = ("series", "time")

# (object_id, device_id): one metering point as the store knows it.
SeriesPair = tuple[str, str]


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


def fitting_text(value: Decimal) -> str | None:
    """`egsu.readings.claims.canonical(value)` when `value_fits(value)`, else None: both in one pass.

    The intake checks and writes every value of a batch (issue 13: tens of thousands a second),
    so it decides the fit on the canonical text it needs anyway: after the trailing zeros of the
    fraction, at most 12 decimals, at most 15 digits before the point, and at most 15 significant
    digits when there are digits before the point (below 1, 12 decimals are fewer than 15 digits).
    """
    if not value.is_finite():
        return None
    text = format(value, "f")
    if "." not in text:
        return text if len(text.lstrip("-").lstrip("0")) <= VALUE_INTEGER_DIGITS else None
    text = text.rstrip("0").rstrip(".")
    whole, _, fraction = text.partition(".")
    if len(fraction) > VALUE_DECIMAL_PLACES:
        return None
    whole = whole.lstrip("-").lstrip("0")
    if len(whole) > VALUE_INTEGER_DIGITS or (whole and len(whole) + len(fraction) > VALUE_SIGNIFICANT_DIGITS):
        return None
    return text


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
    """`repeats()` of `row` against the newest stored revision (value, unit, quality)."""
    return repeats(value, unit, quality, row.value, row.unit, row.quality)


def repeats(
    value: Decimal, unit: str, quality: str, new_value: Decimal, new_unit: str, new_quality: str
) -> bool:
    """Whether a value repeats the newest stored revision (value, unit, quality): DUPLICATE, nothing written.

    The same number in the same unit is a repeat whatever the quality, with one exception: a
    delivered value (any quality but estimated) for a slot whose newest revision is an estimate
    is a new revision even when the number matches, so the slot shows that it now holds what the
    meter measured (AMI-16: substituted values stay visible as such, and stop being shown once
    replaced). An estimate arriving for a delivered value of the same number is a repeat: it
    must not relabel a measured value as estimated. Every backend decides with this rule.
    """
    if new_value != value or new_unit != unit:
        return False
    return not (quality == Quality.ESTIMATED and new_quality != Quality.ESTIMATED)


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


@dataclass
class ReadingColumns:
    """Many values as columns: the bulk form of `ReadingRow` for writers of thousands of values.

    Position i of every list is one value; the source (one message or batch) is shared. Both
    intakes (AMI batches, ISUN messages) build these instead of a ReadingRow per value, and a
    backend that writes columns (`write_columns`) takes them as they are: ClickHouse claims and
    inserts them column by column (issue 13: "insert columns, not rows"), the SQL store decides and
    inserts them without a row object per value. Any other backend gets `rows()`.
    """

    source: str
    object_id: list[str] = field(default_factory=list)
    device_id: list[str] = field(default_factory=list)
    quantity: list[str] = field(default_factory=list)
    interval: list[str] = field(default_factory=list)
    period_start: list[datetime] = field(default_factory=list)  # UTC, aware
    value: list[Decimal] = field(default_factory=list)
    unit: list[str] = field(default_factory=list)
    quality: list[str] = field(default_factory=list)
    commercial: list[bool] = field(default_factory=list)
    # `fitting_text` of each value when the writer has it (the intake: its check computes it); else empty.
    # A backend that stores the canonical text (ClickHouse's claims) then neither refits nor rewrites it.
    text: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.value)

    def append(
        self,
        object_id: str,
        device_id: str,
        quantity: str,
        interval: str,
        period_start: datetime,
        value: Decimal,
        unit: str,
        quality: str,
        commercial: bool,
        text: str | None = None,
    ) -> None:
        """One value; `text` (its `fitting_text`) when every value of these columns has one."""
        if text is not None:
            self.text.append(text)
        self.object_id.append(object_id)
        self.device_id.append(device_id)
        self.quantity.append(quantity)
        self.interval.append(interval)
        self.period_start.append(period_start)
        self.value.append(value)
        self.unit.append(unit)
        self.quality.append(quality)
        self.commercial.append(commercial)

    @classmethod
    def of_rows(cls, rows: Sequence[ReadingRow]) -> ReadingColumns:
        """`rows` (of one source: the first's) as columns; the inverse of `rows()`."""
        columns = cls(source=rows[0].source if rows else "")
        for row in rows:
            key = row.key
            columns.append(key.object_id, key.device_id, key.quantity, row.interval, row.period_start, row.value,
                           row.unit, row.quality, row.commercial)  # fmt: skip
        return columns

    def rows(self) -> list[ReadingRow]:
        """The same values as ReadingRows, in order."""
        source = self.source
        return [
            ReadingRow(SeriesKey(o, d, q), i, p, v, u, ql, source, c)
            for o, d, q, i, p, v, u, ql, c in zip(
                self.object_id, self.device_id, self.quantity, self.interval, self.period_start,
                self.value, self.unit, self.quality, self.commercial, strict=True,
            )
        ]  # fmt: skip


def check_columns(columns: ReadingColumns) -> ReadingColumns:
    """`check_row` for every value of `columns`, each distinct text and instant checked once."""
    lengths = {len(column) for column in (columns.object_id, columns.device_id, columns.quantity,
               columns.interval, columns.period_start, columns.unit, columns.quality, columns.commercial)}  # fmt: skip
    if lengths - {len(columns.value)}:
        raise ValueError("the columns of a ReadingColumns differ in length")
    unknown = set(columns.interval) - KNOWN_INTERVALS
    if unknown:
        raise ValueError(f"unknown interval {min(unknown)!r}; known: {', '.join(sorted(KNOWN_INTERVALS))}")
    if any(moment.tzinfo is None for moment in set(columns.period_start)):
        raise ValueError("naive datetime: the readings store takes aware instants only")
    texts = {"object_id": columns.object_id, "device_id": columns.device_id, "quantity": columns.quantity,
             "unit": columns.unit, "quality": columns.quality}  # fmt: skip
    for name, column in texts.items():
        limit = TEXT_LIMITS[name]
        for text in set(column):
            if len(text) > limit:
                raise ValueError(f"{name} is longer than {limit} characters: {text[:20]!r}…")
    if len(columns.source) > _SOURCE_LIMIT:
        raise ValueError(f"source is longer than {_SOURCE_LIMIT} characters: {columns.source[:20]!r}…")
    if columns.text:
        if len(columns.text) != len(columns.value):
            raise ValueError("the columns of a ReadingColumns differ in length")
        return columns  # each text is fitting_text(value): the value fits
    fits = value_fits
    for value in columns.value:
        if not fits(value):
            raise UnrepresentableValueError(f"value {value!r} cannot be stored exactly")
    return columns


def joins_transaction(store: ReadingsStore) -> bool:
    """Whether the store's writes join the caller's Django transaction (SQL) or commit by themselves
    (ClickHouse: its claims, ADR 0013), so that a caller need not hold its own transaction open round them."""
    return getattr(store, "in_django_database", True)


def write_columns(store: ReadingsStore, columns: ReadingColumns) -> list[WriteOutcome]:
    """Store `columns` atomically, one outcome per value in order: `store.write_columns()` where the
    backend has it (ClickHouse), else `store.write(columns.rows())`."""
    if not len(columns):
        return []
    native = getattr(store, "write_columns", None)
    if native is not None:
        return native(columns)
    return store.write(columns.rows())


class SeriesSet(Protocol):
    """A set of metering points, i.e. (object_id, device_id) pairs, that a query is restricted to.

    `series_of()` holds one in Python. A backend may recognise richer sets: the SQL backend
    turns a Django-side set with a `queryset` attribute (egsu.readings.query_series.QuerySeries)
    into a subquery instead of reading its pairs. Every backend accepts any set through `pairs()`.
    """

    def pairs(self) -> Iterable[SeriesPair]: ...

    def __len__(self) -> int: ...


class SeriesPairs:
    """A `SeriesSet` of pairs held in memory, sorted and without repeats (see `series_of`)."""

    __slots__ = ("_pairs",)

    def __init__(self, pairs: Iterable[SeriesPair]) -> None:
        unique = set()
        for pair in pairs:
            if len(pair) != 2 or not all(isinstance(part, str) for part in pair):
                raise ValueError(f"a series is an (object_id, device_id) pair of strings, not {pair!r}")
            unique.add((pair[0], pair[1]))
        self._pairs: tuple[SeriesPair, ...] = tuple(sorted(unique))

    def pairs(self) -> tuple[SeriesPair, ...]:
        return self._pairs

    def __len__(self) -> int:
        return len(self._pairs)

    def __repr__(self) -> str:
        return f"series_of(<{len(self._pairs)} pairs>)"


def series_of(pairs: Iterable[SeriesPair]) -> SeriesPairs:
    """The metering points of a plain collection of (object_id, device_id) pairs."""
    return SeriesPairs(pairs)


@dataclass(frozen=True)
class ReadingQuery:
    """Which values a read is about; every filter given must hold (AND). None means no filter.

    `series` restricts to metering points ((object_id, device_id) pairs). `after_series` keeps
    only series whose (object_id, device_id) sorts strictly after the pair (code point order);
    `(object_id, None)` keeps only objects after that object. It filters before anything is
    aggregated, so it is the cursor of a per-series or per-object answer: read a page of
    `aggregate_iter(group="series"|"object")` up to the end of a series (or object), and ask for
    the next page after it. On ClickHouse it prunes by the primary key, so a page costs a page.
    """

    object_ids: Sequence[str] | None = None
    device_ids: Sequence[str] | None = None
    quantities: Sequence[str] | None = None
    interval: str | None = None
    start: datetime | None = None  # inclusive, UTC
    end: datetime | None = None  # exclusive, UTC
    commercial: bool | None = None
    series: SeriesSet | None = None
    after_series: tuple[str, str | None] | None = None
    qualities: Sequence[str] | None = None  # of the newest revision, like `commercial` (AMI-16 counts)
    # Service windows: (object_id, device_id, from, until) — that series' values count only inside
    # [from, until) (either end None: open); series not listed are not restricted. A device replaced
    # by another (DIG-45, OGM-12) counts up to the replacement and its successor from then, so a
    # metering point reads continuously and nothing is counted twice (egsu.points.lineage). None:
    # the windows the System keeps (the store `get_store()` gives fills them in); (): none at all.
    windows: tuple[tuple[str, str, datetime | None, datetime | None], ...] | None = None

    @property
    def filters_newest(self) -> bool:
        """Whether a filter applies to the newest revision's own fields (commercial, quality)."""
        return self.commercial is not None or self.qualities is not None

    def __post_init__(self) -> None:
        for window in self.windows or ():
            if (
                len(window) != 4
                or not all(isinstance(part, str) for part in window[:2])
                or not all(
                    moment is None or (isinstance(moment, datetime) and moment.tzinfo)
                    for moment in window[2:]
                )
            ):
                raise ValueError(
                    f"a window is (object_id, device_id, aware from or None, aware until or None), not {window!r}"
                )
        after = self.after_series
        if after is not None and (
            len(after) != 2 or not isinstance(after[0], str) or not isinstance(after[1], str | None)
        ):
            raise ValueError(f"after_series is an (object_id, device_id or None) pair, not {after!r}")


@dataclass(frozen=True)
class AggregateRow:
    """Newest revisions of one group in one bucket. Fields outside the group are None.

    first/last are the values with the earliest/latest period_start; when several series of a
    group share that instant, the smallest (first) or largest (last) (object, device, quantity).
    `label` is set for group "label" only (which keeps the quantity, like group "object").
    min/max/first/last are None when only sums were asked for (`measures="sums"`).
    """

    object_id: str | None
    device_id: str | None
    quantity: str | None
    bucket_start: datetime  # UTC, aware
    sum: Decimal
    min: Decimal | None
    max: Decimal | None
    count: int
    first: Decimal | None
    last: Decimal | None
    label: str | None = None

    def sums_only(self) -> AggregateRow:
        """The same row with only sum and count (what `measures="sums"` answers)."""
        return replace(self, min=None, max=None, first=None, last=None)


# One aggregate of a streamed chunk (`ReadingsStore.aggregate_chunks`), plain values in AGGREGATE_FIELDS
# order: no object per row. bucket_start is an aware UTC datetime (rows of one bucket share it); the
# figures are decimal text as `decimal_text()` writes them (None where not computed, `measures="sums"`);
# count an int.
AGGREGATE_FIELDS: tuple[str, ...] = ("label", "object_id", "device_id", "quantity", "bucket_start", "sum",
                                     "min", "max", "count", "first", "last")  # fmt: skip
AggregateTuple = tuple[
    str | None,
    str | None,
    str | None,
    str | None,
    datetime,
    str,
    str | None,
    str | None,
    int,
    str | None,
    str | None,
]
# Rows per chunk of `aggregate_chunks()`: big enough that the per-chunk work is negligible, small
# enough that a chunk leaves within milliseconds of the engine sending it.
CHUNK_ROWS = 5000


def decimal_text(value: Decimal | None) -> str | None:
    """A figure as a streamed answer writes it: plain digits, no exponent, no padding zeros."""
    return None if value is None else format(tidy_value(value), "f")


def aggregate_tuple(row: AggregateRow) -> AggregateTuple:
    """`row` as a streamed chunk holds it (AGGREGATE_FIELDS)."""
    text = decimal_text
    return (row.label, row.object_id, row.device_id, row.quantity, row.bucket_start, text(row.sum),
            text(row.min), text(row.max), row.count, text(row.first), text(row.last))  # fmt: skip


def check_chunk_rows(size: object) -> int:
    """`aggregate_chunks()`'s chunk size, refused at the call (its chunks are made lazily, later)."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"chunk_rows must be a whole number ≥ 1, not {size!r}")
    return size


def chunked_aggregates(
    rows: Iterable[AggregateRow], size: int = CHUNK_ROWS
) -> Iterator[list[AggregateTuple]]:
    """`aggregate_iter()`'s rows as `aggregate_chunks()` gives them: for backends that aggregate in Python."""
    check_chunk_rows(size)
    iterator = iter(rows)
    try:
        while chunk := [aggregate_tuple(row) for row in islice(iterator, size)]:
            yield chunk
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


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


def row_order_key(row: ReadingRow, order: RowOrder) -> tuple:
    """The key `rows(order=…)` sorts by; the `after` of the next page is this key of the last row."""
    key = row.key
    if order == "series":
        return (key.object_id, key.device_id, key.quantity, row.interval, row.period_start)
    if order == "time":
        return (row.period_start, key.object_id, key.device_id, key.quantity, row.interval)
    raise ValueError(f"unknown order {order!r}; known: {', '.join(ROW_ORDERS)}")


def check_page(order: str, after: tuple | None, offset: int, limit: int | None) -> tuple | None:
    """Refuse a malformed page request; `after` with its instant in UTC."""
    if order not in ROW_ORDERS:
        raise ValueError(f"unknown order {order!r}; known: {', '.join(ROW_ORDERS)}")
    if not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a whole number ≥ 0, not {offset!r}")
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be a whole number ≥ 0 or None, not {limit!r}")
    if after is None:
        return None
    at = 4 if order == "series" else 0
    if (
        len(after) != 5
        or not isinstance(after[at], datetime)
        or not all(isinstance(part, str) for index, part in enumerate(after) if index != at)
    ):
        shape = "(object_id, device_id, quantity, interval, period_start)"
        if order == "time":
            shape = "(period_start, object_id, device_id, quantity, interval)"
        raise ValueError(f"after must be the {order} key {shape} of the last row read, not {after!r}")
    if after[at].tzinfo is None:
        raise ValueError("naive datetime: the readings store takes aware instants only")
    return (*after[:at], after[at].astimezone(UTC), *after[at + 1 :])


def check_grouping(
    bucket: str, group: str, labels: Mapping[SeriesPair, str] | None, measures: str = "all"
) -> None:
    """Refuse an unknown bucket, group or measures, and labels without group "label" (or the reverse)."""
    if measures not in MEASURES:
        raise ValueError(f"unknown measures {measures!r}; known: {', '.join(MEASURES)}")
    if bucket not in BUCKETS:
        raise ValueError(f"unknown bucket {bucket!r}; known: {', '.join(BUCKETS)}")
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}; known: {', '.join(GROUPS)}")
    if (group == "label") != (labels is not None):
        raise ValueError('labels go with group="label", and group="label" needs labels')
    # labels that name their question (`stored_key`, PointLabels) are strings by construction: checking
    # them would read them from the registry, which a store keeping them spares
    if (
        labels is not None
        and getattr(labels, "stored_key", None) is None
        and not all(isinstance(label, str) for label in labels.values())
    ):
        raise ValueError("a label is a string (a subject's BIN, a region's name …)")


class ReadingsStore(Protocol):
    in_django_database: bool
    """True when writes join the caller's Django transaction (see `joins_transaction`)."""

    def write(self, rows: Sequence[ReadingRow]) -> list[WriteOutcome]:
        """Store rows atomically; one outcome per row, in order. Safe under concurrent writers."""

    def latest(self, query: ReadingQuery) -> Iterable[ReadingRow]:
        """`rows(query)`: kept for the callers written before it."""

    def rows(
        self,
        query: ReadingQuery,
        *,
        order: RowOrder = "series",
        after: tuple | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> Iterator[ReadingRow]:
        """The newest revision of every matching (key, interval, period_start), streamed in `order`.

        `after` is `row_order_key()` of the last row of the previous page: the answer starts
        strictly after it (keyset paging, for cursors and exports). `offset` skips that many rows
        first (numbered pages on screen), `limit` caps the answer. The whole answer is never held
        in memory: SQL reads it in chunks, ClickHouse streams it block by block. The first call
        checks the arguments; a malformed page raises ValueError before any row is read.
        """

    def newest(self, query: ReadingQuery) -> list[ReadingRow]:
        """Per (object_id, device_id, quantity, interval) that matches, its value with the latest
        period_start (newest revision, recorded_at set), ordered by that key.

        The last value and last update of a page of metering points (MON-01): give `series` for
        the page. Filters apply to newest revisions (a value revised out of `commercial` is not
        the last commercial value).
        """

    def history(self, key: SeriesKey, interval: str, period_start: datetime) -> list[ReadingRow]:
        """Every revision of one value, oldest first."""

    def count(self, query: ReadingQuery) -> int:
        """How many values (newest revisions) match."""

    def aggregate(
        self,
        query: ReadingQuery,
        *,
        bucket: Bucket,
        group: Group,
        labels: Mapping[SeriesPair, str] | None = None,
        measures: Measures = "all",
    ) -> list[AggregateRow]:
        """sum/min/max/count/first/last of the newest revisions per group and bucket (Astana clock).

        `measures="sums"` computes sum and count only (min/max/first/last None): totals, which
        ClickHouse answers for a whole quantity from its day totals (national pages).

        Ordered by (label, object_id, device_id, quantity, bucket_start); None sorts first.
        Group "label" needs `labels`: (object_id, device_id) → label (a subject's BIN, a region);
        it aggregates per (label, quantity), and the values of series without a label are left
        out. Only group "label" takes labels.
        """

    def aggregate_iter(
        self,
        query: ReadingQuery,
        *,
        bucket: Bucket,
        group: Group,
        labels: Mapping[SeriesPair, str] | None = None,
        measures: Measures = "all",
    ) -> Iterator[AggregateRow]:
        """`aggregate()` streamed, for answers too large to hold (a region per object per quarter
        hour is 3 million rows); page it with `ReadingQuery.after_series`."""

    def aggregate_chunks(
        self,
        query: ReadingQuery,
        *,
        bucket: Bucket,
        group: Group,
        labels: Mapping[SeriesPair, str] | None = None,
        measures: Measures = "all",
        chunk_rows: int = CHUNK_ROWS,
    ) -> Iterator[list[AggregateTuple]]:
        """`aggregate()` in the same order as lists of at most `chunk_rows` plain tuples
        (`aggregate_tuple()` of each row), for answers streamed whole (a region per point is
        3 million rows per quarter-hour day; issue 13: the first rows within a second, the whole
        answer bounded by the engine, not by building a Python object per row).

        Memory stays flat: each chunk is made when the consumer asks for it. ClickHouse asks the
        engine a slice of series (or objects) at a time for groups "series" and "object", so the
        first chunk does not wait for the whole aggregate; SQL reads the values with a server-side
        cursor. Closing the iterator early cancels what is still being read.
        """

    def totals(self, query: ReadingQuery) -> dict[str, Decimal]:
        """Sum of the newest revisions that match, per quantity."""

    def write_many(self, rows: Iterable[ReadingRow], *, batch_size: int = 100_000) -> WriteSummary:
        """Bulk path for loads and replays: `write()` per batch of `batch_size`; each batch atomic."""


def value_stream(store: ReadingsStore, query: ReadingQuery) -> Iterator[tuple]:
    """The newest revisions of `query` in series order as lean tuples: (object_id, device_id, quantity,
    interval, period start in whole seconds UTC, value as a float, unit, quality).

    For column-wise readers (data quality): a backend that can stream these without building a
    ReadingRow per value offers `value_stream()` (ClickHouse); any other answers from `rows()`.
    """
    lean = getattr(store, "value_stream", None)
    if lean is not None:
        yield from lean(query)
        return
    stamps: dict[datetime, int] = {}
    for row in store.rows(query, order="series"):
        key, moment = row.key, row.period_start
        stamp = stamps.get(moment)
        if stamp is None:
            if len(stamps) > 100_000:
                stamps.clear()
            stamp = stamps[moment] = int(moment.timestamp())
        yield (key.object_id, key.device_id, key.quantity, row.interval, stamp, float(row.value), row.unit,
               row.quality)  # fmt: skip
