"""ClickHouse servers of our own: a two-shard layout answers every read like one node; an outage loses nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from egsu.readings.backends.clickhouse import ClickHouseReadingsStore
from egsu.readings.clickhouse_schema import ClusterLayout
from egsu.readings.store import (
    BUCKETS,
    GROUPS,
    ReadingQuery,
    StoreUnavailableError,
    WriteOutcome,
    aggregate_tuple,
    row_order_key,
    series_of,
)
from tests.readings import store_backends
from tests.readings.factories import make_row

START = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)


def _rows(meters: int = 300, quarters: int = 40, shift: int = 0):
    return [
        make_row(f"{(m * 13 + n + shift) % 997}.5", object_id=f"S{m % 60:03d}", device_id=f"M{m:04d}",
                 quantity="energyActiveImport" if m % 3 else "heat", unit="kWh", interval="PT15M",
                 period_start=START + timedelta(minutes=15 * n), commercial=m % 2 == 0)
        for m in range(meters)
        for n in range(quarters)
    ]  # fmt: skip


def _start_server(tmp_path, name: str, *config_d: str) -> tuple[str, int]:
    port = store_backends.free_port_block(3)
    args = ["--port", str(port), "--http-port", str(port + 1), "--interserver-port", str(port + 2)]
    for file in config_d:
        args += ["--config-d", file]
    return store_backends.ensure_clickhouse(*args, "--dir", str(tmp_path / name)), port


@dataclass
class TwoShards:
    shards: list[ClickHouseReadingsStore]  # the same cluster through each node
    single: ClickHouseReadingsStore  # one node holding the same data
    database: str

    @property
    def cluster(self) -> ClickHouseReadingsStore:
        return self.shards[0]


@pytest.fixture(scope="module")
def two_shards(tmp_path_factory):
    """Two ClickHouse servers as the shards of one cluster, and one node, given the same batches
    (with a replay and revisions): started once for this module's tests."""
    tmp_path = tmp_path_factory.mktemp("cluster")
    ports = [store_backends.free_port_block(3) for _ in range(2)]
    if ports[0] == ports[1] or abs(ports[0] - ports[1]) < 3:
        ports[1] = store_backends.free_port_block(3)
    remote = tmp_path / "remote_servers.xml"
    shards = "".join(
        f"<shard><replica><host>127.0.0.1</host><port>{port}</port></replica></shard>" for port in ports
    )
    remote.write_text(
        f"<yandex><remote_servers><egsu_two_shards>{shards}</egsu_two_shards></remote_servers></yandex>"
    )
    dirs = [tmp_path / f"shard{n}" for n in range(2)]
    try:
        for port, directory in zip(ports, dirs, strict=True):
            store_backends.ensure_clickhouse(
                "--port", str(port), "--http-port", str(port + 1), "--interserver-port", str(port + 2),
                "--config-d", str(remote), "--dir", str(directory),
            )  # fmt: skip
        database = f"egsu_cluster_{uuid.uuid4().hex[:8]}"
        layout = ClusterLayout(cluster="egsu_two_shards")
        # the same DDL on each node (no Keeper here, so no ON CLUSTER)
        stores = [
            ClickHouseReadingsStore.from_url(f"clickhouse://127.0.0.1:{port}/{database}", layout=layout)
            for port in ports
        ]
        single = store_backends.clickhouse_store("clickhouse")
        try:
            for store in (stores[0], single):
                assert set(store.write(_rows())) == {WriteOutcome.NEW}
                assert set(store.write(_rows())) == {WriteOutcome.DUPLICATE}
                assert set(store.write(_rows(meters=30, shift=1))) == {WriteOutcome.REVISED}
            yield TwoShards(stores, single, database)
        finally:
            store_backends.drop_database(single)
    finally:
        for directory in dirs:
            store_backends.stop_clickhouse(directory)


# 250 devices: a set large enough to travel as an external table, GLOBAL IN to the shards
MANY_DEVICES = ReadingQuery(device_ids=[f"M{m:04d}" for m in range(10, 260)])
# Labels by meter: a region each for two thirds of the meters, none for the rest
LABELS = {(f"S{m % 60:03d}", f"M{m:04d}"): f"region-{m % 4}" for m in range(300) if m % 3}
WHOLE_DAYS = ReadingQuery(
    start=datetime(2024, 2, 28, 18, tzinfo=UTC), end=datetime(2024, 3, 1, 19, tzinfo=UTC)
)


