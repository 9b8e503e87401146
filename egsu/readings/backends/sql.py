"""The readings store on the Django ORM (SQLite embedded, PostgreSQL in production).

Concurrency. A write is one transaction: read the newest revision of every key, decide
NEW / DUPLICATE / REVISED, insert. Two writers that decide on the same new revision at the
same time are stopped by the unique constraint on (key, revision): the loser's transaction
rolls back and the whole write is retried, and the retry reads the winner's row. Rows are
inserted in one global order (object, device, quantity, interval, period start, revision),
so on PostgreSQL two writers waiting on each other's uncommitted index entries always wait
in the same direction and cannot deadlock; a deadlock or serialization failure reported
anyway is retried like a lost race. On SQLite, writers are serialised by BEGIN IMMEDIATE
(see egsu.conf), so the race cannot happen there at all.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache

from django.db import DatabaseError, IntegrityError, OperationalError, connections, transaction
from django.db.models import Exists, OuterRef, QuerySet

from egsu.clock import utcnow
from egsu.readings.aggregation import EXACT, aggregate_values
from egsu.readings.models import Reading
from egsu.readings.store import (
    AggregateRow,
    Bucket,
    Group,
    ReadingQuery,
    ReadingRow,
    SeriesKey,
    WriteOutcome,
    WriteSummary,
    batched,
    check_row,
    repeats_stored,
    tidy_value,
)

log = logging.getLogger(__name__)

# (object_id, device_id, quantity, interval, period_start): what one value is about.
ValueKey = tuple[str, str, str, str, datetime]

_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected


_INSERT_COLUMNS = (
    "object_id", "device_id", "quantity", "interval", "period_start", "revision",
    "value", "unit", "quality", "commercial", "source", "recorded_at",
)  # fmt: skip
_VALUE_DIGITS = Reading._meta.get_field("value").max_digits
_VALUE_PLACES = Reading._meta.get_field("value").decimal_places


class SqlReadingsStore:
    """`ReadingsStore` on one Django database connection alias."""

    def __init__(
        self,
        using: str = "default",
        *,
        insert_batch_size: int = 2000,
        lookup_chunk_size: int = 500,
        max_attempts: int = 6,
    ) -> None:
        self.using = using
        self.insert_batch_size = insert_batch_size
        self.lookup_chunk_size = lookup_chunk_size
        self.max_attempts = max_attempts

    # -- writing -------------------------------------------------------------------------------

    def write(self, rows: Sequence[ReadingRow]) -> list[WriteOutcome]:
        """Store rows in one transaction; one outcome per row, in input order."""
        checked = [check_row(row) for row in rows]
        if not checked:
            return []
        for attempt in range(1, self.max_attempts + 1):
            try:
                with transaction.atomic(using=self.using):
                    return self._write_once(checked)
            except IntegrityError:
                # A concurrent writer committed one of our (key, revision) pairs first.
                if attempt == self.max_attempts:
                    raise
                log.info("readings write lost a race (attempt %d), retrying", attempt)
            except OperationalError as exc:
                if _sqlstate(exc) not in _RETRYABLE_SQLSTATES or attempt == self.max_attempts:
                    raise
                log.info("readings write hit %s (attempt %d), retrying", _sqlstate(exc), attempt)
            time.sleep(random.uniform(0.0, 0.02 * attempt))  # jitter, so that racers part
        raise AssertionError("unreachable")  # pragma: no cover

    def write_many(self, rows: Iterable[ReadingRow], *, batch_size: int = 100_000) -> WriteSummary:
        """`write()` per batch of `batch_size` rows; each batch is one transaction."""
        summary = WriteSummary()
        for batch in batched(rows, batch_size):
            summary += WriteSummary.of(self.write(batch))
        return summary

    def _write_once(self, rows: list[ReadingRow]) -> list[WriteOutcome]:
        instants: dict[datetime, datetime] = {}  # a batch holds few distinct instants: convert each once
        keys: list[ValueKey] = []
        for row in rows:
            start = instants.get(row.period_start)
            if start is None:
                start = instants[row.period_start] = _utc(row.period_start)
            keys.append((row.key.object_id, row.key.device_id, row.key.quantity, row.interval, start))
        newest = self._newest_revisions(set(keys))
        outcomes: list[WriteOutcome] = []
        inserts: list[tuple] = []
        recorded_at = utcnow()
        for row, key in zip(rows, keys, strict=True):
            current = newest.get(key)
            if current is None:
                revision, outcome = 1, WriteOutcome.NEW
            elif repeats_stored(current[1], current[2], current[3], row):
                outcomes.append(WriteOutcome.DUPLICATE)
                continue
            else:
                revision, outcome = current[0] + 1, WriteOutcome.REVISED
            # a later row of the same batch sees this one
            newest[key] = (revision, row.value, row.unit, row.quality)
            outcomes.append(outcome)
            inserts.append(
                (*key, revision, row.value, row.unit, row.quality, row.commercial, row.source, recorded_at)
            )
        # One global insert order: concurrent writers queue on index entries in the same
        # direction, so they never wait on each other in a cycle (see the module docstring).
        inserts.sort(key=lambda r: r[:6])
        self._insert(inserts)
        return outcomes

    def _insert(self, rows: list[tuple]) -> None:
        """Insert plain tuples: COPY on PostgreSQL, executemany elsewhere.

        Building model instances and going through bulk_create cost about ten times the bare
        insert of the same rows (benchmarks/README.md), so the hot path skips the ORM here.
        """
        if not rows:
            return
        connection = connections[self.using]
        table = connection.ops.quote_name(Reading._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in _INSERT_COLUMNS)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                import psycopg

                try:
                    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                except psycopg.errors.UniqueViolation as exc:
                    raise IntegrityError(str(exc)) from exc
                except (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected) as exc:
                    raise OperationalError(str(exc)) from exc
                return
            ops = connection.ops
            placeholders = ", ".join(["%s"] * len(_INSERT_COLUMNS))
            # Period starts repeat and recorded_at is one instant: adapt each once.
            instant = cache(ops.adapt_datetimefield_value)

            adapt_decimal = ops.adapt_decimalfield_value
            params = [
                (
                    object_id, device_id, quantity, interval, instant(period_start), revision,
                    adapt_decimal(value, _VALUE_DIGITS, _VALUE_PLACES),
                    unit, quality, commercial, source, instant(recorded_at),
                )
                for (object_id, device_id, quantity, interval, period_start, revision, value, unit, quality,
                     commercial, source, recorded_at) in rows
            ]  # fmt: skip
            for start in range(0, len(params), self.insert_batch_size):
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",
                    params[start : start + self.insert_batch_size],
                )

    def _newest_revisions(self, keys: set[ValueKey]) -> dict[ValueKey, tuple[int, Decimal, str, str]]:
        """Newest (revision, value, unit, quality) of each key that has one, in a few index range queries.

        One query per chunk of (object, device) series pairs, restricted to those exact pairs
        with a row-value IN list: the unique index is then probed once per pair and period range,
        so the work grows with the batch. (Filtering objects and devices by separate IN lists
        made the database probe every object × device combination of the chunk: thousands of
        meters under hundreds of objects cost millions of probes; benchmarks/README.md, AMI.)
        """
        by_pair: dict[tuple[str, str], list[ValueKey]] = defaultdict(list)
        for key in keys:
            by_pair[key[:2]].append(key)
        pairs = sorted(by_pair)
        connection = connections[self.using]
        columns = f"({connection.ops.quote_name('object_id')}, {connection.ops.quote_name('device_id')})"
        newest: dict[ValueKey, tuple[int, Decimal, str, str]] = {}
        for start in range(0, len(pairs), self.lookup_chunk_size):
            chunk = pairs[start : start + self.lookup_chunk_size]
            chunk_keys = [key for pair in chunk for key in by_pair[pair]]
            # A superset of the wanted keys (those pairs' quantities and intervals within the
            # period range), narrowed to the exact keys below.
            candidates = (
                Reading.objects.using(self.using)
                .filter(
                    quantity__in={key[2] for key in chunk_keys},
                    interval__in={key[3] for key in chunk_keys},
                    period_start__gte=min(key[4] for key in chunk_keys),
                    period_start__lte=max(key[4] for key in chunk_keys),
                )
                .extra(
                    where=[f"{columns} IN (VALUES {', '.join(['(%s, %s)'] * len(chunk))})"],
                    params=[part for pair in chunk for part in pair],
                )
                .values_list(
                    "object_id",
                    "device_id",
                    "quantity",
                    "interval",
                    "period_start",
                    "revision",
                    "value",
                    "unit",
                    "quality",
                )
            )
            wanted = set(chunk_keys)
            for object_id, device_id, quantity, interval, period_start, *stored in candidates:
                key = (object_id, device_id, quantity, interval, period_start.astimezone(UTC))
                if key in wanted and (key not in newest or newest[key][0] < stored[0]):
                    newest[key] = tuple(stored)  # (revision, value, unit, quality)
        return newest

    # -- reading -------------------------------------------------------------------------------

    def latest(self, query: ReadingQuery) -> Iterator[ReadingRow]:
        """Newest revision of every matching value, by key and time; streamed."""
        rows = self._latest(query).order_by("object_id", "device_id", "quantity", "interval", "period_start")
        for reading in rows.iterator(chunk_size=2000):
            yield _row(reading)

    def history(self, key: SeriesKey, interval: str, period_start: datetime) -> list[ReadingRow]:
        """Every revision of one value, oldest first."""
        rows = Reading.objects.using(self.using).filter(
            object_id=key.object_id,
            device_id=key.device_id,
            quantity=key.quantity,
            interval=interval,
            period_start=_utc(period_start),
        )
        return [_row(reading) for reading in rows.order_by("revision")]

    def count(self, query: ReadingQuery) -> int:
        """How many values (newest revisions) match: one per key, interval and period."""
        return self._latest(query).count()

    def aggregate(self, query: ReadingQuery, *, bucket: Bucket, group: Group) -> list[AggregateRow]:
        """Aggregates of the newest revisions, computed in Python over the streamed values.

        Exact on both SQLite (whose decimal column is a double) and PostgreSQL; the embedded
        default serves a region or a country badly, which is what the ClickHouse backend is for.
        """
        values = (
            self._latest(query)
            .values_list("object_id", "device_id", "quantity", "period_start", "value")
            .iterator(chunk_size=5000)
        )
        return aggregate_values(values, bucket=bucket, group=group)

    def totals(self, query: ReadingQuery) -> dict[str, Decimal]:
        """Sum of the newest revisions per quantity."""
        return _totals(self._latest(query))

    def _latest(self, query: ReadingQuery) -> QuerySet[Reading]:
        """Matching rows that no later revision of the same value supersedes.

        The NOT EXISTS probe walks the unique (key, revision) index, which is therefore the
        index for "latest" queries. Filters apply to the newest revision: a value whose newest
        revision is not commercial is not counted as commercial because an older one was.
        """
        newer = Reading.objects.using(self.using).filter(
            object_id=OuterRef("object_id"),
            device_id=OuterRef("device_id"),
            quantity=OuterRef("quantity"),
            interval=OuterRef("interval"),
            period_start=OuterRef("period_start"),
            revision__gt=OuterRef("revision"),
        )
        return self._matching(query).filter(~Exists(newer))

    def _matching(self, query: ReadingQuery) -> QuerySet[Reading]:
        rows = Reading.objects.using(self.using).all()
        if query.object_ids is not None:
            rows = rows.filter(object_id__in=list(query.object_ids))
        if query.device_ids is not None:
            rows = rows.filter(device_id__in=list(query.device_ids))
        if query.quantities is not None:
            rows = rows.filter(quantity__in=list(query.quantities))
        if query.interval is not None:
            rows = rows.filter(interval=query.interval)
        if query.start is not None:
            rows = rows.filter(period_start__gte=_utc(query.start))
        if query.end is not None:
            rows = rows.filter(period_start__lt=_utc(query.end))
        if query.commercial is not None:
            rows = rows.filter(commercial=query.commercial)
        return rows


def _sqlstate(exc: DatabaseError) -> str | None:
    return getattr(exc.__cause__, "sqlstate", None)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the readings store takes aware instants only")
    return moment.astimezone(UTC)


def _row(reading: Reading) -> ReadingRow:
    return ReadingRow(
        key=SeriesKey(reading.object_id, reading.device_id, reading.quantity),
        interval=reading.interval,
        period_start=reading.period_start.astimezone(UTC),
        value=tidy_value(reading.value),
        unit=reading.unit,
        quality=reading.quality,
        source=reading.source,
        commercial=reading.commercial,
        revision=reading.revision,
        recorded_at=reading.recorded_at,
    )


def _totals(rows: QuerySet[Reading]) -> dict[str, Decimal]:
    """Exact sums per quantity, added up in Python (SQLite sums doubles)."""
    totals: dict[str, Decimal] = {}
    for quantity, value in rows.values_list("quantity", "value").iterator(chunk_size=5000):
        totals[quantity] = EXACT.add(totals.get(quantity, Decimal(0)), value)
    return {quantity: tidy_value(total) for quantity, total in sorted(totals.items())}
