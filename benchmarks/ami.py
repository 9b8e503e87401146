"""AMI intake throughput: REST and MQTT into a readings backend, next to a bare columnar insert.

    .venv/bin/python benchmarks/ami.py --backend clickhouse                  # the full run: 600 s per path
    .venv/bin/python benchmarks/ami.py --backend clickhouse --seconds 60 --store-backends ""   # a quick run
    .venv/bin/python benchmarks/ami.py                  # SQLite in a temporary var dir; region on chDB

--backend sql stores values in the Django database (SQLite unless EGSU_DATABASE_URL is set);
--backend clickhouse stores them in a fresh database on the server scripts/ensure-clickhouse gives, or
on --clickhouse-server clickhouse://host:port (a machine shared by several people: your own server;
--web-port, --mqtt-port of a running broker and --head-end, which names the MQTT topics and client
ids, keep the rest apart too) (the registry, batch records, events, the arrivals ledger and the claims stay in the Django
database, PostgreSQL when EGSU_DATABASE_URL names one), dropped at the end.

In one run, on a fresh temporary database:

1. registers --meters electricity meters × 4 channels (A+, A-, R+, R-) in bulk (not timed);
2. REST: a gunicorn server (--rest-workers sync workers, default 2; egsu.wsgi's settings) serves the AMI API on a free port.
   First one batch of about 15 MB (the largest the intake takes, INT-07) is sent and the workers'
   peak RSS (VmHWM) is read; then, for --seconds, --rest-clients client threads (default 2) send batches of --batch-size
   values of ever new quarter hours; every answer must be 200 with every value NEW. values/s =
   values acknowledged ÷ wall time until the last of them is in the store (with deferred inserts,
   --flush-s, the flusher's lag counts). The workers' RSS is sampled every 5 s (growth = last − first);
3. MQTT: a Mosquitto of our own (free port, temporary config) and --mqtt-consumers consumer processes
   (`egsu ami mqtt`, default 2 like REST's workers) sharing the batches through one shared subscription,
   fed the same way for --seconds with at most --mqtt-window batches unanswered; values/s from the
   first publish until the last answer on the acks topic; their RSS sampled too;
4. bare insert: rows with the readings table's columns through the same client, in blocks of
   100,000 (at most 2 million rows): SQLite executemany / PostgreSQL COPY into a table with the same
   key; on ClickHouse one columnar native insert per block (clickhouse-driver `columnar=True`) into
   a copy of the store's table without its daily rollup view, and, for reference, into the store's
   own table with it;
5. region month: benchmarks/ami_store.measure_store (the store engineer's helper) on --store-backends
   when present, else a month of daily totals of one region (--region-meters meters, 15-minute
   values written straight into the readings table) aggregated by the configured store.

The last line is `rest_values_per_s=N mqtt_values_per_s=N bare_insert_values_per_s=N region_month_query_s=N`.
Durability: SQLite runs WAL + synchronous=FULL as the project configures it.
"""

from __future__ import annotations

