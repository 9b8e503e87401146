"""The read path at national scale: a region's month through /api/v1/ aggregates, and the national totals page.

    CH=$(scripts/ensure-clickhouse)
    .venv/bin/python benchmarks/read.py --clickhouse-url $CH                 # 1.25 million meters
    .venv/bin/python benchmarks/read.py --clickhouse-url $CH --meters 50000 --region-meters 5000   # quick

What it does (issue 11 Done when; ANA-04..07):

1. A fresh PostgreSQL database (its name must contain "bench"; dropped again at the end) and a fresh
   ClickHouse database, migrated. `--meters` electricity meters with one metering point each (17
   regions, one utility per region, 1,000 meters per metering object); the first region holds
   `--region-meters` of them. Registry rows are generated inside PostgreSQL (INSERT … SELECT
   generate_series), values inside ClickHouse (INSERT … SELECT FROM numbers(): columnar, not timed):
   one daily A+ value per meter per day: the region's meters every day of a 30-day month, the others
   the month's last `--national-days` (7) days.
2. Timed, through Django's test client in this process (no HTTP server; the request and the
   whole streamed answer are timed): GET /api/v1/aggregates?region=<first>&bucket=P1D&group=region
   for the month with an operator's personal token (the region's 100,000 points × 30 days = 3 million
   values summed per day), and the same with group=point&bucket=P1M (one row per meter, paged
   through every cursor page). Checked: the counts and sums equal what was generated.
   The same per-meter answer streamed whole (format=csv, format=ndjson; issue 13): seconds to the
   first data row and to the last, and the process's peak RSS while reading it, beside the bare
   engine query of the same rows (GROUP BY per meter straight from the rows table, streamed by the
   driver): the ratio says what the API costs over the engine.
3. Timed: the national totals page /cabinet/totals/ (electricity, the last 7 days, every meter) as the
   operator, warm median of 5.

The last line: `api_region_month_s=N totals_page_ms=N` (the region's daily aggregate, and the page).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import machine  # benchmarks/machine.py (the script's own folder is on sys.path)

ROOT = Path(__file__).resolve().parent.parent
REGIONS = 17
PER_OBJECT = 1000
QUANTITY = "A+"
MONTH_START = date(2026, 10, 1)
DAYS = 30


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=1_250_000, help="meters in the country")
    parser.add_argument("--region-meters", type=int, default=100_000, help="meters of the region asked")
    parser.add_argument("--clickhouse-url", default="", help="default: scripts/ensure-clickhouse")
    parser.add_argument(
        "--national-days", type=int, default=7, help="days of the other meters (the totals page's period)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print where the region's month spends its time"
    )
    parser.add_argument("--database-url", default="postgresql://egsu:egsu@127.0.0.1:5432/egsu_read_bench")
    return parser.parse_args()


def _setup(args) -> str:
    postgres = machine.Postgres(args.database_url)  # its name must contain "bench": it is dropped
    clickhouse = (
        args.clickhouse_url
        or subprocess.run(
            [str(ROOT / "scripts" / "ensure-clickhouse")], check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    database = f"egsu_read_bench_{uuid.uuid4().hex[:8]}"
    postgres.create()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="egsu.settings", EGSU_DATABASE_URL=args.database_url,
        EGSU_READINGS_BACKEND="clickhouse", EGSU_CLICKHOUSE_URL=clickhouse.rsplit("/", 1)[0] + "/" + database,
        EGSU_VAR_DIR=tempfile.mkdtemp(prefix="egsu-read-bench-"),
    )  # fmt: skip
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client then keeps each page's context (the totals it showed)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from egsu.readings.services import get_store

    get_store().create_schema()
    return database


def _registry(args) -> list[str]:
    """Subjects, metering objects, meters and their points, generated inside PostgreSQL."""
    from django.db import connection

    from egsu.ami.models import MeteringObject
    from egsu.registry.bin import make_bin
    from egsu.registry.models import Subject

    regions = [f"Bench region {n:02d}" for n in range(REGIONS)]
    bins = []
    for prefix in range(10_000):  # not every 11-digit prefix has a check digit
        try:
            bins.append(make_bin(f"2605400{prefix:04d}"))
        except ValueError:
            continue
        if len(bins) == REGIONS:
            break
    subjects = [
        Subject.objects.create(bin=bin_, name=f"Utility {n:02d}", region=region)
        for n, (bin_, region) in enumerate(zip(bins, regions, strict=True))
    ]
    # meter m (1-based) is in region 0 when m <= region_meters, else spread over the other regions
    rest = REGIONS - 1
    region_of = f"(CASE WHEN m <= {args.region_meters} THEN 0 ELSE 1 + (m % {rest}) END)"
    objects = args.meters // PER_OBJECT + args.region_meters // PER_OBJECT + 3
    MeteringObject.objects.bulk_create([
        MeteringObject(code=f"OBJ-{o}", kind="transformer_point", name=f"Object {o}", region="", subject=None)
        for o in range(objects)
    ], batch_size=5000)  # fmt: skip
    first_object = MeteringObject.objects.order_by("pk").values_list("pk", flat=True).first()
    subject_ids = "ARRAY[" + ",".join(str(s.pk) for s in subjects) + "]"
    region_names = "ARRAY[" + ",".join(f"'{r}'" for r in regions) + "]"
    # object of meter m: its region's own run of 1,000 (objects do not straddle regions)
    object_of = (f"(CASE WHEN m <= {args.region_meters} THEN (m - 1) / {PER_OBJECT} "
                 f"ELSE {args.region_meters // PER_OBJECT + 1} + (m - 1) / {PER_OBJECT} END)")  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO ami_meter (id, subject_id, metering_object_id, energy, meter_type, model, serial_number,
                state_register_entry, account, address, counterparty, commercial, gas_band, active, created_at)
            SELECT m, ({subject_ids})[{region_of} + 1], {first_object} + {object_of}, 'electricity', '1P', 'Bench',
                'B' || m, '', 'ACC-' || m, '', '', true, '', true, now()
            FROM generate_series(1, {args.meters}) AS m""")  # fmt: skip
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('ami_meter', 'id'), (SELECT max(id) FROM ami_meter))"
        )
        cursor.execute(f"""
            INSERT INTO points_meteringpoint (energy, meter_id, object_code, store_device_id, subject_id,
                supplier_id, region, object_kind, object_name, name, serial_number, model_name, account, address,
                counterparty, product, device_type, commercial, active, owes, owed_intervals, owes_from)
            SELECT 'electricity', m, 'OBJ-' || ({object_of}), m::text, ({subject_ids})[{region_of} + 1],
                ({subject_ids})[{region_of} + 1], ({region_names})[{region_of} + 1], 'transformer_point', '',
                'B' || m, 'B' || m, 'Bench', 'ACC-' || m, '', '', '', '', true, true, false, 'P1D', '2026-01-01'
            FROM generate_series(1, {args.meters}) AS m""")  # fmt: skip
        cursor.execute("ANALYZE")
    return regions


