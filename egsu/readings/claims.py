"""Value identity for a store without transactions: claims in a transactional database (ADR 0013).

ClickHouse has no unique constraint, so two writers of the same value cannot settle there which
of them stores it. They settle it here instead, before anything reaches ClickHouse: one row per
value key (object, device, quantity, interval, period start) holds the newest revision's number,
value, unit and quality. A batch is claimed with one set-based upsert per round (a round holds
each key of the batch once; a batch that repeats a key has a second round):

    INSERT … SELECT <the batch> ON CONFLICT (key) DO UPDATE SET revision = revision + 1, …
        WHERE NOT <repeats_stored>  RETURNING key, revision

A row returned with revision 1 is NEW, a higher one REVISED; a key not returned is a DUPLICATE.
PostgreSQL locks every conflicting row until commit, SQLite runs one writer at a time (BEGIN
IMMEDIATE), so concurrent writers of one key are serialised and each answer is the truth.

The claim commits before the rows are inserted into ClickHouse, together with an *intent*: the
rows to insert, compressed, and who inserts them (host, pid). The writer deletes the intent once
ClickHouse acknowledged the insert. If the writer dies or the insert fails, the intent stays and
`recover` (any process, later) inserts whichever of its (key, revision) rows ClickHouse lacks:
a claimed value is never lost, and since every (key, revision) is claimed once, never stored twice.

Two implementations with the same SQL shape: SQLite (stdlib sqlite3, a file of its own, so that it
never waits on the Django database's write lock) and PostgreSQL (psycopg, its own connection).
Neither needs Django. Value keys carry the period start as Unix seconds; values are compared in
their canonical text (`canonical`), which is exact on both.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from decimal import Decimal
from urllib.parse import urlparse

from egsu.processes import alive as _alive
from egsu.readings.store import Quality

CLAIMS = "egsu_readings_claim"  # + "_" + the ClickHouse database the claims are of
INTENTS = "egsu_readings_intent"

# (object_id, device_id, quantity, interval, period_start as Unix seconds)
ClaimKey = tuple[str, str, str, str, int]
# what a claim compares: key, canonical value, unit, quality
ClaimEntry = tuple[str, str, str, str, int, str, str, str]

_ESTIMATED = Quality.ESTIMATED.value
# Update only when the new value does not repeat the stored one (egsu.readings.store.repeats_stored).
_CHANGED = (
    "NOT ({t}.value = excluded.value AND {t}.unit = excluded.unit"
    f" AND NOT ({{t}}.quality = '{_ESTIMATED}' AND excluded.quality <> '{_ESTIMATED}'))"
)
_KEY = "object_id, device_id, quantity, duration, period_start"
_DDL = (
    "CREATE TABLE IF NOT EXISTS {claims} (object_id VARCHAR(64) NOT NULL, device_id VARCHAR(64) NOT NULL,"
    " quantity VARCHAR(32) NOT NULL, duration VARCHAR(8) NOT NULL, period_start BIGINT NOT NULL,"
    " revision INTEGER NOT NULL, value VARCHAR(40) NOT NULL, unit VARCHAR(16) NOT NULL,"
    f" quality VARCHAR(32) NOT NULL, PRIMARY KEY ({_KEY}))",
    "CREATE TABLE IF NOT EXISTS {intents} (id {serial} PRIMARY KEY, host VARCHAR(255) NOT NULL,"
    " pid INTEGER NOT NULL, failed INTEGER NOT NULL DEFAULT 0, touched_at BIGINT NOT NULL,"
    " rows_blob {blob} NOT NULL)",
)
HOST = socket.gethostname()


def canonical(value: Decimal) -> str:
    """One text per number (1.50 and 1.5 alike), compared exactly by any database.

    The text of `tidy_value(value)` in fixed-point notation, written without building that number
    (the intake calls this once per value): trailing zeros of the fraction and a bare point go.
    """
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def pack(rows: Sequence[tuple]) -> bytes:
    """An intent's rows (JSON, Decimals as text), compressed."""
    return zlib.compress(json.dumps(rows, default=str, separators=(",", ":")).encode(), 1)


