"""Aggregates of stored values computed in Python, for backends without an aggregating engine.

The SQL backend streams the newest revisions through `aggregate_values`; ClickHouse computes
the same figures in the engine. Both bucket by the Astana clock through the zone database
(INT-37), never by a fixed offset.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from egsu.clock import ASTANA
from egsu.readings.store import BUCKETS, GROUPS, AggregateRow, Bucket, Group

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
    if group == "quantity":
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


def aggregate_values(values: Iterable[ValueTuple], *, bucket: Bucket, group: Group) -> list[AggregateRow]:
    """Group newest revisions by (group key, bucket) and summarise each group exactly."""
    if bucket not in BUCKETS:
        raise ValueError(f"unknown bucket {bucket!r}; known: {', '.join(BUCKETS)}")
    group_key("", "", "", group)  # validates the group name even for an empty input
    accumulators: dict[tuple, _Accumulator] = {}
    day_starts: dict[datetime, datetime] = {}  # most values share a few hours: cache the zone maths
    for object_id, device_id, quantity, period_start, value in values:
        period_start = period_start.astimezone(UTC)
        if bucket in ("PT15M", "PT1H"):
            start = bucket_start(period_start, bucket)
        else:
            hour = period_start.replace(minute=0, second=0, microsecond=0)
            start = day_starts.get(hour)
            if start is None:
                start = day_starts[hour] = bucket_start(hour, bucket)
        key = (*group_key(object_id, device_id, quantity, group), start)
        accumulator = accumulators.get(key)
        if accumulator is None:
            accumulator = accumulators[key] = _Accumulator()
        accumulator.add((period_start, object_id, device_id, quantity), value)
    rows = [
        AggregateRow(
            object_id=key[0],
            device_id=key[1],
            quantity=key[2],
            bucket_start=key[3],
            sum=acc.sum,
            min=acc.min,
            max=acc.max,
            count=acc.count,
            first=acc.first[-1],
            last=acc.last[-1],
        )
        for key, acc in accumulators.items()
    ]
    rows.sort(key=aggregate_order)
    return rows


def aggregate_order(row: AggregateRow) -> tuple:
    """Sort key of aggregate rows: group fields (None first), then bucket start."""
    return (
        row.object_id is not None,
        row.object_id or "",
        row.device_id is not None,
        row.device_id or "",
        row.quantity is not None,
        row.quantity or "",
        row.bucket_start,
    )
