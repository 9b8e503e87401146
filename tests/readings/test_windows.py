"""Service windows (ReadingQuery.windows, DIG-45): a windowed series counts only inside [from, until);
other series are not restricted. The same answers on SQL, chDB and a ClickHouse server, for rows, newest,
count, totals and aggregates — the daily rollup path (whole Astana days) and the row path alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from egsu.readings.store import ReadingQuery, ReadingRow, SeriesKey
from egsu_core.clock import astana_date, astana_midnight
from tests.readings import store_backends

any_store = store_backends.any_store
START = datetime(2025, 6, 1, tzinfo=UTC) - timedelta(hours=5)  # 1 June 00:00 Astana
SWITCH = astana_midnight(date(2025, 6, 2))


def _rows(device: str, base: int) -> list[ReadingRow]:
    return [
        ReadingRow(SeriesKey("A100", device, "volume"), "PT2H", START + timedelta(hours=2 * step), Decimal(base + step),
                   "m3", "good", "test")
        for step in range(36)
    ]  # fmt: skip


WINDOWS = (("A100", "1", None, SWITCH), ("A100", "2", SWITCH, None))


@pytest.fixture
def loaded(any_store):
    any_store.write(_rows("1", 100) + _rows("2", 1000) + _rows("3", 5000))
    return any_store


def test_windows_keep_each_series_inside_its_days(loaded):
    query = ReadingQuery(object_ids=["A100"], windows=WINDOWS)
    rows = list(loaded.rows(query, order="time"))
    by_device = {d: [r for r in rows if r.key.device_id == d] for d in ("1", "2", "3")}
    assert len(by_device["1"]) == 12 and max(r.period_start for r in by_device["1"]) < SWITCH
    assert len(by_device["2"]) == 24 and min(r.period_start for r in by_device["2"]) == SWITCH
    assert len(by_device["3"]) == 36  # not windowed: untouched
    assert loaded.count(query) == 72
    assert loaded.totals(replace_devices(query, ["1", "2"]))["volume"] == sum(
        [Decimal(100 + s) for s in range(12)] + [Decimal(1000 + s) for s in range(12, 36)]
    )
    newest = {r.key.device_id: r.value for r in loaded.newest(query)}
    assert newest == {"1": Decimal(111), "2": Decimal(1035), "3": Decimal(5035)}
    assert loaded.count(ReadingQuery(object_ids=["A100"], windows=())) == 108  # none: everything stored


@pytest.mark.parametrize("start", [None, START + timedelta(hours=6)], ids=["whole-days", "rows"])
def test_aggregates_apply_the_windows_on_either_path(loaded, start):
    query = ReadingQuery(object_ids=["A100"], device_ids=["1", "2"], windows=WINDOWS, start=start or START,
                         end=astana_midnight(date(2025, 6, 4)))  # fmt: skip
    days = {
        astana_date(r.bucket_start): (r.sum, r.count)
        for r in loaded.aggregate(query, bucket="P1D", group="object")
    }
    skipped = 3 if start else 0  # 00:00–06:00 on 1 June left out by the start
    assert days == {
        date(2025, 6, 1): (sum(Decimal(100 + s) for s in range(skipped, 12)), 12 - skipped),
        date(2025, 6, 2): (sum(Decimal(1000 + s) for s in range(12, 24)), 12),
        date(2025, 6, 3): (sum(Decimal(1000 + s) for s in range(24, 36)), 12),
    }


def replace_devices(query: ReadingQuery, devices: list[str]) -> ReadingQuery:
    from dataclasses import replace

    return replace(query, device_ids=devices)


def test_a_malformed_window_is_refused():
    with pytest.raises(ValueError):
        ReadingQuery(windows=(("A100", "1", datetime(2025, 6, 2), None),))  # noqa: DTZ001 - naive on purpose
