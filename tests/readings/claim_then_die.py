"""A writer that claims a batch and then stops, to be killed (tests/readings/test_claims_upkeep.py).

Run as `python -m tests.readings.claim_then_die SPEC.json`. The spec names the ClickHouse store, its
claims, the rows, a marker file and where to stop: "before_insert" (claimed and committed, nothing in
ClickHouse) or "after_insert" (the rows in ClickHouse, the intent not yet dropped); with deferred
inserts, "flush_before_insert" and "flush_after_insert" (the writer queues its batch, then, as the
host's flusher, takes it and stops before its block's insert, or after it before dropping the
intents). At that point the writer touches the marker and sleeps until the test SIGKILLs it: a real
crash, nothing cleans up.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path


def main(path: str) -> None:
    spec = json.loads(Path(path).read_text())
    from egsu.readings.backends.clickhouse import ClickHouseReadingsStore
    from egsu.readings.store import ReadingRow, SeriesKey

    flushing = spec["stop"].startswith("flush_")
    store = ClickHouseReadingsStore.from_url(
        spec["url"], claims_url=spec["claims_url"], create_schema=False,
        **({"flush_interval_s": 3600.0, "flush_lock_dir": str(Path(path).parent)} if flushing else {}),
    )  # fmt: skip
    marker = Path(spec["marker"])

    def stop() -> None:
        marker.touch()
        while True:  # the test kills this process here
            time.sleep(1)

    if spec["stop"] == "before_insert":
        store._insert = lambda rows: stop()
    elif spec["stop"] == "flush_before_insert":
        store._insert_columns = lambda data: stop()
    else:  # after the insert (a writer's or a flusher's), before its intents are dropped
        store.claims.done_all = lambda intent_ids: stop()
    rows = [
        ReadingRow(
            SeriesKey(o, d, q),
            interval,
            datetime.fromisoformat(start),
            Decimal(value),
            "kWh",
            "good",
            "crash",
        )
        for o, d, q, interval, start, value in spec["rows"]
    ]
    store.write(rows)
    if flushing:
        store.flush()
    raise SystemExit("unreachable: the writer was to stop before its write returned")


if __name__ == "__main__":
    main(sys.argv[1])
