"""The readings store on ClickHouse: a server over the native protocol, or chDB in process.

Revisions. Rows are only ever appended to a plain MergeTree. Reads keep the newest revision
of each value by excluding the superseded ones (see `_newest_where`); writes look up the newest
revisions of the keys they carry with argMax(…, revision). Both are exact immediately after an
insert (no background merge needs to have run, unlike a ReplacingMergeTree without FINAL) and
across the shards of a Distributed table. docs/decisions/0006-readings-at-scale.md gives the reasons.

Writes. With claims (egsu.readings.claims, docs/decisions/0013-exactly-once-writes.md) a write
claims its values in a transactional database in one upsert, which decides NEW / DUPLICATE /
REVISED for any number of writer processes, and then inserts only what it claimed; a failed or
interrupted insert is finished by `recover()`. Without claims (chDB in one process), `write()`
reads the newest revision of every key (a few range queries) under a lock of this process and
decides itself. Either way a replayed batch is all DUPLICATE and adds nothing, and an insert that
fails raises (StoreUnavailableError when the server cannot be reached).

Reads of whole Astana days and months merge a daily rollup that a materialized view keeps at
every insert (`_daily_aggregate_sql`); days with a revision are recomputed from the rows. Large
IN lists travel as external tables (`ValueSets`).

All SQL here runs on ClickHouse 18.16 (Debian's server) and on current engines (chDB).
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from datetime import time as dt_time
from decimal import Decimal
from operator import itemgetter
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlparse

from clickhouse_driver import Client
from clickhouse_driver import errors as driver_errors

from egsu.readings.aggregation import EXACT, aggregate_order, bucket_start
from egsu.readings.claims import (
    Claims,
    canonical,
    claims_from_url,
    pack,
    pack_columns,
    unpack_columns,
)
from egsu.readings.clickhouse_schema import (
    COLUMN_NAMES,
    DAILY_STATE_NAMES,
    DAY_EXPRESSION,
    SERIES_HASH,
    ClusterLayout,
    daily_select,
)
from egsu.readings.flusher import Flusher, lock_path
from egsu.readings.store import (
    CHUNK_ROWS,
    AggregateRow,
    AggregateTuple,
    Bucket,
    Group,
    Measures,
    ReadingColumns,
    ReadingQuery,
    ReadingRow,
    RowOrder,
    SeriesKey,
    SeriesPair,
    SeriesPairs,
    SeriesSet,
    StoreUnavailableError,
    WriteOutcome,
    WriteSummary,
    batched,
    check_chunk_rows,
    check_columns,
    check_grouping,
    check_page,
    check_row,
    chunked_aggregates,
    repeats_stored,
    series_of,
    tidy_value,
)
from egsu_core.clock import ASTANA, utcnow
from egsu_core.vocabulary import Interval

logger = logging.getLogger(__name__)

# (object_id, device_id, quantity, interval, period_start as Unix seconds)
ValueKey = tuple[str, str, str, str, int]


@dataclass(frozen=True)
class FillResult:
    """What `fill_claims` did: values read from the store, claims written, whether it went on from a checkpoint."""

    read: int
    written: int
    resumed: bool


_DATETIME_MAX = 2**32  # DateTime is an unsigned 32-bit count of seconds
_NO_LIMIT = 2**62  # LIMIT needs a count; more rows than any table holds
_UNREACHABLE = (driver_errors.NetworkError, driver_errors.SocketTimeoutError, EOFError, OSError)

# Bucket start (Unix seconds) of a value's period_start. Day and month boundaries follow the
# Astana clock through the engine's zone database (INT-37); tests compare them with zoneinfo.
_BUCKET_SQL = {
    "PT15M": "intDiv(toUInt32(period_start), 900) * 900",
    "PT1H": "intDiv(toUInt32(period_start), 3600) * 3600",
    "P1D": f"toUInt32(toStartOfDay(period_start, '{ASTANA.key}'))",
    "P1M": f"toUInt32(toDateTime(toStartOfMonth(period_start, '{ASTANA.key}'), '{ASTANA.key}'))",
}
_GROUP_COLUMNS = {
    "series": ("object_id", "device_id", "quantity"),
    "object": ("object_id", "quantity"),
    "quantity": ("quantity",),
    "all": (),
    "label": ("label", "quantity"),
}
_SERIES_COLUMNS = _GROUP_COLUMNS["series"]
_ROW_ORDERS = {
    "series": ("object_id", "device_id", "quantity", "duration", "period_start"),
    "time": ("period_start", "object_id", "device_id", "quantity", "duration"),
}
_ROW_SELECT = (
    "SELECT object_id, device_id, quantity, duration, toUInt32(period_start), revision,"
    " toString(value), unit, quality, commercial, source, toUInt32(recorded_at)"
)
_DAILY_BUCKETS = {"P1D", "P1M"}  # whole Astana days: what the daily rollup can answer
# One metering point as one number: a join key cheaper than the pair or the pair as one String (issue
# 13). Not unique: whoever joins on it compares the pair too, so a collision never joins a wrong point.
_POINT_KEY = "cityHash64({object}, {device})"
STORED_LABELS_PERIOD_S = 600  # a stored labels table serves reads for one such period (`_stored_labels`)


class ValueSets:
    """Large IN lists and small lookup tables of one read, sent as data rather than SQL text.

    18.16 parses a 100,000-name IN list in about a second, and a region query needs it more than
    once. A server connection ships each set as an external table (no parsing); chDB, which has
    no external tables, gets them written back into the SQL as literals (`values(…)` for a
    table read in FROM). `cache` keeps what one read computed once (its series pairs) for the
    several queries it runs.
    """

    SMALLEST = 200  # below this, a literal list is as cheap as a table

    def __init__(self, *, distributed: bool = False) -> None:
        self.distributed = distributed
        self.tables: dict[str, tuple[tuple[tuple[str, str], ...], list[tuple]]] = {}
        self.relations: set[str] = set()  # tables read in FROM/JOIN rather than after IN
        self.cache: dict[str, Any] = {}

    def member(self, columns: str, types: tuple[str, ...], rows: list[tuple]) -> str:
        """`columns IN <set>` for these rows: a table name for the server, literals for chDB."""
        if not rows:
            return "0"
        name = self._add(types, rows)
        operator = "GLOBAL IN" if self.distributed else "IN"  # the initiator ships it to the shards
        return f"{columns} {operator} {name}"

    def relation(self, types: tuple[str, ...], rows: list[tuple]) -> str:
        """A table of `rows` (at least one) with columns c0, c1, … to read in FROM or JOIN (on the initiator)."""
        if not rows:
            raise ValueError("a relation needs at least one row")
        name = self._add(types, rows)
        self.relations.add(name)
        return name

    def _add(self, types: tuple[str, ...], rows: list[tuple]) -> str:
        name = f"_egsu_set_{len(self.tables)}"
        structure = tuple((f"c{index}", type_) for index, type_ in enumerate(types))
        self.tables[name] = (structure, rows)
        return name

    def external_tables(self, sql: str) -> list[dict] | None:
        """The sets `sql` names, as the driver's external tables (rows as tuples, not copied)."""
        named = set(_SET_NAME.findall(sql))
        tables = [
            {"name": name, "structure": list(structure), "data": rows}
            for name, (structure, rows) in self.tables.items()
            if name in named
        ]
        return tables or None

    def inline(self, sql: str) -> str:
        """The SQL with every set written into it, for chDB, in one pass over the query's own text
        (a name inside a set's data is data, never replaced).

        A small IN set becomes a literal tuple list. A large one, and every table read in FROM,
        becomes `format(TabSeparated, …)` over one string literal: the engine parses 100,000
        rows of text in milliseconds, but 100,000 tuple literals in seconds.
        """
        rendered: dict[str, str] = {}

        def render(match: re.Match) -> str:
            name = match.group(0)
            if name not in rendered:
                rendered[name] = self._render(name)
            return rendered[name]

        return _SET_NAME.sub(render, sql)

    def _render(self, name: str) -> str:
        structure, rows = self.tables[name]
        if name in self.relations or len(rows) >= self.SMALLEST:
            columns = ", ".join(f"{column} {type_}" for column, type_ in structure)
            text = "\n".join("\t".join(_tsv(field) for field in row) for row in rows)
            table = f"format(TabSeparated, {_literal(columns)}, {_literal(text)})"
            if name in self.relations:
                return table
            return f"(SELECT {', '.join(column for column, _type in structure)} FROM {table})"
        literals = [_row_literal(row) for row in rows]
        if len(literals) == 1 and len(rows[0]) > 1:
            literals *= 2  # ((1, 2)) would read as one tuple of two values, not a set of one pair
        return "(" + ", ".join(literals) + ")"


_SET_NAME = re.compile(r"\b_egsu_set_\d+\b")


class ClickHouseConnection(Protocol):
    """What the store needs from a ClickHouse client: plain rows of str/int, and bulk inserts."""

    def query(self, sql: str, sets: ValueSets | None = None) -> list[tuple]: ...

    def stream(
        self, sql: str, sets: ValueSets | None = None, *, offset: int = 0, limit: int | None = None
    ) -> Iterator[tuple]:
        """The rows of `sql` (which ends in a total ORDER BY) from `offset`, at most `limit`, a block
        at a time; other queries on the same connection may run while it is being read."""
        ...

    def command(self, sql: str) -> None: ...

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None: ...

    def close(self) -> None: ...


class DriverConnection:
    """A ClickHouse server over the native protocol (clickhouse-driver), one client per thread."""

    # Large IN lists (a region's meters, a batch's devices) exceed the default query size and AST limits;
    # inserts into a Distributed table return only once every shard has the rows.
    SETTINGS = {
        "max_query_size": 1 << 30,
        "max_ast_elements": 50_000_000,
        "max_expanded_ast_elements": 50_000_000,
        "insert_distributed_sync": 1,
    }
    # A streamed answer arrives in blocks of this many rows (what the client holds at a time);
    # a sort larger than 1 GiB spills to the server's disk rather than failing (a region's rows).
    STREAM_SETTINGS = {"max_block_size": 16_384, "max_bytes_before_external_sort": 1 << 30}

    def __init__(
        self, host: str, port: int, *, user: str = "default", password: str = "", alt_hosts: str = ""
    ) -> None:
        self.host, self.port, self.user, self.password = host, port, user, password
        # "host:port,host:port": the other replicas, tried in turn when this one does not answer (DIG-19)
        self.alt_hosts = alt_hosts
        self._local = threading.local()

    @property
    def client(self) -> Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._new_client()
        return client

    def _new_client(self) -> Client:
        return Client(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            settings=self.SETTINGS,
            connect_timeout=3,
            **({"alt_hosts": self.alt_hosts} if self.alt_hosts else {}),
            send_receive_timeout=300,
        )

    def query(self, sql: str, sets: ValueSets | None = None) -> list[tuple]:
        return self._run(sql, external=sets.external_tables(sql) if sets else None)

    def stream(
        self, sql: str, sets: ValueSets | None = None, *, offset: int = 0, limit: int | None = None
    ) -> Iterator[tuple]:
        """Rows as the server sends them, block by block (execute_iter), on a client of its own.

        A native connection carries one query at a time, so the stream gets its own: the caller
        may query the store while it reads. Leaving the loop early closes that connection, which
        cancels the query on the server.
        """
        if limit == 0:
            return
        client = self._new_client()
        external = sets.external_tables(sql) if sets else None
        try:
            yield from client.execute_iter(
                _limited(sql, offset, limit), external_tables=external, settings=self.STREAM_SETTINGS
            )
        except _UNREACHABLE as exc:
            raise StoreUnavailableError(
                f"ClickHouse at {self.host}:{self.port} is unreachable: {exc}"
            ) from exc
        finally:
            client.disconnect()

    def command(self, sql: str) -> None:
        self._run(sql)

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        """Rows, sent as columns: the driver then serialises each column in one pass (issue 13 item 3)."""
        self.insert_columns(table, columns, list(zip(*rows, strict=True)) if rows else [])

    def insert_columns(self, table: str, columns: Sequence[str], data: Sequence[Sequence]) -> None:
        """One insert of `data`, a sequence per column (clickhouse-driver `columnar=True`)."""
        if not data or not len(data[0]):
            return
        self._run(f"INSERT INTO {table} ({', '.join(columns)}) VALUES", rows=data, columnar=True)

    def _run(
        self,
        sql: str,
        *,
        rows: Sequence | None = None,
        external: list[dict] | None = None,
        columnar: bool = False,
    ) -> list[tuple]:
        try:
            if rows is None:
                return self.client.execute(sql, external_tables=external)
            self.client.execute(sql, rows, columnar=columnar)
            return []
        except _UNREACHABLE as exc:
            self.client.disconnect()  # the next call reconnects
            raise StoreUnavailableError(
                f"ClickHouse at {self.host}:{self.port} is unreachable: {exc}"
            ) from exc

    def close(self) -> None:
        client = getattr(self._local, "client", None)
        if client is not None:
            client.disconnect()


