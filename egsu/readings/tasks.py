"""Readings jobs: finishing ClickHouse writes that were claimed but not inserted (ADR 0013)."""

from __future__ import annotations

from egsu.jobs.registry import job
from egsu.readings.services import get_store


@job(max_attempts=1)  # periodic: the next minute's run is the retry
def recover_writes() -> int:
    """Insert the rows of claimed writes whose insert failed or whose writer died; how many rows.

    Every writer also recovers now and then, but only when it writes: after a ClickHouse outage
    with no more values arriving, the values claimed while it was down would wait for the next
    write. This job (every minute) finishes them without an operator. No-op on the SQL backend.
    """
    recover = getattr(get_store(), "recover", None)
    return recover() if recover is not None else 0
