"""AMI intake throughput: REST and MQTT into a readings backend, next to a bare insert.

    .venv/bin/python benchmarks/ami.py --backend clickhouse   # ClickHouse via scripts/ensure-clickhouse, ~20 min
    .venv/bin/python benchmarks/ami.py                  # SQLite in a temporary var dir; region on chDB
    .venv/bin/python benchmarks/ami.py --store-region-meters 2000   # a quick run (~2 min)
    .venv/bin/python benchmarks/ami.py --meters 5000 --quarters 4 --store-backends chdb

--backend sql stores values in the Django database (SQLite unless EGSU_DATABASE_URL is set);
--backend clickhouse stores them in a fresh database on the server scripts/ensure-clickhouse gives
(the registry, batch records and events stay in the Django database), dropped at the end.

In one run, on a fresh temporary database (SQLite unless EGSU_DATABASE_URL is set):

1. registers --meters electricity meters × 4 channels (A+, A-, R+, R-) in bulk (not timed);
2. REST: a gunicorn server (2 sync workers) serves the AMI API on a free port; --quarters quarter
   hours of values go as batches of --batch-size values from 2 client threads; every answer must
   be 200 with every value NEW. values/s = values ÷ wall time;
3. MQTT: a Mosquitto of our own (free port, temporary config) and the consumer (egsu.ami.mqtt, in
   this process) take the next quarter hours as the same batches; values/s from the first publish
   until the last batch is committed;
4. bare insert: the same number of rows as plain tuples through the same database client into a
   table with the readings table's columns and key (executemany; COPY on PostgreSQL; on ClickHouse
   one native insert through the store's own connection into a copy of its table);
5. region month: benchmarks/ami_store.measure_store (the store engineer's helper) on --store-backends
   when present, else a month of daily totals of one region (--region-meters meters, 15-minute
   values written straight into the readings table) aggregated by the configured store.

The last line is `rest_values_per_s=N mqtt_values_per_s=N bare_insert_values_per_s=N region_month_query_s=N`.
Durability: SQLite runs WAL + synchronous=FULL as the project configures it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHANNELS = ("A+", "A-", "R+", "R-")
DAY = datetime(2025, 6, 2, 19, 0, tzinfo=UTC)  # 2025-06-03 00:00 Astana


def without_arrivals_ledger() -> None:
    """Diagnostic (--no-arrivals-ledger): what the intake costs without the arrivals ledger's update."""
    if os.environ.get("EGSU_BENCH_NO_LEDGER") == "1":
        from egsu.ami import intake

        intake.record_meter_values = lambda *args, **kwargs: None


