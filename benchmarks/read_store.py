"""The readings store's read paths at region scale: streams stay within a bounded memory.

    .venv/bin/python benchmarks/read_store.py                    # ClickHouse server (scripts/ensure-clickhouse)
    .venv/bin/python benchmarks/read_store.py --backend chdb --objects 1042 --meters-per-object 1

What it does, on one backend:

1. load: ``--objects`` × ``--meters-per-object`` meters × ``--days`` days of 15-minute values
   (one quantity, commercial) are generated inside the engine (INSERT … SELECT FROM numbers(), not
   timed; the daily rollup's view fills as at any insert), 1 % of them revised through
   ``store.write()`` so that reads exclude superseded revisions, and merges awaited.
2. ``rows()``: the newest revisions of one meter per object (``series`` = those pairs, by
   default 3 million values) streamed in series order and in time order; rows/s, and the resident
   memory (VmRSS) sampled every 50,000 rows: its peak during the stream, and that peak minus the
   process's size before it.
3. ``aggregate_iter()``: the whole region per object per quarter hour (bucket PT15M, by default
   3 million rows) streamed; then per object per day (P1D, from the rollup); same figures.
4. ``newest()``: the last value of 50 meters (a list page), warm median of 7 runs.
5. ``rows(limit=50)``: one page of one meter's history deep in the month (keyset ``after``).

The last line holds the figures: rows_per_s, rows_peak_rss_mb, aggregate_iter_per_s,
aggregate_iter_peak_rss_mb, newest_50_ms, page_50_ms. chDB runs the engine inside this process,
so its figures include the engine's own memory.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import machine  # benchmarks/machine.py (the script's own folder is on sys.path)

from egsu.readings.store import ReadingQuery, ReadingRow, SeriesKey, row_order_key, series_of
from egsu_core.clock import ASTANA

ROOT = Path(__file__).resolve().parent.parent

QUANTITY = "energyActiveImport"


def rss_mb() -> float:
    """This process's resident memory now (VmRSS), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def drain(stream: Iterable, every: int = 50_000) -> tuple[int, float, float]:
    """Read a stream to its end, keeping nothing: (rows, seconds, peak VmRSS in MiB)."""
    count, peak = 0, rss_mb()
    started = time.perf_counter()
    for _row in stream:
        count += 1
        if count % every == 0:
            peak = max(peak, rss_mb())
    seconds = time.perf_counter() - started
    return count, seconds, max(peak, rss_mb())


def open_store(args):
    from egsu.readings.backends.clickhouse import ChdbConnection, ClickHouseReadingsStore, connect

    database = f"egsu_bench_{uuid.uuid4().hex[:8]}"
    if args.backend == "chdb":
        connection = ChdbConnection(tempfile.mkdtemp(prefix="egsu-chdb-"))
    else:
        url = (
            args.clickhouse_url
            or subprocess.run(
                [str(ROOT / "scripts" / "ensure-clickhouse")], check=True, capture_output=True, text=True
            ).stdout.strip()
        )
        connection, _database = connect(url)
    return ClickHouseReadingsStore(connection, database=database)


