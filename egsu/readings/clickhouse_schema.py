"""The ClickHouse readings table and the cluster layout it sits in, as configuration.

One node: a MergeTree table `readings`. A cluster: a MergeTree (or ReplicatedMergeTree) table
`readings_local` on every shard and a Distributed table `readings` over them, sharded by object
so that every revision of a value lands on the same shard. The SQL here runs on ClickHouse 18.16
(Debian) and on current engines (chDB) alike: no LowCardinality, no DateTime64, no Nullable keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Columns in insert order: what the store (and a bare copy of the table) writes.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("object_id", "String"),
    ("device_id", "String"),
    ("quantity", "String"),
    ("duration", "String"),  # ReadingRow.interval; "interval" is a keyword that 18.16 shards mis-quote
    ("period_start", "DateTime('UTC')"),
    ("revision", "UInt32"),
    ("value", "Decimal128(12)"),  # 15 integer + 12 decimal digits exactly, as store.value_fits allows
    ("unit", "String"),
    ("quality", "String"),
    ("commercial", "UInt8"),
    ("source", "String"),
    ("recorded_at", "DateTime('UTC')"),  # whole seconds: 18.16 has no DateTime64
)
COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _type in COLUMNS)
# A number per series (SeriesKey: object, device, quantity), filled by the engine at insert from
# the text columns (a DEFAULT, so 18.16 fills it on the initiator of a Distributed insert too).
# Grouping by one UInt64 costs a fraction of grouping by three Strings (issue 7); the text
# columns stay the truth, the number only speeds up grouping and the primary key.
SERIES_HASH = "cityHash64"  # the same function on 18.16 and on current engines
SERIES_EXPRESSION = f"{SERIES_HASH}(object_id, device_id, quantity)"
SERIES_COLUMN = ("series", f"UInt64 DEFAULT {SERIES_EXPRESSION}")
# object_id first, so a region's (or one object's) filter still prunes by the primary key.
ORDER_BY = "(object_id, series, period_start, revision)"

# The daily rollup (issue 7, docs/decisions/0006): per series, interval, commercial flag and Astana
# day, the mergeable states of sum/min/max/count/first/last and the highest revision seen. A
# materialized view fills it from every block inserted into the readings table, so it is exact
# for every (series, day) whose values were never revised (top revision 1); reads recompute the few
# others from the rows. A region's month then merges ~30 rows per series instead of ~2,880.
ASTANA_ZONE = "Asia/Almaty"  # the business clock (INT-37); egsu_core.clock.ASTANA names the same zone
DAY_EXPRESSION = f"toUInt32(toStartOfDay(period_start, '{ASTANA_ZONE}'))"
DAILY_KEY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("object_id", "String"),
    ("series", "UInt64"),
    ("device_id", "String"),
    ("quantity", "String"),
    ("duration", "String"),
    ("commercial", "UInt8"),
    ("day_start", "UInt32"),  # Unix seconds of the Astana midnight that starts the day
)
# first/last are ordered by (time, object, device, quantity), as every backend breaks ties, so a
# group of several series merges its rows' states directly: no per-series stage is needed. The
# order travels as one String that compares like that tuple: the time as 10 fixed-width hex digits
# (2^32 added, so always 5 bytes), then the text key, the parts separated by a zero byte (lower than any
# character: "ab" sorts before "abc" as in the tuple). 18.16 merges such a state in less than half
# the time of a Tuple state (0.35 s against 0.74 s per 3 million rows). Ids hold no zero bytes.
ORDERING = (
    r"concat(hex(toUInt64(period_start) + 4294967296), '\0', object_id, '\0', device_id, '\0', quantity)"
)
_ORDERING_TYPE = "String"
DAILY_STATE_COLUMNS: tuple[tuple[str, str, str], ...] = (  # name, state type, state expression
    ("s_sum", "AggregateFunction(sum, Decimal128(12))", "sumState(value)"),
    ("s_min", "AggregateFunction(min, Decimal128(12))", "minState(value)"),
    ("s_max", "AggregateFunction(max, Decimal128(12))", "maxState(value)"),
    ("s_count", "AggregateFunction(count)", "countState()"),
    (
        "s_first",
        f"AggregateFunction(argMin, Decimal128(12), {_ORDERING_TYPE})",
        f"argMinState(value, {ORDERING})",
    ),
    (
        "s_last",
        f"AggregateFunction(argMax, Decimal128(12), {_ORDERING_TYPE})",
        f"argMaxState(value, {ORDERING})",
    ),
    ("s_revision", "AggregateFunction(max, UInt32)", "maxState(revision)"),
)
DAILY_STATE_NAMES: tuple[str, ...] = tuple(name for name, _type, _expression in DAILY_STATE_COLUMNS)
DAILY_ORDER_BY = "(object_id, series, day_start, duration, commercial, device_id, quantity)"


def daily_select(source: str, where: str = "1") -> str:
    """The rollup rows of `source` (a table) where `where` holds: the view's, the backfill's, a read's."""
    keys = ", ".join(name for name, _type in DAILY_KEY_COLUMNS if name != "day_start")
    states = ", ".join(f"{expression} AS {name}" for name, _type, expression in DAILY_STATE_COLUMNS)
    condition = "" if where == "1" else f" WHERE {where}"
    return f"SELECT {keys}, {DAY_EXPRESSION} AS day_start, {states} FROM {source}{condition} GROUP BY {keys}, day_start"