def _values(store, args) -> int:
    """Daily A+ values, value = (meter % 97) + day: the region's meters every day of the month, the
    other meters the month's last `--national-days` days (what the totals page is asked)."""
    from egsu.readings.clickhouse_schema import COLUMN_NAMES
    from egsu_core.clock import astana_midnight

    start = int(astana_midnight(MONTH_START).timestamp())
    began = time.perf_counter()
    region = args.region_meters
    object_of = (f"(if(m <= {region}, intDiv(m - 1, {PER_OBJECT}), "
                 f"{region // PER_OBJECT + 1} + intDiv(m - 1, {PER_OBJECT})))")  # fmt: skip
    total = 0
    # (first meter, meters, first day, days): the region's month, then the rest of the country
    for first, count, first_day, days in ((1, region, 0, DAYS),
                                          (region + 1, args.meters - region, DAYS - args.national_days,
                                           args.national_days)):  # fmt: skip
        if count <= 0:
            continue
        store.connection.command(
            f"INSERT INTO {store.table} ({', '.join(COLUMN_NAMES)}) SELECT"
            f" concat('OBJ-', toString({object_of})), toString(m), '{QUANTITY}', 'P1D',"
            f" toDateTime({start} + d * 86400), 1, toDecimal128((m % 97) + d, 12), 'kWh', 'good', 1, 'bench', now()"
            f" FROM (SELECT {first} + intDiv(number, {days}) AS m, {first_day} + number % {days} AS d"
            f" FROM numbers({count * days}))"
        )
        total += count * days
    print(f"  inserted in {time.perf_counter() - began:.1f} s; waiting for merges")
    while store.connection.query(f"SELECT count() FROM system.merges WHERE database = '{store.database}'")[0][
        0
    ]:
        time.sleep(1)
    return total


