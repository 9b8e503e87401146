"""The agent's durable local store: samples, the outbox of signed messages, the attempt journal.

One SQLite file in WAL mode with ``synchronous=FULL``: a committed row survives a crash
or power loss (OGM-10: the subject's software keeps the meter data). The rules that
make delivery exactly-once from the System's point of view:

- a message (one period, or one chunk of a period under INT-07's 15 MB) is built,
  signed and committed *before* its first send, bytes and messageId together;
- every attempt is journalled as ``started`` and committed *before* the HTTP request
  (INT-39: the request is recorded), then completed with its outcome (INT-44);
- a resend posts the very same bytes, so the System recognises the messageId and
  answers what it answered before instead of storing anything twice;
- a message is ``delivered`` only after a positive answer (SCSS001/SCSS002); records
  the receipt rejects are kept in ``rejections``.
An attempt still ``started`` when the agent starts again was cut short (crash, SIGKILL):
it is marked ``interrupted``, counts against the day's attempts, and the message is due.

Late data: a sample that is new (or whose value changed) marks the periods it can
change as dirty, in the same transaction that keeps it. The service rebuilds them;
each device's last built record is kept as a fingerprint (``period_records``), so only
records that really changed go out again, as a correction: a new message (new
messageId, the period's next ``version``) that the System stores as a revision. A
pending message of the period is superseded by it (never sent after it), its records
carried into the correction, so the newest values always arrive last.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from egsu_agent.samples import Sample
from egsu_agent.schedule import DAY, TWO_HOURS, Period, day_period, two_hour_period
from egsu_core.clock import to_astana

PENDING = "pending"
DELIVERED = "delivered"
REJECTED = "rejected"
SUPERSEDED = "superseded"

SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    tag TEXT NOT NULL, at TEXT NOT NULL, value TEXT NOT NULL, fault INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', PRIMARY KEY (tag, at)
);
CREATE TABLE IF NOT EXISTS periods (
    interval TEXT NOT NULL, start TEXT NOT NULL, end_at TEXT NOT NULL, built_at TEXT NOT NULL,
    records INTEGER NOT NULL, messages INTEGER NOT NULL, version INTEGER NOT NULL DEFAULT 1,
    rebuilt_at TEXT, PRIMARY KEY (interval, start)
);
CREATE TABLE IF NOT EXISTS period_records (
    interval TEXT NOT NULL, start TEXT NOT NULL, device TEXT NOT NULL, fingerprint TEXT NOT NULL,
    version INTEGER NOT NULL, PRIMARY KEY (interval, start, device)
);
CREATE TABLE IF NOT EXISTS dirty (interval TEXT NOT NULL, start TEXT NOT NULL, PRIMARY KEY (interval, start));
CREATE TABLE IF NOT EXISTS messages (
    message_id TEXT PRIMARY KEY, interval TEXT NOT NULL, period_start TEXT NOT NULL, period_end TEXT NOT NULL,
    chunk INTEGER NOT NULL, envelope BLOB NOT NULL, size INTEGER NOT NULL, records INTEGER NOT NULL,
    created_at TEXT NOT NULL, state TEXT NOT NULL, next_attempt_at TEXT NOT NULL,
    delivered_at TEXT, answer_code TEXT, answer_message TEXT, version INTEGER NOT NULL DEFAULT 1,
    devices TEXT NOT NULL DEFAULT '[]',
    UNIQUE (interval, period_start, version, chunk)
);
CREATE INDEX IF NOT EXISTS messages_due ON messages (state, next_attempt_at);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL REFERENCES messages (message_id),
    at TEXT NOT NULL, outcome TEXT NOT NULL, code TEXT, detail TEXT, finished_at TEXT
);
CREATE INDEX IF NOT EXISTS attempts_message ON attempts (message_id, at);
CREATE TABLE IF NOT EXISTS rejections (
    message_id TEXT NOT NULL, position INTEGER NOT NULL, object_id TEXT, device_id TEXT,
    code TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (message_id, position)
);
CREATE TABLE IF NOT EXISTS notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, key TEXT NOT NULL, opened_at TEXT NOT NULL,
    closed_at TEXT, subject TEXT NOT NULL, body TEXT NOT NULL, sent_at TEXT, last_error TEXT,
    fields TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS notice_sends (
    notice_id INTEGER NOT NULL REFERENCES notices (id), channel TEXT NOT NULL, sent_at TEXT,
    acknowledgement TEXT, last_error TEXT, tries INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (notice_id, channel)
);
CREATE TABLE IF NOT EXISTS unknown_tags (
    tag TEXT NOT NULL, source TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
    samples INTEGER NOT NULL, PRIMARY KEY (tag, source)
);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (path TEXT NOT NULL, sha256 TEXT NOT NULL, ingested_at TEXT NOT NULL,
    PRIMARY KEY (path, sha256));
"""

