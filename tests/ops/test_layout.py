"""The production layout, small, on loopback (issue 17 item 1; DIG-19 availability, INT-08 under load):
two `egsu web` servers on two ports, two `egsu worker`s (one also schedules), two `egsu ami mqtt`
consumers each taking its share of the head-ends, PostgreSQL, a two-shard ClickHouse and a Mosquitto. Both feeds
go through it — ISUN messages and AMI REST batches spread over both web servers, AMI batches over
MQTT — with every message and batch sent twice (to the other server), and every value must be stored
exactly once.

It runs in the PostgreSQL pass of `make test` and skips loudly when a server cannot be had.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from tests.ami.conftest import Broker, document, expected_totals, quarter_values
from tests.intake.conftest import DEMO_PASSWORD
from tests.ops.conftest import egsu_env, isun_message
from tests.readings import store_backends

pytestmark = pytest.mark.postgres

SEED = """
import json, django
django.setup()
from egsu.cli.app import prepare
prepare(quiet=True)
from egsu.registry.demo import load_demo_registry
from egsu.signatures.stand import equip
from tests.ami.conftest import make_world
stand = equip(load_demo_registry(password=%r), base_url="http://127.0.0.1")
world = make_world(4)
from egsu.ami.services import create_head_end
second, second_token = create_head_end("hes-d", world.subject)  # crc32: the other consumer
import os
from egsu.readings.backends.clickhouse import ClickHouseReadingsStore
from egsu.readings.clickhouse_schema import ClusterLayout
for url in os.environ["LAYOUT_SHARDS"].split():  # no Keeper here: the same DDL on each node
    ClickHouseReadingsStore.from_url(url, layout=ClusterLayout(cluster="egsu_layout"))
print(json.dumps({"stand": stand, "token": world.token, "head_ends": [world.head_end.name, second.name],
                  "meters": [[m.pk, m.serial_number] for m in world.meters]}, default=str))
"""

PROBE = """
import json, django
django.setup()
from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery
from egsu.ami.models import AmiBatch
store = get_store()
twice = store.connection.query(
    f"SELECT count() FROM (SELECT object_id, device_id, quantity, duration, period_start, count() AS n "
    f"FROM {store.table} GROUP BY object_id, device_id, quantity, duration, period_start HAVING n > 1)")[0][0]
print(json.dumps({"count": store.count(ReadingQuery()), "twice": twice, "batches": AmiBatch.objects.count(),
                  "totals": {k: str(v) for k, v in store.totals(ReadingQuery()).items()}}))
