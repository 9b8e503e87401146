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
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from egsu_agent.samples import Sample
from egsu_agent.schedule import Period

PENDING = "pending"
DELIVERED = "delivered"
REJECTED = "rejected"

SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    tag TEXT NOT NULL, at TEXT NOT NULL, value TEXT NOT NULL, fault INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL, PRIMARY KEY (tag, at)
);
CREATE TABLE IF NOT EXISTS periods (
    interval TEXT NOT NULL, start TEXT NOT NULL, end_at TEXT NOT NULL, built_at TEXT NOT NULL,
    records INTEGER NOT NULL, messages INTEGER NOT NULL, PRIMARY KEY (interval, start)
);
CREATE TABLE IF NOT EXISTS messages (
    message_id TEXT PRIMARY KEY, interval TEXT NOT NULL, period_start TEXT NOT NULL, period_end TEXT NOT NULL,
    chunk INTEGER NOT NULL, envelope BLOB NOT NULL, size INTEGER NOT NULL, records INTEGER NOT NULL,
    created_at TEXT NOT NULL, state TEXT NOT NULL, next_attempt_at TEXT NOT NULL,
    delivered_at TEXT, answer_code TEXT, answer_message TEXT,
    UNIQUE (interval, period_start, chunk)
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
    closed_at TEXT, subject TEXT NOT NULL, body TEXT NOT NULL, sent_at TEXT, last_error TEXT
);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (path TEXT NOT NULL, sha256 TEXT NOT NULL, ingested_at TEXT NOT NULL,
    PRIMARY KEY (path, sha256));
"""


def iso(moment: datetime) -> str:
    """UTC instants as fixed-width text, so they sort and compare as strings."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


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


@dataclass(frozen=True)
class Attempt:
    message_id: str
    at: datetime
    outcome: str
    code: str | None
    detail: str | None


