"""The System's clock: one for every server (INT-37, INT-51, INT-33/34 timeliness).

A message's receipt time decides what the order makes depend on time: the journal's date and time of
each message (INT-51), whether a slot's data arrived on time (its due time + the grace), the checks
"not in the future" (messageDate, a period that has not begun) and certificate validity (App.1 §16).
Several web servers and consumers take messages; if each used its own clock, one server whose clock
drifted would judge the same message differently from the others (the clock-skew drill,
tests/ops/test_clock_skew.py: three hours behind, it refused every message as "from the future").

So the receipt time is the database server's clock: on PostgreSQL each process measures the offset of
its own clock from the database's (`SELECT clock_timestamp()`, halfway through the round trip) at most
every SKEW_REFRESH_S seconds and applies it; an offset under IGNORED_SKEW is noise and is ignored. A
process whose clock is further off than WARN_SKEW says so in its log (ERROR: operators run NTP, and
this is an alarm). On SQLite every process runs on the database's machine: its own clock is that
clock. When the database cannot be asked, the last offset measured stays (the intake then fails on
the journal anyway and answers "retry later").
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from django.db import DatabaseError, connection

log = logging.getLogger(__name__)

SKEW_REFRESH_S = 30.0
IGNORED_SKEW = timedelta(seconds=1)
WARN_SKEW = timedelta(seconds=5)

_lock = threading.Lock()
_state = {"offset": timedelta(0), "checked": float("-inf")}


def database_offset() -> timedelta:
    """The database server's clock minus this process's (zero on SQLite, or when under IGNORED_SKEW)."""
    if connection.vendor != "postgresql":
        return timedelta(0)
    with _lock:
        if time.monotonic() - _state["checked"] < SKEW_REFRESH_S:
            return _state["offset"]
        _state["checked"] = time.monotonic()
    try:
        before = datetime.now(UTC)
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            database = cursor.fetchone()[0]
        after = datetime.now(UTC)
    except DatabaseError as exc:
        log.warning("could not read the database server's clock (keeping the last offset): %s", exc)
        return _state["offset"]
    offset = database.astimezone(UTC) - (before + (after - before) / 2)
    if abs(offset) < IGNORED_SKEW:
        offset = timedelta(0)
    elif abs(offset) >= WARN_SKEW:
        log.error(
            "ALARM: this server's clock is %s s off the database server's; receipt times follow the "
            "database server (fix this server's NTP)",
            round(-offset.total_seconds(), 1),
        )
    _state["offset"] = offset
    return offset


def system_time(local: datetime) -> datetime:
    """`local` (this process's clock, e.g. `utcnow()`) on the System's clock."""
    return local + database_offset()


def reset() -> None:
    """Forget the measured offset (tests)."""
    with _lock:
        _state.update(offset=timedelta(0), checked=float("-inf"))
