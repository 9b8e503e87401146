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
    cluster: str | None = None
    sharding_key: str = "cityHash64(object_id)"
    replicated: bool = False
    on_cluster: bool = False

    def __post_init__(self) -> None:
        _name(self.table, "table")
        _name(self.local_table, "local table")
        if self.cluster is not None:
            _name(self.cluster, "cluster")
            if self.table == self.local_table:
                raise ValueError("a cluster layout needs distinct table and local_table names")
        if (self.replicated or self.on_cluster) and self.cluster is None:
            raise ValueError("replicated and on_cluster layouts need a cluster name")

    @property
    def distributed(self) -> bool:
        return self.cluster is not None

    @property
    def storage_table(self) -> str:
        """The MergeTree table that holds rows on a node."""
        return self.local_table if self.distributed else self.table

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
        if self.replicated:
            path = f"'/clickhouse/tables/{{shard}}/{database}/{self.storage_table}'"
            engine = f"ReplicatedMergeTree({path}, '{{replica}}')"
        else:
            engine = "MergeTree"
        statements = [
            f"CREATE DATABASE IF NOT EXISTS {database}{on_cluster}",
            f"CREATE TABLE IF NOT EXISTS {database}.{self.storage_table}{on_cluster} (\n    {columns}\n)"
            f" ENGINE = {engine}"
            f" PARTITION BY toYYYYMM(period_start)"
            f" ORDER BY {ORDER_BY}",
        ]
        if self.distributed:
            statements.append(
                f"CREATE TABLE IF NOT EXISTS {database}.{self.table}{on_cluster}"
                f" AS {database}.{self.local_table}"
                f" ENGINE = Distributed({self.cluster}, {database}, {self.local_table}, {self.sharding_key})"
            )
        return statements

    def drop_ddl(self, database: str) -> list[str]:
        """DROP statements for this layout's tables (tests and benchmarks)."""
        database = _name(database, "database")
        on_cluster = f" ON CLUSTER {self.cluster}" if self.on_cluster else ""
        tables = [self.table, self.local_table] if self.distributed else [self.table]
        return [f"DROP TABLE IF EXISTS {database}.{table}{on_cluster}" for table in tables]
