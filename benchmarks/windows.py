"""What service windows (ReadingQuery.windows, DIG-45: replaced devices) cost a region's reads.

    .venv/bin/python benchmarks/windows.py                       # ClickHouse server (scripts/ensure-clickhouse)
    .venv/bin/python benchmarks/windows.py --backend chdb --objects 200 --windows 0,100,1000

Loads ``--objects`` × ``--meters-per-object`` meters × ``--days`` days of 15-minute values (as
benchmarks/read_store.py does, not timed), then times three reads of the whole region with 0, 100 and
1000 windowed series (each the first N meters, counted from day 10 on): the per-object daily
aggregate (the daily rollup), the per-object hourly aggregate (the rows) and count(); warm median of
``--runs``. Every read of the store carries one condition per windowed series, so this is the cost of
recorded replacements. The last line: each read's median in ms and its ratio to no windows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import machine  # benchmarks/machine.py
import read_store  # benchmarks/read_store.py: the same store and load

from egsu.readings.store import ReadingQuery
from egsu_core.clock import ASTANA


def timed(call, runs: int) -> float:
    call()  # warm
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("clickhouse", "chdb"), default="clickhouse")
    parser.add_argument("--clickhouse-url", default=None, help="default: scripts/ensure-clickhouse")
    parser.add_argument("--objects", type=int, default=250)
    parser.add_argument("--meters-per-object", type=int, default=4)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--windows", default="0,100,1000", help="numbers of windowed series to compare")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"$ .venv/bin/python benchmarks/windows.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"{machine.machine_line()}; commit {machine.commit()}")
    store = read_store.open_store(args)
    start = datetime(2024, 6, 1, tzinfo=ASTANA).astimezone(UTC)
    end = start + timedelta(days=args.days)
    switch = datetime(2024, 6, 10, tzinfo=ASTANA).astimezone(UTC)
    try:
        total = read_store.load(store, args, start)
        print(f"{args.backend}: {total:,} values of {args.objects * args.meters_per_object:,} meters")
        region = ReadingQuery(object_ids=[f"R{o}" for o in range(args.objects)], start=start, end=end)
        results: dict[int, dict[str, float]] = {}
        for count in (int(n) for n in args.windows.split(",")):
            windows = tuple((f"R{m // args.meters_per_object}", f"M{m}", switch, None) for m in range(count))
            query = replace(region, windows=windows)
            results[count] = {
                "daily_ms": timed(
                    lambda q=query: store.aggregate(q, bucket="P1D", group="object"), args.runs
                ),
                "hourly_ms": timed(
                    lambda q=query: store.aggregate(q, bucket="PT1H", group="object"), args.runs
                ),
                "count_ms": timed(lambda q=query: store.count(q), args.runs),
            }
            print(f"{count:>5} windows: " + ", ".join(f"{k} {v:,.0f}" for k, v in results[count].items()))
        base = results[min(results)]
        print(
            " ".join(
                f"w{n}_{k}={v:.0f} w{n}_{k}_ratio={v / base[k]:.2f}"
                for n, r in results.items()
                for k, v in r.items()
            )
        )
    finally:
        store.connection.command(f"DROP DATABASE IF EXISTS {store.database}")


if __name__ == "__main__":
    main()
