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

Claims of old slots may be pruned (`prune`, the retention job; ADR 0013 amendment): a value whose claim
is gone is answered from the store instead. A write that carries a slot older than the pruning
horizon takes the pruner's lock (shared), reads the newest revision of each such slot without a
claim from the store (`lookup`), seeds those claims and then claims as usual, all in its
transaction; the pruner deletes under the same lock (exclusive) and never below an open intent's
oldest slot, so what the store lacks is never in flight. A write of slots younger than the minimum
retention (less a day for clocks) skips all of this: no pruner ever reaches them. `fill` makes the
claims agree with a store written without them (an upgrade, a restore).

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
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlparse

from egsu import compact_json
from egsu.conf import READINGS_CLAIMS_MIN_RETENTION_DAYS
from egsu.processes import alive as _alive
from egsu.readings.store import Quality

CLAIMS = "egsu_readings_claim"  # + "_" + the ClickHouse database the claims are of
INTENTS = "egsu_readings_intent"
META = "egsu_readings_meta"  # the pruning horizon and a fill's checkpoint
DAY_S = 86_400
# No claim younger than this is ever pruned; a write of slots all younger than it less a day (clocks
# of different servers) needs no look at the pruning horizon.
PRUNE_MIN_AGE_S = READINGS_CLAIMS_MIN_RETENTION_DAYS * DAY_S
_CLOCK_MARGIN_S = DAY_S

# (object_id, device_id, quantity, interval, period_start as Unix seconds)
ClaimKey = tuple[str, str, str, str, int]
# what a claim compares: key, canonical value, unit, quality
ClaimEntry = tuple[str, str, str, str, int, str, str, str]
# the store's newest revision of a key: revision, canonical value, unit, quality
StoredState = tuple[int, str, str, str]
Lookup = Callable[[list[ClaimKey]], dict[ClaimKey, StoredState]]

_ESTIMATED = Quality.ESTIMATED.value
# Update only when the new value does not repeat the stored one (egsu.readings.store.repeats_stored).
_CHANGED = (
    "NOT ({t}.value = excluded.value AND {t}.unit = excluded.unit"
    f" AND NOT ({{t}}.quality = '{_ESTIMATED}' AND excluded.quality <> '{_ESTIMATED}'))"
)
_KEY = "object_id, device_id, quantity, duration, period_start"
# The primary key leads with the period (ADR 0013, "Key order"): a batch claims the keys of few
# periods, which then lie together in the index, instead of one page per series all over it.
_PK = "period_start, object_id, device_id, quantity, duration"
_CLAIMS_DDL = (
    "CREATE TABLE {claims} (object_id VARCHAR(64) NOT NULL, device_id VARCHAR(64) NOT NULL,"
    " quantity VARCHAR(32) NOT NULL, duration VARCHAR(8) NOT NULL, period_start BIGINT NOT NULL,"
    " revision INTEGER NOT NULL, value VARCHAR(40) NOT NULL, unit VARCHAR(16) NOT NULL,"
    f" quality VARCHAR(32) NOT NULL, PRIMARY KEY ({_PK})){{key_table}}"
)
_DDL = (
    _CLAIMS_DDL.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"),
    "CREATE TABLE IF NOT EXISTS {intents} (id {serial} PRIMARY KEY, host VARCHAR(255) NOT NULL,"
    " pid INTEGER NOT NULL, failed INTEGER NOT NULL DEFAULT 0, touched_at BIGINT NOT NULL,"
    " rows_blob {blob} NOT NULL, oldest BIGINT)",
    "CREATE TABLE IF NOT EXISTS {meta} (name VARCHAR(40) PRIMARY KEY, number BIGINT NOT NULL DEFAULT 0,"
    " note TEXT NOT NULL DEFAULT '')",
)
_COLUMNS = (
    "object_id",
    "device_id",
    "quantity",
    "duration",
    "period_start",
    "revision",
    "value",
    "unit",
    "quality",
)
_TYPES = ("text", "text", "text", "text", "bigint", "bigint", "text", "text", "text")
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
    return zlib.compress(compact_json.dumps(rows, default=str), 1)


