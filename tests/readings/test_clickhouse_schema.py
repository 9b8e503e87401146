"""The cluster layout is configuration: it generates the DDL for one node or shards."""

from __future__ import annotations

import pytest

from egsu.readings.clickhouse_schema import ClusterLayout


def test_one_node_is_a_merge_tree_partitioned_by_month():
    (database, table, daily, view, totals, totals_view) = ClusterLayout().ddl("egsu")
    assert database == "CREATE DATABASE IF NOT EXISTS egsu"
    assert table.startswith("CREATE TABLE IF NOT EXISTS egsu.readings (")
    assert table.endswith(
        " ENGINE = MergeTree PARTITION BY toYYYYMM(period_start)"
        " ORDER BY (object_id, series, period_start, revision)"
    )
    # and the series number is filled by the engine from the series' text key (issue 7)
    assert "    series UInt64 DEFAULT cityHash64(object_id, device_id, quantity)\n)" in table
    # and a daily rollup of mergeable states, fed by a view from every insert (issue 7)
    assert daily.startswith("CREATE TABLE IF NOT EXISTS egsu.readings_daily (")
    assert " ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(toDateTime(day_start, 'UTC'))" in daily
    assert "s_revision AggregateFunction(max, UInt32)" in daily
    assert view.startswith(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS egsu.readings_daily_feed TO egsu.readings_daily AS SELECT"
    )
    assert "toUInt32(toStartOfDay(period_start, 'Asia/Almaty')) AS day_start" in view
    assert view.endswith(
        " FROM egsu.readings GROUP BY object_id, series, device_id, quantity, duration, commercial, day_start"
    )
    # and national day totals (sum, count, revisions) per quantity, interval, flag, quality and day (issue 11)
    assert totals.startswith("CREATE TABLE IF NOT EXISTS egsu.readings_day_totals (")
    assert totals.endswith(" ORDER BY (quantity, duration, day_start, commercial, quality)")
    assert "s_revised AggregateFunction(sum, UInt64)" in totals
    assert totals_view.startswith(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS egsu.readings_day_totals_feed TO egsu.readings_day_totals AS SELECT"
    )
    assert totals_view.endswith(
        " FROM egsu.readings GROUP BY quantity, duration, commercial, quality, day_start"
    )


def test_a_replicated_cluster_has_local_tables_and_a_distributed_one():
    layout = ClusterLayout(cluster="egsu_prod", replicated=True, on_cluster=True)
    _database, local, daily_local, view, totals_local, _totals_view, distributed, daily, totals = layout.ddl(
        "egsu"
    )
    assert local.startswith("CREATE TABLE IF NOT EXISTS egsu.readings_local ON CLUSTER egsu_prod (")
    assert (
        "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/egsu/readings_local', '{replica}')" in local
    )
    assert distributed == (
        "CREATE TABLE IF NOT EXISTS egsu.readings ON CLUSTER egsu_prod AS egsu.readings_local"
        " ENGINE = Distributed(egsu_prod, egsu, readings_local, cityHash64(object_id))"
    )
    # and the daily rollup is replicated and distributed the same way, fed on each shard
    assert (
        "ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/egsu/readings_daily_local', '{replica}')"
        in daily_local
    )
    assert view.startswith(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS egsu.readings_daily_local_feed ON CLUSTER egsu_prod"
        " TO egsu.readings_daily_local AS SELECT"
    )
    assert " FROM egsu.readings_local GROUP BY" in view
    assert daily == (
        "CREATE TABLE IF NOT EXISTS egsu.readings_daily ON CLUSTER egsu_prod AS egsu.readings_daily_local"
        " ENGINE = Distributed(egsu_prod, egsu, readings_daily_local, cityHash64(object_id))"
    )
    # and so are the day totals (only read through the Distributed table: no sharding key)
    assert (
        "ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/egsu/readings_day_totals_local'"
        in totals_local
    )
    assert totals == (
        "CREATE TABLE IF NOT EXISTS egsu.readings_day_totals ON CLUSTER egsu_prod AS egsu.readings_day_totals_local"
        " ENGINE = Distributed(egsu_prod, egsu, readings_day_totals_local)"
    )


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        pytest.param(None, ClusterLayout(), id="unset"),
        pytest.param("", ClusterLayout(), id="empty"),
        pytest.param("egsu_two_shards", ClusterLayout(cluster="egsu_two_shards"), id="cluster-name"),
        pytest.param('{"cluster": "c", "replicated": true}', ClusterLayout(cluster="c", replicated=True), id="json"),
        pytest.param({"cluster": "c", "sharding_key": "rand()"}, ClusterLayout(cluster="c", sharding_key="rand()"), id="map"),
    ],
)  # fmt: skip
def test_layout_from_settings(setting, expected):
    assert ClusterLayout.from_setting(setting) == expected


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        pytest.param({"shards": 2}, "unknown CLICKHOUSE_LAYOUT keys: shards", id="unknown-key"),
        pytest.param({"replicated": True}, "need a cluster name", id="replicated-without-cluster"),
        pytest.param("drop table x", "not a plain ClickHouse identifier", id="injection"),
    ],
)
def test_bad_layouts_are_refused(setting, message):
    with pytest.raises(ValueError, match=message):
        ClusterLayout.from_setting(setting)
