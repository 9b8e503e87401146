"""Labels kept in ClickHouse between reads (`_stored_labels`): the same answers as labels shipped with the
query, on chDB, a server and two shards; built once per key, a new key builds anew, old periods dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from egsu.readings.backends import clickhouse
from egsu.readings.store import BUCKETS, ReadingQuery
from tests.readings import store_backends
from tests.readings.factories import make_row
from tests.readings.test_clickhouse_cluster import LABELS, WHOLE_DAYS, _rows

START = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)
clickhouse_any = store_backends.clickhouse_any


def _same_answers(store, labels) -> None:
    for query in (
        ReadingQuery(),
        WHOLE_DAYS,
        ReadingQuery(commercial=True, start=START + timedelta(hours=2)),
    ):
        for bucket in BUCKETS:
            for measures in ("all", "sums"):
                shipped = store.aggregate(
                    query, bucket=bucket, group="label", labels=dict(labels), measures=measures
                )
                assert shipped
                kept = store.aggregate(query, bucket=bucket, group="label", labels=labels, measures=measures)
                assert kept == shipped, (query, bucket, measures)
                assert list(store.aggregate_iter(query, bucket=bucket, group="label", labels=labels)) == (
                    store.aggregate(query, bucket=bucket, group="label", labels=dict(labels))
                )


def test_kept_labels_answer_like_shipped_ones_and_are_built_once(clickhouse_any, monkeypatch):
    store = clickhouse_any
    store.stored_labels_min = 1
    store.write(_rows(meters=120, quarters=12))
    store.write(
        [make_row("999.5", object_id="S001", device_id="M0001", interval="PT15M", period_start=START)]
    )
    labels = store_backends.Keyed(
        {pair: label for pair, label in LABELS.items() if int(pair[1][1:]) < 120}, "a" * 32
    )
    # one period of kept labels for the whole test: a run that crossed a period's end would build a
    # second table for the same key, as it should, and the counts below would not hold
    now = 1_000_000 * clickhouse.STORED_LABELS_PERIOD_S
    monkeypatch.setattr(clickhouse.time, "time", lambda: now)
    _same_answers(store, labels)
    # the table and its names, built by the first read and reused after
    assert len(store_backends.kept_labels(store)) == 2
    # a registry change: a new stamp, so a new key
    moved = store_backends.Keyed({**labels, ("S001", "M0001"): "region-9"}, "b" * 32)
    answer = store.aggregate(ReadingQuery(), bucket="PT1H", group="label", labels=moved)
    assert answer == store.aggregate(ReadingQuery(), bucket="PT1H", group="label", labels=dict(moved))
    assert "region-9" in {row.label for row in answer}
    assert len(store_backends.kept_labels(store)) == 4


def test_few_labels_travel_with_the_query_and_a_gate_series_ships_them(clickhouse_any):
    store = clickhouse_any
    store.write(_rows(meters=30, quarters=4))
    labels = store_backends.Keyed(
        {pair: label for pair, label in LABELS.items() if int(pair[1][1:]) < 30}, "c" * 32
    )
    store.aggregate(ReadingQuery(), bucket="PT1H", group="label", labels=labels)
    assert store_backends.kept_labels(store) == []  # below stored_labels_min (10,000 by default)
    store.stored_labels_min = 1
    from egsu.readings.store import series_of

    store.aggregate(
        ReadingQuery(series=series_of(list(labels)[:5])), bucket="PT1H", group="label", labels=labels
    )
    assert store_backends.kept_labels(store) == []  # the gate's own series: intersected here, shipped


def test_tables_of_old_periods_are_dropped(clickhouse_any, monkeypatch):
    store = clickhouse_any
    store.stored_labels_min = 1
    store.write(_rows(meters=30, quarters=4))
    labels = store_backends.Keyed(
        {pair: label for pair, label in LABELS.items() if int(pair[1][1:]) < 30}, "d" * 32
    )
    now = 1_000_000 * clickhouse.STORED_LABELS_PERIOD_S
    for shift, kept in ((0, 2), (1, 4), (2, 4), (5, 2)):  # a period's tables outlive the next one
        monkeypatch.setattr(
            clickhouse.time, "time", lambda shift=shift: now + shift * clickhouse.STORED_LABELS_PERIOD_S
        )
        store.aggregate(ReadingQuery(), bucket="PT1H", group="label", labels=labels)
        assert len(store_backends.kept_labels(store)) == kept, shift
