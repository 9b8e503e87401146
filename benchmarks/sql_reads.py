"""The SQL readings store's streamed reads on PostgreSQL over a freshly loaded table, cursors planned
whole (the System's setting, egsu/conf.py `_planned_whole`) against PostgreSQL's default.

    .venv/bin/python benchmarks/sql_reads.py                      # 2,000 meters × 4 channels × 4 quarter hours
    .venv/bin/python benchmarks/sql_reads.py --meters 500 --database-url postgresql://…/egsu_sql_reads_bench

A fresh database (dropped at the end) is migrated and `--meters` meters × 4 channels × `--quarters`
quarter hours are written through the store (not timed). The table is not analysed, as after a day's
first batches before autovacuum comes. Then each read is timed to its last row (median of `--runs`):
the values streamed in series order (`rows`), the streamed aggregates by day grouped by series, object,
quantity and all (`aggregate_iter`), `totals` and `count`. Once with the System's setting
(`cursor_tuple_fraction=1`: a cursor planned for all its rows), once with PostgreSQL's default (0.1:
planned for its first tenth; one run, it may take minutes), and once more with the default after
`ANALYZE`. The building block, in the same run: one plain `GROUP BY quantity` over the table.
The last line: each read's seconds under the three plans.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import machine  # benchmarks/machine.py

START = datetime(2026, 10, 1, 19, 0, tzinfo=UTC)  # 2 October 2026 00:00 in Astana
CHANNELS = ("A+", "A-", "R+", "R-")


def _load(store, meters: int, quarters: int) -> int:
    from egsu.readings.store import ReadingRow, SeriesKey

    written = 0
    for first in range(0, meters, 250):
        rows = [
            ReadingRow(SeriesKey(f"{meter % 50:06d}", f"M{meter}", channel), "PT15M",
                       START + timedelta(minutes=15 * quarter), Decimal(f"{meter % 97}.{quarter}"), "kWh",
                       "good", "bench", False)
            for meter in range(first, min(first + 250, meters)) for channel in CHANNELS
            for quarter in range(quarters)
        ]  # fmt: skip
        written += len(store.write(rows))
    return written


def _reads(store) -> dict:
    from egsu.readings.store import ReadingQuery

    everything = ReadingQuery()

    def streamed(group: str):
        return lambda: [
            (row.object_id, row.device_id, row.quantity, row.bucket_start, row.count, row.sum)
            for row in store.aggregate_iter(everything, bucket="P1D", group=group)
        ]

    return {
        "rows": lambda: sum(1 for _ in store.rows(everything)),
        **{f"by_{group}": streamed(group) for group in ("series", "object", "quantity", "all")},
        "totals": lambda: store.totals(everything),
        "count": lambda: store.count(everything),
    }


def _timed(call, runs: int) -> tuple[float, object]:
    """The median seconds of `runs` calls, and what the last one answered."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--meters", type=int, default=2000)
    parser.add_argument("--quarters", type=int, default=4, help="quarter hours per channel")
    parser.add_argument("--runs", type=int, default=3, help="runs per read when planned whole")
    parser.add_argument(
        "--database-url", default="postgresql://egsu:egsu@127.0.0.1:5432/egsu_sql_reads_bench"
    )
    args = parser.parse_args()
    postgres = machine.Postgres(args.database_url)  # its name must contain "bench": it is dropped
    print(f"$ .venv/bin/python benchmarks/sql_reads.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"{machine.machine_line()}; commit {machine.commit()}")
    postgres.create()
    os.environ.update(
        EGSU_DATABASE_URL=args.database_url, EGSU_READINGS_BACKEND="sql",
        EGSU_VAR_DIR=tempfile.mkdtemp(prefix="egsu-sql-reads-bench-"),
    )  # fmt: skip
    try:
        machine.setup_django()
        from django.core.management import call_command
        from django.db import connection

        from egsu.readings.backends.sql import SqlReadingsStore

        call_command("migrate", verbosity=0)
        store = SqlReadingsStore()
        started = time.perf_counter()
        values = _load(store, args.meters, args.quarters)
        print(f"{values:,} values written in {time.perf_counter() - started:.1f} s (not analysed)")
        with connection.cursor() as cursor:
            cursor.execute("SHOW cursor_tuple_fraction")
            print(f"the System's connection: cursor_tuple_fraction = {cursor.fetchone()[0]}")

        def bare() -> None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT quantity, SUM(value) FROM readings_reading GROUP BY quantity")
                cursor.fetchall()

        plans = (
            ("whole", "1", args.runs, False),
            ("first_tenth", "0.1", 1, False),
            ("analysed", "0.1", 1, True),
        )
        figures: dict[str, dict[str, float]] = {}
        answers: dict[str, object] = {}
        for plan, fraction, runs, analyse in plans:
            with connection.cursor() as cursor:
                if analyse:
                    cursor.execute("ANALYZE readings_reading")
                cursor.execute(f"SET cursor_tuple_fraction = {fraction}")
            bare_s, _ = _timed(bare, args.runs)
            figures[plan] = {"bare": bare_s}
            for name, call in _reads(store).items():
                seconds, answer = _timed(call, runs)
                figures[plan][name] = seconds
                # every plan gives the same answer, and every value is read
                if answers.setdefault(name, answer) != answer or (
                    name in ("rows", "count") and answer != values
                ):
                    sys.exit(f"{plan}: {name} answered {answer!r}, not {answers[name]!r} ({values:,} values)")
                print(
                    f"{plan:>11} (fraction {fraction}): {name:<11} {seconds:8.3f} s  ({seconds / bare_s:,.0f}× the bare GROUP BY)",
                    flush=True,
                )
        print(" ".join(f"{plan}_{name}_s={seconds:.3f}" for plan, reads in figures.items()
                       for name, seconds in reads.items()))  # fmt: skip
    finally:
        from django.db import connections

        connections.close_all()
        postgres.drop()


if __name__ == "__main__":
    main()