# National day totals (issue 11): per quantity, interval, Astana day, commercial flag and quality, the
# sum and count of every row inserted, and how many of them were revisions (revision > 1). A second
# materialized view keeps it at every insert, like the daily rollup. A national total (every point,
# a quantity's day or month) then reads a handful of rows instead of every point's values. Only sum
# and count are kept: they are exact to correct for revisions, by subtracting the superseded rows,
# which the read lists only when a group in range counts a revision (min, max, first and last
# could not be corrected, so they are not here). The commercial flag and quality are keys, so a
# filter on them applies per value, as on the rows.
TOTALS_KEY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("quantity", "String"),
    ("duration", "String"),
    ("commercial", "UInt8"),
    ("quality", "String"),
    ("day_start", "UInt32"),  # last, as `totals_select` gives it (INSERT … SELECT goes by position)
)
TOTALS_STATE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("s_sum", "AggregateFunction(sum, Decimal128(12))", "sumState(value)"),
    ("s_count", "AggregateFunction(count)", "countState()"),
    ("s_revised", "AggregateFunction(sum, UInt64)", "sumState(toUInt64(revision > 1))"),
)
TOTALS_ORDER_BY = "(quantity, duration, day_start, commercial, quality)"


def totals_select(source: str) -> str:
    """The day-total rows of `source` (a table): the view's and the backfill's."""
    keys = ", ".join(name for name, _type in TOTALS_KEY_COLUMNS if name != "day_start")
    states = ", ".join(f"{expression} AS {name}" for name, _type, expression in TOTALS_STATE_COLUMNS)
    return f"SELECT {keys}, {DAY_EXPRESSION} AS day_start, {states} FROM {source} GROUP BY {keys}, day_start"


def _name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"{what} {value!r} is not a plain ClickHouse identifier")
    return value