def load(store, args, start: datetime) -> int:
    from egsu.readings.clickhouse_schema import COLUMN_NAMES

    per_meter = args.days * 96
    meters = args.objects * args.meters_per_object
    total = meters * per_meter
    # meter m of object o: number = (o * k + m) * per_meter + quarter
    store.connection.command(
        f"INSERT INTO {store.table} ({', '.join(COLUMN_NAMES)}) SELECT"
        f" concat('R', toString(intDiv(number, {per_meter * args.meters_per_object}))),"
        f" concat('M', toString(intDiv(number, {per_meter}))), '{QUANTITY}', 'PT15M',"
        f" toDateTime({int(start.timestamp())} + (number % {per_meter}) * 900), 1,"
        " toDecimal128(number % 997, 12), 'kWh', 'good', 1, 'bench', now()"
        f" FROM numbers({total})"
    )
    generator = random.Random(11)
    revised = [
        ReadingRow(
            key=SeriesKey(f"R{meter // args.meters_per_object}", f"M{meter}", QUANTITY),
            interval="PT15M",
            period_start=start + timedelta(minutes=15 * quarter),
            value=Decimal(1000 + quarter),
            unit="kWh",
            quality="good",
            source="bench-revision",
            commercial=True,
        )
        for meter, quarter in {
            (generator.randrange(meters), generator.randrange(per_meter)) for _ in range(total // 100)
        }
    ]
    # in object order and small batches: write()'s lookup reads every value of a batch's objects
    # over its time range, which for a batch spread over a whole region's month exceeds 18.16's memory limit
    revised.sort(key=lambda row: (row.key.object_id, row.key.device_id, row.period_start))
    store.write_many(revised, batch_size=2_000)
    while store.connection.query(f"SELECT count() FROM system.merges WHERE database = '{store.database}'")[0][
        0
    ]:
        time.sleep(1)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("clickhouse", "chdb"), default="clickhouse")
    parser.add_argument("--clickhouse-url", default=None, help="default: scripts/ensure-clickhouse")
    parser.add_argument("--objects", type=int, default=1042)
    parser.add_argument("--meters-per-object", type=int, default=4)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    print(f"$ .venv/bin/python benchmarks/read_store.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"{machine.machine_line()}; commit {machine.commit()}")

    store = open_store(args)
    start = datetime(2024, 6, 1, tzinfo=ASTANA).astimezone(UTC)
    end = start + timedelta(days=args.days)
    figures: dict[str, float] = {}
    try:
        started = time.perf_counter()
        total = load(store, args, start)
        print(
            f"{args.backend}: {args.objects:,} objects × {args.meters_per_object} meters × {args.days} days ="
            f" {total:,} values, 1 % revised (load {time.perf_counter() - started:.0f} s, not counted)"
        )
        region = ReadingQuery(object_ids=[f"R{o}" for o in range(args.objects)], start=start, end=end)
        first_meters = series_of(
            (f"R{o}", f"M{o * args.meters_per_object}") for o in range(args.objects)
        )  # one meter per object
        before = rss_mb()
        print(f"process size before the streams: {before:.0f} MiB")
        for order in ("series", "time"):
            rows, seconds, peak = drain(store.rows(ReadingQuery(series=first_meters), order=order))
            assert rows == args.objects * args.days * 96, rows
            figures.setdefault("rows_per_s", rows / seconds)
            figures["rows_peak_rss_mb"] = max(figures.get("rows_peak_rss_mb", 0), peak)
            print(
                f"rows(order={order!r}): {rows:,} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s;"
                f" peak VmRSS {peak:.0f} MiB (+{peak - before:.0f} MiB)"
            )
        for bucket in ("PT15M", "P1D"):
            rows, seconds, peak = drain(store.aggregate_iter(region, bucket=bucket, group="object"))
            assert rows == args.objects * args.days * (96 if bucket == "PT15M" else 1), rows
            if bucket == "PT15M":
                figures["aggregate_iter_per_s"] = rows / seconds
                figures["aggregate_iter_peak_rss_mb"] = peak
            print(
                f"aggregate_iter(region, bucket={bucket!r}, group='object'): {rows:,} rows in {seconds:.1f} s ="
                f" {rows / seconds:,.0f} rows/s; peak VmRSS {peak:.0f} MiB (+{peak - before:.0f} MiB)"
            )
        generator = random.Random(5)
        meters = args.objects * args.meters_per_object
        timings = []
        for _ in range(8):
            chosen = generator.sample(range(meters), 50)
            page = series_of((f"R{m // args.meters_per_object}", f"M{m}") for m in chosen)
            started = time.perf_counter()
            newest = store.newest(ReadingQuery(series=page))
            timings.append(time.perf_counter() - started)
            assert len(newest) == 50 and all(
                row.period_start == end - timedelta(minutes=15) for row in newest
            )
        figures["newest_50_ms"] = statistics.median(timings[1:]) * 1000
        print(
            f"newest() of 50 meters: {figures['newest_50_ms']:.0f} ms warm median (cold {timings[0] * 1000:.0f} ms)"
        )
        one = ReadingQuery(series=series_of([("R7", f"M{7 * args.meters_per_object}")]))
        middle = list(store.rows(one, order="time", offset=args.days * 48, limit=1))[0]
        after = row_order_key(middle, "time")
        timings = []
        for _ in range(8):
            started = time.perf_counter()
            page = list(store.rows(one, order="time", after=after, limit=50))
            timings.append(time.perf_counter() - started)
            assert len(page) == 50 and page[0].period_start > middle.period_start
        figures["page_50_ms"] = statistics.median(timings[1:]) * 1000
        print(
            f"rows(one meter, order='time', after=<mid-month>, limit=50): {figures['page_50_ms']:.0f} ms warm median"
        )
    finally:
        store.connection.command(f"DROP DATABASE IF EXISTS {store.database}")
    print(" ".join(f"{name}={value:.0f}" for name, value in figures.items()))


if __name__ == "__main__":
    main()
