"""The statistics of a selection (AMI-09): exact decimals, sums over devices, percent changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egsu.cabinet.readings_stats import Summary, percent_change

T0 = datetime(2025, 6, 1, tzinfo=UTC)
values = st.decimals(min_value=-(10**6), max_value=10**6, places=3, allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (Decimal(100), Decimal(135), Decimal("35.00")),
        (Decimal(200), Decimal(100), Decimal("-50.00")),
        (Decimal(-100), Decimal(-50), Decimal("50.00")),
        (Decimal(3), Decimal(4), Decimal("33.33")),
        (Decimal(0), Decimal(4), None),
        (None, Decimal(4), None),
    ],
    ids=["rise", "fall", "negative-base", "rounded", "zero-base", "no-base"],
)
def test_percent_change(before, after, expected):
    assert percent_change(before, after) == expected


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 2), values), min_size=1, max_size=40))
def test_totals_extremes_and_trend_agree_with_the_rows(rows):
    # given values of up to three devices at up to six period starts
    summary = Summary()
    for slot, _device, value in rows:
        summary.add("volume", "m3", T0 + timedelta(hours=2 * slot), value)
    (stats,) = summary.stats()
    (trend,) = summary.trends().values()
    amounts = [value for _, _, value in rows]
    # then the totals are exact, the trend sums per slot, and first/last are its ends
    assert stats.total == sum(amounts) == sum(point for _, point in trend)
    assert (stats.maximum, stats.minimum, stats.count) == (max(amounts), min(amounts), len(rows))
    assert [t for t, _ in trend] == sorted({T0 + timedelta(hours=2 * s) for s, _, _ in rows})
    assert (stats.first, stats.last) == (trend[0][1], trend[-1][1])
    assert stats.change_percent == percent_change(trend[0][1], trend[-1][1])


def test_quantities_with_different_units_are_kept_apart():
    summary = Summary().extend([("volume", "m3", T0, Decimal(1)), ("mass", "t", T0, Decimal(2))])
    stats = summary.stats({("volume", "m3"): Decimal(4)})
    assert [(s.quantity, s.total, s.previous_total, s.previous_change_percent) for s in stats] == [
        ("mass", Decimal(2), None, None),
        ("volume", Decimal(1), Decimal(4), Decimal("-75.00")),
    ]


def test_estimated_values_are_counted_apart_and_summed_with_the_others():
    summary = Summary().extend(
        [
            ("volume", "m3", T0, Decimal(1), "good"),
            ("volume", "m3", T0 + timedelta(hours=2), Decimal(2), "estimated"),
            ("volume", "m3", T0 + timedelta(hours=4), Decimal(3)),  # no quality: good
        ]
    )
    [stats] = summary.stats()
    assert (stats.count, stats.estimated, stats.total) == (3, 1, Decimal(6))