def _bare(store, args, national: dict) -> tuple[float, float]:
    """The building block: plain GROUP BY queries over the same rows straight from the rows table
    (no revisions, no registry, no rollups): the region's month per Astana day (sum, min, max, count;
    its objects by name) and the country's week per day (sum, count)."""
    from egsu_core.clock import astana_midnight

    def seconds(day: date) -> int:
        return int(astana_midnight(day).timestamp())

    objects = ", ".join(f"'OBJ-{o}'" for o in range((args.region_meters + PER_OBJECT - 1) // PER_OBJECT))
    month = f"period_start >= toDateTime({seconds(MONTH_START)}) AND period_start < toDateTime({seconds(MONTH_START + timedelta(days=DAYS))})"
    week = (f"period_start >= toDateTime({seconds(date.fromisoformat(national['start']))})"
            f" AND period_start < toDateTime({seconds(MONTH_START + timedelta(days=DAYS))})")  # fmt: skip
    day = "toStartOfDay(period_start, 'Asia/Almaty')"
    queries = (
        f"SELECT {day} AS d, sum(value), min(value), max(value), count() FROM {store.table}"
        f" WHERE object_id IN ({objects}) AND {month} GROUP BY d",
        f"SELECT quantity, {day} AS d, sum(value), count() FROM {store.table} WHERE {week} GROUP BY quantity, d",
    )
    timings = []
    for sql in queries:
        runs = []
        for _ in range(3):
            began = time.perf_counter()
            store.connection.query(sql)
            runs.append(time.perf_counter() - began)
        timings.append(statistics.median(runs))
    return timings[0], timings[1]


def _rss_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _streamed_per_point(api, params: dict, args) -> dict[str, tuple[float, float, int, float, float]]:
    """The region's month per meter as one streamed answer (CSV, NDJSON): format → (seconds to the first
    data row, seconds to the last, rows, peak RSS MiB while reading, its growth over the start); checked."""
    import json

    figures = {}
    for name in ("csv", "ndjson"):
        began_rss = peak = _rss_mib()
        began = time.perf_counter()
        response = api.get(
            "/api/v1/aggregates", {**params, "bucket": "P1M", "group": "point", "format": name}
        )
        assert response.status_code == 200 and response.streaming, response.status_code
        first, rows, counted, text_tail = None, 0, 0, ""
        for piece in response.streaming_content:
            text = text_tail + piece.decode()
            lines = text.split("\n")
            text_tail = lines.pop()
            data = [line for line in lines if line and not line.startswith(("\ufeff", "bucket_start"))]
            if data and first is None:
                first = time.perf_counter() - began
            rows += len(data)
            if name == "ndjson":
                counted += sum(json.loads(line)["count"] for line in data)
            else:
                counted += sum(int(line.split(",")[10]) for line in data)
            peak = max(peak, _rss_mib())
        total = time.perf_counter() - began
        assert rows == args.region_meters and counted == args.region_meters * DAYS, (rows, counted)
        figures[name] = (first, total, rows, peak, peak - began_rss)
    return figures


def _store_per_point(region: str) -> tuple[float, float]:
    """What the engine takes for the store's own question of the streamed answer, asked as one query
    (`aggregate_iter`; the streamed answer asks it a slice of meters at a time): seconds to the first
    row and to the last."""
    from egsu.points.models import MeteringPoint
    from egsu.readings.query_series import QuerySeries
    from egsu.readings.services import get_store
    from egsu.readings.store import ReadingQuery
    from egsu_core.clock import astana_midnight

    query = ReadingQuery(
        quantities=[QUANTITY], interval="P1D", start=astana_midnight(MONTH_START),
        end=astana_midnight(MONTH_START + timedelta(days=DAYS)),
        series=QuerySeries(MeteringPoint.objects.filter(region=region)),
    )  # fmt: skip
    began, first = time.perf_counter(), None
    for _row in get_store().aggregate_iter(query, bucket="P1M", group="series"):
        if first is None:
            first = time.perf_counter() - began
    return first, time.perf_counter() - began


def _bare_per_point(store, args) -> tuple[float, int, float]:
    """The building block of the streamed answer: the region's month per meter (sum, min, max, count,
    first, last) straight from the rows table, streamed by the driver (execute_iter): seconds to the
    first row, rows, seconds to the last."""
    from egsu_core.clock import astana_midnight

    objects = ", ".join(f"'OBJ-{o}'" for o in range((args.region_meters + PER_OBJECT - 1) // PER_OBJECT))
    start, end = (
        int(astana_midnight(day).timestamp()) for day in (MONTH_START, MONTH_START + timedelta(days=DAYS))
    )
    sql = (f"SELECT object_id, device_id, quantity, sum(value), min(value), max(value), count(),"
           f" argMin(value, period_start), argMax(value, period_start) FROM {store.table}"
           f" WHERE object_id IN ({objects}) AND period_start >= toDateTime({start})"
           f" AND period_start < toDateTime({end}) GROUP BY object_id, device_id, quantity"
           " ORDER BY object_id, device_id, quantity")  # fmt: skip
    began, first, rows = time.perf_counter(), None, 0
    for _row in store.connection.stream(sql):
        if first is None:
            first = time.perf_counter() - began
        rows += 1
    return first, rows, time.perf_counter() - began


def _expected_region_sum(args) -> Decimal:
    return Decimal(sum((m % 97) * DAYS + sum(range(DAYS)) for m in range(1, args.region_meters + 1)))


def _drain(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def main() -> None:
    import json

    args = _arguments()
    if not 0 < args.region_meters <= args.meters:
        sys.exit("--region-meters must be between 1 and --meters")
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    database = _setup(args)
    try:
        from django.contrib.auth.models import User
        from django.test import Client

        from egsu.access.models import Profile
        from egsu.access.roles import Role
        from egsu.api.tokens import create_token
        from egsu.readings.services import get_store

        began = time.perf_counter()
        regions = _registry(args)
        print(f"registry: {args.meters:,} meters and points in {time.perf_counter() - began:.1f} s")
        began = time.perf_counter()
        written = _values(get_store(), args)
        print(f"values: {written:,} daily values in {time.perf_counter() - began:.1f} s")
        operator = User.objects.create_user("bench-operator", "b@example.kz", "bench-Password-1")
        Profile.objects.create(user=operator, role=Role.OPERATOR)
        token = create_token(operator, "bench")[1]
        api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        month = {"start": MONTH_START.isoformat(), "end": (MONTH_START + timedelta(days=DAYS - 1)).isoformat(),
                 "energy": "electricity", "interval": "P1D"}  # fmt: skip

        # the region's month per day, summed over its 100,000 meters
        timings, answer = [], None
        for _ in range(3):
            began = time.perf_counter()
            response = api.get("/api/v1/aggregates", {**month, "region": regions[0], "bucket": "P1D",
                                                      "group": "region", "limit": 10_000})  # fmt: skip
            answer = json.loads(_drain(response))
            timings.append(time.perf_counter() - began)
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            _drain(
                api.get(
                    "/api/v1/aggregates", {**month, "region": regions[0], "bucket": "P1D", "group": "region"}
                )
            )
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        rows = answer["data"]
        assert response.status_code == 200 and len(rows) == DAYS, (response.status_code, rows[:2])
        assert sum(r["count"] for r in rows) == args.region_meters * DAYS
        assert sum(Decimal(r["sum"]) for r in rows) == _expected_region_sum(args)
        region_s = statistics.median(timings)
        print(f"api region month per day (group=region, P1D): {', '.join(f'{t:.2f}' for t in timings)} s")

        # the region's month per meter, through every cursor page
        began, pages, count, cursor = time.perf_counter(), 0, 0, None
        while True:
            response = api.get("/api/v1/aggregates", {**month, "region": regions[0], "bucket": "P1M",
                                                      "group": "point", "limit": 10_000,
                                                      **({"cursor": cursor} if cursor else {})})  # fmt: skip
            page = json.loads(_drain(response))
            pages, count, cursor = pages + 1, count + len(page["data"]), page["next"]
            if cursor is None:
                break
        per_point_s = time.perf_counter() - began
        assert count == args.region_meters, count
        print(
            f"api region month per meter (group=point, P1M): {count:,} rows in {pages} pages, {per_point_s:.2f} s"
        )

        streamed = _streamed_per_point(api, {**month, "region": regions[0]}, args)
        bare_stream = _bare_per_point(get_store(), args)
        print(f"bare ClickHouse, the same per-meter rows streamed (execute_iter): first row {bare_stream[0]:.2f} s,"
              f" all {bare_stream[1]:,} rows {bare_stream[2]:.2f} s")  # fmt: skip
        store_first, store_all = _store_per_point(regions[0])
        print(f"the store's own per-meter query (aggregate_iter: one query, the same SQL): first row"
              f" {store_first:.2f} s, all {store_all:.2f} s (÷ bare stream {store_all / bare_stream[2]:.1f})")  # fmt: skip
        for name, (first_s, total_s, rows, megabytes, grown) in streamed.items():
            print(f"api region month per meter streamed whole (group=point, P1M, format={name}): {rows:,} rows,"
                  f" first row {first_s:.2f} s, all {total_s:.2f} s (÷ bare stream {total_s / bare_stream[2]:.1f});"
                  f" peak RSS {megabytes:.0f} MiB (+{grown:.0f} MiB while streaming)")  # fmt: skip

        # the national totals page
        national = {"start": (MONTH_START + timedelta(days=DAYS - args.national_days)).isoformat(),
                    "end": month["end"], "energy": "electricity"}  # fmt: skip
        page_client = Client()
        page_client.force_login(operator)
        timings = []
        for _ in range(6):
            began = time.perf_counter()
            response = page_client.get("/cabinet/totals/", national)
            timings.append(time.perf_counter() - began)
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            page_client.get("/cabinet/totals/", national)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        assert response.status_code == 200
        counted = sum(r.values for r in response.context["rows"])
        assert counted == args.meters * args.national_days, counted
        totals_ms = statistics.median(timings[1:]) * 1000
        print(f"national totals page ({args.meters:,} meters, {args.national_days} days): "
              f"{', '.join(f'{t * 1000:.0f}' for t in timings)} ms (first is cold)")  # fmt: skip
        bare_region, bare_totals = _bare(get_store(), args, national)
        print(f"bare ClickHouse, the same rows (median of 3): region month per day {bare_region:.2f} s"
              f" (API ÷ bare {region_s / bare_region:.1f}); national week per day {bare_totals * 1000:.0f} ms"
              f" (page ÷ bare {totals_ms / (bare_totals * 1000):.2f})")  # fmt: skip
        print(f"api_region_month_s={region_s:.2f} totals_page_ms={totals_ms:.0f}")
    finally:
        from django.db import connections

        from egsu.readings.services import get_store

        try:
            get_store().connection.command(f"DROP DATABASE IF EXISTS {database}")
        except Exception as exc:  # noqa: BLE001 - cleanup must not hide the result
            print(f"could not drop ClickHouse database {database}: {exc}")
        connections.close_all()
        machine.Postgres(args.database_url).drop()


if __name__ == "__main__":
    main()