# Columns added after the first release: an older outbox file gets them on open.
_ADDED_COLUMNS = {
    "samples": {"note": "TEXT NOT NULL DEFAULT ''"},
    "periods": {"version": "INTEGER NOT NULL DEFAULT 1", "rebuilt_at": "TEXT"},
    "messages": {"version": "INTEGER NOT NULL DEFAULT 1", "devices": "TEXT NOT NULL DEFAULT '[]'"},
    "notices": {"fields": "TEXT NOT NULL DEFAULT '{}'"},
}


def iso(moment: datetime) -> str:
    """UTC instants as fixed-width text, so they sort and compare as strings."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def period_containing(interval: str, at: datetime) -> Period:
    """The two-hourly or daily period that ``at`` falls in (on the Astana wall clock, INT-37)."""
    local = to_astana(at)
    if interval == DAY:
        return day_period(local.date())
    return two_hour_period(local.date(), local.hour - local.hour % 2)


def period_of(interval: str, start: datetime) -> Period:
    """The Period of an interval and a start instant; ValueError when ``start`` does not start one."""
    if interval not in (DAY, TWO_HOURS):
        raise ValueError(f"unknown interval {interval!r}")
    period = period_containing(interval, start)
    if period.start != start:
        raise ValueError(f"{to_astana(start):%Y-%m-%d %H:%M} does not start a {interval} period")
    return period


def periods_touched(at: datetime) -> set[Period]:
    """The periods a sample at ``at`` can change: the two hours and the day it falls in, the ones
    after them (a totaliser's opening reading is the last one before the start), and, for a sample
    exactly on a boundary, the ones it closes (the closing reading is taken at the end, inclusive)."""
    out: set[Period] = set()
    for interval in (TWO_HOURS, DAY):
        period = period_containing(interval, at)
        out.add(period)
        out.add(period_containing(interval, period.end))
        if at == period.start:
            out.add(period_containing(interval, at - timedelta(microseconds=1)))
    return out


@dataclass(frozen=True)
class Message:
    message_id: str
    interval: str
    period_start: datetime
    period_end: datetime
    chunk: int
    envelope: bytes
    size: int
    records: int
    state: str
    next_attempt_at: datetime
    answer_code: str | None
    version: int = 1
    devices: tuple[str, ...] = ()
    answer_message: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class Attempt:
    message_id: str
    at: datetime
    outcome: str
    code: str | None
    detail: str | None


@dataclass(frozen=True)
class BuiltPeriod:
    interval: str
    start: datetime
    end: datetime
    built_at: datetime
    records: int
    messages: int
    version: int
    rebuilt_at: datetime | None


@dataclass(frozen=True)
class StoredNotice:
    id: int
    kind: str
    key: str
    opened_at: datetime
    closed_at: datetime | None
    subject: str
    body: str
    sent_at: datetime | None
    last_error: str | None
    fields: dict


class Outbox:
    """The SQLite store; one connection, used from one thread at a time."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._upgrade()
        self.db.executescript(SCHEMA)

    def _upgrade(self) -> None:
        """Add the columns an older outbox file lacks (nothing in it is changed or lost)."""
        for table, columns in _ADDED_COLUMNS.items():
            present = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            if not present:
                continue
            for column, declaration in columns.items():
                if column not in present:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
        old_unique = self.db.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'messages' AND sql LIKE '%UNIQUE (interval, period_start, chunk)%'"
        ).fetchone()
        if old_unique:  # one message set per period before corrections existed: widen the key
            with self.transaction() as db:
                db.execute("ALTER TABLE messages RENAME TO messages_v1")
                db.execute(
                    "CREATE TABLE messages"
                    + SCHEMA.split("CREATE TABLE IF NOT EXISTS messages")[1].split(";")[0]
                )
                db.execute(
                    "INSERT INTO messages (message_id, interval, period_start, period_end, chunk, envelope, size,"
                    " records, created_at, state, next_attempt_at, delivered_at, answer_code, answer_message,"
                    " version, devices) SELECT message_id, interval, period_start, period_end, chunk, envelope,"
                    " size, records, created_at, state, next_attempt_at, delivered_at, answer_code,"
                    " answer_message, version, devices FROM messages_v1"
                )
                db.execute("DROP TABLE messages_v1")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ------------------------------------------------------------ state

    def get_state(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_state(self, key: str, value: str | None, db: sqlite3.Connection | None = None) -> None:
        db = db or self.db
        if value is None:
            db.execute("DELETE FROM state WHERE key = ?", (key,))
        else:
            db.execute("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", (key, value))

    # ------------------------------------------------------------ samples

    def add_samples(
        self, source: str, samples: Iterable[Sample], db: sqlite3.Connection | None = None
    ) -> list[Sample]:
        """Keep samples; return those that are new or carry another value than the one kept.

        A re-read export changes nothing; a later export that gives another value for the
        same tag and instant replaces it. Every period a changed sample can alter is marked
        dirty in the same transaction, so a late value can never be kept without its
        period being looked at again.
        """
        db = db or self.db
        changed: list[Sample] = []
        touched: set[Period] = set()
        for sample in samples:
            cursor = db.execute(
                "INSERT INTO samples (tag, at, value, fault, source, note) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (tag, at) DO UPDATE SET value = excluded.value, fault = excluded.fault,"
                " source = excluded.source, note = excluded.note"
                " WHERE samples.value != excluded.value OR samples.fault != excluded.fault",
                (sample.tag, iso(sample.at), str(sample.value), int(sample.fault), source, sample.note),
            )
            if cursor.rowcount:
                changed.append(sample)
                touched |= periods_touched(sample.at)
        db.executemany(
            "INSERT OR IGNORE INTO dirty (interval, start) VALUES (?, ?)",
            [(p.interval, iso(p.start)) for p in touched],
        )
        return changed

    def samples(self, tags: Iterable[str], start: datetime, end: datetime) -> dict[str, list[Sample]]:
        """Samples of these tags in [start, end] (inclusive end: a totaliser's closing reading)."""
        out: dict[str, list[Sample]] = {}
        tags = list(dict.fromkeys(tags))
        if not tags:
            return out
        marks = ",".join("?" * len(tags))
        rows = self.db.execute(
            # SQL built from our own table and column names; values travel as parameters
            f"SELECT tag, at, value, fault, note FROM samples WHERE tag IN ({marks}) AND at >= ? AND at <= ?"  # nosec B608
            " ORDER BY at",
            (*tags, iso(start), iso(end)),
        )
        for tag, at, value, fault, note in rows:
            out.setdefault(tag, []).append(Sample(parse_iso(at), tag, Decimal(value), bool(fault), note))
        return out

    def last_sample_at(self, tags: Iterable[str]) -> datetime | None:
        times = [t for t in self.last_samples(tags).values() if t is not None]
        return max(times) if times else None

    def last_samples(self, tags: Iterable[str]) -> dict[str, datetime | None]:
        """The newest sample time of each tag (None when it never gave one)."""
        out: dict[str, datetime | None] = {}
        for tag in dict.fromkeys(tags):
            row = self.db.execute("SELECT max(at) FROM samples WHERE tag = ?", (tag,)).fetchone()
            out[tag] = parse_iso(row[0]) if row and row[0] else None
        return out

    def recent_samples(self, tag: str, limit: int = 500) -> list[Sample]:
        """The newest samples of a tag, newest first."""
        rows = self.db.execute(
            "SELECT at, value, fault, note FROM samples WHERE tag = ? ORDER BY at DESC LIMIT ?", (tag, limit)
        )
        return [
            Sample(parse_iso(at), tag, Decimal(value), bool(fault), note) for at, value, fault, note in rows
        ]

    def note_unknown_tags(
        self, source: str, samples: Iterable[Sample], known: set[str], now: datetime
    ) -> list[str]:
        """Count samples of tags no device maps; return the tags seen for the first time."""
        counts: dict[str, int] = {}
        for sample in samples:
            if sample.tag not in known:
                counts[sample.tag] = counts.get(sample.tag, 0) + 1
        new = []
        for tag, count in counts.items():
            cursor = self.db.execute(
                "UPDATE unknown_tags SET last_seen = ?, samples = samples + ? WHERE tag = ? AND source = ?",
                (iso(now), count, tag, source),
            )
            if not cursor.rowcount:
                self.db.execute(
                    "INSERT INTO unknown_tags (tag, source, first_seen, last_seen, samples) VALUES (?, ?, ?, ?, ?)",
                    (tag, source, iso(now), iso(now), count),
                )
                new.append(tag)
        return new

    def unknown_tags(self) -> list[tuple[str, str, datetime, datetime, int]]:
        rows = self.db.execute(
            "SELECT tag, source, first_seen, last_seen, samples FROM unknown_tags ORDER BY source, tag"
        )
        return [(t, s, parse_iso(f), parse_iso(la), n) for t, s, f, la, n in rows]

    def file_seen(self, path: str, sha256: str) -> bool:
        row = self.db.execute("SELECT 1 FROM files WHERE path = ? AND sha256 = ?", (path, sha256)).fetchone()
        return row is not None

    def mark_file(self, db: sqlite3.Connection, path: str, sha256: str, now: datetime) -> None:
        db.execute(
            "INSERT OR IGNORE INTO files (path, sha256, ingested_at) VALUES (?, ?, ?)",
            (path, sha256, iso(now)),
        )

    # ------------------------------------------------------------ periods

    def last_built_end(self) -> datetime | None:
        row = self.db.execute("SELECT max(end_at) FROM periods").fetchone()
        return parse_iso(row[0]) if row and row[0] else None

    def is_built(self, period: Period) -> bool:
        return self.built(period) is not None

    def built(self, period: Period) -> BuiltPeriod | None:
        row = self.db.execute(
            "SELECT interval, start, end_at, built_at, records, messages, version, rebuilt_at FROM periods"
            " WHERE interval = ? AND start = ?",
            (period.interval, iso(period.start)),
        ).fetchone()
        return _built(row) if row else None

    def built_periods(self, since: datetime | None = None) -> list[BuiltPeriod]:
        rows = self.db.execute(
            "SELECT interval, start, end_at, built_at, records, messages, version, rebuilt_at FROM periods"
            " WHERE end_at >= ? ORDER BY end_at, interval DESC",
            (iso(since) if since else "",),
        )
        return [_built(row) for row in rows]

    def dirty_periods(self) -> list[Period]:
        rows = self.db.execute("SELECT interval, start FROM dirty ORDER BY start, interval DESC").fetchall()
        return [period_of(interval, parse_iso(start)) for interval, start in rows]

    def clear_dirty(self, period: Period, db: sqlite3.Connection | None = None) -> None:
        (db or self.db).execute(
            "DELETE FROM dirty WHERE interval = ? AND start = ?", (period.interval, iso(period.start))
        )

    def period_fingerprints(self, period: Period) -> dict[str, str]:
        rows = self.db.execute(
            "SELECT device, fingerprint FROM period_records WHERE interval = ? AND start = ?",
            (period.interval, iso(period.start)),
        )
        return dict(rows.fetchall())

    def add_version(
        self,
        period: Period,
        messages: list[tuple[str, bytes, int, tuple[str, ...]]],
        fingerprints: dict[str, str],
        *,
        now: datetime,
        records: int,
        supersede: Iterable[str] = (),
    ) -> int:
        """A (re)built period: its new signed messages (id, envelope, record count, device keys), the
        fingerprints of the records they carry, the pending messages they replace; one transaction.
        Returns the period's version: the number of builds that produced messages."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT version FROM periods WHERE interval = ? AND start = ?",
                (period.interval, iso(period.start)),
            ).fetchone()
            if row is None:
                version = 1 if messages else 0  # a period built empty has sent nothing yet
                db.execute(
                    "INSERT INTO periods (interval, start, end_at, built_at, records, messages, version)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        period.interval,
                        iso(period.start),
                        iso(period.end),
                        iso(now),
                        records,
                        len(messages),
                        version,
                    ),
                )
            else:
                version = row[0] + (1 if messages else 0)
                db.execute(
                    "UPDATE periods SET version = ?, rebuilt_at = ?, records = max(records, ?),"
                    " messages = messages + ? WHERE interval = ? AND start = ?",
                    (version, iso(now), records, len(messages), period.interval, iso(period.start)),
                )
            for message_id in supersede:
                db.execute(
                    "UPDATE messages SET state = ? WHERE message_id = ? AND state = ?",
                    (SUPERSEDED, message_id, PENDING),
                )
            for chunk, (message_id, envelope, count, devices) in enumerate(messages, start=1):
                db.execute(
                    "INSERT INTO messages (message_id, interval, period_start, period_end, chunk, envelope, size,"
                    " records, created_at, state, next_attempt_at, version, devices)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        message_id,
                        period.interval,
                        iso(period.start),
                        iso(period.end),
                        chunk,
                        envelope,
                        len(envelope),
                        count,
                        iso(now),
                        PENDING,
                        iso(now),
                        version,
                        json.dumps(list(devices)),
                    ),
                )
            db.executemany(
                "INSERT OR REPLACE INTO period_records (interval, start, device, fingerprint, version)"
                " VALUES (?, ?, ?, ?, ?)",
                [(period.interval, iso(period.start), d, fp, version) for d, fp in fingerprints.items()],
            )
            self.clear_dirty(period, db)
        return version

    # ------------------------------------------------------------ messages

    _COLUMNS = (
        "message_id, interval, period_start, period_end, chunk, envelope, size, records, state,"
        " next_attempt_at, answer_code, version, devices, answer_message, delivered_at"
    )

    def _message(self, row) -> Message:
        return Message(
            message_id=row[0],
            interval=row[1],
            period_start=parse_iso(row[2]),
            period_end=parse_iso(row[3]),
            chunk=row[4],
            envelope=bytes(row[5]),
            size=row[6],
            records=row[7],
            state=row[8],
            next_attempt_at=parse_iso(row[9]),
            answer_code=row[10],
            version=row[11],
            devices=tuple(json.loads(row[12])),
            answer_message=row[13],
            delivered_at=parse_iso(row[14]) if row[14] else None,
        )

    _ORDER = "ORDER BY period_end, interval DESC, version, chunk"

    def pending(self) -> list[Message]:
        """Undelivered messages, oldest period first (INT-15), daily after the two hours closing with
        it, and a period's versions in order."""
        rows = self.db.execute(
            # SQL built from our own table and column names; values travel as parameters
            f"SELECT {self._COLUMNS} FROM messages WHERE state = ? {self._ORDER}",  # nosec B608
            (PENDING,),
        )
        return [self._message(row) for row in rows]

    def messages_for(self, interval: str, start: datetime) -> list[Message]:
        rows = self.db.execute(
            # SQL built from our own table and column names; values travel as parameters
            f"SELECT {self._COLUMNS} FROM messages WHERE interval = ? AND period_start = ? ORDER BY version, chunk",  # nosec B608
            (interval, iso(start)),
        )
        return [self._message(row) for row in rows]

    def all_messages(self) -> list[Message]:
        # SQL built from our own table and column names; values travel as parameters
        rows = self.db.execute(f"SELECT {self._COLUMNS} FROM messages {self._ORDER}")  # nosec B608
        return [self._message(row) for row in rows]

    def reschedule(self, message_id: str, when: datetime) -> None:
        self.db.execute(
            "UPDATE messages SET next_attempt_at = ? WHERE message_id = ?", (iso(when), message_id)
        )

    # ------------------------------------------------------------ attempts

    def start_attempt(self, message_id: str, now: datetime) -> int:
        """Journal the attempt durably before the request leaves (INT-39)."""
        cursor = self.db.execute(
            "INSERT INTO attempts (message_id, at, outcome) VALUES (?, ?, 'started')", (message_id, iso(now))
        )
        return cursor.lastrowid

    def finish_attempt(
        self,
        attempt_id: int,
        message_id: str,
        *,
        outcome: str,
        code: str | None,
        detail: str | None,
        now: datetime,
        state: str,
        next_attempt_at: datetime,
        rejections: Iterable[tuple[int, str | None, str | None, str, str]] = (),
    ) -> None:
        """The attempt's outcome and the message's new state, together (INT-44)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE attempts SET outcome = ?, code = ?, detail = ?, finished_at = ? WHERE id = ?",
                (outcome, code, (detail or "")[:2000], iso(now), attempt_id),
            )
            db.execute(
                "UPDATE messages SET state = ?, next_attempt_at = ?, answer_code = ?, answer_message = ?,"
                " delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END WHERE message_id = ?",
                (state, iso(next_attempt_at), code, (detail or "")[:500], state, iso(now), message_id),
            )
            db.executemany(
                "INSERT OR REPLACE INTO rejections (message_id, position, object_id, device_id, code, reason)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(message_id, *rejection) for rejection in rejections],
            )

    def recover_interrupted(self, now: datetime) -> int:
        """Attempts left ``started`` by a crash: they count, and their messages are due now."""
        with self.transaction() as db:
            rows = db.execute("SELECT id, message_id FROM attempts WHERE outcome = 'started'").fetchall()
            for attempt_id, message_id in rows:
                db.execute(
                    "UPDATE attempts SET outcome = 'interrupted', finished_at = ? WHERE id = ?",
                    (iso(now), attempt_id),
                )
                db.execute(
                    "UPDATE messages SET next_attempt_at = min(next_attempt_at, ?) WHERE message_id = ? AND state = ?",
                    (iso(now), message_id, PENDING),
                )
        return len(rows)

    def attempts_between(self, message_id: str, start: datetime, end: datetime) -> int:
        row = self.db.execute(
            "SELECT count(*) FROM attempts WHERE message_id = ? AND at >= ? AND at < ?",
            (message_id, iso(start), iso(end)),
        ).fetchone()
        return row[0]

    def attempts(self, message_id: str | None = None) -> list[Attempt]:
        query = "SELECT message_id, at, outcome, code, detail FROM attempts"
        args: tuple = ()
        if message_id is not None:
            query += " WHERE message_id = ?"
            args = (message_id,)
        rows = self.db.execute(query + " ORDER BY id", args)
        return [Attempt(r[0], parse_iso(r[1]), r[2], r[3], r[4]) for r in rows]

    def consecutive_failures(self) -> tuple[int, datetime | None]:
        """Failed attempts since the last successful one, and when the first of them happened."""
        last_ok = self.db.execute(
            "SELECT max(id) FROM attempts WHERE outcome = 'delivered' OR outcome = 'rejected'"
        )
        last_id = last_ok.fetchone()[0] or 0
        row = self.db.execute(
            "SELECT count(*), min(at) FROM attempts WHERE id > ? AND outcome IN ('failed', 'interrupted')",
            (last_id,),
        ).fetchone()
        return row[0], parse_iso(row[1]) if row[1] else None

    def rejections(self) -> list[tuple]:
        return self.db.execute(
            "SELECT message_id, position, object_id, device_id, code, reason FROM rejections"
            " ORDER BY message_id, position"
        ).fetchall()

    def last_delivery(self) -> tuple[str, datetime] | None:
        row = self.db.execute(
            "SELECT message_id, delivered_at FROM messages WHERE delivered_at IS NOT NULL"
            " ORDER BY delivered_at DESC LIMIT 1"
        ).fetchone()
        return (row[0], parse_iso(row[1])) if row else None

    # ------------------------------------------------------------ notices

    def open_notice(self, kind: str, key: str) -> int | None:
        row = self.db.execute(
            "SELECT id FROM notices WHERE kind = ? AND key = ? AND closed_at IS NULL", (kind, key)
        ).fetchone()
        return row[0] if row else None

    def add_notice(
        self, kind: str, key: str, subject: str, body: str, now: datetime, fields: dict | None = None
    ) -> int:
        cursor = self.db.execute(
            "INSERT INTO notices (kind, key, opened_at, subject, body, fields) VALUES (?, ?, ?, ?, ?, ?)",
            (kind, key, iso(now), subject, body, json.dumps(fields or {}, default=str)),
        )
        return cursor.lastrowid

    def close_notice(self, notice_id: int, now: datetime) -> None:
        self.db.execute("UPDATE notices SET closed_at = ? WHERE id = ?", (iso(now), notice_id))

    def notice(self, notice_id: int) -> StoredNotice:
        return self._notices("WHERE id = ?", (notice_id,))[0]

    def unsent_notices(self) -> list[StoredNotice]:
        return self._notices("WHERE sent_at IS NULL", ())

    def notice_sent_on(self, notice_id: int) -> dict[str, str]:
        """Channel → the acknowledgement it gave, for the channels that took the notice."""
        rows = self.db.execute(
            "SELECT channel, acknowledgement FROM notice_sends WHERE notice_id = ? AND sent_at IS NOT NULL",
            (notice_id,),
        )
        return dict(rows.fetchall())

    def record_notice_send(
        self, notice_id: int, channel: str, *, now: datetime, acknowledgement: str | None, error: str | None
    ) -> None:
        """One channel's try: its acknowledgement when it took the notice, or the error."""
        self.db.execute(
            "INSERT INTO notice_sends (notice_id, channel, sent_at, acknowledgement, last_error, tries)"
            " VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (notice_id, channel) DO UPDATE SET"
            " sent_at = excluded.sent_at, acknowledgement = excluded.acknowledgement,"
            " last_error = excluded.last_error, tries = tries + 1",
            (notice_id, channel, iso(now) if error is None else None, acknowledgement, error),
        )

    def mark_notice(self, notice_id: int, *, sent_at: datetime | None, error: str | None) -> None:
        self.db.execute(
            "UPDATE notices SET sent_at = ?, last_error = ? WHERE id = ?",
            (iso(sent_at) if sent_at else None, error, notice_id),
        )

    def notices(self) -> list[tuple]:
        """(id, kind, key, opened_at, closed_at, subject, sent_at) rows, oldest first."""
        return self.db.execute(
            "SELECT id, kind, key, opened_at, closed_at, subject, sent_at FROM notices ORDER BY id"
        ).fetchall()

    def all_notices(self) -> list[StoredNotice]:
        return self._notices("", ())

    def _notices(self, where: str, args: tuple) -> list[StoredNotice]:
        rows = self.db.execute(
            # SQL built from our own table and column names; values travel as parameters
            "SELECT id, kind, key, opened_at, closed_at, subject, body, sent_at, last_error, fields FROM notices "  # nosec B608
            f"{where} ORDER BY id",
            args,
        )
        return [
            StoredNotice(
                id=r[0],
                kind=r[1],
                key=r[2],
                opened_at=parse_iso(r[3]),
                closed_at=parse_iso(r[4]) if r[4] else None,
                subject=r[5],
                body=r[6],
                sent_at=parse_iso(r[7]) if r[7] else None,
                last_error=r[8],
                fields=json.loads(r[9] or "{}"),
            )
            for r in rows
        ]


def _built(row) -> BuiltPeriod:
    return BuiltPeriod(
        interval=row[0],
        start=parse_iso(row[1]),
        end=parse_iso(row[2]),
        built_at=parse_iso(row[3]),
        records=row[4],
        messages=row[5],
        version=row[6],
        rebuilt_at=parse_iso(row[7]) if row[7] else None,
    )