def pack_columns(columns: Sequence[Sequence], source: str, recorded_at: int) -> bytes:
    """An intent's rows as columns (object, device, quantity, interval, period start, revision,
    canonical value text, unit, quality, commercial as 0/1) with the source and recording time
    they share: a fraction of the rows' size and cost. `unpack` reads both forms."""
    document = {"columns": [list(column) for column in columns], "source": source, "recorded_at": recorded_at}
    return zlib.compress(json.dumps(document, separators=(",", ":")).encode(), 1)


def unpack(blob: bytes) -> list[list]:
    """An intent's rows: (object, device, quantity, interval, period start, revision, value text,
    unit, quality, commercial, source, recorded at), whichever form `pack`/`pack_columns` wrote."""
    document = json.loads(zlib.decompress(bytes(blob)))
    if isinstance(document, dict):
        source, recorded_at = document["source"], document["recorded_at"]
        return [[*row, source, recorded_at] for row in zip(*document["columns"], strict=True)]
    return document


def rounds(entries: Sequence[ClaimEntry]) -> list[list[int]]:
    """Indexes of `entries` per round: the n-th occurrence of every key goes into round n."""
    if len({entry[:5] for entry in entries}) == len(entries):  # the usual batch: every key once
        return [list(range(len(entries)))]
    seen: dict[tuple, int] = {}
    out: list[list[int]] = []
    for index, entry in enumerate(entries):
        n = seen.get(entry[:5], 0)
        seen[entry[:5]] = n + 1
        if n == len(out):
            out.append([])
        out[n].append(index)
    return out


