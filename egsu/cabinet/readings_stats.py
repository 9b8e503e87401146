"""Totals, maximum, minimum and the change in percent of a selection of readings (AMI-09, DIG-14).

Computed by the readings store (its aggregates over the newest revisions, on every backend) and
combined here on exact decimals, so the screen, the Excel file, the PDF and the API print the same
numbers. A trend is the sum over the selected points per bucket: one point gives its own series,
an object or a region the sum of its points.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from egsu.quantities import unit_of
from egsu.readings.store import AggregateRow, Quality, ReadingQuery, ReadingsStore

PERCENT_PLACES = Decimal("0.01")


def percent_change(before: Decimal | None, after: Decimal | None) -> Decimal | None:
    """(after − before) / |before| × 100, to two places; None when there is no base to compare with."""
    if before is None or after is None or before == 0:
        return None
    return ((after - before) / abs(before) * 100).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class QuantityStats:
    """What AMI-09 asks for one quantity (and unit) over the selected period."""

    quantity: str
    unit: str
    count: int
    total: Decimal
    maximum: Decimal
    minimum: Decimal
    first: Decimal  # the trend's first point (sum over devices at the first period start)
    last: Decimal
    change_percent: Decimal | None  # first vs last point of the trend
    previous_total: Decimal | None  # the period of equal length just before, None when empty
    previous_change_percent: Decimal | None  # total vs previous_total
    estimated: int = 0  # how many of the `count` values were substituted by a head-end (AMI-16)


@dataclass
class _Accumulator:
    count: int = 0
    estimated: int = 0
    total: Decimal = Decimal(0)
    maximum: Decimal | None = None
    minimum: Decimal | None = None

    def add(self, value: Decimal, quality: str) -> None:
        self.count += 1
        self.estimated += quality == Quality.ESTIMATED
        self.total += value
        self.maximum = value if self.maximum is None else max(self.maximum, value)
        self.minimum = value if self.minimum is None else min(self.minimum, value)


class Summary:
    """Statistics and trends built in one pass over (quantity, unit, period_start, value[, quality]) rows."""

    def __init__(self) -> None:
        self._stats: dict[tuple[str, str], _Accumulator] = {}
        self._trends: dict[tuple[str, str], dict[datetime, Decimal]] = {}

    def add(
        self, quantity: str, unit: str, period_start: datetime, value: Decimal, quality: str = Quality.GOOD
    ) -> None:
        key = (quantity, unit)
        self._stats.setdefault(key, _Accumulator()).add(value, quality)
        trend = self._trends.setdefault(key, {})
        trend[period_start] = trend.get(period_start, Decimal(0)) + value

    def extend(self, rows: Iterable[tuple]) -> Summary:
        """Add (quantity, unit, period_start, value) rows, each optionally with its quality last."""
        for row in rows:
            self.add(*row)
        return self

    def trends(self) -> dict[tuple[str, str], list[tuple[datetime, Decimal]]]:
        """Per quantity and unit: (period start, summed value), oldest first."""
        return {key: sorted(points.items()) for key, points in sorted(self._trends.items())}

    def totals(self) -> dict[tuple[str, str], Decimal]:
        return {key: acc.total for key, acc in self._stats.items()}

    def stats(self, previous_totals: Mapping[tuple[str, str], Decimal] | None = None) -> list[QuantityStats]:
        previous_totals = previous_totals or {}
        result = []
        for key, points in self.trends().items():
            acc = self._stats[key]
            first, last = points[0][1], points[-1][1]
            previous = previous_totals.get(key)
            result.append(
                QuantityStats(
                    quantity=key[0],
                    unit=key[1],
                    count=acc.count,
                    total=acc.total,
                    maximum=acc.maximum,
                    minimum=acc.minimum,
                    first=first,
                    last=last,
                    change_percent=percent_change(first, last),
                    previous_total=previous,
                    previous_change_percent=percent_change(previous, acc.total),
                    estimated=acc.estimated,
                )
            )
        return result


def quantity_stats(
    store: ReadingsStore, query: ReadingQuery, previous: ReadingQuery, bucket: str
) -> tuple[list[QuantityStats], dict[str, list[AggregateRow]]]:
    """Statistics per quantity over ALL selected values (not a page), and the trend per bucket.

    The totals of `previous` (the period of equal length before) give the dynamics; the estimated
    count (AMI-16) is the store's count of values flagged so.
    """
    trends: dict[str, list[AggregateRow]] = {}
    for row in store.aggregate(query, bucket=bucket, group="quantity"):
        trends.setdefault(row.quantity, []).append(row)
    before = store.totals(previous)
    estimated = _estimated(store, query) if trends else {}
    found = []
    for quantity, rows in sorted(trends.items()):
        total = sum((r.sum for r in rows), Decimal(0))
        first, last = rows[0].sum, rows[-1].sum
        previous_total = before.get(quantity)
        found.append(
            QuantityStats(
                quantity=quantity,
                unit=unit_of(quantity),
                count=sum(r.count for r in rows),
                total=total,
                maximum=max(r.max for r in rows),
                minimum=min(r.min for r in rows),
                first=first,
                last=last,
                change_percent=percent_change(first, last),
                previous_total=previous_total,
                previous_change_percent=percent_change(previous_total, total),
                estimated=estimated.get(quantity, 0),
            )
        )
    return found, trends


def _estimated(store: ReadingsStore, query: ReadingQuery) -> dict[str, int]:
    """Per quantity, how many of the values a head-end substituted (AMI-16)."""
    flagged = replace(query, qualities=(Quality.ESTIMATED.value,))
    counts: dict[str, int] = {}
    for row in store.aggregate(flagged, bucket="P1M", group="quantity"):
        counts[row.quantity] = counts.get(row.quantity, 0) + row.count
    return counts