def wsgi():
    """The gunicorn application: the project, with the AMI API mounted if the URL map lacks it."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egsu.settings")
    import django

    django.setup()
    without_arrivals_ledger()
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    import egsu.urls

    if not any(str(p.pattern).startswith("api/ami/") for p in egsu.urls.urlpatterns):
        settings.ROOT_URLCONF = "tests.ami.urls"
    return get_wsgi_application()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def documents(meters, quarters: range, batch_size: int, prefix: str) -> list[dict]:
    items = []
    for q in quarters:
        start = (DAY + timedelta(minutes=15 * q)).isoformat()
        for meter in meters:
            for c, channel in enumerate(CHANNELS):
                items.append(
                    {
                        "meter": meter.serial_number,
                        "channel": channel,
                        "start": start,
                        "value": str(Decimal(meter.pk % 89 + c) / 4),
                    }
                )
    return [
        {"format": "ami/1", "batchId": f"{prefix}-{n}", "intervals": items[i : i + batch_size]}
        for n, i in enumerate(range(0, len(items), batch_size))
    ]


def run_rest(token: str, docs: list[dict], threads: int = 2) -> float:
    import httpx

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "benchmarks.ami:wsgi()", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--timeout", "120", "--log-level", "warning", "--chdir", str(ROOT)],
        env=os.environ.copy(),
    )  # fmt: skip
    try:
        wait_port(port)
        bodies = [json.dumps(doc).encode() for doc in docs]
        failures: list[str] = []
        lock = threading.Lock()
        queue = list(reversed(bodies))

        def worker():
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
                while True:
                    with lock:
                        if not queue:
                            return
                        body = queue.pop()
                    response = client.post(
                        "/api/ami/v1/batches", content=body,
                        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                    )  # fmt: skip
                    answer = response.json() if response.status_code == 200 else {}
                    if response.status_code != 200 or answer["values"]["new"] != answer["received"]:
                        failures.append(f"{response.status_code} {response.text[:200]}")

        started = time.perf_counter()
        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        elapsed = time.perf_counter() - started
        if failures:
            raise SystemExit(f"REST failures: {failures[:3]}")
        return elapsed
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def run_mqtt(docs: list[dict], workdir: Path) -> float:
    import paho.mqtt.client as mqtt

    from egsu.ami.models import AmiBatch
    from egsu.ami.mqtt import AmiConsumer, BrokerSettings, batches_topic, wait_until

    port = free_port()
    config = workdir / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nuser root\n"
        "max_queued_messages 1000000\nmax_inflight_messages 100\n"
    )
    broker = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(config)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    consumer = AmiConsumer(BrokerSettings(port=port, client_id="egsu-ami-bench"))
    try:
        wait_port(port)
        consumer.start()
        consumer.wait_connected(10)
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-head-end")
        publisher.max_inflight_messages_set(20)
        publisher.connect("127.0.0.1", port)
        publisher.loop_start()
        bodies = [json.dumps(doc) for doc in docs]
        before = AmiBatch.objects.count()
        started = time.perf_counter()
        for body in bodies:
            publisher.publish(batches_topic("bench"), body, qos=1)
        if not wait_until(lambda: consumer.handled == len(bodies), 600, step=0.02):
            raise SystemExit(f"MQTT: {consumer.handled} of {len(bodies)} handled")
        elapsed = time.perf_counter() - started
        publisher.loop_stop()
        publisher.disconnect()
        if AmiBatch.objects.count() - before != len(bodies):
            raise SystemExit("MQTT: not every batch was stored")
        return elapsed
    finally:
        consumer.stop()
        broker.send_signal(signal.SIGTERM)
        broker.wait(timeout=10)


def bare_insert_clickhouse(count: int) -> float:
    """The same number of rows, built as columns, in one columnar insert into a copy of the store's
    table (clickhouse-driver `columnar=True`; on chDB, its TabSeparated insert)."""
    from egsu.readings.clickhouse_schema import COLUMN_NAMES
    from egsu.readings.services import get_store

    store = get_store()
    bare = f"{store.database}.ami_bare"
    day, now = int(DAY.timestamp()), int(time.time())
    quarters = [Decimal(n) / 4 for n in range(89)]
    columns = [
        ["TP-1"] * count,
        [str(n // 4) for n in range(count)],
        [CHANNELS[n % 4] for n in range(count)],
        ["PT15M"] * count,
        [day + 900 * (n // 100_000) for n in range(count)],
        [1] * count,
        [quarters[n % 89] for n in range(count)],
        ["kWh"] * count,
        ["good"] * count,
        [1] * count,
        ["bare"] * count,
        [now] * count,
    ]
    store.connection.command(f"DROP TABLE IF EXISTS {bare}")
    store.connection.command(f"CREATE TABLE {bare} AS {store.table}")
    started = time.perf_counter()
    if hasattr(store.connection, "insert_columns"):
        store.connection.insert_columns(bare, COLUMN_NAMES, columns)
    else:
        store.connection.insert(bare, COLUMN_NAMES, list(zip(*columns, strict=True)))
    return time.perf_counter() - started


def clickhouse_url() -> str:
    """A fresh database on the server scripts/ensure-clickhouse starts (or finds)."""
    done = subprocess.run(
        [str(ROOT / "scripts" / "ensure-clickhouse")], capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise SystemExit(f"scripts/ensure-clickhouse failed: {done.stderr.strip()}")
    server = done.stdout.strip().splitlines()[-1]
    return f"{server.rsplit('/', 1)[0]}/egsu_ami_bench_{os.getpid()}"


def bare_insert(count: int) -> float:
    """The same number of rows as plain tuples into a table with the readings columns and key."""
    from django.db import connection, transaction

    from egsu.readings.services import get_store

    if not hasattr(get_store(), "using"):
        return bare_insert_clickhouse(count)

    rows = [
        ("TP-1", str(n // 4), CHANNELS[n % 4], "PT15M", DAY + timedelta(minutes=15 * (n // 100_000)), 1,
         Decimal(n % 89) / 4, "kWh", "good", True, "bare", DAY)
        for n in range(count)
    ]  # fmt: skip
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS ami_bare")
        cursor.execute(
            "CREATE TABLE ami_bare (object_id varchar(64), device_id varchar(64), quantity varchar(32), "
            "interval varchar(8), period_start timestamp, revision integer, value numeric(27,12), unit varchar(16), "
            "quality varchar(32), commercial boolean, source varchar(100), recorded_at timestamp, "
            "PRIMARY KEY (object_id, device_id, quantity, interval, period_start, revision))"
        )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy("COPY ami_bare FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            adapted = [
                (*r[:4], ops.adapt_datetimefield_value(r[4]), r[5], ops.adapt_decimalfield_value(r[6], 27, 12), *r[7:11],
                 ops.adapt_datetimefield_value(r[11]))
                for r in rows
            ]  # fmt: skip
            cursor.executemany(f"INSERT INTO ami_bare VALUES ({', '.join(['%s'] * 12)})", adapted)
    return time.perf_counter() - started


def region_month_own(region_meters: int) -> float:
    """A month of daily totals of one region's meters, by the configured store (values written directly)."""
    from django.db import connection, transaction

    from egsu.readings.models import Reading
    from egsu.readings.services import get_store
    from egsu.readings.store import ReadingQuery

    store = get_store()
    if not hasattr(store, "using"):  # ClickHouse: the same values straight into the store's table
        from egsu.readings.clickhouse_schema import COLUMN_NAMES

        first = int((DAY - timedelta(days=30)).timestamp())
        store.connection.insert(
            store.table,
            COLUMN_NAMES,
            [
                ("REGION-1", str(m), "A+", "PT15M", first + 900 * q, 1, Decimal("0.25"), "kWh", "good", 1, "bench",
                 int(DAY.timestamp()))
                for m in range(region_meters) for q in range(96 * 30)
            ],
        )  # fmt: skip
    table = connection.ops.quote_name(Reading._meta.db_table)
    ops = connection.ops
    now = ops.adapt_datetimefield_value(DAY)
    with transaction.atomic(), connection.cursor() as cursor:
        for day in range(30 if hasattr(store, "using") else 0):
            rows = [
                ("REGION-1", str(m), "A+", "PT15M", ops.adapt_datetimefield_value(DAY - timedelta(days=30 - day, minutes=-15 * q)),
                 1, "0.25", "kWh", "good", True, "bench", now)
                for m in range(region_meters) for q in range(96)
            ]  # fmt: skip
            cursor.executemany(
                f"INSERT INTO {table} (object_id, device_id, quantity, interval, period_start, revision, value, unit, "
                f"quality, commercial, source, recorded_at) VALUES ({', '.join(['%s'] * 12)})",
                rows,
            )
    query = ReadingQuery(object_ids=["REGION-1"], quantities=["A+"], start=DAY - timedelta(days=30), end=DAY)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        result = store.aggregate(query, bucket="P1D", group="object")
        timings.append(time.perf_counter() - started)
    assert len(result) in (30, 31), len(result)
    return sorted(timings)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sql", "clickhouse"), default="sql", help="Readings backend.")
    parser.add_argument(
        "--no-arrivals-ledger",
        action="store_true",
        help="Diagnostic: skip egsu.monitoring's arrivals ledger update per batch (not the real intake).",
    )
    parser.add_argument("--meters", type=int, default=5000)
    parser.add_argument("--quarters", type=int, default=4, help="Quarter hours per path.")
    parser.add_argument("--batch-size", type=int, default=4000)
    parser.add_argument("--region-meters", type=int, default=300, help="Own region query (no ami_store).")
    parser.add_argument(
        "--store-backends",
        default=None,
        help="For ami_store.measure_store (default: chdb, or clickhouse with --backend clickhouse); empty: skip it.",
    )
    parser.add_argument(
        "--store-region-meters",
        type=int,
        default=100_000,
        help="Meters of the region whose month is queried (the issue's 100,000 take ~15 min to generate; 2000 for a quick run).",
    )
    args = parser.parse_args()
    if args.store_backends is None:
        args.store_backends = "clickhouse" if args.backend == "clickhouse" else "chdb"

    workdir = Path(tempfile.mkdtemp(prefix="egsu-ami-bench-"))
    os.environ.setdefault("EGSU_VAR_DIR", str(workdir))
    os.environ["DJANGO_SETTINGS_MODULE"] = "egsu.settings"
    if args.backend == "clickhouse":
        os.environ["EGSU_READINGS_BACKEND"] = "clickhouse"
        os.environ["EGSU_CLICKHOUSE_URL"] = clickhouse_url()  # the gunicorn workers inherit both
    if args.no_arrivals_ledger:
        os.environ["EGSU_BENCH_NO_LEDGER"] = "1"  # the gunicorn workers inherit it
    import django

    django.setup()
    without_arrivals_ledger()
    from django.conf import settings
    from django.core.management import call_command

    from egsu.ami import services
    from egsu.ami.models import Meter, MeteringObject
    from egsu.registry.bin import make_bin
    from egsu.registry.models import Subject

    print("$", " ".join(sys.argv))
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, database {settings.DATABASES['default']['ENGINE']}"
    )
    call_command("migrate", verbosity=0)
    from egsu.readings.services import get_store

    store = get_store()  # on ClickHouse this creates the schema before the workers start
    if args.no_arrivals_ledger:
        print("DIAGNOSTIC RUN: the arrivals ledger update is switched off")
    print(
        f"readings backend: {args.backend}"
        + (f" ({settings.CLICKHOUSE_URL})" if args.backend == "clickhouse" else "")
    )
    subject = Subject.objects.create(bin=make_bin("24054000001"), name="Bench utility")
    _head_end, token = services.create_head_end("bench", subject)
    obj = MeteringObject.objects.create(code="TP-1", kind="transformer_point", name="TP 1", region="Bench")
    meters = services.register_meters(
        [
            Meter(
                subject=subject,
                metering_object=obj,
                energy="electricity",
                meter_type="1P",
                model="B",
                serial_number=f"B{n:07d}",
            )
            for n in range(args.meters)
        ],
        CHANNELS,
        validate=False,
    )
    values = args.meters * len(CHANNELS) * args.quarters
    rest_docs = documents(meters, range(args.quarters), args.batch_size, "rest")
    mqtt_docs = documents(meters, range(args.quarters, 2 * args.quarters), args.batch_size, "mqtt")
    print(f"{args.meters:,} meters × {len(CHANNELS)} channels × {args.quarters} quarter hours = {values:,} values per path, "
          f"batches of {args.batch_size:,}")  # fmt: skip

    from django.db import connections

    connections.close_all()
    rest_s = run_rest(token, rest_docs)
    rest_rate = values / rest_s
    print(f"REST  {values:,} values in {rest_s:.2f} s: {rest_rate:,.0f} values/s")
    mqtt_s = run_mqtt(mqtt_docs, workdir)
    mqtt_rate = values / mqtt_s
    print(f"MQTT  {values:,} values in {mqtt_s:.2f} s: {mqtt_rate:,.0f} values/s")
    bare_s = bare_insert(values)
    bare_rate = values / bare_s
    print(f"bare  {values:,} rows executemany/COPY, one commit, in {bare_s:.2f} s: {bare_rate:,.0f} rows/s")
    print(f"ratios: REST {rest_rate / bare_rate:.1%} of bare, MQTT {mqtt_rate / bare_rate:.1%} of bare")
    for label, country in (
        ("5 M values (1.25 M meters × 4 channels)", 5_000_000),
        ("20 M values (5 M meters × 4 channels)", 20_000_000),
    ):
        print(f"a quarter hour of {label}: REST {country / rest_rate / 60:.1f} min, "
              f"MQTT {country / mqtt_rate / 60:.1f} min of the 15 on this one server")  # fmt: skip

    region_s = None
    if args.store_backends:
        try:
            sys.path.insert(0, str(ROOT / "benchmarks"))
            from ami_store import measure_store

            figures = measure_store(
                backends=tuple(b for b in args.store_backends.split(",") if b),
                clickhouse_url=settings.CLICKHOUSE_URL or None,
                ingest_meters=20_000,
                ingest_quarters=1,
                region_meters=args.store_region_meters,
                region_days=30,
            )
            for backend, numbers in figures.items():
                print(f"store {backend}: " + ", ".join(f"{k}={v:,.3f}" for k, v in numbers.items()))
                if region_s is None and "region_month_all_s" in numbers:
                    region_s = numbers["region_month_all_s"]
                    print(
                        f"region month: {args.store_region_meters:,} meters, 30 days, {backend} (ami_store)"
                    )
        except ImportError:
            print("benchmarks/ami_store.py is absent: measuring the region month here")
    if region_s is None:
        region_s = region_month_own(args.region_meters)
        print(f"region month: {args.region_meters:,} meters × 30 days of 15-minute values, daily totals by the "
              f"configured store: {region_s:.2f} s")  # fmt: skip
    if args.backend == "clickhouse":
        store.connection.command(f"DROP DATABASE IF EXISTS {store.database}")
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"per backend: {args.backend} REST {rest_rate:,.0f} values/s, MQTT {mqtt_rate:,.0f} values/s, "
          f"bare insert {bare_rate:,.0f} rows/s")  # fmt: skip
    print(
        f"rest_values_per_s={rest_rate:.0f} mqtt_values_per_s={mqtt_rate:.0f} "
        f"bare_insert_values_per_s={bare_rate:.0f} region_month_query_s={region_s:.3f}"
    )


if __name__ == "__main__":
    main()