"""


def _postgres_admin():
    import psycopg

    try:
        return psycopg.connect(
            "postgresql://egsu:egsu@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError as exc:
        pytest.skip(f"NO POSTGRESQL on 127.0.0.1:5432 for the layout test: {exc}")


def _clickhouse_two_shards(tmp_path: Path) -> tuple[list[int], list[Path], list]:
    """Two ClickHouse servers as the shards of cluster `egsu_layout`, started in the background."""
    from concurrent.futures import ThreadPoolExecutor

    ports = [store_backends.free_port_block(3)]
    while True:
        other = store_backends.free_port_block(3)
        if abs(other - ports[0]) >= 3:
            ports.append(other)
            break
    remote = tmp_path / "remote_servers.xml"
    shards = "".join(
        f"<shard><replica><host>127.0.0.1</host><port>{p}</port></replica></shard>" for p in ports
    )
    remote.write_text(
        f"<yandex><remote_servers><egsu_layout>{shards}</egsu_layout></remote_servers></yandex>"
    )
    dirs = [tmp_path / f"ch{n}" for n in range(2)]
    pool = ThreadPoolExecutor(2)
    started = [
        pool.submit(
            store_backends.ensure_clickhouse,
            "--port",
            str(port),
            "--http-port",
            str(port + 1),
            "--interserver-port",
            str(port + 2),
            "--config-d",
            str(remote),
            "--dir",
            str(directory),
        )  # fmt: skip
        for port, directory in zip(ports, dirs, strict=True)
    ]
    pool.shutdown(wait=False)
    return ports, dirs, started


class Processes:
    def __init__(self, logs: Path) -> None:
        self.logs, self.running = logs, {}

    def start(self, name: str, env: dict, *args: str) -> None:
        log = (self.logs / f"{name}.log").open("w")
        self.running[name] = subprocess.Popen(
            [sys.executable, "-m", "egsu.cli", *args], env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def stop(self) -> None:
        import os

        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.running.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in sorted(self.logs.glob("*.log")))


def _wait_ready(url: str, processes: Processes, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = httpx.get(url + "/readyz", timeout=5)
            if last.status_code == 200:
                return last.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} never became ready: {last.text if last else 'no answer'}\n{processes.tail()}")


def test_the_small_production_layout_stores_every_value_once(tmp_path):
    marks = [("start", time.monotonic())]
    admin = _postgres_admin()
    database = f"egsu_layout_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{database}"')
    ch_ports, ch_dirs, ch_started = _clickhouse_two_shards(tmp_path)
    broker = Broker(tmp_path)
    broker.start()
    processes = Processes(tmp_path)
    ch_database = f"egsu_layout_{uuid.uuid4().hex[:8]}"
    try:
        var = tmp_path / "var"
        common = {
            "EGSU_READINGS_BACKEND": "clickhouse", "EGSU_CLICKHOUSE_CLUSTER": "egsu_layout",
            "EGSU_MQTT_HOST": "127.0.0.1", "EGSU_MQTT_PORT": str(broker.port), "EGSU_METRICS_TOKEN": "layout",
            "EGSU_JOBS_HEARTBEAT_S": "1", "EGSU_JOBS_LEASE_S": "5",
        }  # fmt: skip
        url = f"postgresql://egsu:egsu@127.0.0.1:5432/{database}"

        def env(ch_port: int, **extra: str) -> dict:
            return egsu_env(
                var,
                url,
                **common,
                EGSU_CLICKHOUSE_URL=f"clickhouse://127.0.0.1:{ch_port}/{ch_database}",
                **extra,
            )

        # the web servers start while ClickHouse starts and the database is migrated: they touch neither yet
        var.mkdir()
        (var / "secret_key").write_text("layout-test-secret-key")
        webs = [store_backends.free_port_block(1) for _ in range(2)]
        for n in range(2):
            processes.start(f"web{n}", env(ch_ports[n]), "web", "--port", str(webs[n]), "--workers", "2")
        for future in ch_started:
            future.result()  # skips loudly when a server cannot be started
        shards = " ".join(f"clickhouse://127.0.0.1:{p}/{ch_database}" for p in ch_ports)
        seed = subprocess.run([sys.executable, "-c", SEED % DEMO_PASSWORD], env=env(ch_ports[0], LAYOUT_SHARDS=shards),
                              capture_output=True, text=True, timeout=180)  # fmt: skip
        assert seed.returncode == 0, seed.stderr[-3000:]
        world = json.loads(seed.stdout.strip().splitlines()[-1])
        marks.append(
            (
                "servers started, database migrated and seeded (web servers starting meanwhile)",
                time.monotonic(),
            )
        )
        # the layout: each web server and worker enters the cluster through its own shard
        for n in range(2):
            processes.start(f"worker{n}", env(ch_ports[n]), "worker", *(["--schedule"] if n == 0 else []))
            processes.start(
                f"mqtt{n}", env(ch_ports[n]), "ami", "mqtt", "--port", str(broker.port),
                "--client-id", f"egsu-ami-{n}",
            )  # fmt: skip
        bases = [f"http://127.0.0.1:{port}" for port in webs]
        for base in bases:
            ready = _wait_ready(base, processes)
            assert {c["name"]: c["state"] for c in ready["checks"]}["clickhouse"] == "ok"
        marks.append(("every process ready", time.monotonic()))
        # when ISUN messages and AMI batches arrive on both servers, and over MQTT, each sent twice
        from egsu_core.pki.keys import load_identity

        stand = world["stand"]
        owner = next(s for s in stand["subjects"] if s["bin"] == stand["facilities"][0]["subject_bin"])
        identity = load_identity(Path(owner["sign_key"]).read_bytes(), Path(owner["sign_cert"]).read_bytes())
        meters = [SimpleNamespace(pk=pk, serial_number=serial) for pk, serial in world["meters"]]
        items = quarter_values(meters)  # 4 meters × 4 channels × 4 quarters = 64 values
        rest, mqtt_items = items[:32], items[32:]
        auth = {"Authorization": f"Bearer {world['token']}"}
        answers = []
        for n in range(4):
            body = isun_message(stand, identity, hours_back=4 + 2 * n)
            for base in (bases[n % 2], bases[(n + 1) % 2]):  # the resend goes to the other server
                answers.append(httpx.post(f"{base}/shep/SyncChannel", content=body,
                                          headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=60))  # fmt: skip
        for n in range(2):
            doc = document(f"rest-{n}", intervals=rest[16 * n : 16 * (n + 1)])
            for base in (bases[n % 2], bases[(n + 1) % 2]):
                answers.append(httpx.post(f"{base}/api/ami/v1/batches", json=doc, headers=auth, timeout=60))
        import paho.mqtt.client as mqtt

        head_end = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"hes-{uuid.uuid4().hex[:6]}")
        head_end.connect("127.0.0.1", broker.port)
        head_end.loop_start()
        for n in range(4):  # two head-ends, one for each consumer
            topic = f"egsu/ami/v1/{world['head_ends'][n % 2]}/batches"
            doc = json.dumps(document(f"mqtt-{n}", intervals=mqtt_items[8 * n : 8 * (n + 1)]))
            for _ in range(2):
                head_end.publish(topic, doc, qos=1).wait_for_publish(timeout=10)
        head_end.loop_stop()
        head_end.disconnect()
        assert [a.status_code for a in answers] == [200] * 12, [a.text[:300] for a in answers]
        # then every value is stored exactly once, in the shards, through every entry point
        deadline = time.monotonic() + 30
        while True:
            probe = subprocess.run([sys.executable, "-c", PROBE], env=env(ch_ports[1]), capture_output=True,
                                   text=True, timeout=60)  # fmt: skip
            assert probe.returncode == 0, probe.stderr[-3000:]
            seen = json.loads(probe.stdout.strip().splitlines()[-1])
            if seen["batches"] >= 6 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert seen["batches"] == 6, processes.tail()  # 2 REST + 4 MQTT, each stored once
        assert seen["twice"] == 0
        totals = expected_totals(meters)
        assert {channel: Decimal(seen["totals"][channel]) for channel in totals} == totals
        isun_values = seen["count"] - len(items)
        assert isun_values >= 4  # four records, each with its values, none twice
        # and both servers count what they received (merged over their gunicorn workers)
        received = 0.0
        for base in bases:
            text = httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer layout"}, timeout=10).text
            received += sum(
                float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                if line.startswith('egsu_intake_messages_total{feed="isun"')
            )  # fmt: skip
        assert received == 8
        marks.append(("pushed and checked", time.monotonic()))
        print(", ".join(f"{name}: {at - marks[0][1]:.1f} s" for name, at in marks[1:]))  # noqa: T201
    finally:
        processes.stop()
        broker.stop()
        for directory in ch_dirs:
            store_backends.stop_clickhouse(directory)
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()