@dataclass(frozen=True)
class ClusterLayout:
    """Where the readings live: one node (cluster=None) or shards behind a Distributed table.

    `on_cluster` adds ON CLUSTER to the DDL, which needs ZooKeeper/Keeper (distributed DDL
    queue); without it the same DDL is run on each node by whoever deploys them.
    `replicated` makes the local tables ReplicatedMergeTree (Keeper again, and the
    {shard}/{replica} macros in each server's config).
    """

    table: str = "readings"
    local_table: str = "readings_local"
    daily_table: str = "readings_daily"
    daily_local_table: str = "readings_daily_local"
    totals_table: str = "readings_day_totals"
    totals_local_table: str = "readings_day_totals_local"
    cluster: str | None = None
    sharding_key: str = "cityHash64(object_id)"
    replicated: bool = False
    on_cluster: bool = False

    def __post_init__(self) -> None:
        _name(self.table, "table")
        _name(self.local_table, "local table")
        _name(self.daily_table, "daily table")
        _name(self.daily_local_table, "daily local table")
        _name(self.totals_table, "totals table")
        _name(self.totals_local_table, "totals local table")
        if self.cluster is not None:
            _name(self.cluster, "cluster")
            if (
                self.table == self.local_table
                or self.daily_table == self.daily_local_table
                or self.totals_table == self.totals_local_table
            ):
                raise ValueError("a cluster layout needs distinct table and local table names")
        if (self.replicated or self.on_cluster) and self.cluster is None:
            raise ValueError("replicated and on_cluster layouts need a cluster name")

    @property
    def distributed(self) -> bool:
        return self.cluster is not None

    @property
    def storage_table(self) -> str:
        """The MergeTree table that holds rows on a node."""
        return self.local_table if self.distributed else self.table

    @property
    def daily_storage_table(self) -> str:
        """The AggregatingMergeTree table that holds the daily rollup on a node."""
        return self.daily_local_table if self.distributed else self.daily_table

    @property
    def daily_view(self) -> str:
        """The materialized view that feeds the rollup from every insert into the storage table."""
        return f"{self.daily_storage_table}_feed"

    @property
    def totals_storage_table(self) -> str:
        """The AggregatingMergeTree table that holds the day totals on a node."""
        return self.totals_local_table if self.distributed else self.totals_table

    @property
    def totals_view(self) -> str:
        """The materialized view that feeds the day totals from every insert into the storage table."""
        return f"{self.totals_storage_table}_feed"

    def rollups(self, database: str) -> list[tuple[str, str]]:
        """(this node's rollup table, the SELECT that fills it from this node's rows) of each rollup."""
        rows = f"{database}.{self.storage_table}"
        return [
            (f"{database}.{self.daily_storage_table}", daily_select(rows)),
            (f"{database}.{self.totals_storage_table}", totals_select(rows)),
        ]

    @classmethod
    def from_setting(cls, setting: str | Mapping[str, Any] | None) -> ClusterLayout:
        """Read settings.CLICKHOUSE_LAYOUT: None or "" (one node), a cluster name, a mapping or JSON."""
        if setting is None or setting == "":
            return cls()
        if isinstance(setting, str):
            stripped = setting.strip()
            if not stripped.startswith("{"):
                return cls(cluster=stripped)
            setting = json.loads(stripped)
        known = {f.name for f in fields(cls)}
        unknown = set(setting) - known
        if unknown:
            raise ValueError(f"unknown CLICKHOUSE_LAYOUT keys: {', '.join(sorted(unknown))}")
        return cls(**dict(setting))

    def ddl(self, database: str) -> list[str]:
        """CREATE statements (idempotent) for this layout in `database`."""
        database = _name(database, "database")
        on_cluster = f" ON CLUSTER {self.cluster}" if self.on_cluster else ""
        columns = ",\n    ".join(f"{name} {type_}" for name, type_ in (*COLUMNS, SERIES_COLUMN))
        daily_columns = ",\n    ".join(
            [f"{name} {type_}" for name, type_ in DAILY_KEY_COLUMNS]
            + [f"{name} {type_}" for name, type_, _expression in DAILY_STATE_COLUMNS]
        )
        totals_columns = ",\n    ".join(
            [f"{name} {type_}" for name, type_ in TOTALS_KEY_COLUMNS]
            + [f"{name} {type_}" for name, type_, _expression in TOTALS_STATE_COLUMNS]
        )
        engine, daily_engine, totals_engine = (
            self._engine("MergeTree", database, self.storage_table),
            self._engine("AggregatingMergeTree", database, self.daily_storage_table),
            self._engine("AggregatingMergeTree", database, self.totals_storage_table),
        )
        statements = [
            f"CREATE DATABASE IF NOT EXISTS {database}{on_cluster}",
            f"CREATE TABLE IF NOT EXISTS {database}.{self.storage_table}{on_cluster} (\n    {columns}\n)"
            f" ENGINE = {engine}"
            f" PARTITION BY toYYYYMM(period_start)"
            f" ORDER BY {ORDER_BY}",
            f"CREATE TABLE IF NOT EXISTS {database}.{self.daily_storage_table}{on_cluster}"
            f" (\n    {daily_columns}\n) ENGINE = {daily_engine}"
            " PARTITION BY toYYYYMM(toDateTime(day_start, 'UTC'))"
            f" ORDER BY {DAILY_ORDER_BY}",
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.{self.daily_view}{on_cluster}"
            f" TO {database}.{self.daily_storage_table}"
            f" AS {daily_select(f'{database}.{self.storage_table}')}",
            f"CREATE TABLE IF NOT EXISTS {database}.{self.totals_storage_table}{on_cluster}"
            f" (\n    {totals_columns}\n) ENGINE = {totals_engine}"
            " PARTITION BY toYYYYMM(toDateTime(day_start, 'UTC'))"
            f" ORDER BY {TOTALS_ORDER_BY}",
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.{self.totals_view}{on_cluster}"
            f" TO {database}.{self.totals_storage_table}"
            f" AS {totals_select(f'{database}.{self.storage_table}')}",
        ]
        if self.distributed:
            for table, local, key in (
                (self.table, self.local_table, f", {self.sharding_key}"),
                (self.daily_table, self.daily_local_table, f", {self.sharding_key}"),
                (self.totals_table, self.totals_local_table, ""),  # read only: the views fill each shard's
            ):
                statements.append(
                    f"CREATE TABLE IF NOT EXISTS {database}.{table}{on_cluster}"
                    f" AS {database}.{local}"
                    f" ENGINE = Distributed({self.cluster}, {database}, {local}{key})"
                )
        return statements

    def _engine(self, family: str, database: str, table: str) -> str:
        if not self.replicated:
            return family
        return f"Replicated{family}('/clickhouse/tables/{{shard}}/{database}/{table}', '{{replica}}')"

    def drop_ddl(self, database: str) -> list[str]:
        """DROP statements for this layout's tables (tests and benchmarks)."""
        database = _name(database, "database")
        on_cluster = f" ON CLUSTER {self.cluster}" if self.on_cluster else ""
        tables = [self.daily_view, self.totals_view, self.table, self.daily_table, self.totals_table]
        if self.distributed:
            tables += [self.local_table, self.daily_local_table, self.totals_local_table]
        return [f"DROP TABLE IF EXISTS {database}.{table}{on_cluster}" for table in tables]