def pack_columns(columns: Sequence[Sequence], source: str, recorded_at: int) -> bytes:
    """An intent's rows as columns (object, device, quantity, interval, period start, revision,
    canonical value text, unit, quality, commercial as 0/1) with the source and recording time
    they share: a fraction of the rows' size and cost. `unpack_columns` reads both forms."""
    document = {"columns": [list(column) for column in columns], "source": source, "recorded_at": recorded_at}
    return zlib.compress(compact_json.dumps(document), 1)


# Columns whose values repeat within an intent (object, quantity, interval, period start, unit, quality)
_REPEATING = (0, 2, 3, 4, 7, 8)


def unpack_columns(blob: bytes) -> list[list]:
    """An intent's rows, whichever form `pack`/`pack_columns` wrote, as twelve columns: object, device,
    quantity, interval, period start, revision, canonical value text, unit, quality, commercial,
    source, recorded at (a flusher joins them into one block; recovery reads them as rows).

    JSON gives every value an object of its own; values that repeat share one here, which halves
    what a flusher's block of 100,000 rows holds (51 → 22 MiB, for 0.4 µs a row)."""
    document = json.loads(zlib.decompress(bytes(blob)))
    if isinstance(document, dict):
        columns = document["columns"]
        count = len(columns[0]) if columns else 0
        columns = [*columns, [document["source"]] * count, [document["recorded_at"]] * count]
    elif not document:
        return [[] for _ in range(12)]
    else:
        columns = [list(column) for column in zip(*document, strict=True)]
        columns[6] = [canonical(Decimal(text)) for text in columns[6]]  # str(Decimal) may be 1E+3
    for index in _REPEATING:
        seen: dict = {}
        columns[index] = [seen.setdefault(value, value) for value in columns[index]]
    return columns


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


@dataclass(frozen=True)
class Intent:
    """An open intent: rows claimed and not yet known to be in the store (`Claims.intents`)."""

    id: int
    host: str
    pid: int
    failed: bool
    touched_at: int  # Unix seconds: when its writer (or a recoverer) last took it
    oldest: int | None  # the earliest period start among its rows (None: written before this was kept)
    rows: int
    state: str  # one of INTENT_STATES

    @property
    def waits_for_recovery(self) -> bool:
        return self.state not in AT_WORK


# How an open intent looks from this process: "in flight" ones are left to their writer, "queued" ones
# to a flusher; the others wait for recovery ("not flushed": queued longer than any flusher takes).
INTENT_STATES = ("in flight", "queued", "failed", "writer dead", "past lease", "not flushed")
AT_WORK = frozenset({"in flight", "queued"})
QUEUED = ""  # the host of an intent nobody holds yet: a flusher's to take (`Claims.take_queued`)


@dataclass(frozen=True)
class Pruned:
    """What one `Claims.prune` did: claims deleted, the horizon now, and how far an open intent held it back."""

    deleted: int
    horizon: int
    held_back_to: int | None = None