def test_a_two_shard_layout_answers_like_one_node(two_shards):
    cluster, single = two_shards.cluster, two_shards.single
    # then both shards hold part of the rows, and every revision of a value sits on one shard
    local_counts = [
        shard.connection.query(f"SELECT count() FROM {two_shards.database}.readings_local")[0][0]
        for shard in two_shards.shards
    ]
    assert sum(local_counts) == 300 * 40 + 30 * 40
    assert all(count > 0 for count in local_counts)
    # and both entry points of the cluster answer every query like the single node
    queries = [
        ReadingQuery(),
        ReadingQuery(commercial=True),
        ReadingQuery(object_ids=["S001", "S007"], start=START + timedelta(hours=3)),
        MANY_DEVICES,
    ]
    for query in queries:
        expected_latest = list(single.latest(query))
        for entry in two_shards.shards:
            assert entry.count(query) == single.count(query)
            assert entry.totals(query) == single.totals(query)
            assert [(r.key, r.period_start, r.value, r.revision) for r in entry.latest(query)] == [
                (r.key, r.period_start, r.value, r.revision) for r in expected_latest
            ]
    # (days and months come from the daily rollup on each shard, revised days from the rows)
    for query in (ReadingQuery(), MANY_DEVICES):
        for bucket in BUCKETS:
            for group in GROUPS:
                labels = LABELS if group == "label" else None
                assert cluster.aggregate(
                    query, bucket=bucket, group=group, labels=labels
                ) == single.aggregate(query, bucket=bucket, group=group, labels=labels)
    # (national sums of whole days come from the day totals on each shard, revisions subtracted)
    for query in (ReadingQuery(), WHOLE_DAYS, ReadingQuery(commercial=True, start=WHOLE_DAYS.start)):
        for bucket in ("P1D", "P1M"):
            for group in ("quantity", "all"):
                expected = single.aggregate(query, bucket=bucket, group=group, measures="sums")
                assert expected == [
                    r.sums_only() for r in single.aggregate(query, bucket=bucket, group=group)
                ]
                assert cluster.aggregate(query, bucket=bucket, group=group, measures="sums") == expected
    key = _rows(meters=1)[0]
    assert [r.revision for r in cluster.history(key.key, "PT15M", START)] == [1, 2]


def test_the_read_paths_on_two_shards_answer_like_one_node(two_shards):
    cluster, single = two_shards.cluster, two_shards.single
    # rows in both orders, paged by keyset and by offset, and streamed whole
    for order in ("series", "time"):
        whole = _stored(single.rows(ReadingQuery(), order=order))
        assert _stored(cluster.rows(ReadingQuery(), order=order)) == whole
        pages, after = [], None
        while page := list(cluster.rows(ReadingQuery(), order=order, after=after, limit=1000)):
            pages += _stored(page)
            after = row_order_key(page[-1], order)
        assert pages == whole
        assert _stored(cluster.rows(ReadingQuery(), order=order, offset=4321, limit=7)) == whole[4321:4328]
    # the newest value of a page of 50 meters, with and without the commercial filter
    page = series_of((f"S{m % 60:03d}", f"M{m:04d}") for m in range(0, 100, 2))
    for commercial in (None, True, False):
        query = ReadingQuery(series=page, commercial=commercial)
        assert _stored(cluster.newest(query)) == _stored(single.newest(query))
    assert len(cluster.newest(ReadingQuery(series=page))) == 50
    # labels by region on the rows and on the rollup (whole days, revised days among them)
    for query in (ReadingQuery(), WHOLE_DAYS, ReadingQuery(commercial=True)):
        for bucket in BUCKETS:
            expected = single.aggregate(query, bucket=bucket, group="label", labels=LABELS)
            assert (
                list(cluster.aggregate_iter(query, bucket=bucket, group="label", labels=LABELS)) == expected
            )
            assert expected and {row.label for row in expected} <= {
                "region-0",
                "region-1",
                "region-2",
                "region-3",
            }
    # per-object answers paged with after_series
    whole = single.aggregate(ReadingQuery(), bucket="PT1H", group="object")
    pages, after = [], None
    while True:
        stream = cluster.aggregate_iter(ReadingQuery(after_series=after), bucket="PT1H", group="object")
        page = []
        for row in stream:
            if len(page) >= 100 and row.object_id != page[-1].object_id:
                break
            page.append(row)
        stream.close()
        if not page:
            break
        pages += page
        after = (page[-1].object_id, None)
    assert pages == whole
    # 100,000 metering points travel as one external table, GLOBAL IN to the shards
    many = series_of([(f"S{n:05d}", "x") for n in range(100_000)] + [("S001", "M0001"), ("S002", "M0002")])
    query = ReadingQuery(series=many)
    assert [r.key.device_id for r in cluster.newest(query)] == ["M0001", "M0002"]
    assert _stored(cluster.rows(query)) == _stored(single.rows(query))
    assert cluster.count(query) == 80