class Outbox:
    """The SQLite store; one connection, used from one thread at a time."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)

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
    ) -> int:
        """Keep samples; a (tag, instant) already kept is not overwritten (re-read exports are harmless)."""
        db = db or self.db
        before = db.total_changes
        db.executemany(
            "INSERT OR IGNORE INTO samples (tag, at, value, fault, source) VALUES (?, ?, ?, ?, ?)",
            [(s.tag, iso(s.at), str(s.value), int(s.fault), source) for s in samples],
        )
        return db.total_changes - before

    def samples(self, tags: Iterable[str], start: datetime, end: datetime) -> dict[str, list[Sample]]:
        """Samples of these tags in [start, end] (inclusive end: a totaliser's closing reading)."""
        out: dict[str, list[Sample]] = {}
        tags = list(dict.fromkeys(tags))
        if not tags:
            return out
        marks = ",".join("?" * len(tags))
        rows = self.db.execute(
            f"SELECT tag, at, value, fault FROM samples WHERE tag IN ({marks}) AND at >= ? AND at <= ? ORDER BY at",
            (*tags, iso(start), iso(end)),
        )
        for tag, at, value, fault in rows:
            out.setdefault(tag, []).append(Sample(parse_iso(at), tag, Decimal(value), bool(fault)))
        return out

    def last_sample_at(self, tags: Iterable[str]) -> datetime | None:
        tags = list(tags)
        if not tags:
            return None
        marks = ",".join("?" * len(tags))
        row = self.db.execute(f"SELECT max(at) FROM samples WHERE tag IN ({marks})", tags).fetchone()
        return parse_iso(row[0]) if row and row[0] else None

    def file_seen(self, path: str, sha256: str) -> bool:
        row = self.db.execute("SELECT 1 FROM files WHERE path = ? AND sha256 = ?", (path, sha256)).fetchone()
        return row is not None

    def mark_file(self, db: sqlite3.Connection, path: str, sha256: str, now: datetime) -> None:
        db.execute(
            "INSERT OR IGNORE INTO files (path, sha256, ingested_at) VALUES (?, ?, ?)",
            (path, sha256, iso(now)),
        )

    # ------------------------------------------------------------ periods and messages

    def last_built_end(self) -> datetime | None:
        row = self.db.execute("SELECT max(end_at) FROM periods").fetchone()
        return parse_iso(row[0]) if row and row[0] else None

    def is_built(self, period: Period) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM periods WHERE interval = ? AND start = ?", (period.interval, iso(period.start))
        ).fetchone()
        return row is not None

    def add_period(
        self, period: Period, messages: list[tuple[str, bytes, int]], *, now: datetime, records: int
    ) -> None:
        """A built period and its signed messages (id, envelope, record count), in one transaction."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO periods (interval, start, end_at, built_at, records, messages) VALUES (?, ?, ?, ?, ?, ?)",
                (period.interval, iso(period.start), iso(period.end), iso(now), records, len(messages)),
            )
            for chunk, (message_id, envelope, count) in enumerate(messages, start=1):
                db.execute(
                    "INSERT INTO messages (message_id, interval, period_start, period_end, chunk, envelope, size,"
                    " records, created_at, state, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    ),
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
        )

    _COLUMNS = (
        "message_id, interval, period_start, period_end, chunk, envelope, size, records, state,"
        " next_attempt_at, answer_code"
    )

    def pending(self) -> list[Message]:
        """Undelivered messages, oldest period first (INT-15), daily after the two hours closing with it."""
        rows = self.db.execute(
            f"SELECT {self._COLUMNS} FROM messages WHERE state = ? ORDER BY period_end, interval DESC, chunk",
            (PENDING,),
        )
        return [self._message(row) for row in rows]

    def messages_for(self, interval: str, start: datetime) -> list[Message]:
        rows = self.db.execute(
            f"SELECT {self._COLUMNS} FROM messages WHERE interval = ? AND period_start = ? ORDER BY chunk",
            (interval, iso(start)),
        )
        return [self._message(row) for row in rows]

    def all_messages(self) -> list[Message]:
        rows = self.db.execute(
            f"SELECT {self._COLUMNS} FROM messages ORDER BY period_end, interval DESC, chunk"
        )
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
            "SELECT message_id, position, object_id, device_id, code, reason FROM rejections ORDER BY message_id, position"
        ).fetchall()

    def last_delivery(self) -> tuple[str, datetime] | None:
        row = self.db.execute(
            "SELECT message_id, delivered_at FROM messages WHERE delivered_at IS NOT NULL ORDER BY delivered_at DESC LIMIT 1"
        ).fetchone()
        return (row[0], parse_iso(row[1])) if row else None

    # ------------------------------------------------------------ notices

    def open_notice(self, kind: str, key: str) -> int | None:
        row = self.db.execute(
            "SELECT id FROM notices WHERE kind = ? AND key = ? AND closed_at IS NULL", (kind, key)
        ).fetchone()
        return row[0] if row else None

    def add_notice(self, kind: str, key: str, subject: str, body: str, now: datetime) -> int:
        cursor = self.db.execute(
            "INSERT INTO notices (kind, key, opened_at, subject, body) VALUES (?, ?, ?, ?, ?)",
            (kind, key, iso(now), subject, body),
        )
        return cursor.lastrowid

    def close_notice(self, notice_id: int, now: datetime) -> None:
        self.db.execute("UPDATE notices SET closed_at = ? WHERE id = ?", (iso(now), notice_id))

    def unsent_notices(self) -> list[tuple[int, str, str]]:
        return self.db.execute(
            "SELECT id, subject, body FROM notices WHERE sent_at IS NULL ORDER BY id"
        ).fetchall()

    def mark_notice(self, notice_id: int, *, sent_at: datetime | None, error: str | None) -> None:
        self.db.execute(
            "UPDATE notices SET sent_at = ?, last_error = ? WHERE id = ?",
            (iso(sent_at) if sent_at else None, error, notice_id),
        )

    def notices(self) -> list[tuple]:
        return self.db.execute(
            "SELECT id, kind, key, opened_at, closed_at, subject, sent_at FROM notices ORDER BY id"
        ).fetchall()
