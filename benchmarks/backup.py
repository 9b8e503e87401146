"""Backup and restore of the ClickHouse readings at scale (issue 17, DIG-13/DIG-27): rows per second
out of the store into the archive's files, and back into a fresh database (its daily rollup rebuilt
by the view), through `egsu.ops.backup`'s own functions.

    .venv/bin/python benchmarks/backup.py                  # 2,000,000 rows (scripts/ensure-clickhouse)
    .venv/bin/python benchmarks/backup.py --rows 10000000 --clickhouse-url clickhouse://127.0.0.1:19000/x

The rows are generated inside the engine (not timed): --meters meters × 15-minute values over
whole months. Last line: `dump_rows_per_s=N load_rows_per_s=N archive_bytes_per_row=N`.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import machine  # benchmarks/machine.py (the script's own folder is on sys.path)

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--meters", type=int, default=1_000)
    parser.add_argument("--clickhouse-url", default=None)
    args = parser.parse_args()
    machine.setup_django()
    from egsu.ops import backup as backups
    from egsu.readings.backends.clickhouse import ClickHouseReadingsStore
    from egsu.readings.clickhouse_schema import COLUMN_NAMES

    url = (
        args.clickhouse_url
        or subprocess.run(
            [str(ROOT / "scripts" / "ensure-clickhouse")], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    server = url.rsplit("/", 1)[0]
    source = ClickHouseReadingsStore.from_url(f"{server}/egsu_bench_{uuid.uuid4().hex[:8]}")
    target = ClickHouseReadingsStore.from_url(f"{server}/egsu_bench_{uuid.uuid4().hex[:8]}")
    start = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
    per_meter = args.rows // args.meters
    try:
        source.connection.command(
            f"INSERT INTO {source.table} ({', '.join(COLUMN_NAMES)}) SELECT concat('R', toString(intDiv(number, "
            f"{per_meter}))), '1', 'energyActiveImport', 'PT15M', toDateTime({start} + (number % {per_meter}) * 900),"
            f" 1, toDecimal128(number % 997, 12), 'kWh', 'good', 1, 'bench', now() FROM numbers({args.rows})"
        )
        with tempfile.TemporaryDirectory() as folder:
            began = time.monotonic()
            manifest = backups._clickhouse_dump(source, Path(folder), backups._noop)
            dump_s = time.monotonic() - began
            size = sum(p.stat().st_size for p in Path(folder).iterdir())
            began = time.monotonic()
            backups._clickhouse_load(target, sorted(Path(folder).glob("readings-*.jsonl.gz")), backups._noop)
            load_s = time.monotonic() - began
        assert backups.clickhouse_partitions(target) == manifest["partitions"]
        rows = sum(p["rows"] for p in manifest["partitions"].values())
        print(
            f"{rows:,} rows in {len(manifest['partitions'])} partitions: dump {dump_s:.1f} s, "
            f"load {load_s:.1f} s, {size:,} bytes gzip'd JSON lines"
        )  # noqa: T201
        print(
            f"dump_rows_per_s={rows / dump_s:.0f} load_rows_per_s={rows / load_s:.0f} "
            f"archive_bytes_per_row={size / rows:.1f}"
        )  # noqa: T201
    finally:
        for store in (source, target):
            store.connection.command(f"DROP DATABASE IF EXISTS {store.database}")


if __name__ == "__main__":
    main()