class Claims:
    """The claims of one database; thread safe (one connection per thread and process)."""

    lease_s: float = 600.0  # an intent of a live writer elsewhere is left alone this long
    max_attempts = 8

    def __init__(self, namespace: str) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_]{1,40}", namespace):
            raise ValueError(f"a claims namespace is a plain name, not {namespace!r}")
        self.namespace = namespace
        self.claims_table = f"{CLAIMS}_{namespace}"
        self.intents_table = f"{INTENTS}_{namespace}"
        self._local = threading.local()

    # -- what a dialect provides ---------------------------------------------------------------

    def _connect(self): ...

    def _upsert(self, cursor, entries: list[ClaimEntry]) -> list[tuple]: ...

    def _begin(self, connection) -> None: ...

    def _lock_schema(self, cursor) -> None: ...

    def _retryable(self, exc: Exception) -> bool: ...

    placeholder = "?"
    ddl: tuple[str, ...] = _DDL
    types: dict[str, str] = {}

    # -- shared --------------------------------------------------------------------------------

    @property
    def connection(self):
        held = getattr(self._local, "held", None)
        if held is None or held[0] != os.getpid():  # a forked worker opens its own
            held = self._local.held = (os.getpid(), self._connect())
            cursor = held[1].cursor()
            self._lock_schema(cursor)  # writers starting together must not create the tables twice
            for statement in self.ddl:
                cursor.execute(
                    statement.format(claims=self.claims_table, intents=self.intents_table, **self.types)
                )
            held[1].commit()
        return held[1]

    def claim(
        self, entries: Sequence[ClaimEntry], intent_of: Callable[[list[int | None]], bytes | None]
    ) -> tuple[list[int | None], int | None]:
        """Claim every entry in one transaction: its new revision, or None for a duplicate.

        `intent_of(revisions)` gives the rows to insert (or None when there are none); they are
        stored as an intent in the same transaction, whose id is returned for `done`/`failed`.
        """
        p = self.placeholder
        for attempt in range(1, self.max_attempts + 1):
            connection = self.connection
            try:
                cursor = connection.cursor()
                self._begin(connection)
                revisions: list[int | None] = [None] * len(entries)
                for indexes in rounds(entries):
                    # (PostgreSQL's upsert takes its rows in key order, so racing writers lock
                    # alike; SQLite has one writer at a time.)
                    batch = entries if len(indexes) == len(entries) else [entries[i] for i in indexes]
                    by_key = {entry[:5]: i for i, entry in zip(indexes, batch, strict=True)}
                    for o, d, q, du, start, revision in self._upsert(cursor, batch):
                        revisions[by_key[(o, d, q, du, int(start))]] = int(revision)
                intent_id = None
                blob = intent_of(revisions)
                if blob is not None:
                    cursor.execute(
                        # SQL built from our own table and column names; values travel as parameters
                        f"INSERT INTO {self.intents_table} (host, pid, failed, touched_at, rows_blob)"  # nosec B608
                        f" VALUES ({p}, {p}, 0, {p}, {p}) RETURNING id",
                        (HOST, os.getpid(), int(time.time()), blob),
                    )
                    intent_id = cursor.fetchone()[0]
                connection.commit()
                return revisions, intent_id
            except Exception as exc:
                connection.rollback()
                if not self._retryable(exc) or attempt == self.max_attempts:
                    raise
            time.sleep(0.01 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def done(self, intent_id: int) -> None:
        """The intent's rows are in the store: forget it."""
        self._run(f"DELETE FROM {self.intents_table} WHERE id = {self.placeholder}", (intent_id,))

    def failed(self, intent_id: int) -> None:
        """The writer's insert raised: any process may recover the intent now."""
        self._run(f"UPDATE {self.intents_table} SET failed = 1 WHERE id = {self.placeholder}", (intent_id,))

    def take_stale(self) -> list[tuple[int, bytes]]:
        """Intents nobody is finishing (failed, of a dead process on this host, or past the lease),
        each taken over by this process (a conditional update, so two recoverers never share one)."""
        p = self.placeholder
        now = int(time.time())
        rows = self._run(
            f"SELECT id, host, pid, failed, touched_at FROM {self.intents_table}", (), fetch=True
        )
        taken = []
        for intent_id, host, pid, failed, touched_at in rows:
            mine = host == HOST and pid == os.getpid()
            stale = (
                failed
                or (host == HOST and not mine and not _alive(pid))
                or (not mine and touched_at < now - self.lease_s)
            )
            if not stale:
                continue
            changed = self._run(
                f"UPDATE {self.intents_table} SET host = {p}, pid = {p}, failed = 0, touched_at = {p}"
                f" WHERE id = {p} AND host = {p} AND pid = {p} AND failed = {p} AND touched_at = {p}",
                (HOST, os.getpid(), now, intent_id, host, pid, failed, touched_at),
                rowcount=True,
            )
            if changed == 1:
                ((blob,),) = self._run(
                    f"SELECT rows_blob FROM {self.intents_table} WHERE id = {p}", (intent_id,), fetch=True
                )
                taken.append((intent_id, blob))
        return taken

    def pending(self) -> int:
        """How many intents are open (monitoring, tests)."""
        return self._run(f"SELECT count(*) FROM {self.intents_table}", (), fetch=True)[0][0]

    def newest(self, keys: Sequence[ClaimKey]) -> dict[ClaimKey, int]:
        """The claimed revision of each key (tests, checks)."""
        found = {}
        p = self.placeholder
        for key in keys:
            rows = self._run(
                f"SELECT revision FROM {self.claims_table} WHERE object_id = {p} AND device_id = {p} AND quantity = {p}"
                f" AND duration = {p} AND period_start = {p}",
                key,
                fetch=True,
            )
            if rows:
                found[key] = int(rows[0][0])
        return found

    def _run(self, sql: str, params: tuple, *, fetch: bool = False, rowcount: bool = False):
        connection = self.connection
        for attempt in range(1, self.max_attempts + 1):
            try:
                cursor = connection.cursor()
                cursor.execute(sql, params)
                result = cursor.fetchall() if fetch else cursor.rowcount
                connection.commit()
                return result if fetch or rowcount else None
            except Exception as exc:
                connection.rollback()
                if not self._retryable(exc) or attempt == self.max_attempts:
                    raise
            time.sleep(0.01 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def drop(self) -> None:
        """Drop this namespace's tables (tests, a dropped ClickHouse database)."""
        for table in (self.claims_table, self.intents_table):
            self._run(f"DROP TABLE IF EXISTS {table}", ())
        self.close()

    def close(self) -> None:
        held = getattr(self._local, "held", None)
        if held is not None and held[0] == os.getpid():
            held[1].close()
        self._local.held = None


class SqliteClaims(Claims):
    """Claims in a SQLite file of their own (the embedded default beside the Django database)."""

    placeholder = "?"
    types = {"serial": "INTEGER", "blob": "BLOB"}

    def __init__(self, path: str, namespace: str) -> None:
        super().__init__(namespace)
        self.path = path

    def _connect(self):
        connection = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return _AutocommitSqlite(connection)

    def _lock_schema(self, cursor) -> None:
        cursor.execute("BEGIN IMMEDIATE")

    def _begin(self, connection) -> None:
        connection.execute("BEGIN IMMEDIATE")  # one writer at a time: the claim's read is its write

    def _retryable(self, exc: Exception) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)

    def _upsert(self, cursor, entries: list[ClaimEntry]) -> list[tuple]:
        fields = ", ".join(f"json_extract(value, '$[{n}]')" for n in range(5))
        values = ", ".join(f"json_extract(value, '$[{n}]')" for n in range(5, 8))
        cursor.execute(
            # SQL built from our own table and column names; values travel as parameters
            f"INSERT INTO {self.claims_table} ({_KEY}, revision, value, unit, quality)"  # nosec B608
            f" SELECT {fields}, 1, {values} FROM json_each(?) WHERE true"
            f" ON CONFLICT ({_KEY}) DO UPDATE SET revision = {self.claims_table}.revision + 1, value = excluded.value,"
            f" unit = excluded.unit, quality = excluded.quality WHERE {_CHANGED.format(t=self.claims_table)}"
            f" RETURNING {_KEY}, revision",
            (json.dumps(entries, separators=(",", ":")),),
        )
        return cursor.fetchall()


class _AutocommitSqlite:
    """sqlite3 in autocommit mode with explicit BEGIN: commit/rollback only inside a transaction."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def cursor(self):
        return self._connection.cursor()

    def execute(self, sql: str, params=()):
        return self._connection.execute(sql, params)

    def commit(self) -> None:
        if self._connection.in_transaction:
            self._connection.execute("COMMIT")

    def rollback(self) -> None:
        if self._connection.in_transaction:
            self._connection.execute("ROLLBACK")

    def close(self) -> None:
        self._connection.close()


class PostgresClaims(Claims):
    """Claims in PostgreSQL (the Django database in production), on a connection of their own."""

    placeholder = "%s"
    types = {"serial": "BIGSERIAL", "blob": "BYTEA"}

    def __init__(self, dsn: str, namespace: str) -> None:
        super().__init__(namespace)
        self.dsn = dsn

    def _connect(self):
        import psycopg

        return psycopg.connect(self.dsn, autocommit=False)

    def _lock_schema(self, cursor) -> None:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('egsu_readings_claims'))")

    def _begin(self, connection) -> None:  # psycopg opens a transaction at the first statement
        return None

    def _retryable(self, exc: Exception) -> bool:
        return getattr(exc, "sqlstate", None) in {"40001", "40P01"}  # serialization failure, deadlock

    def _upsert(self, cursor, entries: list[ClaimEntry]) -> list[tuple]:
        columns = list(zip(*entries, strict=True))
        cursor.execute(
            # SQL built from our own table and column names; values travel as parameters
            f"INSERT INTO {self.claims_table} AS c ({_KEY}, revision, value, unit, quality)"  # nosec B608
            " SELECT o, d, q, du, p, 1, v, u, ql FROM unnest(%s::text[], %s::text[], %s::text[],"
            " %s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[]) AS t(o, d, q, du, p, v, u, ql)"
            " ORDER BY o, d, q, du, p"
            f" ON CONFLICT ({_KEY}) DO UPDATE SET revision = c.revision + 1, value = excluded.value,"
            f" unit = excluded.unit, quality = excluded.quality WHERE {_CHANGED.format(t='c')}"
            f" RETURNING {_KEY}, revision",
            [list(column) for column in columns],
        )
        return cursor.fetchall()


def claims_from_url(url: str, namespace: str) -> Claims:
    """The claims of the ClickHouse database `namespace` at `sqlite:///path` or `postgresql://…/db`."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return SqliteClaims(url[len("sqlite:///") :], namespace)
    if parsed.scheme in ("postgresql", "postgres"):
        return PostgresClaims(url, namespace)
    raise ValueError(f"READINGS_CLAIMS_URL {url!r}: use sqlite:///path or postgresql://…")
