"""Aggregates of stored values computed in Python, for backends without an aggregating engine.

The SQL backend streams the newest revisions through `aggregate_values`; ClickHouse computes
the same figures in the engine. Both bucket by the Astana clock through the zone database
(INT-37), never by a fixed offset.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from egsu.readings.store import (
    BUCKETS,
    GROUPS,
    AggregateRow,
    Bucket,
    Group,
    SeriesPair,
    check_grouping,
    tidy_value,
)
from egsu_core.clock import ASTANA

# Exact sums of 27-digit values (15 integer + 12 decimal digits) over billions of rows.
EXACT = decimal.Context(prec=60, traps=[decimal.InvalidOperation, decimal.Inexact])

# (object_id, device_id, quantity, period_start UTC, value): one newest revision.
ValueTuple = tuple[str, str, str, datetime, Decimal]


def bucket_start(moment: datetime, bucket: Bucket) -> datetime:
    """Start (UTC) of the bucket that holds `moment`."""
    moment = moment.astimezone(UTC)
    if bucket == "PT15M":
        return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
    if bucket == "PT1H":
        return moment.replace(minute=0, second=0, microsecond=0)
    local = moment.astimezone(ASTANA)
    if bucket == "P1D":
        start = local.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)
    elif bucket == "P1M":
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0, fold=0)
    else:
        raise ValueError(f"unknown bucket {bucket!r}; known: {', '.join(BUCKETS)}")
    return start.astimezone(UTC)


def group_key(object_id: str, device_id: str, quantity: str, group: Group) -> tuple:
    """The (object, device, quantity) fields a group keeps; None for those it sums over."""
    if group == "series":
        return (object_id, device_id, quantity)
    if group == "object":
        return (object_id, None, quantity)
    if group in ("quantity", "label"):  # a label group keeps the quantity; the label comes beside it
        return (None, None, quantity)
    if group == "all":
        return (None, None, None)
    raise ValueError(f"unknown group {group!r}; known: {', '.join(GROUPS)}")


@dataclass
class _Accumulator:
    sum: Decimal = Decimal(0)
    count: int = 0
    min: Decimal | None = None
    max: Decimal | None = None
    first: tuple = field(default=())  # (period_start, object, device, quantity, value)
    last: tuple = field(default=())

    def add(self, order: tuple, value: Decimal) -> None:
        self.sum = EXACT.add(self.sum, value)
        self.count += 1
        self.min = value if self.min is None else min(self.min, value)
        self.max = value if self.max is None else max(self.max, value)
        if not self.first or order < self.first[:-1]:
            self.first = (*order, value)
        if not self.last or order > self.last[:-1]:
            self.last = (*order, value)


class Aggregator:
    """Newest revisions folded into per-(group, bucket) summaries, exactly, in Python.

    `add()` takes values in any order; `take()` hands over the summaries so far, sorted, and
    forgets them, so a caller that feeds values ordered by series can emit each series' (or
    object's) rows as soon as the next one starts and hold only one at a time. Group "label"
    looks each (object, device) up in `labels` and skips the values of series without one.
    """

    def __init__(
        self, *, bucket: Bucket, group: Group, labels: Mapping[SeriesPair, str] | None = None
    ) -> None:
        check_grouping(bucket, group, labels)
        self.bucket, self.group, self.labels = bucket, group, labels
        self._accumulators: dict[tuple, _Accumulator] = {}
        self._starts: dict[datetime, datetime] = {}  # most values share a few hours: cache the zone maths

    def add(
        self, object_id: str, device_id: str, quantity: str, period_start: datetime, value: Decimal
    ) -> None:
        label = None
        if self.labels is not None:
            label = self.labels.get((object_id, device_id))
            if label is None:
                return
        period_start = period_start.astimezone(UTC)
        if self.bucket in ("PT15M", "PT1H"):
            start = bucket_start(period_start, self.bucket)
        else:
            hour = period_start.replace(minute=0, second=0, microsecond=0)
            start = self._starts.get(hour)
            if start is None:
                start = self._starts[hour] = bucket_start(hour, self.bucket)
        key = (label, *group_key(object_id, device_id, quantity, self.group), start)
        accumulator = self._accumulators.get(key)
        if accumulator is None:
            accumulator = self._accumulators[key] = _Accumulator()
        accumulator.add((period_start, object_id, device_id, quantity), value)

    def take(self) -> list[AggregateRow]:
        """The summaries gathered since the last call, in `aggregate_order`."""
        rows = [
            AggregateRow(
                object_id=key[1],
                device_id=key[2],
                quantity=key[3],
                bucket_start=key[4],
                sum=tidy_value(acc.sum),  # as every backend answers: 7332, not 7332.000000000000
                min=tidy_value(acc.min),
                max=tidy_value(acc.max),
                count=acc.count,
                first=tidy_value(acc.first[-1]),
                last=tidy_value(acc.last[-1]),
                label=key[0],
            )
            for key, acc in self._accumulators.items()
        ]
        self._accumulators = {}
        rows.sort(key=aggregate_order)
        return rows


def aggregate_values(
    values: Iterable[ValueTuple],
    *,
    bucket: Bucket,
    group: Group,
    labels: Mapping[SeriesPair, str] | None = None,
) -> list[AggregateRow]:
    """Group newest revisions by (group key, bucket) and summarise each group exactly."""
    aggregator = Aggregator(bucket=bucket, group=group, labels=labels)
    add = aggregator.add
    for object_id, device_id, quantity, period_start, value in values:
        add(object_id, device_id, quantity, period_start, value)
    return aggregator.take()


def aggregate_stream(
    values: Iterable[ValueTuple],
    *,
    bucket: Bucket,
    group: Group,
    labels: Mapping[SeriesPair, str] | None = None,
) -> Iterator[AggregateRow]:
    """`aggregate_values` of values ordered by (object_id, device_id, …), emitted as it goes.

    Groups "series" and "object" emit each series' (object's) rows when the next series
    (object) starts, holding one at a time; the other groups span every series and are emitted
    at the end (their answer is as long as the buckets in range, times quantities or labels).
    """
    aggregator = Aggregator(bucket=bucket, group=group, labels=labels)
    add = aggregator.add
    width = {"series": 2, "object": 1}.get(group)
    current: tuple | None = None
    for object_id, device_id, quantity, period_start, value in values:
        if width is not None:
            boundary = (object_id, device_id)[:width]
            if boundary != current:
                yield from aggregator.take()
                current = boundary
        add(object_id, device_id, quantity, period_start, value)
    yield from aggregator.take()


def aggregate_order(row: AggregateRow) -> tuple:
    """Sort key of aggregate rows: label and group fields (None first), then bucket start."""
    return (
        row.label is not None,
        row.label or "",
        row.object_id is not None,
        row.object_id or "",
        row.device_id is not None,
        row.device_id or "",
        row.quantity is not None,
        row.quantity or "",
        row.bucket_start,
    )