import argparse
import gc
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

        class _Nothing:
            def record(self) -> None:
                pass

        intake.prepare_values = lambda *args, **kwargs: _Nothing()


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
    application = get_wsgi_application()
    gc.freeze()  # as egsu.wsgi does in production
    return application


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


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """A process's resident set (VmRSS) or its peak (VmHWM) in KiB, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Sampler(threading.Thread):
    """RSS of some processes every `step` seconds until stopped: (seconds since start, KiB per process)."""

    def __init__(self, pids, step: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.pids, self.step, self.samples = pids, step, []
        self.done = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        while True:
            self.samples.append((time.monotonic() - started, [rss_kib(pid) for pid in self.pids()]))
            if self.done.wait(self.step):
                self.samples.append((time.monotonic() - started, [rss_kib(pid) for pid in self.pids()]))
                return

    def report(self, label: str) -> str:
        if len(self.samples) < 2:
            return f"{label}: no samples"
        first, last = self.samples[0][1], self.samples[-1][1]
        peak = [max(s[1][n] for s in self.samples if n < len(s[1])) for n in range(len(first))]
        parts = [
            f"{a / 1024:.0f} → {b / 1024:.0f} MiB (max {m / 1024:.0f})"
            for a, b, m in zip(first, last, peak, strict=False)
        ]
        growth = max((b - a) / 1024 for a, b in zip(first, last, strict=False)) if first and last else 0.0
        # A process warms up in its first batches (imports, caches): growth after the first minute is
        # what says whether memory stays flat over a long run (item 4 of issue 13).
        settled = next((values for at, values in self.samples if at >= 60), None)
        later = (
            f", after the first minute {max((b - a) / 1024 for a, b in zip(settled, last, strict=False)):+.0f} MiB"
            if settled is not None and self.samples[-1][0] >= 120
            else ""
        )
        return (
            f"{label} RSS over {self.samples[-1][0]:.0f} s: "
            + "; ".join(parts)
            + f"; growth {growth:+.0f} MiB{later}"
        )


class Feed:
    """Batches of ever new quarter hours, made on demand: one template per batch of a quarter."""

    def __init__(self, meters, batch_size: int, prefix: str, first_quarter: int) -> None:
        items = [
            {"meter": m.serial_number, "channel": channel, "start": "@START@",
             "value": str(Decimal(m.pk % 89 + c) / 4)}
            for m in meters for c, channel in enumerate(CHANNELS)
        ]  # fmt: skip
        self.templates = [
            (json.dumps({"format": "ami/1", "batchId": "@ID@", "intervals": items[i : i + batch_size]}).encode(),
             len(items[i : i + batch_size]))
            for i in range(0, len(items), batch_size)
        ]  # fmt: skip
        self.prefix, self.quarter, self.position, self.lock = prefix, first_quarter, 0, threading.Lock()
        self.first_quarter = first_quarter

    def next(self) -> tuple[bytes, int, str]:
        with self.lock:
            quarter, position = self.quarter, self.position
            self.position += 1
            if self.position == len(self.templates):
                self.position, self.quarter = 0, self.quarter + 1
        template, count = self.templates[position]
        start = (DAY + timedelta(minutes=15 * quarter)).isoformat().encode()
        batch_id = f"{self.prefix}-{quarter}-{position}"
        return template.replace(b"@START@", start).replace(b"@ID@", batch_id.encode()), count, batch_id


def big_batch(meters, limit: int) -> tuple[bytes, int]:
    """The largest batch of whole quarter hours (before the runs' own) that fits in `limit` bytes."""
    quarters, body, count = 0, b"", 0
    while True:
        items = [
            {"meter": m.serial_number, "channel": channel,
             "start": (DAY - timedelta(minutes=15 * (q + 1))).isoformat(), "value": str(Decimal(m.pk % 89 + c) / 4)}
            for q in range(quarters + 1) for m in meters for c, channel in enumerate(CHANNELS)
        ]  # fmt: skip
        candidate = json.dumps({"format": "ami/1", "batchId": "big", "intervals": items}).encode()
        if len(candidate) > limit or len(items) > 200_000:
            if not body:  # not even one quarter fits: cut it
                while len(candidate) > limit:
                    items = items[: len(items) * 9 // 10]
                    candidate = json.dumps({"format": "ami/1", "batchId": "big", "intervals": items}).encode()
                return candidate, len(items)
            return body, count
        body, count, quarters = candidate, len(items), quarters + 1


def per_minute(answers: list[tuple[float, int]], seconds: float) -> list[int]:
    """Values/s answered in each minute of the run (by the answer's time after the start; a last partial
    minute of at least 10 s counts at its own length): what shows a rate that falls as the stores grow."""
    buckets = [0] * (int(seconds // 60) + 1)
    for at, count in answers:
        buckets[min(int(at // 60), len(buckets) - 1)] += count
    lengths = [60.0] * (len(buckets) - 1) + [seconds - 60 * (len(buckets) - 1)]
    return [round(n / length) for n, length in zip(buckets, lengths, strict=True) if length >= 10]


def run_rest(
    token: str,
    feed: Feed,
    seconds: float,
    big: tuple[bytes, int],
    threads: int = 2,
    port: int | None = None,
    settle=lambda: None,
    workers: int = 2,
) -> dict:
    """`settle()` returns once every answered value is in the store (deferred inserts): the time counts."""
    import httpx

    port = port or free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "benchmarks.ami:wsgi()", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--timeout", "300", "--log-level", "warning", "--chdir", str(ROOT)],
        env=os.environ.copy(),
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        wait_port(port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
            for n in range(4):  # both workers load everything before anything is measured
                warm = json.dumps({"format": "ami/1", "batchId": f"warm-{n}"}).encode()
                client.post("/api/ami/v1/batches", content=warm, headers=headers)
            workers = children(server.pid)
            before = {pid: rss_kib(pid) for pid in workers}
            started = time.perf_counter()
            response = client.post("/api/ami/v1/batches", content=big[0], headers=headers)
            big_s = time.perf_counter() - started
            if response.status_code != 200 or response.json()["values"]["new"] != big[1]:
                raise SystemExit(f"the large batch failed: {response.status_code} {response.text[:300]}")
            settle()  # its flush belongs to it: a worker's flusher thread holds the block in memory
        peaks = {pid: rss_kib(pid, "VmHWM") for pid in workers}
        figures = {
            "big_bytes": len(big[0]), "big_values": big[1], "big_s": big_s,
            "big_peak_mib": max(peaks.values()) / 1024, "big_before_mib": max(before.values()) / 1024,
        }  # fmt: skip
        failures: list[str] = []
        acknowledged = [0]
        answered_at: list[tuple[float, int]] = []  # (seconds after the start, values) per answer
        lock = threading.Lock()

        def worker(deadline: float):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as http:
                while time.perf_counter() < deadline:
                    body, count, _batch_id = feed.next()
                    response = http.post("/api/ami/v1/batches", content=body, headers=headers)
                    answer = response.json() if response.status_code == 200 else {}
                    if response.status_code != 200 or answer["values"]["new"] != count:
                        failures.append(f"{response.status_code} {response.text[:200]}")
                        return
                    with lock:
                        acknowledged[0] += count
                        answered_at.append((time.perf_counter() - started, count))

        sampler = Sampler(lambda: workers)
        sampler.start()
        started = time.perf_counter()
        pool = [threading.Thread(target=worker, args=(started + seconds,)) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        answered = time.perf_counter() - started
        settle()
        elapsed = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
        if failures:
            raise SystemExit(f"REST failures: {failures[:3]}")
        return {
            **figures,
            "values": acknowledged[0],
            "elapsed": elapsed,
            "answered": answered,
            "per_minute": per_minute(answered_at, answered),
            "rss": sampler.report("REST workers"),
        }
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def run_mqtt(
    feed: Feed,
    seconds: float,
    workdir: Path,
    window: int,
    head_end: str = "bench",
    broker_port: int | None = None,
    consumers: int = 2,
    settle=lambda: None,
) -> dict:
    """`broker_port`: a running broker's (topics and client ids then carry the head-end's name); else our own.

    `consumers` processes share the batches through the group's shared subscription (MQTT 5), as
    the REST path's two workers share the requests."""
    import paho.mqtt.client as mqtt

    from egsu.ami.mqtt import acks_topic, batches_topic, wait_until

    broker = None
    port = broker_port or free_port()
    consumer_id = f"egsu-ami-{head_end}-{os.getpid()}"  # its client id and its group: this run's alone
    if broker_port is None:
        config = workdir / "mosquitto.conf"
        config.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\nuser root\n"
            "max_queued_messages 100000\nmax_inflight_messages 100\n"
        )
        broker = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(config)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    running: list[subprocess.Popen] = []
    client_ids = [f"{consumer_id}-{n}" for n in range(consumers)]
    try:
        wait_port(port)
        for client_id in client_ids:
            running.append(subprocess.Popen(
                [sys.executable, "-m", "egsu.cli", "ami", "mqtt", "--port", str(port), "--client-id", client_id,
                 "--slot-dir", str(workdir)],
                # on a shared broker a consumer group of our own: another group's consumers ignore our head-end
                env={**os.environ, "EGSU_MQTT_GROUP": consumer_id}, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, cwd=ROOT,
            ))  # fmt: skip
        answers: dict[str, dict] = {}
        cond = threading.Condition()

        arrived: dict[str, float] = {}  # batch id → when its answer came (perf_counter)

        def on_message(client, userdata, message):
            answer = json.loads(message.payload)
            with cond:
                answers[answer.get("batchId") or ""] = answer
                arrived[answer.get("batchId") or ""] = time.perf_counter()
                cond.notify_all()

        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{head_end}-head-end")
        publisher.on_message = on_message
        publisher.connect("127.0.0.1", port)
        publisher.subscribe(acks_topic(head_end), qos=1)
        publisher.loop_start()
        probe = 0
        while not answers:  # until the consumer is subscribed and answers
            probe += 1
            publisher.publish(
                batches_topic(head_end), json.dumps({"format": "ami/1", "batchId": f"probe-{probe}"}), qos=1
            )
            wait_until(lambda: bool(answers), 1.0, step=0.05)
            if probe > 60:
                raise SystemExit("MQTT: the consumer never answered")
        with cond:
            answers.clear()
        sampler = Sampler(lambda: [consumer.pid for consumer in running])
        sampler.start()
        sent: dict[str, int] = {}
        values = 0
        started = time.perf_counter()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            with cond:
                while len(sent) - len(sent.keys() & answers.keys()) >= window:
                    cond.wait(1.0)
            body, count, batch_id = feed.next()
            sent[batch_id] = count
            publisher.publish(batches_topic(head_end), body, qos=1)
        with cond:
            # only our batches count: a shared broker may hold answers of earlier runs' sessions
            cond.wait_for(lambda: sent.keys() <= answers.keys(), 600)
        answered = time.perf_counter() - started
        settle()
        elapsed = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
        publisher.loop_stop()
        publisher.disconnect()
        for batch_id, count in sent.items():
            answer = answers.get(batch_id)
            if answer is None or answer["values"]["new"] != count:
                raise SystemExit(f"MQTT: batch {batch_id} answered {answer}")
            values += count
        minutes = per_minute([(arrived[b] - started, count) for b, count in sent.items()], answered)
        return {"values": values, "elapsed": elapsed, "answered": answered, "per_minute": minutes,
                "rss": sampler.report(f"MQTT consumers ({consumers})")}  # fmt: skip
    finally:
        for consumer in running:
            consumer.send_signal(signal.SIGTERM)
        for consumer in running:
            consumer.wait(timeout=30)
        if broker is not None:
            broker.send_signal(signal.SIGTERM)
            broker.wait(timeout=10)
        else:
            for client_id in client_ids:
                discard_session(port, client_id)


def discard_session(port: int, client_id: str) -> None:
    """End the consumer's persistent session on a shared broker: left there it would keep queueing
    batches for its group for days (egsu.ami.mqtt keeps a stopped consumer's session a week)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 0
    client.connect("127.0.0.1", port, clean_start=True, properties=properties)
    client.loop_start()
    time.sleep(0.5)
    client.disconnect()
    client.loop_stop()


BARE_BLOCK = 100_000
BARE_MAX = 2_000_000


def bare_insert_clickhouse(count: int) -> tuple[float, float]:
    """Rows/s of `count` rows (at most BARE_MAX), built as columns, one columnar insert per block of
    BARE_BLOCK: into a copy of the store's table (no rollup view), and into the store's own table
    with its daily rollup view (object "BARE", apart from the intake's rows). chDB: TabSeparated."""
    from egsu.readings.clickhouse_schema import COLUMN_NAMES
    from egsu.readings.services import get_store

    store = get_store()
    bare = f"{store.database}.ami_bare"
    count = min(count, BARE_MAX)
    day, now = int(DAY.timestamp()), int(time.time())
    quarters = [Decimal(n) / 4 for n in range(89)]

    def block(first: int, size: int, object_id: str) -> list[list]:
        numbers = range(first, first + size)
        return [
            [object_id] * size, [str(n // 4 % 25_000) for n in numbers], [CHANNELS[n % 4] for n in numbers],
            ["PT15M"] * size, [day - 900 * (1 + n // 100_000) for n in numbers], [1] * size,
            [quarters[n % 89] for n in numbers], ["kWh"] * size, ["good"] * size, [1] * size, ["bare"] * size,
            [now] * size,
        ]  # fmt: skip

    store.connection.command(f"DROP TABLE IF EXISTS {bare}")
    store.connection.command(f"CREATE TABLE {bare} AS {store.table}")
    rates = []
    for table, object_id in ((bare, "TP-1"), (store.table, "BARE")):
        spent = 0.0
        for first in range(0, count, BARE_BLOCK):
            columns = block(first, min(BARE_BLOCK, count - first), object_id)
            started = time.perf_counter()
            if hasattr(store.connection, "insert_columns"):
                store.connection.insert_columns(table, COLUMN_NAMES, columns)
            else:
                store.connection.insert(table, COLUMN_NAMES, list(zip(*columns, strict=True)))
            spent += time.perf_counter() - started
        rates.append(count / spent)
    return rates[0], rates[1]


def clickhouse_url(server: str | None = None) -> str:
    """A fresh database on `server` (a clickhouse:// URL), else on the one scripts/ensure-clickhouse starts (or finds)."""
    if server is None:
        done = subprocess.run(
            [str(ROOT / "scripts" / "ensure-clickhouse")], capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            raise SystemExit(f"scripts/ensure-clickhouse failed: {done.stderr.strip()}")
        server = done.stdout.strip().splitlines()[-1]
    address = server.split("://", 1)[1].split("/", 1)[0]  # host:port, without a database
    return f"clickhouse://{address}/egsu_ami_bench_{os.getpid()}"


def bare_insert(count: int) -> tuple[float, float | None]:
    """Rows/s of the same rows (at most BARE_MAX) as plain tuples into a table with the readings
    columns and key, one transaction per block of BARE_BLOCK; on ClickHouse `bare_insert_clickhouse`."""
    from django.db import connection, transaction

    from egsu.readings.services import get_store

    if not hasattr(get_store(), "using"):
        return bare_insert_clickhouse(count)
    count = min(count, BARE_MAX)
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS ami_bare")
        cursor.execute(
            "CREATE TABLE ami_bare (object_id varchar(64), device_id varchar(64), quantity varchar(32), "
            "interval varchar(8), period_start timestamp, revision integer, value numeric(27,12), unit varchar(16), "
            "quality varchar(32), commercial boolean, source varchar(100), recorded_at timestamp, "
            "PRIMARY KEY (object_id, device_id, quantity, interval, period_start, revision))"
        )
    spent = 0.0
    for first in range(0, count, BARE_BLOCK):
        rows = [
            ("TP-1", str(n // 4), CHANNELS[n % 4], "PT15M", DAY + timedelta(minutes=15 * (n // 100_000)), 1,
             Decimal(n % 89) / 4, "kWh", "good", True, "bare", DAY)
            for n in range(first, min(first + BARE_BLOCK, count))
        ]  # fmt: skip
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy("COPY ami_bare FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                adapted = [
                    (*r[:4], ops.adapt_datetimefield_value(r[4]), r[5], ops.adapt_decimalfield_value(r[6], 27, 12),
                     *r[7:11], ops.adapt_datetimefield_value(r[11]))
                    for r in rows
                ]  # fmt: skip
                cursor.executemany(f"INSERT INTO ami_bare VALUES ({', '.join(['%s'] * 12)})", adapted)
        spent += time.perf_counter() - started
    return count / spent, None


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
    parser.add_argument(
        "--seconds", type=float, default=600, help="How long each path is fed (600: the full run)."
    )
    parser.add_argument(
        "--mqtt-window", type=int, default=8, help="MQTT batches published and not yet answered."
    )
    parser.add_argument(
        "--mqtt-consumers",
        type=int,
        default=2,
        help="Consumer processes sharing the batches (REST has 2 workers).",
    )
    parser.add_argument("--batch-size", type=int, default=4000)
    parser.add_argument(
        "--rest-workers", type=int, default=2, help="gunicorn sync workers of the REST run (default 2)."
    )
    parser.add_argument(
        "--rest-clients",
        type=int,
        default=2,
        help="Client threads sending REST batches, each waiting for its answer (default 2).",
    )
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
    parser.add_argument(
        "--clickhouse-server",
        help="clickhouse://host:port of a running server (default: scripts/ensure-clickhouse's).",
    )
    parser.add_argument(
        "--flush-s",
        type=float,
        default=1.0,
        help="EGSU_READINGS_FLUSH_S on ClickHouse: deferred inserts, one flusher per server (0: each batch"
        " inserts its own). Values/s count until every answered value is in ClickHouse.",
    )
    parser.add_argument("--web-port", type=int, help="gunicorn's port (default: a free one).")
    parser.add_argument(
        "--mqtt-port", type=int, help="A running MQTT broker on 127.0.0.1 (default: a Mosquitto of our own)."
    )
    parser.add_argument(
        "--head-end", default="bench", help="The head-end's name: MQTT topics and client ids carry it."
    )
    args = parser.parse_args()
    if args.store_backends is None:
        args.store_backends = "clickhouse" if args.backend == "clickhouse" else "chdb"

    workdir = Path(tempfile.mkdtemp(prefix="egsu-ami-bench-"))
    os.environ.setdefault("EGSU_VAR_DIR", str(workdir))
    os.environ["DJANGO_SETTINGS_MODULE"] = "egsu.settings"
    if args.backend == "clickhouse":
        os.environ["EGSU_READINGS_BACKEND"] = "clickhouse"
        os.environ["EGSU_CLICKHOUSE_URL"] = clickhouse_url(
            args.clickhouse_server
        )  # the gunicorn workers inherit both
        os.environ["EGSU_READINGS_FLUSH_S"] = str(args.flush_s)  # and this
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
    backend = args.backend
    if backend == "clickhouse":
        inserts = (
            f"deferred inserts every {args.flush_s:g} s" if args.flush_s else "each batch inserted by itself"
        )
        backend += f" ({settings.CLICKHOUSE_URL}; {inserts})"
    print(f"readings backend: {backend}")
    claims = getattr(store, "claims", None)

    def settle() -> None:
        """Wait until no intent is open: every answered value is in ClickHouse."""
        while claims is not None and claims.pending():
            time.sleep(0.05)

    subject = Subject.objects.create(bin=make_bin("24054000001"), name="Bench utility")
    _head_end, token = services.create_head_end(args.head_end, subject)
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
    per_quarter = args.meters * len(CHANNELS)
    print(f"{args.meters:,} meters × {len(CHANNELS)} channels = {per_quarter:,} values a quarter hour, batches of "
          f"{args.batch_size:,}, {args.seconds:.0f} s per path")  # fmt: skip
    big = big_batch(meters, settings.CONFIG.max_message_bytes)
    rest_feed = Feed(meters, args.batch_size, "rest", 0)

    from django.db import connections

    connections.close_all()
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    rest = run_rest(token, rest_feed, args.seconds, big, threads=args.rest_clients, port=args.web_port,
                    settle=settle, workers=args.rest_workers)  # fmt: skip
    rest_rate = rest["values"] / rest["elapsed"]
    print(f"largest batch: {rest['big_bytes'] / 2**20:.1f} MiB, {rest['big_values']:,} values, stored in "
          f"{rest['big_s']:.1f} s; worker peak RSS (VmHWM) {rest['big_peak_mib']:.0f} MiB "
          f"(RSS before it {rest['big_before_mib']:.0f} MiB)")  # fmt: skip
    print(f"REST  {rest['values']:,} values in {rest['elapsed']:.1f} s: {rest_rate:,.0f} values/s (answered in "
          f"{rest['answered']:.1f} s, in ClickHouse {rest['elapsed'] - rest['answered']:.1f} s later)")  # fmt: skip
    print(f"REST  answered per minute: {', '.join(f'{n:,}' for n in rest['per_minute'])} values/s")
    print(rest["rss"])
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    mqtt_feed = Feed(meters, args.batch_size, f"mqtt{os.getpid()}", rest_feed.quarter + 1)
    mqtt = run_mqtt(mqtt_feed, args.seconds, workdir, args.mqtt_window, args.head_end, args.mqtt_port,
                    args.mqtt_consumers, settle)  # fmt: skip
    mqtt_rate = mqtt["values"] / mqtt["elapsed"]
    print(f"MQTT  {mqtt['values']:,} values in {mqtt['elapsed']:.1f} s: {mqtt_rate:,.0f} values/s (answered in "
          f"{mqtt['answered']:.1f} s, in ClickHouse {mqtt['elapsed'] - mqtt['answered']:.1f} s later)")  # fmt: skip
    print(f"MQTT  answered per minute: {', '.join(f'{n:,}' for n in mqtt['per_minute'])} values/s")
    print(mqtt["rss"])
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    bare_count = min(max(rest["values"], mqtt["values"]), BARE_MAX)
    bare_rate, bare_view_rate = bare_insert(bare_count)
    print(f"bare  {bare_count:,} rows in blocks of {BARE_BLOCK:,}: {bare_rate:,.0f} rows/s"
          + (f"; into the store's table with its rollup view: {bare_view_rate:,.0f} rows/s" if bare_view_rate else ""))  # fmt: skip
    print(f"ratios: REST {rest_rate / bare_rate:.1%} of bare, MQTT {mqtt_rate / bare_rate:.1%} of bare"
          + (f"; of the bare insert with the view: REST {rest_rate / bare_view_rate:.1%}, "
             f"MQTT {mqtt_rate / bare_view_rate:.1%}" if bare_view_rate else ""))  # fmt: skip
    slower = min(rest_rate, mqtt_rate)
    burst = 10_000_000 / 300  # a national quarter hour (10 M values) stored within 5 minutes
    print(f"servers for a billion values a day: the day's mean is {1e9 / 86400:,.0f} values/s, a quarter hour's "
          f"burst of 10 M values in 5 min {burst:,.0f} values/s; at {slower:,.0f} values/s per 2-core intake server "
          f"that is {-(-burst // slower):.0f} intake server(s) for the burst (×2 for one to fail or be upgraded)")  # fmt: skip
    for label, country in (
        ("5 M values (1.25 M meters × 4 channels)", 5_000_000),
        ("10 M values (2.5 M meters × 4 channels)", 10_000_000),
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
