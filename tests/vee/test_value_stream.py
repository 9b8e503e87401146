"""store.value_stream (the lean read the data-quality run uses) answers what rows() answers, on every backend."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery, ReadingRow, SeriesKey, value_stream
from tests.vee.conftest import DAY


def test_value_stream_is_rows_newest_revisions_in_series_order(db):
    store = get_store()
    rows = [
        ReadingRow(SeriesKey(obj, dev, "A+"), "PT15M", DAY + timedelta(minutes=15 * n), Decimal("1.25") * n,
                   "kWh", "good", "m1", True)
        for obj, dev in (("B", "2"), ("A", "1")) for n in range(3)
    ]  # fmt: skip
    store.write(rows)
    store.write(
        [
            ReadingRow(
                SeriesKey("A", "1", "A+"),
                "PT15M",
                DAY,
                Decimal("123456789.123456"),
                "kWh",
                "estimated",
                "m2",
                True,
            )
        ]
    )  # fmt: skip  (a revision: the newest wins)
    query = ReadingQuery(start=DAY, end=DAY + timedelta(hours=1))
    expected = [
        (r.key.object_id, r.key.device_id, r.key.quantity, r.interval, int(r.period_start.timestamp()),
         float(r.value), r.unit, r.quality)
        for r in store.rows(query, order="series")
    ]  # fmt: skip
    got = [(o, d, q, i, int(t), float(v), u, ql) for o, d, q, i, t, v, u, ql in value_stream(store, query)]
    assert got == expected
    assert (
        got[0][5:] == (123456789.123456, "kWh", "estimated") and [g[0] for g in got] == ["A"] * 3 + ["B"] * 3
    )
