"""What the ClickHouse server spends per stored value, by the number of rows an insert carries.

    .venv/bin/python benchmarks/clickhouse_blocks.py                        # the server scripts/ensure-clickhouse gives
    .venv/bin/python benchmarks/clickhouse_blocks.py --server clickhouse://127.0.0.1:19000 --seconds 25

Into a fresh database with the readings store's own schema (the readings table and its two rollup views),
one client inserts blocks of --sizes rows (15-minute values of 1,000 meters × 4 channels, each block new
quarter hours, as columns through the store's connection) for --seconds per size, then waits --settle
seconds for the merges those inserts started. For each size it prints the rows/s the inserts were
acknowledged at and the server process's CPU seconds per row (user + system, read from /proc, so the
server must run on this machine), merges included. The AMI intake inserts one block per batch (4,000
values in benchmarks/ami.py), so this is the server's share of a value's cost at that batch size.

Last line: `server_us_per_row_<size>=N …` for each size.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from machine import process_cpu_seconds  # noqa: E402 - benchmarks/ is on the path from here on


def server_pid() -> str:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if "clickhouse-server" in Path(f"/proc/{pid}/cmdline").read_text():
                return pid
        except OSError:
            continue
    raise SystemExit("no clickhouse-server process on this machine: its CPU cannot be read")


def _add_slot_view(store) -> None:
    """The least an arrivals ledger of AMI slots kept in ClickHouse needs (benchmarks/README.md): per
    slot (meter, interval, period start) its first and last arrival and its highest revision, merged
    by the engine from every inserted block. Measured here for its cost to the server only; the
    System does not create it."""
    database = store.database
    store.connection.command(
        f"CREATE TABLE {database}.ami_slots (object_id String, device_id String, duration String,"
        " period_start DateTime('UTC'), first_at AggregateFunction(min, DateTime('UTC')),"
        " last_at AggregateFunction(max, DateTime('UTC')), top_revision AggregateFunction(max, UInt32))"
        " ENGINE = AggregatingMergeTree() ORDER BY (object_id, device_id, duration, period_start)"
    )
    store.connection.command(
        f"CREATE MATERIALIZED VIEW {database}.ami_slots_view TO {database}.ami_slots AS SELECT object_id,"
        " device_id, duration, period_start, minState(recorded_at) AS first_at, maxState(recorded_at) AS last_at,"
        f" maxState(revision) AS top_revision FROM {store.table}"
        " GROUP BY object_id, device_id, duration, period_start"
    )
    print("with the AMI slot view (ami_slots_view): a design under study, not part of the System")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--server", help="clickhouse://host:port (default: scripts/ensure-clickhouse's server)"
    )
    parser.add_argument("--sizes", default="4000,20000,100000", help="Rows per insert, comma-separated.")
    parser.add_argument("--seconds", type=float, default=25.0, help="Inserting time per size.")
    parser.add_argument("--settle", type=float, default=5.0, help="Seconds for merges after each size.")
    parser.add_argument(
        "--slot-view",
        action="store_true",
        help="Add the view an AMI slot ledger kept in ClickHouse would need (a design under study, not built).",
    )
    args = parser.parse_args()

    import ami as bench  # the AMI benchmark's day, channels and server lookup

    os.environ["EGSU_VAR_DIR"] = tempfile.mkdtemp(prefix="egsu-ch-blocks-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "egsu.settings"
    os.environ["EGSU_READINGS_BACKEND"] = "clickhouse"
    os.environ["EGSU_CLICKHOUSE_URL"] = bench.clickhouse_url(args.server).replace("ami_bench", "ch_blocks")
    import django

    django.setup()
    from egsu.readings.clickhouse_schema import COLUMN_NAMES
    from egsu.readings.services import get_store

    print("$", " ".join(sys.argv))
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    store = get_store()  # creates the database, the table and its rollup views
    if args.slot_view:
        _add_slot_view(store)
    pid = server_pid()
    day, now = int(bench.DAY.timestamp()), int(time.time())
    texts = [str(Decimal(n) / 4) for n in range(89)]
    figures = []
    quarter = 0
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            meters = range(size)
            fixed = [
                ["TP-1"] * size, [f"B{n // 4 % 1000:07d}" for n in meters], [bench.CHANNELS[n % 4] for n in meters],
                ["PT15M"] * size,
            ]  # fmt: skip
            rest = [[1] * size, [texts[n % 89] for n in meters], ["kWh"] * size, ["good"] * size, [1] * size,
                    ["bench"] * size, [now] * size]  # fmt: skip
            cpu, started, rows = process_cpu_seconds(pid), time.perf_counter(), 0
            while time.perf_counter() - started < args.seconds:
                # 1,000 meters × 4 channels a quarter hour, every block new quarters
                starts = [day + 900 * (quarter + n // 4000) for n in meters]
                quarter += -(-size // 4000)
                store.connection.insert_columns(store.table, COLUMN_NAMES, [*fixed, starts, *rest])
                rows += size
            wall = time.perf_counter() - started
            time.sleep(args.settle)
            spent = process_cpu_seconds(pid) - cpu
            figures.append((size, spent / rows * 1e6))
            print(f"blocks of {size:,} rows: {rows:,} rows acknowledged at {rows / wall:,.0f} rows/s; server CPU "
                  f"{spent:.1f} s = {spent / rows * 1e6:.1f} µs per row (merges of the next {args.settle:.0f} s "
                  f"included)", flush=True)  # fmt: skip
    finally:
        store.connection.command(f"DROP DATABASE IF EXISTS {store.database}")
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")
    print(" ".join(f"server_us_per_row_{size}={us:.1f}" for size, us in figures))


if __name__ == "__main__":
    main()
