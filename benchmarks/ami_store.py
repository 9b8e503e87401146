"""The readings store at national scale: ingest through write() next to a bare insert, and a region's month.

``measure_store(...)`` is what ``benchmarks/ami.py`` calls; run this file alone for the store figures:

    .venv/bin/python benchmarks/ami_store.py                       # SQLite, chDB, ClickHouse server
    .venv/bin/python benchmarks/ami_store.py --backends clickhouse --region-meters 100000 --region-days 30

For each backend, in the same run and through the same client:

1. ingest: ``--ingest-meters`` × ``--ingest-quarters`` 15-minute values (every one NEW), built before
   timing, go through ``store.write()`` in batches of 100,000; then the same rows, as plain tuples,
   go into a bare table of the same columns without any lookup (clickhouse-driver
   ``execute("INSERT … VALUES", rows)``, chDB ``INSERT … FORMAT TabSeparated``, SQLite
   ``executemany``). The ratio write()/bare is the price of NEW/DUPLICATE/REVISED decisions.
2. region month (ClickHouse flavours): a month of 15-minute values of ``--region-meters`` meters is
   generated inside the engine (INSERT … SELECT FROM numbers(), not timed), its merges awaited, then
   ``store.aggregate(region, bucket="P1D", group="all")`` and ``group="object"`` are timed warm
   (median of 3). The SQL backend aggregates in Python and is not meant for a region: not measured.

Durability: ClickHouse and chDB do not fsync at insert; SQLite runs as the project configures it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from egsu.readings.store import ReadingQuery, ReadingRow, SeriesKey
from egsu_core.clock import ASTANA

ROOT = Path(__file__).resolve().parent.parent
BATCH = 100_000
QUANTITY = "energyActiveImport"


def _ingest_rows(meters: int, quarters: int) -> list[ReadingRow]:
    start = datetime(2024, 5, 31, 19, 0, tzinfo=UTC)  # 1 June 2024 00:00 in Astana
    return [
        ReadingRow(
            key=SeriesKey(f"I{meter // 20:06d}", f"M{meter:07d}", QUANTITY),
            interval="PT15M",
            period_start=start + timedelta(minutes=15 * n),
            value=Decimal((meter * 31 + n) % 100_000) / 1000,
            unit="kWh",
            quality="good",
            source="bench",
            commercial=True,
        )
        for n in range(quarters)
        for meter in range(meters)
    ]


def _tuples(rows: list[ReadingRow]) -> list[tuple]:
    recorded = int(time.time())
    return [
        (r.key.object_id, r.key.device_id, r.key.quantity, r.interval, int(r.period_start.timestamp()), 1,
         r.value, r.unit, r.quality, 1, r.source, recorded)
        for r in rows
    ]  # fmt: skip


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _clickhouse_store(flavour: str, url: str | None):
    from egsu.readings.backends.clickhouse import ChdbConnection, ClickHouseReadingsStore, connect

    database = f"egsu_bench_{uuid.uuid4().hex[:8]}"
    if flavour == "chdb":
        connection = ChdbConnection(tempfile.mkdtemp(prefix="egsu-chdb-"))
    else:
        if url is None:
            import subprocess

            url = subprocess.run(
                [str(ROOT / "scripts" / "ensure-clickhouse")], check=True, capture_output=True, text=True
            ).stdout.strip()
        connection, _database = connect(url)
    return ClickHouseReadingsStore(connection, database=database)


def _measure_clickhouse(flavour: str, args, out: Callable[[str], None]) -> dict[str, float]:
    from egsu.readings.clickhouse_schema import COLUMNS, ClusterLayout

    store = _clickhouse_store(flavour, args.clickhouse_url)
    figures: dict[str, float] = {}
    try:
        rows = _ingest_rows(args.ingest_meters, args.ingest_quarters)
        seconds = _timed(lambda: store.write_many(rows, batch_size=BATCH))
        assert store.count(ReadingQuery()) == len(rows)
        figures["write_rows_per_s"] = len(rows) / seconds
        replay = _timed(lambda: store.write_many(rows, batch_size=BATCH))
        figures["replay_rows_per_s"] = len(rows) / replay
        bare = f"{store.database}.bare"
        columns = ", ".join(f"{name} {type_}" for name, type_ in COLUMNS)
        store.connection.command(f"CREATE TABLE {bare} ({columns}) ENGINE = MergeTree ORDER BY tuple()")
        tuples = _tuples(rows)
        names = [name for name, _type in COLUMNS]
        bare_s = _timed(
            lambda: [
                store.connection.insert(bare, names, tuples[i : i + BATCH])
                for i in range(0, len(tuples), BATCH)
            ]
        )
        figures["bare_insert_rows_per_s"] = len(rows) / bare_s
        # the same rows into tables shaped like the store's own: ordered rows + the daily rollup's view
        shaped = ClusterLayout(table="bare_shaped", daily_table="bare_shaped_daily")
        for statement in shaped.ddl(store.database):
            store.connection.command(statement)
        shaped_s = _timed(
            lambda: [
                store.connection.insert(f"{store.database}.bare_shaped", names, tuples[i : i + BATCH])
                for i in range(0, len(tuples), BATCH)
            ]
        )
        figures["bare_with_rollup_rows_per_s"] = len(rows) / shaped_s
        out(
            f"{flavour:10s} ingest {len(rows):,} values: write() {figures['write_rows_per_s']:,.0f}/s, "
            f"replayed (all DUPLICATE) {figures['replay_rows_per_s']:,.0f}/s, bare insert "
            f"{figures['bare_insert_rows_per_s']:,.0f}/s → write()/bare = "
            f"{figures['write_rows_per_s'] / figures['bare_insert_rows_per_s']:.2f}; bare insert into the store's "
            f"table shape with its daily-rollup view {figures['bare_with_rollup_rows_per_s']:,.0f}/s"
        )
        if args.region_meters:
            figures.update(_region_month(store, flavour, args, out))
    finally:
        store.connection.command(f"DROP DATABASE IF EXISTS {store.database}")
    return figures


def _region_month(store, flavour: str, args, out: Callable[[str], None]) -> dict[str, float]:
    from egsu.readings.clickhouse_schema import COLUMN_NAMES  # the engine fills `series` itself

    meters, days = args.region_meters, args.region_days
    start = datetime(2024, 6, 1, tzinfo=ASTANA).astimezone(UTC)
    per_meter = days * 96
    total = meters * per_meter
    generate = (
        f"INSERT INTO {store.table} ({', '.join(COLUMN_NAMES)}) SELECT concat('R', toString(intDiv(number, {per_meter}))) AS object_id,"
        f" '1', '{QUANTITY}', 'PT15M', toDateTime({int(start.timestamp())} + (number % {per_meter}) * 900), 1,"
        " toDecimal128(number % 997, 12), 'kWh', 'good', 1, 'bench', now()"
        f" FROM numbers({total})"
    )
    load_s = _timed(lambda: store.connection.command(generate))
    # Time the reads on settled parts: merges still running after the load took the CPU from
    # them and made one run's figure swing by 2× (issue 7 series-id measurements).
    while store.connection.query(f"SELECT count() FROM system.merges WHERE database = '{store.database}'")[0][
        0
    ]:
        time.sleep(1)
    region = [f"R{meter}" for meter in range(meters)]
    query = ReadingQuery(object_ids=region, start=start, end=start + timedelta(days=days))
    figures = {"region_load_rows_per_s": total / load_s}
    for group in ("all", "object"):
        timings, kept = [], []
        for _ in range(3 if group == "all" else 2):  # the first run is cold and not counted
            started = time.perf_counter()
            rows = store.aggregate(query, bucket="P1D", group=group)
            timings.append(time.perf_counter() - started)
            kept[:] = [len(rows), sum(r.count for r in rows)]
            del rows  # 3 million rows for group=object: keep one answer at a time
        expected = days if group == "all" else days * meters
        assert kept == [expected, total], (kept, expected, total)
        figures[f"region_month_{group}_s"] = statistics.median(timings[1:])
        out(
            f"{flavour:10s} region month: {meters:,} meters × {days} days = {total:,} values "
            f"(generated at {total / load_s:,.0f}/s); aggregate P1D group={group}: "
            f"{figures[f'region_month_{group}_s']:.2f} s warm (cold {timings[0]:.2f} s, {expected:,} rows)"
        )
    return figures


def _measure_sqlite(args, out: Callable[[str], None]) -> dict[str, float]:
    os.environ.setdefault("EGSU_VAR_DIR", tempfile.mkdtemp(prefix="egsu-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egsu.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from egsu.readings.backends.sql import SqlReadingsStore
    from egsu.readings.models import Reading

    if connection.vendor != "sqlite":
        raise SystemExit("the sqlite figures want the default (SQLite) database; unset EGSU_DATABASE_URL")
    with connection.schema_editor() as editor:
        editor.create_model(Reading)
    store = SqlReadingsStore()
    rows = _ingest_rows(args.ingest_meters, args.ingest_quarters)
    figures = {"write_rows_per_s": len(rows) / _timed(lambda: store.write_many(rows, batch_size=BATCH))}
    figures["replay_rows_per_s"] = len(rows) / _timed(lambda: store.write_many(rows, batch_size=BATCH))
    columns = "object_id, device_id, quantity, interval, period_start, revision, value, unit, quality, commercial, source, recorded_at"
    tuples = [
        (*t[:4], datetime.fromtimestamp(t[4], UTC).isoformat(), t[5], str(t[6]), *t[7:])
        for t in _tuples(rows)
    ]

    def bare() -> None:  # one transaction, as write() uses
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE bare ({columns})")
            for i in range(0, len(tuples), BATCH):
                cursor.executemany(
                    f"INSERT INTO bare VALUES ({', '.join(['%s'] * 12)})", tuples[i : i + BATCH]
                )

    figures["bare_insert_rows_per_s"] = len(rows) / _timed(bare)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        synchronous = cursor.fetchone()[0]
    out(
        f"{'sqlite':10s} ingest {len(rows):,} values: write() {figures['write_rows_per_s']:,.0f}/s, "
        f"replayed {figures['replay_rows_per_s']:,.0f}/s, bare executemany {figures['bare_insert_rows_per_s']:,.0f}/s"
        f" → write()/bare = {figures['write_rows_per_s'] / figures['bare_insert_rows_per_s']:.2f}"
        f" (WAL, synchronous={synchronous}; region month not measured: Python aggregation)"
    )
    return figures


def measure_store(
    *,
    backends: tuple[str, ...] = ("sqlite", "chdb", "clickhouse"),
    ingest_meters: int = 100_000,
    ingest_quarters: int = 2,
    region_meters: int = 100_000,
    region_days: int = 30,
    clickhouse_url: str | None = None,
    out: Callable[[str], None] = print,
) -> dict[str, dict[str, float]]:
    """Figures per backend: write_rows_per_s, replay_rows_per_s, bare_insert_rows_per_s, region_month_*_s."""
    args = argparse.Namespace(
        ingest_meters=ingest_meters,
        ingest_quarters=ingest_quarters,
        region_meters=region_meters,
        region_days=region_days,
        clickhouse_url=clickhouse_url,
    )
    results: dict[str, dict[str, float]] = {}
    for backend in backends:
        if backend == "sqlite":
            results[backend] = _measure_sqlite(args, out)
        elif backend in ("chdb", "clickhouse"):
            results[backend] = _measure_clickhouse(backend, args, out)
        else:
            raise ValueError(f"unknown backend {backend!r}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,chdb,clickhouse")
    parser.add_argument("--ingest-meters", type=int, default=100_000)
    parser.add_argument("--ingest-quarters", type=int, default=2)
    parser.add_argument("--region-meters", type=int, default=100_000)
    parser.add_argument("--region-days", type=int, default=30)
    parser.add_argument("--clickhouse-url", default=None, help="default: scripts/ensure-clickhouse")
    args = parser.parse_args()
    results = measure_store(
        backends=tuple(args.backends.split(",")),
        ingest_meters=args.ingest_meters,
        ingest_quarters=args.ingest_quarters,
        region_meters=args.region_meters,
        region_days=args.region_days,
        clickhouse_url=args.clickhouse_url,
    )
    last = " ".join(
        f"{backend}_write_per_s={figures['write_rows_per_s']:.0f}"
        f" {backend}_bare_per_s={figures['bare_insert_rows_per_s']:.0f}"
        + (
            f" {backend}_region_month_s={figures['region_month_all_s']:.2f}"
            if "region_month_all_s" in figures
            else ""
        )
        for backend, figures in results.items()
    )
    print(last)


if __name__ == "__main__":
    main()