def _stored(rows) -> list:
    """Rows without the instant each store recorded them (the two stores wrote a second apart)."""
    return [replace(row, recorded_at=None) for row in rows]


def test_a_storage_outage_loses_nothing_that_was_acknowledged(tmp_path):
    # given a server of our own and a first batch written (acknowledged)
    url, _port = _start_server(tmp_path, "outage")
    directory = tmp_path / "outage"
    try:
        store = ClickHouseReadingsStore.from_url(url)
        first = _rows(meters=20, quarters=8)
        second = [make_row("7", object_id="S999", device_id="X", interval="PT15M", period_start=START)]
        assert set(store.write(first)) == {WriteOutcome.NEW}
        # when the server goes down, then a write raises instead of returning outcomes
        store_backends.stop_clickhouse(directory)
        with pytest.raises(StoreUnavailableError, match="unreachable"):
            store.write(second)
        with pytest.raises(StoreUnavailableError):
            store.count(ReadingQuery())
        # and when it is back, the retried write succeeds and everything acknowledged is there
        store_backends.ensure_clickhouse(*_server_args(url), "--dir", str(directory))
        assert store.write(second) == [WriteOutcome.NEW]
        assert set(store.write(first)) == {WriteOutcome.DUPLICATE}
        assert store.count(ReadingQuery()) == len(first) + 1
    finally:
        store_backends.stop_clickhouse(directory)


def _server_args(url: str) -> list[str]:
    port = int(url.split(":")[2].split("/")[0])
    return ["--port", str(port), "--http-port", str(port + 1), "--interserver-port", str(port + 2)]


def test_streamed_chunks_on_two_shards_answer_like_one_node(two_shards):
    # given the per-meter and per-object answers of one node, and the cluster asked a few series a slice
    cluster, single = two_shards.cluster, two_shards.single
    cluster.stream_slice_series = 16
    try:
        for query in (ReadingQuery(), WHOLE_DAYS, MANY_DEVICES, ReadingQuery(series=series_of(LABELS))):
            for bucket in ("PT1H", "P1D"):
                for group in ("series", "object", "quantity"):
                    expected = [
                        aggregate_tuple(r) for r in single.aggregate(query, bucket=bucket, group=group)
                    ]
                    # when the cluster streams them in chunks, then they are the same rows in the same order
                    chunks = cluster.aggregate_chunks(query, bucket=bucket, group=group, chunk_rows=500)
                    assert [row for chunk in chunks for row in chunk] == expected
    finally:
        cluster.stream_slice_series = 10_000


@pytest.mark.parametrize("bucket", BUCKETS)
def test_labels_kept_on_the_initiator_answer_like_one_node(two_shards, bucket):
    cluster, single = two_shards.cluster, two_shards.single
    cluster.stored_labels_min = 1
    try:
        _kept_labels_answer_like_one_node(cluster, single, bucket)
    finally:
        cluster.stored_labels_min = 10_000


def _kept_labels_answer_like_one_node(cluster, single, bucket):
    for query in (ReadingQuery(), WHOLE_DAYS, ReadingQuery(commercial=True)):
        expected = single.aggregate(query, bucket=bucket, group="label", labels=LABELS)
        assert (
            cluster.aggregate(
                query, bucket=bucket, group="label", labels=store_backends.Keyed(LABELS, f"e{bucket}")
            )
            == expected
        )
        assert list(
            cluster.aggregate_iter(
                query, bucket=bucket, group="label", labels=store_backends.Keyed(LABELS, f"e{bucket}")
            )
        ) == (expected)
    assert len(store_backends.kept_labels(cluster)) >= 2