class Claims:
    """The claims of one database; thread safe (one connection per thread and process)."""

    lease_s: float = 600.0  # an intent of a live writer elsewhere is left alone this long
    flush_grace_s: float = 60.0  # a queued intent no flusher took in this long is recovered instead
    max_attempts = 8
    prune_min_age_s: int = PRUNE_MIN_AGE_S

    def __init__(self, namespace: str) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_]{1,40}", namespace):
            raise ValueError(f"a claims namespace is a plain name, not {namespace!r}")
        self.namespace = namespace
        self.claims_table = f"{CLAIMS}_{namespace}"
        self.intents_table = f"{INTENTS}_{namespace}"
        self.meta_table = f"{META}_{namespace}"
        self._local = threading.local()

    # -- what a dialect provides ---------------------------------------------------------------

    def _connect(self): ...

    def _upsert(self, cursor, entries: list[ClaimEntry]) -> list[tuple]: ...

    def _begin(self, connection) -> None: ...

    def _lock_schema(self, cursor) -> None: ...

    def _retryable(self, exc: Exception) -> bool: ...

    def _source(self, rows: Sequence[tuple], columns: Sequence[str]) -> tuple[str, list]:
        """A FROM item `t` holding `rows` with these columns (names from _COLUMNS), and its parameters."""
        raise NotImplementedError

    def _prune_lock(self, cursor, *, exclusive: bool) -> None:
        """Writers of old slots (shared) against the pruner (exclusive), to the end of the transaction."""

    def _has_column(self, cursor, table: str, column: str) -> bool: ...

    def _claim_all_new(self, cursor, entries: Sequence[ClaimEntry]) -> list[int | None] | None:
        """Revision 1 for every entry when none of their keys is claimed yet (the usual batch of new
        periods), claimed by a plain insert; else None, nothing claimed, and the upsert decides."""
        return None

    def _key_leads_with(self, cursor) -> str:
        """The first column of the claims table's primary key."""
        raise NotImplementedError

    def _stored_in_its_key(self, cursor) -> bool:
        """Whether the claims table stores its rows as the DDL makes them now (SQLite: in the key's B-tree)."""
        return True

    def _rebuild(self, cursor) -> None:
        """Make a claims table of before (the key order; on SQLite, rows apart from the key) as the DDL
        makes it now, claims kept."""
        raise NotImplementedError

    def _analyze(self) -> None:
        """Fresh statistics before a prune, so that its batches walk the primary key."""

    def _broken(self, connection) -> bool:
        """The connection was lost (its server restarted): it must be replaced, never used again."""
        return False

    placeholder = "?"
    greatest = "max"
    ddl: tuple[str, ...] = _DDL
    types: dict[str, str] = {}

    # -- shared --------------------------------------------------------------------------------

    @property
    def connection(self):
        held = getattr(self._local, "held", None)
        if held is not None and held[0] == os.getpid() and self._broken(held[1]):
            self._forget(held[1])  # the database restarted: the next statement runs on a new connection
            held = None
        if held is None or held[0] != os.getpid():  # a forked worker opens its own
            held = self._local.held = (os.getpid(), self._connect())
            cursor = held[1].cursor()
            self._lock_schema(cursor)  # writers starting together must not create the tables twice
            for statement in self.ddl:
                cursor.execute(
                    statement.format(
                        claims=self.claims_table,
                        intents=self.intents_table,
                        meta=self.meta_table,
                        **self.types,
                    )
                )
            if not self._has_column(cursor, self.intents_table, "oldest"):  # tables of before pruning
                cursor.execute(f"ALTER TABLE {self.intents_table} ADD COLUMN oldest BIGINT")
            if self._key_leads_with(cursor) != "period_start" or not self._stored_in_its_key(cursor):
                self._rebuild(cursor)  # a table of before the key order, or of rows apart from their key
            held[1].commit()
        return held[1]

    def claim(
        self,
        entries: Sequence[ClaimEntry],
        intent_of: Callable[[list[int | None]], bytes | None],
        lookup: Lookup | None = None,
        *,
        queued: bool = False,
    ) -> tuple[list[int | None], int | None]:
        """Claim every entry in one transaction: its new revision, or None for a duplicate.

        `intent_of(revisions)` gives the rows to insert (or None when there are none); they are
        stored as an intent in the same transaction, whose id is returned for `done_all`/`failed_all`.
        A `queued` intent belongs to nobody: a flusher takes it (`take_queued`) and inserts it with
        others as one block, and the caller must not insert it.
        `lookup(keys)` gives the store's newest revision of keys whose claims may have been pruned
        (slots older than the horizon); without it such keys count as never stored.
        """
        p = self.placeholder
        old_slots = lookup is not None and bool(entries)
        if old_slots:
            old_slots = (
                min(entry[4] for entry in entries) < time.time() - self.prune_min_age_s + _CLOCK_MARGIN_S
            )
        for attempt in range(1, self.max_attempts + 1):
            connection = self.connection
            try:
                cursor = connection.cursor()
                self._begin(connection)
                if old_slots:
                    assert lookup is not None
                    self._seed_pruned(cursor, entries, lookup)
                revisions = self._claim_all_new(cursor, entries)
                if revisions is None:
                    revisions = self._claim_rounds(cursor, entries)
                intent_id = None
                blob = intent_of(revisions)
                if blob is not None:
                    oldest = min(e[4] for e, r in zip(entries, revisions, strict=True) if r is not None)
                    cursor.execute(
                        # SQL built from our own table and column names; values travel as parameters
                        f"INSERT INTO {self.intents_table} (host, pid, failed, touched_at, rows_blob, oldest)"  # nosec B608
                        f" VALUES ({p}, {p}, 0, {p}, {p}, {p}) RETURNING id",
                        (QUEUED, 0, int(time.time()), blob, oldest)
                        if queued
                        else (HOST, os.getpid(), int(time.time()), blob, oldest),
                    )
                    intent_id = cursor.fetchone()[0]
                connection.commit()
                return revisions, intent_id
            except Exception as exc:
                self._rollback(connection)
                if not self._retryable(exc) or attempt == self.max_attempts:
                    raise
            time.sleep(0.01 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _claim_rounds(self, cursor, entries: Sequence[ClaimEntry]) -> list[int | None]:
        """Each entry's new revision (None: a duplicate), by one upsert per round of distinct keys.

        (PostgreSQL's upsert takes its rows in key order, so racing writers lock alike; SQLite has
        one writer at a time.)"""
        revisions: list[int | None] = [None] * len(entries)
        for indexes in rounds(entries):
            batch = entries if len(indexes) == len(entries) else [entries[i] for i in indexes]
            by_key = {entry[:5]: i for i, entry in zip(indexes, batch, strict=True)}
            for o, d, q, du, start, revision in self._upsert(cursor, batch):
                revisions[by_key[(o, d, q, du, int(start))]] = int(revision)
        return revisions

    def _seed_pruned(self, cursor, entries: Sequence[ClaimEntry], lookup: Lookup) -> None:
        """Give every key older than the horizon and without a claim the claim of what the store holds.

        Under the pruner's lock (shared) until commit: the pruner cannot delete a claim between this
        look and the upsert, and it never deleted one whose rows were not yet in the store."""
        self._prune_lock(cursor, exclusive=False)
        horizon = self._horizon(cursor)
        old = sorted({entry[:5] for entry in entries if entry[4] < horizon})
        if not old:
            return
        source, params = self._source(old, _COLUMNS[:5])
        same = " AND ".join(f"c.{column} = t.{column}" for column in _COLUMNS[:5])
        cursor.execute(
            # SQL built from our own table and column names; values travel as parameters
            f"SELECT {', '.join('t.' + c for c in _COLUMNS[:5])} FROM {source}"  # nosec B608
            f" WHERE NOT EXISTS (SELECT 1 FROM {self.claims_table} c WHERE {same})",
            params,
        )
        missing = [(o, d, q, du, int(ps)) for o, d, q, du, ps in cursor.fetchall()]
        if not missing:
            return
        found = lookup(missing)
        seeds = [(*key, *found[key]) for key in sorted(found)]
        if seeds:
            source, params = self._source(seeds, _COLUMNS)
            columns = ", ".join(_COLUMNS)
            cursor.execute(
                # SQL built from our own table and column names; values travel as parameters
                f"INSERT INTO {self.claims_table} ({columns}) SELECT {columns} FROM {source} WHERE true"  # nosec B608
                f" ON CONFLICT ({_KEY}) DO NOTHING",
                params,
            )

    def _horizon(self, cursor) -> int:
        cursor.execute(
            f"SELECT number FROM {self.meta_table} WHERE name = {self.placeholder}",  # nosec B608
            ("pruned_before",),
        )
        row = cursor.fetchone()
        return int(row[0]) if row else 0

    def horizon(self) -> int:
        """Unix seconds before which claims may have been pruned (0: never pruned)."""
        rows = self._run(
            f"SELECT number FROM {self.meta_table} WHERE name = {self.placeholder}",
            ("pruned_before",),
            fetch=True,
        )
        return int(rows[0][0]) if rows else 0

    def _raise_horizon(self, cursor, before: int) -> None:
        p, meta = self.placeholder, self.meta_table
        cursor.execute(
            f"INSERT INTO {meta} (name, number, note) VALUES ({p}, {p}, '') ON CONFLICT (name)"  # nosec B608
            f" DO UPDATE SET number = {self.greatest}({meta}.number, excluded.number)",
            ("pruned_before", before),
        )

    def _rollback(self, connection) -> None:
        """Roll back after a failed statement; a lost connection is dropped (the caller's error stands,
        nothing was committed on it, and the next call connects again: no operator needed)."""
        if self._broken(connection):
            self._forget(connection)
            return
        connection.rollback()

    def _forget(self, connection) -> None:
        try:
            connection.close()
        except Exception:  # noqa: BLE001, S110 - it is gone already
            pass
        self._local.held = None

    def done_all(self, intent_ids: Sequence[int]) -> None:
        """The intents' rows are in the store (a writer's, a flusher's or a recovery's insert): forget them."""
        self._each_chunk("DELETE FROM {table} WHERE id IN ({marks})", intent_ids)

    def failed_all(self, intent_ids: Sequence[int]) -> None:
        """Their insert raised: any process may recover the intents now (checking what the store holds)."""
        self._each_chunk("UPDATE {table} SET failed = 1 WHERE id IN ({marks})", intent_ids)

    def _each_chunk(self, template: str, intent_ids: Sequence[int], size: int = 500) -> None:
        for first in range(0, len(intent_ids), size):
            chunk = tuple(intent_ids[first : first + size])
            marks = ", ".join([self.placeholder] * len(chunk))
            self._run(template.format(table=self.intents_table, marks=marks), chunk)

    def take_queued(self, limit: int) -> list[tuple[int, bytes]]:
        """Up to `limit` queued intents, oldest first, each now this process's (one conditional update:
        concurrent flushers, on any server, never take the same intent)."""
        p = self.placeholder
        rows = self._run(
            # SQL built from our own table names; values travel as parameters
            f"UPDATE {self.intents_table} SET host = {p}, pid = {p}, touched_at = {p}"  # nosec B608
            f" WHERE host = {p} AND id IN (SELECT id FROM {self.intents_table} WHERE host = {p}"
            f" ORDER BY id LIMIT {int(limit)}) RETURNING id, rows_blob",
            (HOST, os.getpid(), int(time.time()), QUEUED, QUEUED),
            fetch=True,
        )
        return sorted((int(intent_id), blob) for intent_id, blob in rows)

    def _state(self, host: str, pid: int, failed: int, touched_at: int, now: float) -> str:
        mine = host == HOST and pid == os.getpid()
        if failed:
            return "failed"
        if host == QUEUED:
            return "queued" if touched_at >= now - self.flush_grace_s else "not flushed"
        if host == HOST and not mine and not _alive(pid):
            return "writer dead"
        if touched_at < now - self.lease_s:
            # past the lease whoever holds it, this process too: no write takes that long, so an intent
            # its own writer lost track of (a commit whose answer was lost) is not kept forever
            return "past lease"
        return "in flight"

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
            if self._state(host, pid, failed, touched_at, now) in AT_WORK:
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

    def intents(self, *, count_rows: bool = True) -> list[Intent]:
        """Every open intent, oldest first, with its state as this process sees it (the operator's list);
        `rows` is 0 unless `count_rows` (which unpacks each intent)."""
        now = time.time()
        blob = "rows_blob" if count_rows else "NULL"
        rows = self._run(
            f"SELECT id, host, pid, failed, touched_at, oldest, {blob} FROM {self.intents_table} ORDER BY id",  # nosec B608
            (),
            fetch=True,
        )
        return [
            Intent(int(i), host, int(pid), bool(failed), int(touched), None if oldest is None else int(oldest),
                   len(unpack_columns(blob)[0]) if count_rows else 0, self._state(host, int(pid), failed, int(touched), now))
            for i, host, pid, failed, touched, oldest, blob in rows
        ]  # fmt: skip

    def newest(self, keys: Sequence[ClaimKey]) -> dict[ClaimKey, int]:
        """The claimed revision of each key (tests, checks)."""
        return {key: state[0] for key, state in self.states(keys).items()}

    def states(self, keys: Sequence[ClaimKey]) -> dict[ClaimKey, StoredState]:
        """The claim (revision, canonical value, unit, quality) of each key that has one."""
        found = {}
        p = self.placeholder
        for key in keys:
            rows = self._run(
                f"SELECT revision, value, unit, quality FROM {self.claims_table} WHERE object_id = {p}"
                f" AND device_id = {p} AND quantity = {p} AND duration = {p} AND period_start = {p}",
                key,
                fetch=True,
            )
            if rows:
                revision, value, unit, quality = rows[0]
                found[key] = (int(revision), value, unit, quality)
        return found

    def count(self, *, before: int | None = None) -> int:
        """How many claims there are (of slots starting before `before`, Unix seconds)."""
        where = "" if before is None else f" WHERE period_start < {self.placeholder}"
        params = () if before is None else (before,)
        return int(self._run(f"SELECT count(*) FROM {self.claims_table}{where}", params, fetch=True)[0][0])

    # -- pruning (the retention job) -----------------------------------------------------------

    def prune(
        self,
        before: int,
        *,
        batch: int = 10_000,
        now: float | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Pruned:
        """Delete the claims of slots starting before `before` (Unix seconds), `batch` at a time.

        Refuses a `before` younger than the minimum age (writes of younger slots never look for a
        pruned claim). Each batch is one transaction under the pruner's lock (exclusive): it first
        raises the horizon, and deletes nothing at or after the oldest slot of an open intent (rows
        claimed that the store may not hold yet). Walks the claims once in key order.
        """
        now = time.time() if now is None else now
        if before > now - self.prune_min_age_s:
            raise ValueError(
                f"claims younger than {self.prune_min_age_s // DAY_S} days are never pruned (ADR 0013)"
            )
        if batch < 1:
            raise ValueError("a batch holds at least one claim")
        self._analyze()
        p, key = self.placeholder, f"({_PK})"
        marks = ", ".join([p] * 5)
        deleted, lower, held_back_to, failures = 0, None, None, 0
        while True:
            connection = self.connection
            try:
                cursor = connection.cursor()
                self._begin(connection)
                self._prune_lock(cursor, exclusive=True)
                cursor.execute(f"SELECT min(coalesce(oldest, 0)) FROM {self.intents_table}")  # nosec B608
                oldest_open = cursor.fetchone()[0]
                limit = before if oldest_open is None else min(before, int(oldest_open))
                if limit < before:
                    held_back_to = limit if held_back_to is None else min(held_back_to, limit)
                self._raise_horizon(cursor, limit)
                after = "" if lower is None else f" AND {key} > ({marks})"
                params: tuple = (limit, *(lower or ()))
                cursor.execute(
                    # SQL built from our own table and column names; values travel as parameters
                    f"SELECT {_PK} FROM {self.claims_table} WHERE period_start < {p}{after}"  # nosec B608
                    f" ORDER BY {_PK} LIMIT 1 OFFSET {int(batch) - 1}",
                    params,
                )
                upper = cursor.fetchone()
                until = "" if upper is None else f" AND {key} <= ({marks})"
                cursor.execute(
                    f"DELETE FROM {self.claims_table} WHERE period_start < {p}{after}{until}",  # nosec B608
                    (*params, *(upper or ())),
                )
                deleted += max(cursor.rowcount, 0)
                connection.commit()
            except Exception as exc:
                connection.rollback()
                failures += 1
                if not self._retryable(exc) or failures == self.max_attempts:
                    raise
                time.sleep(0.01 * failures)
                continue
            failures = 0
            if progress is not None:
                progress(deleted)
            if upper is None:
                break
            lower = (int(upper[0]), *upper[1:])
        return Pruned(deleted, self.horizon(), held_back_to)

    # -- filling from a store written without claims -------------------------------------------

    def fill(self, states: Sequence[tuple], *, checkpoint: str) -> int:
        """Make the claims of these keys agree with the store: `states` are (key…, revision, canonical
        value, unit, quality) of the newest revisions. A claim keeps a higher revision number (never
        handed out twice) and takes the store's value; a claim already equal is left alone. Records
        `checkpoint` in the same transaction (where to resume). How many claims were written."""
        columns = ", ".join(_COLUMNS)
        t = self.claims_table
        differs = " OR ".join(f"{t}.{c} <> excluded.{c}" for c in ("value", "unit", "quality"))
        for attempt in range(1, self.max_attempts + 1):
            connection = self.connection
            try:
                cursor = connection.cursor()
                self._begin(connection)
                changed = 0
                if states:
                    source, params = self._source(sorted(states), _COLUMNS)
                    cursor.execute(
                        # SQL built from our own table and column names; values travel as parameters
                        f"INSERT INTO {t} ({columns}) SELECT {columns} FROM {source} WHERE true"  # nosec B608
                        f" ON CONFLICT ({_KEY}) DO UPDATE SET revision = {self.greatest}({t}.revision, excluded.revision),"
                        " value = excluded.value, unit = excluded.unit, quality = excluded.quality"
                        f" WHERE {t}.revision < excluded.revision OR {differs}",
                        params,
                    )
                    changed = max(cursor.rowcount, 0)
                self._set_note(cursor, "fill_after", checkpoint)
                connection.commit()
                return changed
            except Exception as exc:
                connection.rollback()
                if not self._retryable(exc) or attempt == self.max_attempts:
                    raise
            time.sleep(0.01 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _set_note(self, cursor, name: str, note: str) -> None:
        p, meta = self.placeholder, self.meta_table
        cursor.execute(
            f"INSERT INTO {meta} (name, number, note) VALUES ({p}, 0, {p}) ON CONFLICT (name)"  # nosec B608
            " DO UPDATE SET note = excluded.note",
            (name, note),
        )

    def checkpoint(self) -> str:
        """Where an unfinished fill stopped ('' when none is unfinished)."""
        rows = self._run(
            f"SELECT note FROM {self.meta_table} WHERE name = {self.placeholder}", ("fill_after",), fetch=True
        )
        return rows[0][0] if rows else ""

    def finish_fill(self, horizon: int | None) -> None:
        """A fill went through: forget its checkpoint; claims before `horizon` were not filled
        (the store answers for them, as for pruned ones)."""
        connection = self.connection
        try:
            cursor = connection.cursor()
            self._begin(connection)
            cursor.execute(f"DELETE FROM {self.meta_table} WHERE name = {self.placeholder}", ("fill_after",))  # nosec B608
            if horizon:
                self._prune_lock(cursor, exclusive=True)
                self._raise_horizon(cursor, horizon)
            connection.commit()
        except Exception:
            connection.rollback()
            raise

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
                self._rollback(connection)
                if not self._retryable(exc) or attempt == self.max_attempts:
                    raise
            time.sleep(0.01 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def drop(self) -> None:
        """Drop this namespace's tables (tests, a dropped ClickHouse database)."""
        for table in (self.claims_table, self.intents_table, self.meta_table):
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
    # WITHOUT ROWID: a claim is stored in its primary key's B-tree, not in a rowid table beside it:
    # one B-tree written per claim instead of two, and 41 % less file (ADR 0013, "Claims kept in
    # their key").
    types = {"serial": "INTEGER", "blob": "BLOB", "key_table": " WITHOUT ROWID"}

    def __init__(self, path: str, namespace: str) -> None:
        super().__init__(namespace)
        self.path = path

    def _connect(self, wait_s: float = 60.0):
        """A connection in WAL mode. Setting the journal mode can meet "database is locked" at once, the
        busy timeout not applying (several writer processes opening the file together while one
        checkpoints): tried again for up to `wait_s`, like every other locked statement here."""
        deadline = time.monotonic() + wait_s
        while True:
            connection = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                return _AutocommitSqlite(connection)
            except sqlite3.OperationalError as exc:
                connection.close()
                if not self._retryable(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02 + 0.08 * (os.getpid() % 7) / 7)  # apart, not in step

    def _lock_schema(self, cursor) -> None:
        cursor.execute("BEGIN IMMEDIATE")

    def _begin(self, connection) -> None:
        connection.execute("BEGIN IMMEDIATE")  # one writer at a time: the claim's read is its write

    def _retryable(self, exc: Exception) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)

    def _source(self, rows: Sequence[tuple], columns: Sequence[str]) -> tuple[str, list]:
        fields = ", ".join(f"json_extract(value, '$[{n}]') AS {column}" for n, column in enumerate(columns))
        return f"(SELECT {fields} FROM json_each(?)) AS t", [compact_json.dumps(rows).decode()]

    def _has_column(self, cursor, table: str, column: str) -> bool:
        cursor.execute(f"PRAGMA table_info({table})")
        return any(row[1] == column for row in cursor.fetchall())

    def _claim_all_new(self, cursor, entries: Sequence[ClaimEntry]) -> list[int | None] | None:
        # One writer at a time (BEGIN IMMEDIATE): if the plain insert meets no claimed key, every
        # key was new. A conflict (a key claimed before, or twice in the batch) undoes it at once.
        # A fraction of the upsert's cost: no JSON to take apart, no conflict handling, no RETURNING.
        if not entries:
            return None
        cursor.execute("SAVEPOINT claim_all_new")
        try:
            cursor.executemany(
                # SQL built from our own table and column names; values travel as parameters
                f"INSERT INTO {self.claims_table} ({_KEY}, value, unit, quality, revision)"  # nosec B608
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                entries,
            )
        except sqlite3.IntegrityError:
            cursor.execute("ROLLBACK TO claim_all_new")
            cursor.execute("RELEASE claim_all_new")
            return None
        cursor.execute("RELEASE claim_all_new")
        return [1] * len(entries)

    def _key_leads_with(self, cursor) -> str:
        cursor.execute(f"PRAGMA table_info({self.claims_table})")
        return next(row[1] for row in cursor.fetchall() if row[5] == 1)  # pk: the column's place in the key

    def _stored_in_its_key(self, cursor) -> bool:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (self.claims_table,)
        )
        return "WITHOUT ROWID" in cursor.fetchone()[0].upper()

    def _rebuild(self, cursor) -> None:
        # SQLite cannot change a primary key or a table's storage: the table is built anew and the
        # claims copied, in the connection's schema transaction (BEGIN IMMEDIATE), so no writer sees
        # it half done.
        old = f"{self.claims_table}_before_rebuild"
        cursor.execute(f"ALTER TABLE {self.claims_table} RENAME TO {old}")
        cursor.execute(_CLAIMS_DDL.format(claims=self.claims_table, **self.types))
        columns = ", ".join(_COLUMNS)
        cursor.execute(
            f"INSERT INTO {self.claims_table} ({columns}) SELECT {columns} FROM {old} ORDER BY {_PK}"  # nosec B608
        )
        cursor.execute(f"DROP TABLE {old}")

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
            (compact_json.dumps(entries).decode(),),  # text: SQLite 3.40 reads no JSON from a BLOB
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
    greatest = "GREATEST"
    types = {"serial": "BIGSERIAL", "blob": "BYTEA", "key_table": ""}  # its heap beside the key, always

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

    def _broken(self, connection) -> bool:
        return bool(connection.closed or connection.broken)

    def _source(self, rows: Sequence[tuple], columns: Sequence[str]) -> tuple[str, list]:
        types = dict(zip(_COLUMNS, _TYPES, strict=True))
        arrays = ", ".join(f"%s::{types[column]}[]" for column in columns)
        return f"unnest({arrays}) AS t({', '.join(columns)})", [
            list(column) for column in zip(*rows, strict=True)
        ]

    def _analyze(self) -> None:
        # A table just filled has no statistics yet: the planner would sort it whole for every batch.
        self._run(f"ANALYZE {self.claims_table}", ())

    def _prune_lock(self, cursor, *, exclusive: bool) -> None:
        lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        cursor.execute(f"SELECT {lock}(hashtext(%s))", (f"egsu_readings_prune_{self.namespace}",))

    def _has_column(self, cursor, table: str, column: str) -> bool:
        cursor.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = %s AND column_name = %s",
            (table.lower(), column),
        )
        return bool(cursor.fetchone()[0])

    def _key_leads_with(self, cursor) -> str:
        cursor.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
            " AND a.attnum = i.indkey[0] WHERE i.indrelid = to_regclass(%s) AND i.indisprimary",
            (self.claims_table.lower(),),
        )
        return cursor.fetchone()[0]

    def _rebuild(self, cursor) -> None:
        # One statement rebuilds the index under the schema lock (writers starting meanwhile wait).
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'p'",
            (self.claims_table.lower(),),
        )
        name = cursor.fetchone()[0]
        cursor.execute(
            f'ALTER TABLE {self.claims_table} DROP CONSTRAINT "{name}", ADD PRIMARY KEY ({_PK})'  # nosec B608
        )

    def _upsert(self, cursor, entries: list[ClaimEntry]) -> list[tuple]:
        columns = list(zip(*entries, strict=True))
        cursor.execute(
            # SQL built from our own table and column names; values travel as parameters
            f"INSERT INTO {self.claims_table} AS c ({_KEY}, revision, value, unit, quality)"  # nosec B608
            " SELECT o, d, q, du, p, 1, v, u, ql FROM unnest(%s::text[], %s::text[], %s::text[],"
            " %s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[]) AS t(o, d, q, du, p, v, u, ql)"
            " ORDER BY p, o, d, q, du"  # the primary key's order
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
