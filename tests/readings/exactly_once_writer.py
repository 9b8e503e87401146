"""One writer process of tests/readings/test_exactly_once.py: writes its phases, each after a barrier.

Run as `python -m tests.readings.exactly_once_writer SPEC.json`; the spec names the store (SQL
through Django with EGSU_DATABASE_URL, or a ClickHouse server with its claims), the barrier
folder, this writer's index and its batches. Outcomes go to SPEC.json.out, one list per phase.
Writers with an odd index write through `write_columns` (the bulk form the AMI intake uses), the
others through `write`: both forms race for the same claims. With "flush_s" in the spec the writes
are deferred (ADR 0013): each process runs a flusher thread, one of them holds the lock and inserts,
every writer stays until no intent is open, then writes how many rows its flusher inserted to
SPEC.json.flushed. (Flushers killed mid-flush: tests/readings/test_deferred_inserts.py.)
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path


def _store(spec: dict):
    if spec["backend"] == "sql":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egsu.settings")
        import django

        django.setup()
        from egsu.readings.backends.sql import SqlReadingsStore

        return SqlReadingsStore()
    from egsu.readings.backends.clickhouse import ClickHouseReadingsStore
    from egsu.readings.clickhouse_schema import ClusterLayout

    layout = ClusterLayout(cluster=spec["cluster"]) if spec.get("cluster") else None
    urls = spec["clickhouse_urls"]  # writers enter a cluster through different nodes
    # with "flush_s", writes queue and the host's flusher (one of these processes) inserts them together
    flushing = (
        {"flush_interval_s": spec["flush_s"], "flush_lock_dir": spec["barrier"]}
        if spec.get("flush_s")
        else {}
    )
    return ClickHouseReadingsStore.from_url(
        urls[spec["index"] % len(urls)],
        layout=layout,
        claims_url=spec["claims_url"],
        create_schema=False,
        **flushing,
    )


def _barrier(folder: Path, phase: int, index: int, writers: int) -> None:
    (folder / f"{phase}-{index}").touch()
    deadline = time.monotonic() + 240  # a loaded CI machine starts four processes slowly
    while sum(1 for _ in folder.glob(f"{phase}-*")) < writers:
        if time.monotonic() > deadline:
            raise TimeoutError(f"phase {phase}: not every writer arrived")
        time.sleep(0.002)


def main(path: str) -> None:
    spec = json.loads(Path(path).read_text())
    from egsu.readings.store import ReadingColumns, ReadingRow, SeriesKey, write_columns

    store = _store(spec)
    flushed = [0]
    if spec.get("flush_s"):  # count what this process's flusher inserted (the test wants some)
        flush = store.flush

        def counted(max_rows=None):
            rows = flush(max_rows)
            flushed[0] += rows
            return rows

        store.flush = counted
    results = []
    for phase, batch in enumerate(spec["phases"]):
        rows = [
            ReadingRow(
                SeriesKey(o, d, q),
                interval,
                datetime.fromisoformat(start),
                Decimal(value),
                "kWh",
                "good",
                source,
            )
            for o, d, q, interval, start, value, source in batch
        ]
        _barrier(Path(spec["barrier"]), phase, spec["index"], spec["writers"])
        if spec["index"] % 2:
            outcomes = write_columns(store, ReadingColumns.of_rows(rows))
        else:
            outcomes = store.write(rows)
        results.append([outcome.value for outcome in outcomes])
    if spec.get("flush_s"):
        # stay until every writer's queued values are in (one of us flushes them), then stop the flusher
        deadline = time.monotonic() + 60
        while store.claims.pending():
            if time.monotonic() > deadline:
                raise TimeoutError("queued writes were never flushed")
            time.sleep(0.02)
        store.flusher.stop()
        Path(path + ".flushed").write_text(str(flushed[0]))
    Path(path + ".out").write_text(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1])