class ChdbConnection:
    """chDB: a current ClickHouse engine inside this process (embedded use, tests, benchmarks).

    Streams. chDB streams an answer in blocks (`send_query`), but one session runs one query at
    a time and any other query cancels an open stream. So a stream that another query
    interrupted (the caller read the store while iterating, or another thread did) is resumed
    by running its query again from the rows already delivered (`LIMIT delivered, …`): exact,
    because every streamed query ends in a total ORDER BY, and free while nothing interleaves.
    """

    STREAM_FORMAT = "JSONCompactEachRow"
    STREAM_SETTINGS = " SETTINGS " + ", ".join(
        f"{name} = {value}" for name, value in DriverConnection.STREAM_SETTINGS.items()
    )

    def __init__(self, path: str | None = None) -> None:
        from chdb import session  # optional dependency: only this adapter needs it

        self._session = session.Session(path) if path else session.Session()
        self._lock = threading.RLock()  # one session, one query at a time
        self._stream: Any = None  # the open streaming result, if any
        for name, value in DriverConnection.SETTINGS.items():
            if name != "insert_distributed_sync":
                self.command(f"SET {name} = {value}")

    def query(self, sql: str, sets: ValueSets | None = None) -> list[tuple]:
        if sets is not None:
            sql = sets.inline(sql)
        with self._lock:
            self._interrupt_stream()
            result = self._session.query(sql, "JSONCompact").bytes()
        if not result:
            return []
        return [tuple(row) for row in json.loads(result)["data"]]

    def stream(
        self, sql: str, sets: ValueSets | None = None, *, offset: int = 0, limit: int | None = None
    ) -> Iterator[tuple]:
        if sets is not None:
            sql = sets.inline(sql)
        delivered = 0
        while limit is None or delivered < limit:
            remaining = None if limit is None else limit - delivered
            with self._lock:
                self._interrupt_stream()
                result = self._stream = self._session.send_query(
                    _limited(sql, offset + delivered, remaining) + self.STREAM_SETTINGS, self.STREAM_FORMAT
                )
            try:
                while True:
                    with self._lock:
                        if self._stream is not result:
                            break  # interrupted: run again from the rows delivered
                        chunk = result.fetch()
                        if chunk is None:
                            self._stream = None
                            return
                        data = chunk.bytes()
                    rows = json.loads(b"[" + b",".join(data.splitlines()) + b"]") if data else []
                    for row in rows:
                        yield tuple(row)
                        delivered += 1
            finally:
                with self._lock:
                    if self._stream is result:  # left early: cancel, so the session is free
                        self._interrupt_stream()

    def _interrupt_stream(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            stream.close()

    def command(self, sql: str) -> None:
        with self._lock:
            self._interrupt_stream()
            self._session.query(sql)

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        body = "\n".join("\t".join(_tsv(field) for field in row) for row in rows)
        with self._lock:
            self._interrupt_stream()
            self._session.query(f"INSERT INTO {table} ({', '.join(columns)}) FORMAT TabSeparated\n{body}\n")

    def close(self) -> None:
        with self._lock:
            self._interrupt_stream()
            self._session.close()


def _limited(sql: str, offset: int, limit: int | None) -> str:
    """`sql` from row `offset`, at most `limit` rows (ClickHouse's `LIMIT offset, count`)."""
    if not offset and limit is None:
        return sql
    return f"{sql} LIMIT {offset}, {_NO_LIMIT if limit is None else limit}"


def connect(url: str) -> tuple[ClickHouseConnection, str]:
    """A connection and database name from `clickhouse://[user[:pw]@]host[:port]/db` or `chdb:///dir?database=db`.

    Several hosts (`clickhouse://u:pw@ch-1a:9000,ch-1b:9000/db`, the replicas of one shard): the first
    is used, the others when it does not answer, so a lost replica does not stop the store (DIG-19).
    """
    parsed = urlparse(url)
    if parsed.scheme == "clickhouse":
        database = parsed.path.lstrip("/") or "default"
        credentials, _, hostlist = parsed.netloc.rpartition("@")
        user, _, password = credentials.partition(":")
        hosts = []
        for part in (hostlist or "127.0.0.1").split(","):
            host, _, port = part.rpartition(":") if not part.endswith("]") and ":" in part else (part, "", "")
            if port and not port.isdigit():
                raise ValueError(f"CLICKHOUSE_URL {url!r}: bad port {port!r}")
            hosts.append((unquote(host).strip("[]") or "127.0.0.1", int(port or 9000)))
        connection = DriverConnection(
            hosts[0][0],
            hosts[0][1],
            user=unquote(user or "default"),
            password=unquote(password),
            alt_hosts=",".join(f"{host}:{port}" for host, port in hosts[1:]),
        )
        return connection, database
    if parsed.scheme == "chdb":
        database = parse_qs(parsed.query).get("database", ["egsu"])[0]
        return ChdbConnection(parsed.path or None), database
    raise ValueError(f"CLICKHOUSE_URL {url!r}: use clickhouse://host:port/database or chdb:///path")


class ClickHouseReadingsStore:
    """`ReadingsStore` on ClickHouse (one node or a Distributed layout)."""

    in_django_database = False  # a write commits its own claims (ADR 0013), whatever the caller's transaction

    def __init__(
        self,
        connection: ClickHouseConnection,
        *,
        database: str = "egsu",
        layout: ClusterLayout | None = None,
        lookup_chunk_size: int = 20_000,
        revised_day_limit: int = 20_000,
        create_schema: bool = True,
        claims: Claims | None = None,
        recover_every_s: float = 10.0,
        claim_chunk_size: int = 25_000,
        stream_slice_series: int = 10_000,
        stored_labels_min: int = 10_000,
        flush_interval_s: float = 0.0,
        flush_block_rows: int = 100_000,
        flush_lock_dir: str | None = None,
    ) -> None:
        self.connection = connection
        self.database = database
        self.layout = layout or ClusterLayout()
        self.table = f"{database}.{self.layout.table}"
        self.daily_table = f"{database}.{self.layout.daily_table}"
        self.lookup_chunk_size = lookup_chunk_size
        self.revised_day_limit = revised_day_limit
        self._write_lock = threading.Lock()
        self.claims = claims
        self.recover_every_s = recover_every_s
        self.claim_chunk_size = claim_chunk_size  # values claimed and inserted together (write_columns)
        self._recovered_at = 0.0
        # series (points) per engine query of a streamed per-point or per-object answer (aggregate_chunks)
        self.stream_slice_series = stream_slice_series
        self.stream_ahead_chunks = 4  # chunks the engine's thread may read ahead of the client
        # labels of at least this many points are kept in the engine between reads (`_stored_labels`); 0: never
        self.stored_labels_min = stored_labels_min
        self.flush_block_rows = flush_block_rows  # rows a flush gathers into one insert, at most
        # flush_interval_s > 0 (with claims): a write answers after its claim and leaves the insert to the
        # server's flusher (ADR 0013, deferred inserts)
        self.flusher = (
            Flusher(self, interval_s=flush_interval_s, lock_path=lock_path(claims.namespace, flush_lock_dir))
            if flush_interval_s and claims is not None
            else None
        )
        if create_schema:
            self.create_schema()

    @classmethod
    def from_url(
        cls, url: str, *, layout: ClusterLayout | None = None, claims_url: str | None = None, **options: Any
    ) -> ClickHouseReadingsStore:
        """A store on `url`; with `claims_url` (sqlite:///… or postgresql://…) writes are claimed there
        (exactly once with any number of writer processes, ADR 0013)."""
        connection, database = connect(url)
        if claims_url:
            options["claims"] = claims_from_url(claims_url, database)
        return cls(connection, database=database, layout=layout, **options)

    def create_schema(self) -> None:
        """Create what is missing on this node; a rollup added beside rows is filled from them.

        Filling copies the rows present when the view starts: run it with the writers stopped
        (an upgrade), or rows written in that moment count twice in the rollup.
        """
        rows = f"{self.database}.{self.layout.storage_table}"  # this node's: each node fills its own
        rollups = self.layout.rollups(self.database)
        missing = [(table, fill) for table, fill in rollups if not self._exists(table)]
        for statement in self.layout.ddl(self.database):
            self._command(statement)
        if missing and self._query(f"SELECT count() FROM {rows}")[0][0]:
            for table, fill in missing:
                self._command(f"INSERT INTO {table} {fill}")

    def _exists(self, table: str) -> bool:
        database, name = table.split(".")
        rows = self._query(
            f"SELECT count() FROM system.tables WHERE database = {_literal(database)} AND name = {_literal(name)}"
        )
        return bool(int(rows[0][0]))

    def drop_schema(self) -> None:
        for statement in self.layout.drop_ddl(self.database):
            self._command(statement)

    # -- retention (egsu.ops.retention) --------------------------------------------------------

    def purge_before(self, cutoff: datetime) -> int:
        """Delete the rows whose period starts before `cutoff` (an Astana midnight) and the rollup's days
        before it, together: whole monthly partitions are dropped, the rest deleted by a mutation.
        The claims of those slots are pruned after them."""
        if self.layout.distributed and not self.layout.on_cluster:
            raise ValueError("a cluster layout without on_cluster: purge each shard's local tables there")
        on = f" ON CLUSTER {self.layout.cluster}" if self.layout.on_cluster else ""
        seconds = _seconds(cutoff)
        before = f"period_start < toDateTime({seconds}, 'UTC')"
        count = int(self._query(f"SELECT count() FROM {self.table} WHERE {before}")[0][0])
        rows_table = f"{self.database}.{self.layout.storage_table}"
        month_of_day = "toYYYYMM(toDateTime(day_start, 'UTC'))"
        # (table read, this node's table, its partition's month, its time condition before the cutoff)
        tables = [(self.table, rows_table, "toYYYYMM(period_start)", before)] + [
            (f"{self.database}.{read}", f"{self.database}.{local}", month_of_day, f"day_start < {seconds}")
            for read, local in (
                (self.layout.daily_table, self.layout.daily_storage_table),
                (self.layout.totals_table, self.layout.totals_storage_table),
            )
        ]
        for table, target, expression, _condition in tables:
            for (month,) in self._query(f"SELECT DISTINCT {expression} FROM {table}"):
                year, number = divmod(int(month), 100)
                following = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
                if following <= cutoff:  # every row (or day) of the partition is before the cutoff
                    self._command(f"ALTER TABLE {target}{on} DROP PARTITION {int(month)}")
        for table, target, _expression, condition in tables:
            if int(self._query(f"SELECT count() FROM {table} WHERE {condition}")[0][0]):
                self._command(f"ALTER TABLE {target}{on} DELETE WHERE {condition}")
        self._await_mutations(
            (self.layout.storage_table, self.layout.daily_storage_table, self.layout.totals_storage_table)
        )
        if self.claims is not None:  # their claims go too: a value sent again is then NEW, as the store says
            self.claims.prune(min(seconds, int(time.time() - self.claims.prune_min_age_s)))
        return count

    def _await_mutations(self, tables: tuple[str, ...], timeout_s: float = 300.0) -> None:
        """A DELETE is a mutation the server runs in the background: wait until this node finished it."""
        import time

        names = ", ".join(f"'{t}'" for t in tables)
        sql = (
            f"SELECT count() FROM system.mutations WHERE database = '{self.database}'"
            f" AND table IN ({names}) AND is_done = 0"
        )
        deadline = time.monotonic() + timeout_s
        while int(self._query(sql)[0][0]):
            if time.monotonic() > deadline:
                raise StoreUnavailableError(
                    f"the deletion in {self.database} did not finish in {timeout_s:.0f} s"
                )
            time.sleep(0.1)

    # -- writing -------------------------------------------------------------------------------

    def write(self, rows: Sequence[ReadingRow]) -> list[WriteOutcome]:
        """Store new revisions; one outcome per row, in input order. Raises rather than half-acknowledging."""
        checked = [_checked(row) for row in rows]
        if not checked:
            return []
        seconds: dict[datetime, int] = {}  # a batch holds few distinct instants: convert each once
        keys = [
            (
                row.key.object_id,
                row.key.device_id,
                row.key.quantity,
                row.interval,
                seconds.get(row.period_start)
                or seconds.setdefault(row.period_start, _seconds(row.period_start)),
            )
            for row in checked
        ]
        if self.claims is not None:
            return self._write_claimed(checked, keys)
        with self._write_lock:
            newest = self._newest_revisions(set(keys))
            outcomes: list[WriteOutcome] = []
            inserts: list[tuple] = []
            recorded_at = int(utcnow().timestamp())
            for row, key in zip(checked, keys, strict=True):
                current = newest.get(key)
                if current is None:
                    revision, outcome = 1, WriteOutcome.NEW
                elif repeats_stored(current[1], current[2], current[3], row):
                    outcomes.append(WriteOutcome.DUPLICATE)
                    continue
                else:
                    revision, outcome = current[0] + 1, WriteOutcome.REVISED
                newest[key] = (revision, row.value, row.unit, row.quality)  # later rows of this batch see it
                outcomes.append(outcome)
                inserts.append(
                    (
                        *key,
                        revision,
                        row.value,
                        row.unit,
                        row.quality,
                        int(row.commercial),
                        row.source,
                        recorded_at,
                    )
                )
            if inserts:
                inserts.sort(key=lambda r: r[:6])  # object first, as the table: fewer, tidier parts
                self._insert(inserts)
        return outcomes

    def _write_claimed(self, rows: list[ReadingRow], keys: list[ValueKey]) -> list[WriteOutcome]:
        """Claim the batch's values in the transactional database, then insert what was claimed.

        One upsert per batch decides every answer (egsu.readings.claims, ADR 0013); the claim and
        the rows to insert (an intent) commit together before ClickHouse sees them, and the intent
        is dropped once the insert is acknowledged. A failed insert leaves it for `recover()`.
        """
        claims = self.claims
        assert claims is not None
        self._recover_now_and_then()
        entries = [
            (*key, canonical(row.value), row.unit, row.quality) for row, key in zip(rows, keys, strict=True)
        ]
        recorded_at = int(utcnow().timestamp())
        inserts: list[tuple] = []

        def intent_of(revisions: list[int | None]) -> bytes | None:
            inserts.clear()
            for row, key, revision in zip(rows, keys, revisions, strict=True):
                if revision is not None:
                    inserts.append(
                        (*key, revision, row.value, row.unit, row.quality, int(row.commercial), row.source,
                         recorded_at)
                    )  # fmt: skip
            return pack(inserts) if inserts else None

        revisions, intent_id = claims.claim(entries, intent_of, self._stored_states, queued=self._queued())
        if intent_id is not None and self.flusher is None:
            inserts.sort(key=lambda r: r[:6])  # object first, as the table: fewer, tidier parts
            _settle(lambda: self._insert(inserts), claims, [intent_id])
        return [
            WriteOutcome.DUPLICATE
            if revision is None
            else WriteOutcome.NEW
            if revision == 1
            else WriteOutcome.REVISED
            for revision in revisions
        ]

    def write_columns(self, columns: ReadingColumns) -> list[WriteOutcome]:
        """`write()` of values given as columns (the AMI intake's bulk form), without a row object per value.

        The same claim (one upsert for the batch, ADR 0013) and the same answers; the claimed
        values go to ClickHouse as one columnar insert, their value column as the canonical text
        the claim compared (the driver reads each into the Decimal128 column), and the intent holds
        them as columns too. Without claims (chDB in one process) it is `write(columns.rows())`.
        """
        check_columns(columns)
        count = len(columns)
        if not count:
            return []
        claims = self.claims
        if claims is None:
            return self.write(columns.rows())
        seconds: dict[datetime, int] = {}
        for moment in set(columns.period_start):  # a batch holds few distinct instants: each once
            if moment.microsecond:
                raise ValueError("period_start must be a whole second")
            second = _seconds(moment)
            if not 0 <= second < _DATETIME_MAX:
                raise ValueError(f"period_start {moment.isoformat()} is outside 1970–2106")
            seconds[moment] = second
        if count > self.claim_chunk_size:
            # A large batch (a 15 MB one holds 200,000 values) is claimed and inserted a chunk at a
            # time, which bounds the memory of the claim's answer and of the insert. Each chunk
            # commits its claims before its insert as a whole batch does; if a later chunk fails,
            # nothing is acknowledged and the retry finds the earlier chunks' values DUPLICATE,
            # as it finds a batch whose intake transaction failed after its write (ADR 0013).
            outcomes: list[WriteOutcome] = []
            size = self.claim_chunk_size
            for first in range(0, count, size):
                part = ReadingColumns(
                    columns.source,
                    *(column[first : first + size] for column in _value_columns(columns)),
                    text=columns.text[first : first + size],
                )
                outcomes += self._write_claimed_columns(part, claims, seconds)
            return outcomes
        return self._write_claimed_columns(columns, claims, seconds)

    def _write_claimed_columns(
        self, columns: ReadingColumns, claims: Claims, seconds: dict[datetime, int]
    ) -> list[WriteOutcome]:
        """Claim checked columns (one upsert), then insert what was claimed (ADR 0013); `seconds`
        gives each period start in Unix seconds."""
        self._recover_now_and_then()
        starts = list(map(seconds.__getitem__, columns.period_start))
        texts = columns.text or list(map(canonical, columns.value))
        entries = list(
            zip(columns.object_id, columns.device_id, columns.quantity, columns.interval, starts, texts,
                columns.unit, columns.quality, strict=True)
        )  # fmt: skip
        recorded_at = int(utcnow().timestamp())
        commercial = [1 if flag else 0 for flag in columns.commercial]
        data: list[Sequence] = []

        def intent_of(revisions: list[int | None]) -> bytes | None:
            keys = (columns.object_id, columns.device_id, columns.quantity, columns.interval, starts)
            fields = (columns.unit, columns.quality, commercial)
            if None not in revisions:  # all claimed (the usual new batch): the columns as they are
                picked = [*keys, revisions, texts, *fields]
            else:
                chosen = [i for i, revision in enumerate(revisions) if revision is not None]
                if not chosen:
                    return None
                picked = [[column[i] for i in chosen] for column in (*keys, revisions, texts, *fields)]
            data[:] = picked
            return pack_columns(picked, columns.source, recorded_at)

        revisions, intent_id = claims.claim(  # pruned slots too
            entries, intent_of, self._stored_states, queued=self._queued()
        )
        if intent_id is not None and self.flusher is None:
            count = len(data[0])
            block = [*data, [columns.source] * count, [recorded_at] * count]
            _settle(lambda: self._insert_columns(block), claims, [intent_id])
        new, revised, duplicate = WriteOutcome.NEW, WriteOutcome.REVISED, WriteOutcome.DUPLICATE
        return [duplicate if r is None else new if r == 1 else revised for r in revisions]

    def _insert_columns(self, data: Sequence[Sequence]) -> None:
        """One insert of rows given as columns in COLUMN_NAMES order (a server takes them as columns)."""
        insert_columns = getattr(self.connection, "insert_columns", None)
        if insert_columns is not None:
            insert_columns(self.table, COLUMN_NAMES, data)
        else:
            self.connection.insert(self.table, COLUMN_NAMES, list(zip(*data, strict=True)))

    def _queued(self) -> bool:
        """Whether this write leaves its insert to the flusher (started here: this process may be its host's)."""
        if self.flusher is None:
            return False
        self.flusher.start()
        return True

    def flush(self, max_rows: int | None = None) -> int:
        """Insert queued intents of any writer as one block of up to about `max_rows` rows (default
        `flush_block_rows`); how many rows it inserted. The flusher thread calls it every interval.

        The intents are taken in the claims database first (no other flusher gets them) and dropped
        once the insert is acknowledged; if it fails they are marked failed and recovery inserts
        whichever of their rows ClickHouse lacks, as for a writer's own failed insert."""
        claims = self.claims
        if claims is None:
            return 0
        limit = max_rows or self.flush_block_rows
        taken: list[int] = []
        block: list[list] = [[] for _ in COLUMN_NAMES]
        wanted = 1  # intents taken next: as many as the rows still wanted, by the mean size so far
        while len(block[0]) < limit:
            intents = claims.take_queued(wanted)
            if not intents:
                break
            for intent_id, blob in intents:
                taken.append(intent_id)
                for column, part in zip(block, unpack_columns(blob), strict=True):
                    column += part
            mean = max(1, len(block[0]) // len(taken))
            wanted = max(1, min(64, (limit - len(block[0])) // mean))
        if not taken:
            return 0
        _settle(lambda: self._insert_columns(block), claims, taken)
        return len(block[0])

    def drain(self, deadline: float | None = None) -> int:
        """Flush until nothing is queued (tests, benchmarks, a fill, an orderly stop), or until the
        `time.monotonic()` `deadline` when given; rows inserted."""
        inserted = 0
        while (deadline is None or time.monotonic() < deadline) and (flushed := self.flush()):
            inserted += flushed
        return inserted

    def _recover_now_and_then(self) -> None:
        if time.monotonic() - self._recovered_at >= self.recover_every_s:
            self._recovered_at = time.monotonic()
            self.recover()

    def recover(self) -> int:
        """Insert the rows of claimed batches whose writer died or failed; how many rows it added.

        Only (key, revision) rows the table lacks are inserted: each was claimed exactly once, so a
        row already there is that claim's own (the writer died after its insert, before dropping its intent).
        Every writer runs it at most every `recover_every_s` (10 s) before a write; the periodic job
        `readings.recover-claims` and `egsu readings claims recover` run it when nobody writes.
        """
        return sum(inserted for _intent, _claimed, inserted in self.recover_intents())

    def recover_intents(self) -> list[tuple[int, int, int]]:
        """`recover()` intent by intent: (intent id, rows claimed, rows the table lacked and got)."""
        if self.claims is None:
            return []
        report = []
        for intent_id, blob in self.claims.take_stale():
            rows = [
                (o, d, q, du, int(p), int(r), Decimal(v), u, ql, int(c), src, int(rec))
                for o, d, q, du, p, r, v, u, ql, c, src, rec in zip(*unpack_columns(blob), strict=True)
            ]
            missing: list[tuple] = []

            def insert_missing(rows=rows, missing=missing) -> None:
                missing.extend(self._missing(rows))
                if missing:
                    self._insert(missing)

            # ClickHouse still away: the intent is given back as failed, so that the next recovery (of any
            # process) takes it again, instead of keeping it as this live process's own until the lease ends
            _settle(insert_missing, self.claims, [intent_id])
            report.append((intent_id, len(rows), len(missing)))
        return report

    def _stored_states(self, keys: list[ValueKey]) -> dict[ValueKey, tuple[int, str, str, str]]:
        """The newest stored revision of each key (revision, canonical value, unit, quality): what a
        write asks for a slot whose claim may have been pruned (egsu.readings.claims)."""
        return {
            key: (revision, canonical(value), unit, quality)
            for key, (revision, value, unit, quality) in self._newest_revisions(set(keys)).items()
        }

    def fill_claims(
        self,
        *,
        since: datetime | None = None,
        page_size: int = 50_000,
        restart: bool = False,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> FillResult:
        """Make the claims agree with this store (a store written before claims, or restored): the
        newest revision of every value from `since` on (all when None), read in pages in series
        order and written set-based per page (`Claims.fill`), with writers stopped.

        Idempotent (a claim equal to the store is left alone) and resumable: each page records
        where it ended, and a later call goes on from there unless `restart`. Open intents are
        recovered first, so the table holds every claimed row. Claims before `since` are not
        filled; the store answers for them (the pruning horizon is raised to `since`).
        """
        claims = self.claims
        if claims is None:
            raise ValueError("this store writes without claims (chDB in one process): nothing to fill")
        if since is not None and _seconds(since) > time.time() - claims.prune_min_age_s:
            raise ValueError(
                f"fill at least the last {claims.prune_min_age_s // 86_400} days: younger writes never ask the store"
            )
        self.recover()
        self.drain()  # queued writes are done writes: insert them (whoever queued them)
        busy = [intent for intent in claims.intents() if not intent.waits_for_recovery]
        if busy:
            raise RuntimeError(f"{len(busy)} writes are in flight: stop the writers before filling claims")
        since_s = 0 if since is None else _seconds(since)
        after = None
        checkpoint = "" if restart else claims.checkpoint()
        if checkpoint:
            saved = json.loads(checkpoint)
            if saved["since"] == since_s:  # a fill of another range starts again
                o, d, q, du, start = saved["after"]
                after = (o, d, q, du, datetime.fromtimestamp(start, UTC))
        query = ReadingQuery(start=since)
        total = self.count(
            query if after is None else ReadingQuery(start=since, after_series=(after[0], after[1]))
        )
        done = written = 0
        note = "resumed" if after is not None else ""
        if progress is not None:
            progress(0, total, note)
        while True:
            page = list(self.rows(query, order="series", after=after, limit=page_size))
            if not page:
                break
            states = [
                (row.key.object_id, row.key.device_id, row.key.quantity, row.interval,
                 _seconds(row.period_start), row.revision, canonical(row.value), row.unit, row.quality)
                for row in page
            ]  # fmt: skip
            last = states[-1]
            written += claims.fill(states, checkpoint=json.dumps({"since": since_s, "after": list(last[:5])}))
            after = (last[0], last[1], last[2], last[3], page[-1].period_start)
            done += len(page)
            if progress is not None:
                progress(done, max(total, done), f"{last[0]} {last[1]}")
        claims.finish_fill(since_s or None)
        return FillResult(read=done, written=written, resumed=bool(note))

    def _missing(self, rows: list[tuple]) -> list[tuple]:
        """The rows whose (key, revision) the table does not hold."""
        sets = self._sets()
        wanted = sorted({(*row[:4], row[4], row[5]) for row in rows})
        member = sets.member(
            "(object_id, device_id, quantity, duration, toUInt32(period_start), revision)",
            ("String", "String", "String", "String", "UInt32", "UInt32"),
            wanted,
        )
        objects = _in("object_id", {row[0] for row in rows}, sets)
        present = {
            (o, d, q, du, int(p), int(r))
            for o, d, q, du, p, r in self._query(
                "SELECT object_id, device_id, quantity, duration, toUInt32(period_start), revision"
                f" FROM {self.table} WHERE {objects} AND {member}",
                sets,
            )
        }
        return sorted((row for row in rows if (*row[:4], row[4], row[5]) not in present), key=lambda r: r[:6])

    def write_many(self, rows: Iterable[ReadingRow], *, batch_size: int = 100_000) -> WriteSummary:
        """`write()` per batch of `batch_size` rows."""
        summary = WriteSummary()
        for batch in batched(rows, batch_size):
            summary += WriteSummary.of(self.write(batch))
        return summary

    def _insert(self, rows: list[tuple]) -> None:
        self.connection.insert(self.table, COLUMN_NAMES, rows)

    def _newest_revisions(self, keys: set[ValueKey]) -> dict[ValueKey, tuple[int, Decimal, str, str]]:
        """Newest (revision, value, unit, quality) of each key that has one, in range queries by object chunk."""
        by_object: dict[str, list[ValueKey]] = defaultdict(list)
        for key in keys:
            by_object[key[0]].append(key)
        object_ids = sorted(by_object)
        newest: dict[ValueKey, tuple[int, Decimal, str, str]] = {}
        for start in range(0, len(object_ids), self.lookup_chunk_size):
            chunk = object_ids[start : start + self.lookup_chunk_size]
            chunk_keys = [key for object_id in chunk for key in by_object[object_id]]
            where = " AND ".join(
                [
                    _in("object_id", chunk),
                    _in("device_id", {key[1] for key in chunk_keys}),
                    _in("quantity", {key[2] for key in chunk_keys}),
                    _in("duration", {key[3] for key in chunk_keys}),
                    f"period_start >= toDateTime({min(key[4] for key in chunk_keys)})",
                    f"period_start <= toDateTime({max(key[4] for key in chunk_keys)})",
                ]
            )
            wanted = set(chunk_keys)
            found = self._query(
                "SELECT object_id, device_id, quantity, duration, toUInt32(period_start), max(revision),"
                " toString(argMax(value, revision)), argMax(unit, revision), argMax(quality, revision)"
                f" FROM {self.table} WHERE {where}"
                " GROUP BY object_id, device_id, quantity, duration, period_start"
            )
            for object_id, device_id, quantity, interval, seconds, revision, value, unit, quality in found:
                key = (object_id, device_id, quantity, interval, int(seconds))
                if key in wanted:
                    newest[key] = (int(revision), Decimal(value), unit, quality)
        return newest

    # -- reading -------------------------------------------------------------------------------

    def latest(self, query: ReadingQuery) -> Iterator[ReadingRow]:
        """`rows(query)`: newest revisions by key and time, streamed."""
        return self.rows(query)

    def rows(
        self,
        query: ReadingQuery,
        *,
        order: RowOrder = "series",
        after: tuple | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> Iterator[ReadingRow]:
        """Newest revisions in `order`, after the keyset `after`, streamed block by block (store.py).

        `after` becomes a condition on the key itself (its first column bounded, so the primary
        key or the partition's time range prunes what sorts before it); the engine sorts what
        is left and the connection streams it (`ClickHouseConnection.stream`).
        """
        after = check_page(order, after, offset, limit)
        columns = _ROW_ORDERS[order]
        sets = self._sets()
        narrowed = "" if after is None else _after_sql(columns, after)
        where = self._newest_where(query, sets, narrowed=narrowed)
        sql = f"{_ROW_SELECT} FROM {self.table} WHERE {where} ORDER BY {', '.join(columns)}"
        return _converted(_readings(), self.connection.stream(sql, sets, offset=offset, limit=limit))

    def value_stream(self, query: ReadingQuery) -> Iterator[tuple]:
        """The newest revisions of `query` as lean tuples in series order, for column-wise readers.

        (object_id, device_id, quantity, interval, period start in whole seconds UTC, value as a
        float, unit, quality): what `rows(query)` streams, without building a ReadingRow, a Decimal
        or a datetime per value (data quality reads millions of values into numpy arrays). A
        float keeps 15 significant digits, as every value the store accepts has at most.
        """
        sets = self._sets()
        where = self._newest_where(query, sets)
        sql = (
            "SELECT object_id, device_id, quantity, duration, toUInt32(period_start), toFloat64(value), unit, quality"
            f" FROM {self.table} WHERE {where} ORDER BY {', '.join(_ROW_ORDERS['series'])}"
        )
        return self.connection.stream(sql, sets)

    def newest(self, query: ReadingQuery) -> list[ReadingRow]:
        """The value with the latest period_start of each (series, interval), newest revision.

        One query: the latest period of each key (read with the primary key when `series` or
        objects are given; with a commercial filter among newest revisions only, ACC-06), then
        that period's top revision. Every revision of a value shares its period, so without a
        commercial filter the latest period needs no newest-revision exclusion at all.
        """
        sets = self._sets()
        key_filter = " AND ".join(self._key_conditions(query, sets, time="period_start")) or "1"
        candidates = key_filter if not query.filters_newest else self._newest_where(query, sets)
        keys = "object_id, device_id, quantity, duration"
        latest = f"SELECT {keys}, max(period_start) FROM {self.table} WHERE {candidates} GROUP BY {keys}"
        member = (
            "GLOBAL IN" if self.layout.distributed else "IN"
        )  # GLOBAL: 18.16 took twice as long on one node
        rows = self._query(
            f"{_ROW_SELECT} FROM {self.table} WHERE {key_filter} AND ({keys}, period_start) {member} ({latest})"
            f" ORDER BY {keys}, revision DESC LIMIT 1 BY {keys}",
            sets,
        )
        return list(map(_readings(), rows))

    def history(self, key: SeriesKey, interval: str, period_start: datetime) -> list[ReadingRow]:
        """Every revision of one value, oldest first."""
        where = " AND ".join(
            [
                f"object_id = {_literal(key.object_id)}",
                _series_is(key),
                f"device_id = {_literal(key.device_id)}",
                f"quantity = {_literal(key.quantity)}",
                f"duration = {_literal(interval)}",
                f"period_start = toDateTime({_seconds(period_start)})",
            ]
        )
        rows = self._query(
            f"{_ROW_SELECT} FROM {self.table} WHERE {where} ORDER BY revision, recorded_at LIMIT 1 BY revision"
        )
        return [_reading(row) for row in rows]

    def count(self, query: ReadingQuery) -> int:
        """How many values (newest revisions) match."""
        sets = self._sets()
        where = self._newest_where(query, sets)
        ((count,),) = self._query(f"SELECT count() FROM {self.table} WHERE {where}", sets)
        return int(count)

    def aggregate(
        self,
        query: ReadingQuery,
        *,
        bucket: Bucket,
        group: Group,
        labels: Mapping[SeriesPair, str] | None = None,
        measures: Measures = "all",
    ) -> list[AggregateRow]:
        """sum/min/max/count/first/last of the newest revisions per group and Astana-clock bucket.

        Days and months over whole Astana days come from the daily rollup (`_daily_aggregate_sql`),
        but months of daily values from the rows (`_rollup_pays`);
        national sums of a quantity from the day totals (`_day_totals`); everything else, and a
        range with too many revised days, is computed from the rows.
        """
        check_grouping(bucket, group, labels, measures)
        if measures == "sums" and labels is None and _national_days(query, bucket, group):
            return self._day_totals(query, bucket, group)
        plan = self._aggregate_sql(query, bucket, group, labels, measures)
        if plan is None:
            return []
        sql, columns, sets = plan
        return list(_aggregate_rows(self._query(sql, sets), columns, sums_only=measures == "sums"))

    def aggregate_iter(
        self,
        query: ReadingQuery,
        *,
        bucket: Bucket,
        group: Group,
        labels: Mapping[SeriesPair, str] | None = None,
        measures: Measures = "all",
    ) -> Iterator[AggregateRow]:
        """`aggregate()` streamed from the engine block by block (the same SQL)."""
        check_grouping(bucket, group, labels, measures)
        if measures == "sums" and labels is None and _national_days(query, bucket, group):
            return iter(self._day_totals(query, bucket, group))
        plan = self._aggregate_sql(query, bucket, group, labels, measures)
        if plan is None:
            return _converted(_reading, iter(()))
        sql, columns, sets = plan
        return _aggregate_rows(self.connection.stream(sql, sets), columns, sums_only=measures == "sums")

    def aggregate_chunks(
        self,
        query: ReadingQuery,
        *,
        bucket: Bucket,
        group: Group,
        labels: Mapping[SeriesPair, str] | None = None,
        measures: Measures = "all",
        chunk_rows: int = CHUNK_ROWS,
    ) -> Iterator[list[AggregateTuple]]:
        """`aggregate()` as chunks of plain tuples, streamed from the engine (store.py).

        The engine groups and sorts before it sends a row, so one query over a region per point
        answers nothing until all of it is done. Groups "series" and "object" are therefore asked a
        slice of `stream_slice_series` series at a time, in order (`_slices`): the first chunk leaves
        after the first slice, and the engine keeps at most a slice's groups. The rows become tuples
        without a Decimal or an AggregateRow each (`_aggregate_tuples`).
        """
        check_grouping(bucket, group, labels, measures)
        check_chunk_rows(chunk_rows)
        if measures == "sums" and labels is None and _national_days(query, bucket, group):
            return chunked_aggregates(self._day_totals(query, bucket, group), chunk_rows)
        if labels is not None and getattr(labels, "stored_key", None) is not None:
            # Labels that name their question read the registry when asked, on the asking thread's
            # database connection: the engine's thread below must find them read already.
            len(labels)
        return self._aggregate_chunks(query, bucket, group, labels, measures, chunk_rows)

    def _aggregate_chunks(
        self,
        query: ReadingQuery,
        bucket: Bucket,
        group: Group,
        labels: Mapping[SeriesPair, str] | None,
        measures: Measures,
        chunk_rows: int,
    ) -> Iterator[list[AggregateTuple]]:
        def chunks(parts: Iterable[ReadingQuery]) -> Iterator[list[AggregateTuple]]:
            for part in parts:
                plan = self._aggregate_sql(part, bucket, group, labels, measures)
                if plan is None:
                    continue
                sql, columns, sets = plan
                stream = self.connection.stream(sql, sets)
                try:
                    yield from _aggregate_tuples(stream, columns, chunk_rows, sums_only=measures == "sums")
                finally:
                    stream.close()  # early close: the query is cancelled on the server

        if not isinstance(self.connection, DriverConnection):  # chDB runs in this process: no thread
            yield from chunks(self._slices(query, group))
            return
        # The engine's queries run in a thread of their own, ahead of the reader: the next slice is
        # computed while this one is written to the client. The slices are cut here (their pairs
        # may come from Django's database, which belongs to this thread) and handed over as they
        # come, so the engine starts on the first while the rest of the pairs are read.
        handed: queue.SimpleQueue = queue.SimpleQueue()

        def taken() -> Iterator[ReadingQuery]:
            while (part := handed.get()) is not _DONE:
                yield part

        def hand_over() -> None:
            try:
                for part in self._slices(query, group):
                    handed.put(part)
            finally:
                handed.put(_DONE)

        yield from _ahead(
            chunks(taken()), self.stream_ahead_chunks, done=self.connection.close, feed=hand_over
        )

    def _slices(self, query: ReadingQuery, group: Group) -> Iterator[ReadingQuery]:
        """`query` cut into queries of at most about `stream_slice_series` series each, in series
        order, an object never split for group "object"; other groups are one query.

        With `series`, its pairs are cut in order (`ordered_pairs()` where the set offers it: sorted
        by its database and read as they come; else sorted here), the first slice an eighth of the
        size and each next one twice the last; without, the engine lists the objects in range with
        an estimate of their series (one scan of two key columns) and whole objects are cut.
        """
        size = self.stream_slice_series
        if group not in ("series", "object"):
            yield query
            return
        if query.series is not None:
            ordered = getattr(query.series, "ordered_pairs", None)  # sorted by the database, streamed
            pairs = ordered() if ordered is not None else iter(sorted(set(map(tuple, query.series.pairs()))))
            current: list[SeriesPair] = []
            step, previous, warned = max(1, size // 8), None, False  # a small first slice: first rows soon
            for pair in pairs:
                if previous is not None and pair <= previous and not warned:
                    logger.warning("series pairs out of the store's order: the streamed answer keeps every"
                                   " row, not their order (%r after %r)", pair, previous)  # fmt: skip
                    warned = True
                if len(current) >= step and (group == "series" or pair[0] != current[-1][0]):
                    yield replace(query, series=_UniquePairs(current))
                    current, step = [], min(size, step * 2)
                current.append(pair)
                previous = pair
            if current or previous is None:  # no pairs at all: one query that finds nothing
                yield replace(query, series=_UniquePairs(current))
            return
        sets = self._sets()
        key_filter = " AND ".join(self._key_conditions(query, sets, time="period_start")) or "1"
        objects = self._query(
            f"SELECT object_id, uniq(series) FROM {self.table} WHERE {key_filter}"
            " GROUP BY object_id ORDER BY object_id",
            sets,
        )
        chosen, counted = [], 0
        for object_id, series in objects:
            if chosen and counted + int(series) > size:
                yield replace(query, object_ids=chosen)
                chosen, counted = [], 0
            chosen.append(object_id)
            counted += int(series)
        if chosen:
            yield replace(query, object_ids=chosen)

    def _aggregate_sql(
        self,
        query: ReadingQuery,
        bucket: Bucket,
        group: Group,
        labels: Mapping[SeriesPair, str] | None,
        measures: Measures = "all",
    ) -> tuple[str, tuple[str, ...], ValueSets] | None:
        """The SQL of an aggregate, its group columns and its sets; None when nothing can match.

        Labels of daily values, of part days and of sub-day buckets are one GROUP BY over the rows
        (`_label_sql`); labels of whole days of finer values merge the rollup's day states, their
        table (object_id, device_id, label) joined before the merge and their pairs restricting the
        read. With `measures="sums"` min/max/first/last are not computed (the SQL gives '' for them).
        """
        sets = self._sets()
        columns = _GROUP_COLUMNS[group]
        sums = measures == "sums"
        daily = (
            bucket in _DAILY_BUCKETS and _whole_days(query) and query.qualities is None
        )  # not in the rollup
        asked, label_table = query, None
        if labels is not None:
            if not labels:
                return None
            if not daily or query.interval == Interval.DAY:  # daily values: the rollup holds as many rows
                sql = self._label_sql(query, bucket, labels, sets, sums=sums)
                return None if sql is None else (sql, columns, sets)
            query = _labelled(query, labels)
            label_table = sets.relation(  # a table to join: no order needed
                ("String", "String", "String"),
                [(object_id, device_id, label) for (object_id, device_id), label in labels.items()],
            )
        sql = None
        if daily and _rollup_pays(query, bucket):
            sql = self._daily_aggregate_sql(query, bucket, columns, sets, label_table, sums=sums)
        if sql is None and label_table is not None:  # too many revised days for the rollup
            sql = self._label_sql(asked, bucket, labels, sets, sums=sums)
            return None if sql is None else (sql, columns, sets)
        if sql is None and sums and group in ("quantity", "all"):
            # sums across series need no per-series stage: one GROUP BY of the newest rows
            keys = ", ".join([*columns, "bucket"])
            selected = "".join(f"{column}, " for column in columns)
            sql = (
                f"SELECT {selected}{_BUCKET_SQL[bucket]} AS bucket, toString(sum(value)), '', '', count(), '', ''"
                f" FROM {self.table} WHERE {self._newest_where(query, sets)} GROUP BY {keys} ORDER BY {keys}"
            )
        if sql is None:
            per_series = _per_series_sql(self.table, self._newest_where(query, sets), _BUCKET_SQL[bucket])
            sql = _combine_sql(per_series, columns, sums=sums)
        return sql, columns, sets

    def _label_sql(
        self,
        query: ReadingQuery,
        bucket: Bucket,
        labels: Mapping[SeriesPair, str],
        sets: ValueSets,
        *,
        sums: bool = False,
    ) -> str | None:
        """Group "label" in one GROUP BY over the newest rows, without a per-series stage (issue 11).

        The labels travel as a table (object, device, label number, rank) joined on one number, a hash
        of the pair, the pair itself compared after the join (`_POINT_KEY`; about 10 % below a String key
        on 18.16, issue 13): the join both labels each row and keeps only the labelled points, the
        query's own `series` (the gate's) intersected with
        them first, so no separate pair restriction is read; the points' objects prune by the primary
        key. Groups are label numbers (the labels in code point order), named at the end. first/last
        break ties of the same instant by the point's rank in (object, device) order, which is the
        contract's (time, object, device, quantity) order within a (label, quantity) group, as one
        number: a region's month of daily values takes one scan instead of a merge of 3 million day
        states (6–7 s → about 1 s on the loaded machine). None when no labelled point is left.
        """
        stored = self._stored_labels(labels) if query.series is None else None
        if stored is not None:
            table, names = stored
            operator = "GLOBAL IN" if sets.distributed else "IN"
            objects = f"object_id {operator} (SELECT label_object FROM {table})"
            labelled = f"(SELECT point, label_object, label_device, label_number, label_rank FROM {table})"
            return self._labelled_sql(query, bucket, sets, names, objects, labelled, sums=sums)
        if query.series is not None:
            kept = {}
            for object_id, device_id in query.series.pairs():
                pair = (str(object_id), str(device_id))
                label = labels.get(pair)
                if label is not None:
                    kept[pair] = label
            labels = kept
        if not labels:
            return None
        names, rows = _numbered(labels)
        table = sets.relation(("String", "String", "UInt32", "UInt32"), rows)
        objects = _in("object_id", {object_id for object_id, _device_id in labels}, sets)
        point = _POINT_KEY.format(object="c0", device="c1")
        labelled = (
            f"(SELECT {point} AS point, c0 AS label_object, c1 AS label_device, c2 AS label_number,"
            f" c3 AS label_rank FROM {table})"
        )
        return self._labelled_sql(query, bucket, sets, names, objects, labelled, sums=sums)

    def _stored_labels(self, labels: Mapping[SeriesPair, str]) -> tuple[str, list[str]] | None:
        """The labels as a table kept in the engine, and their names: (table, names), or None to ship them.

        Only for labels that name their question (`stored_key`: the points' query at a registry
        change stamp, egsu.cabinet.views_totals.PointLabels) and of at least `stored_labels_min`
        points: such a table spares reading 100,000 labels from the registry, ranking them here and
        shipping them with every query (issue 13). Built once per key and period of
        `STORED_LABELS_PERIOD_S` under a temporary name and renamed (two processes building the same
        one: the second drops its own); tables of periods before the last are dropped when one is
        built, so a reader still using one (an answer started before) keeps it for a whole period.
        A plain table on the server the store talks to: with a Distributed layout the label query
        runs its join on that initiator and ships the objects as GLOBAL IN, as for a shipped table.
        """
        key = getattr(labels, "stored_key", None)
        if key is None or not self.stored_labels_min:
            return None
        period = int(time.time() // STORED_LABELS_PERIOD_S)
        name = f"labels_{period}_{key}"
        table, names_table = f"{self.database}.{name}", f"{self.database}.{name}_names"
        if not int(self._query(f"EXISTS TABLE {names_table}")[0][0]):
            if len(labels) < self.stored_labels_min:
                return None
            self._store_labels(labels, name, period)
        names = [label for (label,) in self._query(f"SELECT label FROM {names_table} ORDER BY label_number")]
        return table, names

    def _store_labels(self, labels: Mapping[SeriesPair, str], name: str, period: int) -> None:
        """Build the labels table `name` and its names (see `_stored_labels`); drop those of old periods."""
        names, rows = _numbered(labels)
        building = f"{name}_{uuid.uuid4().hex[:8]}"
        database = self.database
        self._command(
            f"CREATE TABLE {database}.{building} (label_object String, label_device String,"
            " label_number UInt32, label_rank UInt32,"
            f" point UInt64 MATERIALIZED {_POINT_KEY.format(object='label_object', device='label_device')})"
            " ENGINE = Log"
        )
        self._command(
            f"CREATE TABLE {database}.{building}_names (label_number UInt32, label String) ENGINE = Log"
        )
        self.connection.insert(
            f"{database}.{building}", ("label_object", "label_device", "label_number", "label_rank"), rows
        )
        self.connection.insert(
            f"{database}.{building}_names", ("label_number", "label"), list(enumerate(names))
        )
        try:
            self._command(
                f"RENAME TABLE {database}.{building} TO {database}.{name},"
                f" {database}.{building}_names TO {database}.{name}_names"
            )
        except Exception:  # noqa: BLE001 - another process built it first (the engine says "already exists")
            if not int(self._query(f"EXISTS TABLE {database}.{name}_names")[0][0]):
                raise
            for table in (building, f"{building}_names"):
                self._command(f"DROP TABLE IF EXISTS {database}.{table}")
        for (old,) in self._query(
            f"SELECT name FROM system.tables WHERE database = {_literal(database)} AND startsWith(name, 'labels_')"
        ):
            old_period = old.split("_")[1]
            if old_period.isdigit() and int(old_period) < period - 1:
                self._command(f"DROP TABLE IF EXISTS {database}.{old}")

    def _labelled_sql(
        self,
        query: ReadingQuery,
        bucket: Bucket,
        sets: ValueSets,
        names: list[str],
        objects: str,
        labelled: str,
        *,
        sums: bool,
    ) -> str:
        """The label query of `_label_sql` over `labelled`, a relation (point, label_object,
        label_device, label_number, label_rank), the labels numbered in the order of `names`."""
        where = self._newest_where(replace(query, series=None), sets, narrowed=objects)
        point = _POINT_KEY.format(object="object_id", device="device_id")
        picked = (
            f"SELECT {point} AS point, object_id, device_id, quantity, period_start, value FROM {self.table}"
            f" WHERE {where}"
        )
        order = "toUInt64(period_start) * 4294967296 + label_rank"  # (time, rank): both below 2^32
        figures = (
            "toString(sum(value)), '', '', count(), '', ''"
            if sums
            else "toString(sum(value)), toString(min(value)), toString(max(value)), count(),"
            f" toString(argMin(value, {order})), toString(argMax(value, {order}))"
        )
        named = f"[{', '.join(_literal(name) for name in names)}][label_number + 1]"
        keys = "label_number, quantity, bucket"
        return (
            f"SELECT {named} AS label, quantity, {_BUCKET_SQL[bucket]} AS bucket, {figures}"
            f" FROM ({picked}) AS picked ALL INNER JOIN {labelled} AS labelled USING point"
            " WHERE object_id = label_object AND device_id = label_device"
            f" GROUP BY {keys} ORDER BY {keys}"
        )

    def _day_totals(self, query: ReadingQuery, bucket: Bucket, group: Group) -> list[AggregateRow]:
        """Sum and count per quantity (or of everything) and day or month, from the day totals.

        The day totals count every row ever inserted. When a group in range counts a revision,
        the superseded rows (the same list `_newest_where` excludes) are summed per day and
        subtracted: sums and counts, unlike min/max/first/last, correct exactly. The revision
        check ignores the commercial and quality filters (a superseded row may sit in another
        group than its newest revision); the subtraction applies them to each row's own fields,
        so what is left is exactly the newest revisions that match. A (quantity, day) left
        with no value drops out, as it would from the rows.
        """
        day = lambda moment: str(_bounded_seconds(moment))  # noqa: E731 - whole Astana days
        sets = self._sets()
        key_filter = " AND ".join(self._key_conditions(query, sets, time="day_start", bound=day)) or "1"
        own = ""  # the filters on a value's own fields: keys of the day totals, columns of the rows
        if query.commercial is not None:
            own += f" AND commercial = {int(query.commercial)}"
        if query.qualities is not None:
            own += f" AND quality IN ({', '.join(_literal(q) for q in query.qualities) or _literal('')})"
        found = self._query(
            f"SELECT quantity, day_start, toString(sumMergeIf(s_sum, 1{own})), countMergeIf(s_count, 1{own}),"
            f" sumMerge(s_revised) FROM {self.database}.{self.layout.totals_table}"
            f" WHERE {key_filter} GROUP BY quantity, day_start",
            sets,
        )
        sums: dict[tuple[str, int], list] = {}
        revised = False
        for quantity, day_start, total, count, revisions in found:
            sums[(quantity, int(day_start))] = [_number(total), int(count)]
            revised = revised or int(revisions) > 0
        if revised:
            row_filter = " AND ".join(self._key_conditions(query, sets, time="period_start")) or "1"
            superseded = (
                f"SELECT quantity, {DAY_EXPRESSION} AS day, toString(sum(value)), count() FROM {self.table}"
                f" WHERE {row_filter}{own} AND (object_id, device_id, quantity, duration, period_start, revision)"
                f" GLOBAL IN ({self._superseded_sql(row_filter)}) GROUP BY quantity, day"
            )
            for quantity, day_start, total, count in self._query(superseded, sets):
                entry = sums.setdefault((quantity, int(day_start)), [Decimal(0), 0])
                entry[0] = EXACT.subtract(entry[0], _number(total))
                entry[1] -= int(count)
        buckets: dict[tuple[str | None, datetime], list] = {}
        for (quantity, day_start), (total, count) in sums.items():
            if count:
                start = bucket_start(datetime.fromtimestamp(day_start, UTC), bucket)
                entry = buckets.setdefault(
                    (quantity if group == "quantity" else None, start), [Decimal(0), 0]
                )
                entry[0] = EXACT.add(entry[0], total)
                entry[1] += count
        rows = [
            AggregateRow(object_id=None, device_id=None, quantity=quantity, bucket_start=start,
                         sum=tidy_value(total), min=None, max=None, count=count, first=None, last=None)
            for (quantity, start), (total, count) in buckets.items()
        ]  # fmt: skip
        return sorted(rows, key=aggregate_order)

    def totals(self, query: ReadingQuery) -> dict[str, Decimal]:
        """Sum of the newest revisions per quantity."""
        sets = self._sets()
        where = self._newest_where(query, sets)
        rows = self._query(
            f"SELECT quantity, toString(sum(value)) FROM {self.table} WHERE {where} GROUP BY quantity ORDER BY quantity",
            sets,
        )
        return {quantity: _number(total) for quantity, total in rows}

    def _sets(self) -> ValueSets:
        return ValueSets(distributed=self.layout.distributed)

    def _key_conditions(self, query: ReadingQuery, sets: ValueSets, *, time: str, bound=None) -> list[str]:
        """The key filters of a query (object, device, quantity, interval, time range)."""
        bound = bound or (lambda moment: f"toDateTime({_bounded_seconds(moment)})")
        conditions = []
        if query.object_ids is not None:
            conditions.append(_in("object_id", query.object_ids, sets))
        if query.device_ids is not None:
            conditions.append(_in("device_id", query.device_ids, sets))
        if query.quantities is not None:
            conditions.append(_in("quantity", query.quantities, sets))
        if query.interval is not None:
            conditions.append(f"duration = {_literal(query.interval)}")
        if query.start is not None:
            conditions.append(f"{time} >= {bound(query.start)}")
        if query.end is not None:
            conditions.append(f"{time} < {bound(query.end)}")
        if query.series is not None:
            conditions.append(self._series_condition(query.series, sets))
        if query.windows:
            conditions.append(_windows_sql(query.windows, time, bound))
        if query.after_series is not None:
            object_id, device_id = query.after_series
            columns = ("object_id",) if device_id is None else ("object_id", "device_id")
            conditions.append(_after_sql(columns, query.after_series[: len(columns)]))
        return conditions

    def _series_condition(self, series: SeriesSet, sets: ValueSets) -> str:
        """`(object_id, device_id)` among the pairs of `series`, read once per read.

        Many pairs travel as a set (an external table on a server). The engine prunes by the
        primary key (object first) with the pair condition itself, on 18.16 as on chDB.
        """
        cached = sets.cache.get(id(series))
        if cached is not None:
            return cached[1]
        if isinstance(series, SeriesPairs | _UniquePairs):  # distinct pairs of str already
            pairs = list(series.pairs())
        else:
            pairs = list({(str(object_id), str(device_id)) for object_id, device_id in series.pairs()})
        if len(pairs) < ValueSets.SMALLEST:
            pairs.sort()  # a literal list: the same SQL for the same set (an external table needs no order)
        if not pairs:
            condition = "0"
        elif len(pairs) >= ValueSets.SMALLEST:
            condition = sets.member("(object_id, device_id)", ("String", "String"), pairs)
        else:
            literals = [_row_literal(pair) for pair in pairs]
            if len(literals) == 1:
                literals *= 2  # (('a', 'b')) would read as one tuple, not a set of one pair
            condition = f"(object_id, device_id) IN ({', '.join(literals)})"
        sets.cache[id(series)] = (series, condition)  # holding the set keeps its id unique for the read
        return condition

    def _newest_where(self, query: ReadingQuery, sets: ValueSets, *, narrowed: str = "") -> str:
        """A WHERE condition that keeps the newest revision of every matching value.

        The store numbers the revisions of a value 1, 2, 3, … without gaps, so the superseded
        rows are revisions 1 … max-1 of the few values that have a revision above 1. They are
        listed by a small subquery and excluded; every other row is read once, with no
        grouping by value. Grouping every value by its key (argMax) would need memory for all
        of them: hundreds of millions for a region's month. GLOBAL makes the initiator compute
        the list once for a Distributed table. The commercial filter applies to the newest
        row itself (ACC-06). Costs a look at the day totals first, and a count over the rows only
        when they hold revisions. `narrowed` is one more key condition (the rollup's revised days).
        """
        conditions = self._key_conditions(query, sets, time="period_start")
        if narrowed:
            conditions.append(narrowed)
        key_filter = " AND ".join(conditions) or "1"
        superseded = self._superseded_sql(key_filter)
        where = key_filter
        # Most ranges hold no revision at all; then skip the exclusion, whose per-row tuple lookup
        # costs 18.16 about ten times the rest of the scan even against an empty set.
        revised = self._revisions_counted(query, sets)
        if revised:
            ((revised,),) = self._query(
                f"SELECT count() FROM {self.table} WHERE {key_filter} AND revision > 1", sets
            )
        if int(revised):
            where += (
                " AND (object_id, device_id, quantity, duration, period_start, revision)"
                f" GLOBAL NOT IN ({superseded})"
            )
        if query.commercial is not None:
            where += f" AND commercial = {int(query.commercial)}"
        if query.qualities is not None:
            where += f" AND quality IN ({', '.join(_literal(q) for q in query.qualities) or _literal('')})"
        return where

    def _revisions_counted(self, query: ReadingQuery, sets: ValueSets) -> int:
        """How many revisions (rows with revision > 1) the day totals count on the days, quantities and
        interval the query may read: when none, no row in range is one, and the count over the rows
        (a second scan of a region's month) is skipped. A superset of the query's rows (every object,
        every day the range touches: a day starts at most 25 hours before a value in it), so it is
        never less than the count it spares."""
        conditions = []
        if query.quantities is not None:
            conditions.append(_in("quantity", query.quantities, sets))
        if query.interval is not None:
            conditions.append(f"duration = {_literal(query.interval)}")
        if query.start is not None:
            conditions.append(f"day_start >= {max(_bounded_seconds(query.start) - 90_000, 0)}")
        if query.end is not None:
            conditions.append(f"day_start < {_bounded_seconds(query.end)}")
        ((revised,),) = self._query(
            f"SELECT sumMerge(s_revised) FROM {self.database}.{self.layout.totals_table}"
            f" WHERE {' AND '.join(conditions) or '1'}",
            sets,
        )
        return int(revised)

    def _superseded_sql(self, key_filter: str) -> str:
        """The (key, revision) of every superseded row where `key_filter` holds: revisions 1 … max-1
        of the values revised (revisions are numbered without gaps)."""
        return (
            "SELECT object_id, device_id, quantity, duration, period_start,"
            " arrayJoin(arrayMap(r -> toUInt32(r + 1), range(toUInt32(max(revision) - 1)))) AS superseded_revision"
            f" FROM {self.table} WHERE {key_filter} AND revision > 1"
            " GROUP BY object_id, device_id, quantity, duration, period_start"
        )

    def _daily_aggregate_sql(
        self,
        query: ReadingQuery,
        bucket: Bucket,
        columns: tuple[str, ...],
        sets: ValueSets,
        label_table: str | None = None,
        *,
        sums: bool = False,
    ) -> str | None:
        """The aggregate of whole Astana days or months, merged from the daily rollup's states.

        The rollup holds every row ever inserted, superseded revisions included, so a (series,
        day) is exact only while its top revision is 1. The days with a revision are listed
        first (a filter on each rollup row's own state, no grouping), excluded from the rollup,
        and their states recomputed from the newest rows in the same shape; one GROUP BY then
        merges both. first/last carry their (time, object, device, quantity) ordering in the
        state, so groups of many series merge directly. The commercial flag is a rollup key, so
        its filter applies per value as on the rows (a revision that flips it makes its day a
        recomputed one). Returns None (read the rows) when more than `revised_day_limit` days
        in range were revised. With `label_table`, rows take their label by a join before the
        GROUP BY, revised days included.
        """
        day = lambda moment: str(_bounded_seconds(moment))  # noqa: E731 - whole Astana days
        key_filter = " AND ".join(self._key_conditions(query, sets, time="day_start", bound=day)) or "1"
        revised = self._query(
            f"SELECT DISTINCT series, day_start FROM {self.daily_table}"
            f" WHERE {key_filter} AND finalizeAggregation(s_revision) > 1",
            sets,
        )
        if len(revised) > self.revised_day_limit:
            return None
        clean = key_filter
        if query.commercial is not None:
            clean += f" AND commercial = {int(query.commercial)}"
        pairs = [(int(series), int(day_start)) for series, day_start in revised]
        if pairs:
            clean += f" AND NOT ({sets.member('(series, day_start)', ('UInt64', 'UInt32'), pairs)})"
        kept = ", ".join(("object_id", "device_id", "quantity", "day_start", *DAILY_STATE_NAMES))
        parts = [f"SELECT {kept} FROM {self.daily_table} WHERE {clean}"]
        if pairs:
            narrowed = sets.member(f"(series, {DAY_EXPRESSION})", ("UInt64", "UInt32"), pairs)
            recomputed = daily_select(self.table, self._newest_where(query, sets, narrowed=narrowed))
            parts.append(f"SELECT {kept} FROM ({recomputed})")
        source = parts[0] if len(parts) == 1 else f"SELECT * FROM ({' UNION ALL '.join(parts)})"
        bucket_sql = (
            "day_start"
            if bucket == "P1D"
            else _BUCKET_SQL[bucket].replace("period_start", "toDateTime(day_start, 'UTC')")
        )
        keys = ", ".join([*columns, "bucket"])
        selected = "".join(f"{column}, " for column in columns)
        source = f"({source}) AS rollup"
        if label_table is not None:
            source += (
                " ALL INNER JOIN (SELECT c0 AS object_id, c1 AS device_id, c2 AS label"
                f" FROM {label_table}) AS labelled USING (object_id, device_id)"
            )
        figures = (
            "toString(sumMerge(s_sum)), '', '', countMerge(s_count), '', ''"
            if sums
            else "toString(sumMerge(s_sum)), toString(minMerge(s_min)), toString(maxMerge(s_max)),"
            " countMerge(s_count), toString(argMinMerge(s_first)), toString(argMaxMerge(s_last))"
        )
        return f"SELECT {selected}{bucket_sql} AS bucket, {figures} FROM {source} GROUP BY {keys} ORDER BY {keys}"

    def _query(self, sql: str, sets: ValueSets | None = None) -> list[tuple]:
        return self.connection.query(sql, sets)

    def _command(self, sql: str) -> None:
        self.connection.command(sql)


def _aggregate_rows(
    rows: Iterable[tuple], columns: tuple[str, ...], *, sums_only: bool = False
) -> Iterator[AggregateRow]:
    """AggregateRows from the engine's answer, already in `aggregate_order` (its ORDER BY).

    A region's month by object is 3 million rows, so this loop is kept lean (issue 7): the
    numbers go through `_number`, each bucket's datetime is made once, and the engine's order
    (group columns, then bucket; bytewise UTF-8, i.e. code point order, as Python sorts) is kept.
    """
    width = len(columns)
    at = {name: index for index, name in enumerate(columns)}
    object_at, device_at, quantity_at, label_at = (
        at.get(name) for name in ("object_id", "device_id", "quantity", "label")
    )
    starts: dict[int, datetime] = {}

    def row_of(row: tuple) -> AggregateRow:
        seconds = int(row[width])
        start = starts.get(seconds)
        if start is None:
            if len(starts) > 100_000:  # a long stream of buckets: keep the cache bounded
                starts.clear()
            start = starts[seconds] = datetime.fromtimestamp(seconds, UTC)
        total, low, high, count, first, last = row[width + 1 :]
        if sums_only:
            return AggregateRow(
                object_id=None if object_at is None else row[object_at],
                device_id=None if device_at is None else row[device_at],
                quantity=None if quantity_at is None else row[quantity_at],
                bucket_start=start, sum=_number(total), min=None, max=None, count=int(count), first=None,
                last=None, label=None if label_at is None else row[label_at],
            )  # fmt: skip
        return AggregateRow(
            object_id=None if object_at is None else row[object_at],
            device_id=None if device_at is None else row[device_at],
            quantity=None if quantity_at is None else row[quantity_at],
            bucket_start=start,
            sum=_number(total),
            min=_number(low),
            max=_number(high),
            count=int(count),
            first=_number(first),
            last=_number(last),
            label=None if label_at is None else row[label_at],
        )

    return _converted(row_of, iter(rows))


_DONE = object()


def _ahead(
    chunks: Iterator[list], depth: int, *, done: Callable[[], None], feed: Callable[[], None] | None = None
) -> Iterator[list]:
    """`chunks`, produced in a thread of their own up to `depth` chunks ahead of the reader.

    The reader's close (a client gone) stops the thread at its next chunk, which closes `chunks`
    and so cancels the engine's query; an error in the thread is raised to the reader. `done`
    runs last in the thread (it closes the thread's own connection); `feed` runs in the reader's
    thread once the thread has started (it hands over what `chunks` reads).
    """
    found: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        found.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            found.put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, who raises it
            found.put(exc)
        finally:
            chunks.close()
            done()

    worker = threading.Thread(target=produce, name="egsu-aggregate-chunks", daemon=True)
    worker.start()
    try:
        if feed is not None:
            feed()
        while True:
            item = found.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                found.get(timeout=0.1)  # unblock a producer waiting to put
            except queue.Empty:
                pass
        worker.join()


def _aggregate_tuples(
    rows: Iterable[tuple], columns: tuple[str, ...], size: int, *, sums_only: bool = False
) -> Iterator[list[AggregateTuple]]:
    """The engine's answer as `aggregate_chunks()` tuples, `size` at a time, in the engine's order.

    The figures stay the engine's text with the Decimal128 padding cut (what `decimal_text` writes;
    '' → None where only sums were computed), the bucket's datetime is made once per bucket: a
    row costs a tuple, not an AggregateRow and five Decimals.
    """
    width = len(columns)
    at = {name: index for index, name in enumerate(columns)}
    # (label, object_id, device_id, quantity) of a row with a None put in front: index 0 where the
    # group has no such column (one C call per row, not a Python expression per field)
    fields = itemgetter(*(0 if at.get(name) is None else at[name] + 1
                          for name in ("label", "object_id", "device_id", "quantity")))  # fmt: skip
    starts: dict[int, datetime] = {}

    def text(number: str) -> str | None:
        if "." in number:
            return number.rstrip("0").rstrip(".")
        return number or None

    chunk: list[AggregateTuple] = []
    for row in rows:
        seconds = row[width]
        start = starts.get(seconds)
        if start is None:
            if len(starts) > 100_000:  # a long stream of buckets: keep the cache bounded
                starts.clear()
            start = starts[seconds] = datetime.fromtimestamp(int(seconds), UTC)
        label, object_id, device_id, quantity = fields((None, *row))
        total, low, high, count, first, last = row[width + 1 :]
        if sums_only:  # a per-series answer computes every figure anyway (_combine_sql)
            low = high = first = last = ""
        chunk.append((label, object_id, device_id, quantity, start, text(total), text(low), text(high),
                      int(count), text(first), text(last)))  # fmt: skip
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _converted(convert, rows: Iterator[tuple]) -> Iterator:
    """`convert` of each row, as a generator whose close() also closes (cancels) `rows`."""
    try:
        for row in rows:
            yield convert(row)
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()


def _number(text: str) -> Decimal:
    """A Decimal128(12) printed by the engine, as `tidy_value` would give it, at a third of its cost."""
    value = Decimal(text.rstrip("0").rstrip(".") if "." in text else text)
    return value if value.adjusted() >= -6 else value.normalize()  # tiny values: normalize's form


def _national_days(query: ReadingQuery, bucket: Bucket, group: Group) -> bool:
    """Whether the day totals answer the query: whole days or months of whole quantities (no
    object, device or point restriction), per quantity or of everything."""
    return (
        bucket in _DAILY_BUCKETS
        and group in ("quantity", "all")
        and query.object_ids is None
        and query.device_ids is None
        and query.series is None
        and query.after_series is None
        and _whole_days(query)
    )


def _rollup_pays(query: ReadingQuery, bucket: Bucket) -> bool:
    """Whether the daily rollup beats the rows for whole days or months (issue 13).

    Not for months of daily values: the rollup holds one row per daily value, and merging its states
    (first/last ordered by a tuple) cost 18.16 about twice the rows' per-series GROUP BY, which keeps one
    group per series and month (a region's 100,000 meters per meter: 7.8–8.0 s against 4.2–4.8 s).
    Days of daily values stay on the rollup: there the rows' per-series stage keeps a group per value,
    5–6 times slower for an object's or a quantity's days. Both plans give the same answer
    (tests/readings/test_daily_rollup.py)."""
    return not (query.interval == Interval.DAY and bucket == "P1M")


def _whole_days(query: ReadingQuery) -> bool:
    """Whether the query's range (and its service windows) start and end on Astana midnights (or are open)."""
    windows = [moment for window in query.windows or () for moment in window[2:]]
    return all(
        moment is None or moment.astimezone(ASTANA).time() == dt_time(0)
        for moment in (query.start, query.end, *windows)
    )


def _windows_sql(windows, time: str, bound=None) -> str:
    """Not the values of a windowed series outside its window [from, until) (ReadingQuery.windows).

    Each row looks its series up in two constant maps (transform: a hash lookup, whatever the number
    of windows; series without a window get the open bounds), so a thousand recorded replacements
    cost a read what one does, not a thousand-term OR. Bounds are Unix seconds; `time` is
    period_start (DateTime) or the rollup's day_start (UInt32 seconds).
    """
    keys, starts, ends = [], [], []
    for object_id, device_id, start, end in windows:
        if start is None and end is None:
            continue
        keys.append(_literal(object_id)[:-1] + "\\0" + _literal(device_id)[1:])  # 'object\0device'
        starts.append(str(0 if start is None else _bounded_seconds(start)))
        ends.append(str(_OPEN_END if end is None else _bounded_seconds(end)))
    if not keys:
        return "1"
    key = "concat(object_id, '\\0', device_id)"
    moment = f"toUInt32({time})"
    names = f"[{', '.join(keys)}]"
    return (
        f"{moment} >= transform({key}, {names}, CAST([{', '.join(starts)}], 'Array(UInt32)'), toUInt32(0))"
        f" AND {moment} < transform({key}, {names}, CAST([{', '.join(ends)}], 'Array(UInt32)'), toUInt32({_OPEN_END}))"
    )


_OPEN_END = 4294967295  # the largest UInt32: no end


def _per_series_sql(table: str, where: str, bucket_sql: str) -> str:
    """One scan that summarises each series and bucket of the rows.

    It groups by the numeric `series` column (one UInt64) and carries the series' text key with
    any(): grouping by three String columns cost 18.16 most of a region's month (issue 7). The
    aliases differ from the column names because ClickHouse aliases are query-wide and
    `object_id` in WHERE would otherwise mean any(object_id). Per series, first/last are
    argMin/argMax(value, period_start): a number, cheap on every row.
    """
    return (
        "SELECT series, any(object_id) AS series_object_id, any(device_id) AS series_device_id,"
        f" any(quantity) AS series_quantity, {bucket_sql} AS bucket,"
        " sum(value) AS part_sum, min(value) AS part_min, max(value) AS part_max, count() AS part_count,"
        " min(period_start) AS first_at, argMin(value, period_start) AS first_value,"
        " max(period_start) AS last_at, argMax(value, period_start) AS last_value"
        f" FROM {table} WHERE {where} GROUP BY series, bucket"
    )


def _combine_sql(per_series: str, columns: tuple[str, ...], *, sums: bool = False) -> str:
    """The answer from per-series summaries: a combine over series × buckets rows, not over values.

    A group of several series takes the first/last of its series' summaries, ordered by (time,
    object, device, quantity) as the Python backend does. Sum/min/max/count combine exactly
    (Decimal128 sums).
    """
    carried = tuple(f"series_{column}" for column in columns)
    keys = ", ".join([*carried, "bucket"])
    selected = "".join(f"{column}, " for column in carried)
    source = f"({per_series}) AS summaries"
    if columns == _SERIES_COLUMNS:  # one series per group: its summary is the answer
        return (
            f"SELECT {selected}bucket, toString(part_sum), toString(part_min), toString(part_max),"
            f" part_count, toString(first_value), toString(last_value) FROM {source} ORDER BY {keys}"
        )
    if sums:
        return (
            f"SELECT {selected}bucket, toString(sum(part_sum)), '', '', sum(part_count), '', ''"
            f" FROM {source} GROUP BY {keys} ORDER BY {keys}"
        )
    series = ", ".join(f"series_{column}" for column in _SERIES_COLUMNS)
    return (
        f"SELECT {selected}bucket, toString(sum(part_sum)), toString(min(part_min)),"
        " toString(max(part_max)), sum(part_count),"
        f" toString(argMin(first_value, tuple(first_at, {series}))),"
        f" toString(argMax(last_value, tuple(last_at, {series})))"
        f" FROM {source} GROUP BY {keys} ORDER BY {keys}"
    )


class _UniquePairs:
    """A `SeriesSet` of pairs known to be distinct (a mapping's keys): no copy, check or sort of a
    region's 100,000 pairs, which cost a region's aggregate a second of Python (issue 11)."""

    __slots__ = ("_pairs",)

    def __init__(self, pairs: Sequence[SeriesPair]) -> None:
        self._pairs = pairs

    def pairs(self) -> Sequence[SeriesPair]:
        return self._pairs

    def __len__(self) -> int:
        return len(self._pairs)


def _labelled(query: ReadingQuery, labels: Mapping[SeriesPair, str]) -> ReadingQuery:
    """The query restricted to the labelled series (and to its own `series`, if it has one)."""
    if query.series is None:
        return replace(query, series=_UniquePairs(list(labels)))
    return replace(query, series=series_of(pair for pair in query.series.pairs() if tuple(pair) in labels))


def _after_sql(columns: tuple[str, ...], key: tuple) -> str:
    """`columns` sort strictly after `key`; the first column also bounded alone, for pruning."""
    values = [
        f"toDateTime({_bounded_seconds(part)})" if isinstance(part, datetime) else _literal(part)
        for part in key
    ]
    if len(columns) == 1:
        return f"{columns[0]} > {values[0]}"
    return f"{columns[0]} >= {values[0]} AND ({', '.join(columns)}) > ({', '.join(values)})"


def _settle(insert: Callable[[], None], claims: Claims, intent_ids: list[int]) -> None:
    """Insert the intents' rows; then drop the intents, or, if the insert raised, mark them failed for
    recovery (any process) and let the error stand."""
    try:
        insert()
    except BaseException:
        claims.failed_all(intent_ids)
        raise
    claims.done_all(intent_ids)


def _value_columns(columns: ReadingColumns) -> tuple[list, ...]:
    """The per-value lists of `columns`, in the order ReadingColumns takes them after `source`."""
    return (columns.object_id, columns.device_id, columns.quantity, columns.interval, columns.period_start,
            columns.value, columns.unit, columns.quality, columns.commercial)  # fmt: skip


def _checked(row: ReadingRow) -> ReadingRow:
    check_row(row)
    if row.period_start.microsecond:
        raise ValueError("period_start must be a whole second")
    if not 0 <= row.period_start.timestamp() < _DATETIME_MAX:
        raise ValueError(f"period_start {row.period_start.isoformat()} is outside 1970–2106")
    return row


def _seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the readings store takes aware instants only")
    return int(moment.timestamp())


def _bounded_seconds(moment: datetime) -> int:
    """A query bound clamped to what a DateTime column can hold."""
    return min(max(_seconds(moment), 0), _DATETIME_MAX - 1)


def _reading(row: tuple) -> ReadingRow:
    return _readings()(row)


def _readings() -> Callable[[tuple], ReadingRow]:
    """A converter of engine rows to ReadingRows that makes each instant and series key once.

    A stream of millions of rows repeats a few instants (a quarter hour, a write's recorded_at)
    and, in series order, one key for thousands of rows; both caches stay bounded.
    """
    instants: dict[int, datetime] = {}
    keys: dict[tuple[str, str, str], SeriesKey] = {}

    def instant(seconds: Any) -> datetime:
        seconds = int(seconds)
        moment = instants.get(seconds)
        if moment is None:
            if len(instants) > 100_000:
                instants.clear()
            moment = instants[seconds] = datetime.fromtimestamp(seconds, UTC)
        return moment

    def convert(row: tuple) -> ReadingRow:
        (object_id, device_id, quantity, interval, seconds, revision, value, unit, quality, commercial,
         source, recorded) = row  # fmt: skip
        key = keys.get((object_id, device_id, quantity))
        if key is None:
            if len(keys) > 10_000:
                keys.clear()
            key = keys[(object_id, device_id, quantity)] = SeriesKey(object_id, device_id, quantity)
        return ReadingRow(
            key=key,
            interval=interval,
            period_start=instant(seconds),
            value=_number(value),
            unit=unit,
            quality=quality,
            source=source,
            commercial=bool(int(commercial)),
            revision=int(revision),
            recorded_at=instant(recorded),
        )

    return convert


def _series_is(key: SeriesKey) -> str:
    """`series` of one key, computed by the engine as at insert (the primary key then prunes to it)."""
    arguments = ", ".join(_literal(part) for part in (key.object_id, key.device_id, key.quantity))
    return f"series = {SERIES_HASH}({arguments})"


def _literal(text: str) -> str:
    """A ClickHouse string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _numbered(labels: Mapping[SeriesPair, str]) -> tuple[list[str], list[tuple[str, str, int, int]]]:
    """The labels' names in code point order, and (object, device, label number, rank) of each point,
    ranked in (object, device) order: what the label query joins (`_label_sql`)."""
    names = sorted(set(labels.values()))
    numbers = {name: number for number, name in enumerate(names)}
    rows = [
        (pair[0], pair[1], numbers[label], rank) for rank, (pair, label) in enumerate(sorted(labels.items()))
    ]
    return names, rows


def _in(column: str, values: Iterable[str], sets: ValueSets | None = None) -> str:
    values = sorted(set(values))
    if not values:
        return "0"
    if sets is not None and len(values) >= ValueSets.SMALLEST:
        return sets.member(column, ("String",), [(value,) for value in values])
    return f"{column} IN ({', '.join(_literal(value) for value in values)})"


def _row_literal(row: tuple) -> str:
    parts = [_literal(field) if isinstance(field, str) else str(int(field)) for field in row]
    return parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ")"


def _tsv(field: object) -> str:
    """One TabSeparated field: decimals without exponent, text with its escapes."""
    if isinstance(field, Decimal):
        return format(field, "f")
    if isinstance(field, str):
        return field.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return str(field)
