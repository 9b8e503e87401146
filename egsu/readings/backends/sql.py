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

import json
import logging
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache

from django.db import DatabaseError, IntegrityError, OperationalError, connections, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum, Window
from django.db.models.functions import Collate, RowNumber

from egsu.bulk_rows import insert_rows
from egsu.readings.aggregation import EXACT, aggregate_stream
from egsu.readings.models import Reading
from egsu.readings.store import (
    CHUNK_ROWS,
    AggregateRow,
    AggregateTuple,
    Bucket,
    Group,
    Measures,
    ReadingColumns,
    ReadingQuery,
    ReadingRow,
    RowOrder,
    SeriesKey,
    SeriesPair,
    SeriesSet,
    WriteOutcome,
    WriteSummary,
    batched,
    check_chunk_rows,
    check_columns,
    check_grouping,
    check_page,
    check_row,
    chunked_aggregates,
    repeats,
    tidy_value,
)
from egsu_core.clock import utcnow

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

    in_django_database = True  # a write joins the caller's transaction on `using`

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

    # -- retention (egsu.ops.retention) --------------------------------------------------------

    def purge_before(self, cutoff: datetime) -> int:
        """Delete every revision of every value whose period starts before `cutoff`; the rows deleted."""
        from egsu.readings.models import Reading

        deleted, _ = Reading.objects.using(self.using).filter(period_start__lt=cutoff).delete()
        return deleted

    # -- writing -------------------------------------------------------------------------------

    def write(self, rows: Sequence[ReadingRow]) -> list[WriteOutcome]:
        """Store rows in one transaction; one outcome per row, in input order."""
        checked = [check_row(row) for row in rows]
        if not checked:
            return []
        keys = _value_keys(
            [(row.key.object_id, row.key.device_id, row.key.quantity, row.interval) for row in checked],
            [row.period_start for row in checked],
        )
        return self._write(
            keys,
            [row.value for row in checked],
            [row.unit for row in checked],
            [row.quality for row in checked],
            [row.commercial for row in checked],
            [row.source for row in checked],
        )

    def write_columns(self, columns: ReadingColumns) -> list[WriteOutcome]:
        """`write()` of values given as columns (both intakes' bulk form), without a row object per value.

        The same transaction, revisions and answers as `write()`; each distinct text and instant
        is checked once (`check_columns`) instead of every value's row.
        """
        check_columns(columns)
        count = len(columns)
        if not count:
            return []
        keys = _value_keys(
            zip(columns.object_id, columns.device_id, columns.quantity, columns.interval, strict=True),
            columns.period_start,
        )
        return self._write(
            keys, columns.value, columns.unit, columns.quality, columns.commercial, [columns.source] * count
        )

    def _write(self, keys: list[ValueKey], *columns: Sequence) -> list[WriteOutcome]:
        """`_write_once` in a transaction, run again when a concurrent writer won a race."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                with transaction.atomic(using=self.using):
                    return self._write_once(keys, *columns)
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

    def _write_once(
        self,
        keys: list[ValueKey],
        values: Sequence[Decimal],
        units: Sequence[str],
        qualities: Sequence[str],
        commercials: Sequence[bool],
        sources: Sequence[str],
    ) -> list[WriteOutcome]:
        """Decide each value's outcome against the newest stored revisions, then insert the new ones."""
        newest = self._newest_revisions(set(keys))
        outcomes: list[WriteOutcome] = []
        inserts: list[tuple] = []
        recorded_at = utcnow()
        for key, value, unit, quality, commercial, source in zip(
            keys, values, units, qualities, commercials, sources, strict=True
        ):
            current = newest.get(key)
            if current is None:
                revision, outcome = 1, WriteOutcome.NEW
            elif repeats(current[1], current[2], current[3], value, unit, quality):
                outcomes.append(WriteOutcome.DUPLICATE)
                continue
            else:
                revision, outcome = current[0] + 1, WriteOutcome.REVISED
            # a later value of the same batch sees this one
            newest[key] = (revision, value, unit, quality)
            outcomes.append(outcome)
            inserts.append((*key, revision, value, unit, quality, commercial, source, recorded_at))
        # One global insert order: concurrent writers queue on index entries in the same
        # direction, so they never wait on each other in a cycle (see the module docstring).
        inserts.sort(key=lambda r: r[:6])
        self._insert(inserts)
        return outcomes

    def _insert(self, rows: list[tuple]) -> None:
        """Insert plain tuples (egsu.bulk_rows: COPY on PostgreSQL, executemany elsewhere)."""
        if not rows:
            return
        connection = connections[self.using]
        ops = connection.ops
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
        insert_rows(connection, Reading._meta.db_table, _INSERT_COLUMNS, params, batch=self.insert_batch_size)

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
                # extra() with our own SQL fragment; values travel as parameters
                Reading.objects.using(self.using)  # nosec B610
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
        """`rows(query)`: newest revisions by key and time, streamed."""
        return self.rows(query)

    def rows(
        self,
        query: ReadingQuery,
        *,
        order: RowOrder = "series",
        after: tuple | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> Iterator[ReadingRow]:
        """Newest revisions in `order`, after the keyset `after`, streamed in chunks (store.py)."""
        after = check_page(order, after, offset, limit)
        columns = _ROW_ORDER_COLUMNS[order]
        readings = self._latest(query)
        if after is not None:
            readings = self._after(readings, columns, after)
        readings = readings.order_by(*self._ordering(columns))
        if offset or limit is not None:
            readings = readings[offset : None if limit is None else offset + limit]
        return (_row(reading) for reading in readings.iterator(chunk_size=2000))

    def newest(self, query: ReadingQuery) -> list[ReadingRow]:
        """The value with the latest period_start of each (series, interval), newest revision.

        One query ranks each key's values by time with a window function. Without a commercial
        filter every revision of a value shares its period, so the rows themselves are ranked
        (latest period, then highest revision) and the NOT EXISTS probe is not needed; with one,
        only newest revisions take part (ACC-06).
        """
        candidates = self._matching(query) if not query.filters_newest else self._latest(query)
        ranked = candidates.annotate(
            place=Window(
                RowNumber(),
                partition_by=[F(column) for column in _SERIES_INTERVAL],
                order_by=[F("period_start").desc(), F("revision").desc()],
            )
        )
        newest = ranked.filter(place=1).order_by(*self._ordering(_SERIES_INTERVAL))
        return [_row(reading) for reading in newest.iterator(chunk_size=2000)]

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

    def aggregate(
        self,
        query: ReadingQuery,
        *,
        bucket: Bucket,
        group: Group,
        labels: Mapping[SeriesPair, str] | None = None,
        measures: Measures = "all",
    ) -> list[AggregateRow]:
        """Aggregates of the newest revisions, computed in Python over the streamed values.

        Exact on both SQLite (whose decimal column is a double) and PostgreSQL; the embedded
        default serves a region or a country badly, which is what the ClickHouse backend is for.
        """
        return list(self.aggregate_iter(query, bucket=bucket, group=group, labels=labels, measures=measures))

    def aggregate_iter(
        self,
        query: ReadingQuery,
        *,
        bucket: Bucket,
        group: Group,
        labels: Mapping[SeriesPair, str] | None = None,
        measures: Measures = "all",
    ) -> Iterator[AggregateRow]:
        """`aggregate()` as a stream: values are read in series order and each series' (or
        object's) rows are emitted when the next one starts (`aggregate_stream`); groups across
        series (quantity, all, label) hold one row per group and bucket until the end."""
        check_grouping(bucket, group, labels, measures)
        readings = self._latest(query)
        if labels is not None:
            readings = self._pairs_filter(readings, list(labels))
        if group in ("series", "object"):
            readings = readings.order_by(*self._ordering(_SERIES_COLUMNS))
        else:
            readings = readings.order_by()
        values = readings.values_list("object_id", "device_id", "quantity", "period_start", "value")
        rows = aggregate_stream(values.iterator(chunk_size=5000), bucket=bucket, group=group, labels=labels)
        return rows if measures == "all" else (row.sums_only() for row in rows)

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
        """`aggregate_iter()` as chunks of plain tuples (store.py). The values come through a
        server-side cursor on PostgreSQL (chunks of 5,000 on SQLite), in series order for groups
        "series" and "object", so each series' rows leave when the next series starts."""
        rows = self.aggregate_iter(query, bucket=bucket, group=group, labels=labels, measures=measures)
        check_chunk_rows(chunk_rows)
        return chunked_aggregates(rows, chunk_rows)

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
        if query.qualities is not None:
            rows = rows.filter(quality__in=list(query.qualities))
        if query.series is not None:
            rows = self._series_filter(rows, query.series)
        if query.windows:
            rows = self._windows_filter(rows, query.windows)
        if query.after_series is not None:
            object_id, device_id = query.after_series
            if device_id is None:
                rows = self._after(rows, ("object_id",), (object_id,))
            else:
                rows = self._after(rows, ("object_id", "device_id"), (object_id, device_id))
        return rows

    def _series_filter(self, rows: QuerySet[Reading], series: SeriesSet) -> QuerySet[Reading]:
        """Only the metering points of `series`: a subquery for a queryset on this database
        (`QuerySeries`), else the pairs themselves as one parameter (`_pairs_filter`)."""
        queryset = getattr(series, "queryset", None)
        if isinstance(queryset, QuerySet) and queryset.db == self.using:
            members = queryset.order_by().filter(
                **{series.object_field: OuterRef("object_id"), series.device_field: OuterRef("device_id")}
            )
            return rows.filter(Exists(members))
        return self._pairs_filter(rows, series.pairs())

    def _pairs_filter(self, rows: QuerySet[Reading], pairs: Iterable[SeriesPair]) -> QuerySet[Reading]:
        """Only these (object_id, device_id) pairs, however many (100,000 and more).

        The pairs travel as one parameter, never as SQL text or one placeholder each: two arrays
        unnested on PostgreSQL, a JSON array on SQLite. The statement is the same size for any
        number of pairs, and no expression grows with it.
        """
        pairs = [(str(object_id), str(device_id)) for object_id, device_id in pairs]
        if not pairs:
            return rows.none()
        connection = connections[self.using]
        columns = f"({self._column('object_id')}, {self._column('device_id')})"
        if connection.vendor == "postgresql":
            where = f"{columns} IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
            params: list = [[pair[0] for pair in pairs], [pair[1] for pair in pairs]]
        elif connection.vendor == "sqlite":
            where = f"{columns} IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(%s))"
            params = [json.dumps(pairs)]
        else:  # not a supported database; a literal list is correct, if slow for many pairs
            where = f"{columns} IN (VALUES {', '.join(['(%s, %s)'] * len(pairs))})"
            params = [part for pair in pairs for part in pair]
        # extra() with our own SQL fragment; values travel as parameters
        return rows.extra(where=[where], params=params)  # nosec B610

    def _windows_filter(self, rows: QuerySet[Reading], windows) -> QuerySet[Reading]:
        """Not the values of a windowed series outside its window [from, until) (ReadingQuery.windows).

        The windows travel as one parameter (arrays on PostgreSQL, a JSON array on SQLite) into one
        NOT EXISTS probe, so the statement does not grow with the number of replacements (an OR term
        per window would, and SQLite refuses expressions deeper than 1000).
        """
        connection = connections[self.using]
        adapt = connection.ops.adapt_datetimefield_value
        entries = [
            (str(o), str(d), None if lo is None else adapt(_utc(lo)), None if hi is None else adapt(_utc(hi)))
            for o, d, lo, hi in windows
        ]
        own = {name: self._column(name) for name in ("object_id", "device_id", "period_start")}
        if connection.vendor == "postgresql":
            where = (
                "NOT EXISTS (SELECT 1 FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[])"
                f" AS w(o, d, lo, hi) WHERE w.o = {own['object_id']} AND w.d = {own['device_id']}"
                f" AND ({own['period_start']} < w.lo OR {own['period_start']} >= w.hi))"
            )
            params: list = [[e[i] for e in entries] for i in range(4)]
        elif connection.vendor == "sqlite":
            where = (
                "NOT EXISTS (SELECT 1 FROM json_each(%s) AS w WHERE json_extract(w.value, '$[0]') ="
                f" {own['object_id']} AND json_extract(w.value, '$[1]') = {own['device_id']} AND"
                f" ({own['period_start']} < json_extract(w.value, '$[2]')"
                f" OR {own['period_start']} >= json_extract(w.value, '$[3]')))"
            )
            params = [json.dumps([[o, d, None if lo is None else str(lo), None if hi is None else str(hi)]
                                  for o, d, lo, hi in entries])]  # fmt: skip
        else:  # not a supported database: one condition per window, correct if slow for many
            return rows.exclude(_outside_windows(windows))
        # extra() with our own SQL fragment; values travel as parameters
        return rows.extra(where=[where], params=params)  # nosec B610

    def _after(self, rows: QuerySet[Reading], columns: tuple[str, ...], key: tuple) -> QuerySet[Reading]:
        """Rows whose `columns` sort strictly after `key` (one row-value comparison, index friendly)."""
        connection = connections[self.using]
        collate = self._collate()
        parts, params = [], []
        for column, value in zip(columns, key, strict=True):
            if column == "period_start":
                parts.append(self._column(column))
                params.append(connection.ops.adapt_datetimefield_value(value))
            else:
                parts.append(self._column(column) + collate)
                params.append(value)
        if len(parts) == 1:
            # extra() with our own SQL fragment; values travel as parameters
            return rows.extra(where=[f"{parts[0]} > %s"], params=params)  # nosec B610
        placeholders = ", ".join(["%s"] * len(parts))
        # extra() with our own SQL fragment; values travel as parameters
        return rows.extra(where=[f"({', '.join(parts)}) > ({placeholders})"], params=params)  # nosec B610

    def _column(self, name: str) -> str:
        ops = connections[self.using].ops
        return f"{ops.quote_name(Reading._meta.db_table)}.{ops.quote_name(name)}"

    def _ordering(self, columns: tuple[str, ...]) -> list:
        """ORDER BY `columns`, text in code point order as the other backends and Python sort."""
        if not self._collate():
            return list(columns)
        return [F(column) if column == "period_start" else Collate(F(column), "C") for column in columns]

    def _collate(self) -> str:
        """' COLLATE "C"' where the database would otherwise sort text by a language's rules.

        SQLite compares text bytewise (code point order for UTF-8). PostgreSQL follows the
        database's collation: in a C or C.UTF-8 database, plain ORDER BY already is code point
        order and can walk the unique index, so the clause is added only elsewhere.
        """
        connection = connections[self.using]
        if connection.vendor != "postgresql":
            return ""
        return _postgres_collate(connection.settings_dict["NAME"], connection)


_SERIES_COLUMNS = ("object_id", "device_id", "quantity", "interval", "period_start")
_SERIES_INTERVAL = _SERIES_COLUMNS[:4]
_ROW_ORDER_COLUMNS: dict[str, tuple[str, ...]] = {
    "series": _SERIES_COLUMNS,
    "time": ("period_start", "object_id", "device_id", "quantity", "interval"),
}
_BYTEWISE_COLLATIONS = {"c", "posix", "c.utf-8", "c.utf8", "ucs_basic"}
_collations: dict[str, str] = {}


def _postgres_collate(name: str, connection) -> str:
    """The COLLATE clause a PostgreSQL database needs for code point order (asked once per database)."""
    if name not in _collations:
        with connection.cursor() as cursor:
            cursor.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
            (collation,) = cursor.fetchone()
        _collations[name] = "" if collation.lower() in _BYTEWISE_COLLATIONS else ' COLLATE "C"'
    return _collations[name]


def _value_keys(series: Iterable[tuple[str, str, str, str]], starts: Sequence[datetime]) -> list[ValueKey]:
    """Each value's key from its (object, device, quantity, interval) and period start; a batch holds
    few distinct instants, so each is converted to UTC once."""
    utc = {moment: _utc(moment) for moment in set(starts)}
    return [(*head, utc[start]) for head, start in zip(series, starts, strict=True)]


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
    """Exact sums per quantity: PostgreSQL's numeric sum, or added up in Python (SQLite sums doubles).

    PostgreSQL sends one row a quantity instead of every value. (Read through a cursor planned for its
    first rows, these values once took 164 s for 32,000 of a freshly loaded table: a nested loop read
    the table once a row. Cursors are planned whole now, conf._planned_whole.)"""
    totals: dict[str, Decimal] = {}
    if connections[rows.db].vendor == "postgresql":
        for quantity, total in rows.order_by().values_list("quantity").annotate(total=Sum("value")):
            totals[quantity] = total
    else:
        for quantity, value in rows.values_list("quantity", "value").iterator(chunk_size=5000):
            totals[quantity] = EXACT.add(totals.get(quantity, Decimal(0)), value)
    return {quantity: tidy_value(total) for quantity, total in sorted(totals.items())}


def _outside_windows(windows) -> Q:
    """The values of windowed series outside their window [from, until) (ReadingQuery.windows)."""
    outside = Q(pk__in=[])
    for object_id, device_id, start, end in windows:
        beyond = Q(pk__in=[])
        if start is not None:
            beyond |= Q(period_start__lt=_utc(start))
        if end is not None:
            beyond |= Q(period_start__gte=_utc(end))
        outside |= Q(object_id=object_id, device_id=device_id) & beyond
    return outside
