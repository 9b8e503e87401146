"""Availability drills (DIG-19: 99 %), shared by the lean tests and the scripts in benchmarks/.

Rolling restart behind nginx: two `egsu web` servers on loopback behind a real nginx whose `http`
section is deploy/nginx/egsu.conf itself (only addresses, ports and TLS changed, below), a load of
pages, signed ISUN messages and AMI REST batches, and each web server restarted in turn the way its
systemd unit does it (`systemctl restart`: SIGTERM to the gunicorn master, which finishes the requests
it holds, then a new start; `systemctl reload`: SIGHUP, new workers beside the old ones, the
listening socket kept). The load generator never retries: every request it counts as failed is one
a client would have seen fail.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_NGINX = ROOT / "deploy" / "nginx" / "egsu.conf"
CODE = re.compile(rb"SC(?:SS|E|BR)\d{3}")
MESSAGE_ID = re.compile(rb"<messageId>([^<]+)</messageId>")
STORED_IDS = """
import json, django
django.setup()
from egsu.ami.models import AmiBatch
from egsu.journal.models import JournalEntry
print(json.dumps(sorted(JournalEntry.objects.filter(direction="IN", kind="message").values_list("message_id", flat=True))
                 + sorted(AmiBatch.objects.values_list("batch_id", flat=True))))
"""


def stored_ids(env: dict) -> list[str]:
    """Every ISUN messageId in the journal and every AMI batchId recorded, as another process sees them."""
    import json

    run = subprocess.run(
        [sys.executable, "-c", STORED_IDS], env=env, capture_output=True, text=True, timeout=120
    )
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-3000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def free_ports(count: int, first: int = 8700, last: int = 8799) -> list[int]:
    """`count` loopback ports free now, from this drill's range (then any)."""
    import random

    # from a random place in the range, so that two drills choosing at once rarely pick the same ports
    ports = list(range(first, last + 1))
    start = random.randrange(len(ports))  # noqa: S311 - not security
    found = []
    for port in [*ports[start:], *ports[:start], *([0] * count)]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            found.append(probe.getsockname()[1])
        if len(found) == count:
            return found
    raise RuntimeError("no free loopback ports")


# -- nginx ---------------------------------------------------------------------------------------


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def nginx_config(prefix: Path, listen: int, upstreams: list[int]) -> str:
    """deploy/nginx/egsu.conf on loopback: its upstreams, retries and locations as they are; the
    servers become `upstreams`, TLS and the port-80 redirect go, the monitoring network becomes
    loopback, and a response header names the web server that answered (the drill's own)."""
    text = DEPLOY_NGINX.read_text()
    text = re.sub(r"(?m)^#.*\n", "", text)
    text = text[: text.rindex("server {")]  # the port-80 redirect
    for block in ("egsu_web", "egsu_ami"):
        body = re.search(rf"upstream {block} \{{(.*?)\n\}}", text, re.S).group(1)
        servers = [line for line in body.splitlines() if line.strip().startswith("server ")]
        template = servers[0]
        ours = "\n".join(re.sub(r"server \S+", f"server 127.0.0.1:{port}", template) for port in upstreams)
        text = text.replace(body, body.replace("\n".join(servers), ours))
    text = re.sub(r"listen 443 ssl http2;", f"listen 127.0.0.1:{listen};", text)
    text = re.sub(r"(?m)^\s*ssl_\w+ .*\n", "", text)
    text = re.sub(r"allow 10\.\S+;", "allow 127.0.0.1;", text)
    text = text.replace(
        "server_name egsu.energo.gov.kz;", "server_name _;\n    add_header X-Upstream $upstream_addr always;"
    )
    user = "user root root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {name}_temp_path {prefix / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}worker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'} warn;\n"
        f"events {{ worker_connections 1024; }}\nhttp {{\n    access_log {prefix / 'access.log'};\n{temp}\n"
        f"{text}}}\n"
    )


class Nginx:
    """A private nginx (its own prefix, config, pid and logs; never the system's)."""

    def __init__(self, prefix: Path, listen: int, upstreams: list[int]) -> None:
        self.prefix, self.listen = prefix, listen
        prefix.mkdir(parents=True, exist_ok=True)
        self.conf = prefix / "nginx.conf"
        self.conf.write_text(nginx_config(prefix, listen, upstreams))
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (Debian: apt-get install nginx-light)")
        check = subprocess.run(
            [binary, "-t", "-p", str(self.prefix), "-c", str(self.conf)], capture_output=True, text=True
        )
        if check.returncode != 0:
            raise RuntimeError(check.stderr)
        self.process = subprocess.Popen(
            [binary, "-p", str(self.prefix), "-c", str(self.conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        wait_http(f"http://127.0.0.1:{self.listen}/healthz", timeout=20, accept=(200, 502, 503, 504))

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def errors(self) -> str:
        log = self.prefix / "error.log"
        return log.read_text()[-3000:] if log.exists() else ""


def wait_http(url: str, *, timeout: float, accept=(200,)) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code in accept:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


# -- web servers ---------------------------------------------------------------------------------


class WebServer:
    """`egsu web` on one port, handled as its systemd unit handles it (egsu-web@.service)."""

    def __init__(self, env: dict, port: int, logs: Path, workers: int = 2) -> None:
        self.env, self.port, self.logs, self.workers = env, port, logs, workers
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        log = (self.logs / f"web-{self.port}-{self.starts}.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "egsu.cli", "web", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 90) -> None:
        from tests.ops.drills import gunicorn_workers

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(self.base + "/readyz", timeout=5)
                failing = {c["name"] for c in answer.json()["checks"] if c["state"] == "fail"}
                # no job worker runs in these drills: "workers" is the one part allowed to fail
                if failing <= {"workers"} and len(gunicorn_workers(self.process.pid)) == self.workers:
                    return
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"web server on {self.port} not ready in {timeout} s")

    def restart(self) -> float:
        """`systemctl restart egsu-web@PORT`: SIGTERM (the unit's KillSignal), wait for the exit (the
        master lets its workers finish what they hold), start again. Seconds until it has exited."""
        t0 = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=75)  # TimeoutStopSec
        stopped = time.monotonic() - t0
        self.start()
        return stopped

    def reload(self) -> None:
        """`systemctl reload egsu-web@PORT` (ExecReload: SIGHUP): gunicorn starts new workers, which
        import the application afresh, and stops the old ones gracefully; the socket stays open."""
        self.process.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


# -- the load ------------------------------------------------------------------------------------


@dataclass
class Load:
    """Requests through the balancer, none retried: (kind, started s, latency ms, outcome)."""

    samples: list[tuple[str, float, float, str]] = field(default_factory=list)
    upstreams: Counter = field(default_factory=Counter)
    acknowledged_ids: set[str] = field(default_factory=set)  # ISUN messageIds and AMI batchIds
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)

    def record(self, kind: str, t0: float, outcome: str, upstream: str = "") -> None:
        with self.lock:
            self.samples.append((kind, t0 - self.started, (time.monotonic() - t0) * 1000, outcome))
            if upstream:
                self.upstreams[upstream] += 1

    def failed(self) -> list[tuple[str, float, float, str]]:
        return [s for s in self.samples if s[3] != "ok"]

    def counts(self) -> Counter:
        return Counter(kind for kind, *_ in self.samples)


def run_load(load: Load, base: str, world: dict, *, isun_bodies, ami_documents, pause: float = 0.02) -> list:
    """Threads sending pages, ISUN messages and AMI batches to `base` until `load.stop` is set (or the
    messages and batches run out). Returns the threads (started)."""
    token = world["token"]

    def pages() -> None:
        with httpx.Client(timeout=80) as client:
            for n in range(10**9):
                if load.stop.is_set():
                    return
                path = ("/accounts/login/", "/shep/SyncChannel?wsdl", "/healthz")[n % 3]
                t0 = time.monotonic()
                try:
                    answer = client.get(base + path)
                    outcome = "ok" if answer.status_code == 200 else f"http-{answer.status_code}"
                    load.record("page", t0, outcome, answer.headers.get("x-upstream", ""))
                except httpx.HTTPError as error:
                    load.record("page", t0, type(error).__name__)
                time.sleep(pause)

    def isun(bodies) -> None:
        with httpx.Client(timeout=80) as client:
            for body in _cycle(bodies):
                if load.stop.is_set():
                    return
                t0 = time.monotonic()
                try:
                    answer = client.post(base + "/shep/SyncChannel", content=body,
                                         headers={"Content-Type": "text/xml; charset=utf-8"})  # fmt: skip
                    found = CODE.search(answer.content)
                    code = found.group(0).decode() if found else "?"
                    outcome = (
                        "ok"
                        if answer.status_code == 200 and code == "SCSS001"
                        else f"http-{answer.status_code} {code}"
                    )
                    if outcome == "ok":
                        with load.lock:
                            load.acknowledged_ids.add(MESSAGE_ID.search(body).group(1).decode())
                    load.record("isun", t0, outcome, answer.headers.get("x-upstream", ""))
                except httpx.HTTPError as error:
                    load.record("isun", t0, type(error).__name__)
                time.sleep(pause)

    def ami() -> None:
        with httpx.Client(timeout=80, headers={"Authorization": f"Bearer {token}"}) as client:
            for doc in _cycle(ami_documents):
                if load.stop.is_set():
                    return
                t0 = time.monotonic()
                try:
                    answer = client.post(base + "/api/ami/v1/batches", json=doc)
                    status = answer.json().get("status") if answer.status_code == 200 else ""
                    outcome = "ok" if status == "stored" else f"http-{answer.status_code} {status}"
                    if outcome == "ok":
                        with load.lock:
                            load.acknowledged_ids.add(doc["batchId"])
                    load.record("ami", t0, outcome, answer.headers.get("x-upstream", ""))
                except (httpx.HTTPError, ValueError) as error:
                    load.record("ami", t0, type(error).__name__)
                time.sleep(pause)

    threads = [
        threading.Thread(target=pages, daemon=True),
        threading.Thread(target=pages, daemon=True),
        threading.Thread(target=isun, args=(isun_bodies[0::2],), daemon=True),
        threading.Thread(target=isun, args=(isun_bodies[1::2],), daemon=True),
        threading.Thread(target=ami, daemon=True),
    ]
    for thread in threads:
        thread.start()
    return threads


def _cycle(items):
    """Each item, then each again (a resend, answered from the journal or as a replay) until stopped."""
    while True:
        yield from items


@dataclass
class RollingOutcome:
    load: Load
    steps: list[tuple[str, float]]  # (what, seconds since the load started)
    stored: dict
    acknowledged_isun: int
    acknowledged_ami: int
    nginx_errors: str


def _served_by(load: Load, port: int) -> int:
    with load.lock:
        return sum(
            n for upstream, n in load.upstreams.items() if upstream.rsplit(", ", 1)[-1].endswith(f":{port}")
        )


def rolling_restart(folder: Path, env: dict, *, password: str, meters: int = 20, messages: int = 400,
                    batches: int = 200, workers: int = 2, pause: float = 0.02,
                    plan: tuple[tuple[str, int], ...] = (("restart", 0), ("restart", 1), ("reload", 0), ("reload", 1)),
                    ) -> RollingOutcome:  # fmt: skip
    """Two web servers behind nginx under load; `plan` restarts or reloads them in turn; the outcome.

    After a restart the next step waits until the server is ready and nginx sends it requests again
    (it was marked failed for `fail_timeout`): the operator's procedure in docs/operations.md."""
    from types import SimpleNamespace

    from egsu_core.pki.keys import load_identity
    from tests.ami.conftest import document, quarter_values
    from tests.ops.conftest import isun_message
    from tests.ops.drills import probe, seed

    world = seed(env, meters, password)
    listen, *ports = free_ports(3)
    webs = [WebServer(env, port, folder, workers) for port in ports]
    for web in webs:
        web.start()
    stand = world["stand"]
    owner = next(s for s in stand["subjects"] if s["bin"] == stand["facilities"][0]["subject_bin"])
    identity = load_identity(Path(owner["sign_key"]).read_bytes(), Path(owner["sign_cert"]).read_bytes())
    bodies = [isun_message(stand, identity, hours_back=4 + 2 * (n % 12)) for n in range(messages)]
    meter_objects = [SimpleNamespace(pk=pk, serial_number=serial) for pk, serial in world["meters"]]
    items = quarter_values(meter_objects, quarters=batches)
    size = len(items) // batches
    documents = [document(f"roll-{n}", intervals=items[n * size : (n + 1) * size]) for n in range(batches)]
    nginx = Nginx(folder / "nginx", listen, ports)
    load = Load()
    steps: list[tuple[str, float]] = []

    def step(what: str) -> None:
        steps.append((what, time.monotonic() - load.started))

    try:
        for web in webs:
            web.wait_ready()
        nginx.start()
        load.started = time.monotonic()
        threads = run_load(load, f"http://127.0.0.1:{listen}", world, isun_bodies=bodies, ami_documents=documents,
                           pause=pause)  # fmt: skip
        time.sleep(1.0)
        for action, n in plan:
            web = webs[n]
            if action == "reload":
                step(f"reload {web.port}: SIGHUP")
                web.reload()
                time.sleep(2.0)
                continue
            step(f"restart {web.port}: SIGTERM")
            web.restart()
            step(f"restart {web.port}: exited, starting")
            web.wait_ready()
            step(f"restart {web.port}: ready")
            before = _served_by(load, web.port)
            deadline = time.monotonic() + 30
            while _served_by(load, web.port) <= before + 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            step(f"restart {web.port}: served by nginx again")
        time.sleep(1.0)
        step("load stopped")
        load.stop.set()
        for thread in threads:
            thread.join(timeout=90)
    finally:
        load.stop.set()
        nginx.stop()
        for web in webs:
            web.stop()
    acknowledged = Counter(kind for kind, _, _, outcome in load.samples if outcome == "ok")
    stored = probe(env)
    stored["acknowledged_missing"] = sorted(load.acknowledged_ids - set(stored_ids(env)))
    return RollingOutcome(load, steps, stored, acknowledged["isun"], acknowledged["ami"], nginx.errors())


# -- PostgreSQL: a primary, a synchronous streaming replica, a promotion ---------------------------


def postgres_bin() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin with the server programs."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


class PostgresPair:
    """A private primary and its synchronous streaming replica on loopback (never the shared 5432).

    As root the servers run as `postgres` (initdb refuses root) from a directory that user owns.
    """

    def __init__(self, ports: tuple[int, int] | None = None) -> None:
        import tempfile

        self.bin = postgres_bin()
        if self.bin is None:
            raise RuntimeError("no PostgreSQL server programs under /usr/lib/postgresql")
        self.ports = ports or tuple(free_ports(2, 5470, 5479))
        self.root = Path(tempfile.mkdtemp(prefix="egsu-pg-pair-"))
        self.primary, self.replica = self.root / "primary", self.root / "replica"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr[-2000:]}")
        return done

    def _start(self, data: Path, port: int, log: str) -> None:
        options = f"-p {port} -c listen_addresses=127.0.0.1 -k {self.root}"
        try:
            self._run(
                "pg_ctl",
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(data),
                "-l",
                str(self.root / log),
                "-o",
                options,
            )
        except RuntimeError as error:
            raise RuntimeError(f"{error}\n{(self.root / log).read_text()[-2000:]}") from error

    def sql(self, port: int, statement: str, database: str = "postgres") -> list[tuple]:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=port, user="egsu", dbname=database, autocommit=True,
                             connect_timeout=5) as conn:  # fmt: skip
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def start_primary(self, database: str = "egsu") -> None:
        self._run("initdb", "-D", str(self.primary), "-U", "egsu", "--auth=trust", "-E", "UTF8", "--no-sync")
        with (self.primary / "postgresql.conf").open("a") as conf:
            conf.write("wal_level = replica\nmax_wal_senders = 5\nsynchronous_commit = on\nfsync = on\n")
        self._start(self.primary, self.ports[0], "primary.log")
        self.sql(self.ports[0], f'CREATE DATABASE "{database}"')

    def start_replica(self) -> None:
        """pg_basebackup (-R: standby.signal and primary_conninfo), start, then make it synchronous:
        from here on the primary acknowledges a commit only once the replica has flushed its WAL."""
        conninfo = f"host=127.0.0.1 port={self.ports[0]} user=egsu application_name=egsu_replica"
        self._run(
            "pg_basebackup",
            "-d",
            conninfo,
            "-D",
            str(self.replica),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
        )
        self._start(self.replica, self.ports[1], "replica.log")
        self.sql(self.ports[0], "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (egsu_replica)'")
        self.sql(self.ports[0], "SELECT pg_reload_conf()")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            rows = self.sql(
                self.ports[0],
                "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'egsu_replica'",
            )
            if rows and rows[0][0] == "sync":
                return
            time.sleep(0.2)
        raise RuntimeError("the replica never became synchronous")

    def crash_primary(self) -> None:
        """The primary lost: an immediate stop (no shutdown checkpoint, as a crash)."""
        self._run("pg_ctl", "stop", "-D", str(self.primary), "-m", "immediate")

    def promote(self) -> None:
        self._run("pg_ctl", "promote", "-w", "-t", "60", "-D", str(self.replica))

    def url(self, database: str = "egsu") -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.ports)
        return f"postgresql://egsu@{hosts}/{database}?target_session_attrs=read-write&connect_timeout=2"

    def stop(self) -> None:
        for data in (self.primary, self.replica):
            if (data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-D", str(data), "-m", "fast", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class FailoverOutcome:
    acknowledged: dict[str, str]  # message or batch id → the answer that acknowledged it
    attempts: int
    failed_attempts: int
    steps: list[tuple[str, float]]
    outage_s: float  # the first failed answer to the first acknowledgement after the promotion
    stored: dict
    expected_values: int


def failover(folder: Path, pair: PostgresPair, *, password: str, messages: int = 30, batches: int = 15,
             meters: int = 10, crash_after: float = 2.0, promote_after: float = 1.0) -> FailoverOutcome:  # fmt: skip
    """The System on `pair.url()` (libpq multi-host, target_session_attrs=read-write) takes ISUN messages
    and AMI batches from senders that resend until acknowledged (INT-13); the primary crashes, the
    replica is promoted; the System is not touched. Everything acknowledged must be on the new primary."""
    from types import SimpleNamespace

    from egsu_core.pki.keys import load_identity
    from tests.ami.conftest import document, quarter_values
    from tests.ops.conftest import egsu_env, isun_message
    from tests.ops.drills import probe, seed

    var = folder / "var"
    env = egsu_env(var, pair.url())
    pair.start_primary()
    world = seed(env, meters, password)  # migrations and the registry, on the primary alone
    pair.start_replica()
    (port,) = free_ports(1)
    web = WebServer(env, port, folder, workers=2)
    web.start()
    stand = world["stand"]
    owner = next(s for s in stand["subjects"] if s["bin"] == stand["facilities"][0]["subject_bin"])
    identity = load_identity(Path(owner["sign_key"]).read_bytes(), Path(owner["sign_cert"]).read_bytes())
    bodies = [isun_message(stand, identity, hours_back=4 + 2 * n) for n in range(messages)]
    meter_objects = [SimpleNamespace(pk=pk, serial_number=serial) for pk, serial in world["meters"]]
    items = quarter_values(meter_objects, quarters=batches)
    size = len(items) // batches
    documents = [
        document(f"failover-{n}", intervals=items[n * size : (n + 1) * size]) for n in range(batches)
    ]
    acknowledged: dict[str, str] = {}
    events: list[tuple[float, bool]] = []  # (time, acknowledged?) of every attempt
    lock = threading.Lock()
    started = [0.0]
    steps: list[tuple[str, float]] = []

    def attempt(key: str, post) -> None:
        while True:
            try:
                answer = post()
                found = CODE.search(answer.content)
                ok = answer.status_code == 200 and (
                    (found and found.group(0) == b"SCSS001") or b'"stored"' in answer.content
                )
            except httpx.HTTPError:
                answer, ok = None, False
            with lock:
                events.append((time.monotonic() - started[0], ok))
                if ok:
                    acknowledged[key] = answer.text[:80]
                    return
            time.sleep(0.1)

    def isun() -> None:
        with httpx.Client(timeout=60) as client:
            for n, body in enumerate(bodies):
                attempt(f"isun-{n}", lambda body=body: client.post(
                    f"{web.base}/shep/SyncChannel", content=body, headers={"Content-Type": "text/xml; charset=utf-8"}))  # fmt: skip
                time.sleep(0.15)

    def ami() -> None:
        with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {world['token']}"}) as client:
            for doc in documents:
                attempt(
                    doc["batchId"], lambda doc=doc: client.post(f"{web.base}/api/ami/v1/batches", json=doc)
                )
                time.sleep(0.3)

    try:
        web.wait_ready()
        started[0] = time.monotonic()
        senders = [threading.Thread(target=isun), threading.Thread(target=ami)]
        for thread in senders:
            thread.start()
        time.sleep(crash_after)
        pair.crash_primary()
        steps.append(("primary crashed (pg_ctl stop -m immediate)", time.monotonic() - started[0]))
        time.sleep(promote_after)
        pair.promote()
        steps.append(("replica promoted (pg_ctl promote)", time.monotonic() - started[0]))
        for thread in senders:
            thread.join(timeout=300)
        steps.append(("every message and batch acknowledged", time.monotonic() - started[0]))
    finally:
        web.stop()
    failures = [at for at, ok in events if not ok]
    recovered = [at for at, ok in events if ok and failures and at > min(failures)]
    outage = (min(recovered) - min(failures)) if failures and recovered else 0.0
    return FailoverOutcome(
        acknowledged, len(events), len(failures), steps, outage, probe(env), size * batches
    )  # fmt: skip


# -- ClickHouse: one shard, replicas through ZooKeeper, one lost ---------------------------------

ENSURE_CLICKHOUSE = ROOT / "scripts" / "ensure-clickhouse"


def zookeeper_classpath() -> str | None:
    """Debian's ZooKeeper (package `zookeeper`: ClickHouse 18.16 replicates through ZooKeeper; current
    releases take ClickHouse Keeper with the same configuration section)."""
    jar = Path("/usr/share/java/zookeeper.jar")
    return f"/etc/zookeeper/conf:{jar}" if jar.exists() and shutil.which("java") else None


class ReplicatedClickHouse:
    """One shard of `replicas` ClickHouse servers (cluster `egsu_ha`) and a standalone ZooKeeper, on
    loopback ports of this drill's range, each server with the {shard}/{replica} macros of
    deploy/clickhouse/config.d/macros.xml and the insert settings of deploy/clickhouse/users.d."""

    CLUSTER = "egsu_ha"

    def __init__(
        self, root: Path, replicas: int = 2, *, insert_quorum: int = 2, first_port: int = 19710
    ) -> None:
        self.root, self.replicas, self.insert_quorum = root, replicas, insert_quorum
        self.zk_port = free_ports(1, first_port, first_port + 9)[0]
        self.ports = [
            free_ports(1, first_port + 10 * (n + 1), first_port + 10 * (n + 1) + 7)[0]
            for n in range(replicas)
        ]
        self.dirs = [root / f"ch-{n}" for n in range(replicas)]
        self.zookeeper: subprocess.Popen | None = None

    def _config(self, n: int) -> Path:
        replicas = "".join(f"<replica><host>127.0.0.1</host><port>{p}</port></replica>" for p in self.ports)
        path = self.root / f"ha-{n}.xml"
        path.write_text(
            f"<yandex><remote_servers><{self.CLUSTER}><shard><internal_replication>true</internal_replication>"
            f"{replicas}</shard></{self.CLUSTER}></remote_servers>"
            f"<zookeeper><node><host>127.0.0.1</host><port>{self.zk_port}</port></node>"
            "<session_timeout_ms>6000</session_timeout_ms></zookeeper>"
            "<distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>"
            f"<macros><shard>01</shard><replica>r{n}</replica></macros></yandex>"
        )
        users = self.dirs[n] / "users.d"
        users.mkdir(parents=True, exist_ok=True)
        (users / "insert.xml").write_text(
            "<yandex><profiles><default>"
            f"<insert_quorum>{self.insert_quorum}</insert_quorum><insert_quorum_timeout>10000</insert_quorum_timeout>"
            "<insert_distributed_sync>1</insert_distributed_sync>"
            "</default></profiles></yandex>"
        )
        return path

    def start(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        classpath = zookeeper_classpath()
        if classpath is None:
            raise RuntimeError("ZooKeeper is not installed (Debian: apt-get install zookeeper)")
        (self.root / "zk").mkdir(parents=True, exist_ok=True)
        self.zookeeper = subprocess.Popen(
            ["java", "-Xmx256m", "-Dzookeeper.admin.enableServer=false", "-cp", classpath,
             "org.apache.zookeeper.server.ZooKeeperServerMain", str(self.zk_port), str(self.root / "zk" / "data")],
            stdout=(self.root / "zk" / "log").open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        with ThreadPoolExecutor(self.replicas) as pool:
            list(pool.map(self.start_server, range(self.replicas)))
        self.wait_coordinated()

    def wait_coordinated(self, timeout: float = 90) -> None:
        """Every server answering a ZooKeeper query: until then the first ON CLUSTER statement may find
        a server that has not reached ZooKeeper yet (on a loaded machine the JVM starts last)."""
        from clickhouse_driver import Client

        deadline = time.monotonic() + timeout
        for port in self.ports:
            while True:
                client = Client("127.0.0.1", port, connect_timeout=3, send_receive_timeout=10)
                try:
                    client.execute("SELECT count() FROM system.zookeeper WHERE path = '/'")
                    break
                except Exception as error:  # noqa: BLE001 - any failure means "not yet"
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            f"ClickHouse on {port} never reached ZooKeeper: {error}"
                        ) from error
                    time.sleep(0.5)
                finally:
                    client.disconnect()

    def start_server(self, n: int) -> None:
        port = self.ports[n]
        done = subprocess.run(
            [str(ENSURE_CLICKHOUSE), "--port", str(port), "--http-port", str(port + 1), "--interserver-port",
             str(port + 2), "--dir", str(self.dirs[n]), "--config-d", str(self._config(n)), "--database", "default"],
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"ClickHouse replica {n} did not start: {done.stderr.strip()}")

    def kill(self, n: int) -> None:
        """The replica lost: SIGKILL (no shutdown; its ZooKeeper session expires after the timeout)."""
        pid = int((self.dirs[n] / "server.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        while Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text():
            time.sleep(0.05)

    def url(self, database: str) -> str:
        return f"clickhouse://{','.join(f'127.0.0.1:{p}' for p in self.ports)}/{database}"

    def local_count(self, n: int, database: str, table: str = "readings_local") -> int:
        from clickhouse_driver import Client

        client = Client("127.0.0.1", self.ports[n], connect_timeout=3)
        try:
            return client.execute(f"SELECT count() FROM {database}.{table}")[0][0]
        finally:
            client.disconnect()

    def stop(self) -> None:
        for directory in self.dirs:
            subprocess.run(
                [str(ENSURE_CLICKHOUSE), "--stop", "--dir", str(directory)], capture_output=True, timeout=60
            )
        if self.zookeeper and self.zookeeper.poll() is None:
            self.zookeeper.terminate()
            try:
                self.zookeeper.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.zookeeper.kill()


@dataclass
class ReplicaOutcome:
    steps: list[tuple[str, float]]
    writes: list[tuple[float, str]]  # (seconds, "ok" or the error) of every write attempt
    reads: list[tuple[float, str]]
    acknowledged_rows: int
    stored_rows: int  # through the Distributed table
    stored_twice: int
    replica_rows: list[int]  # each replica's own table at the end
    catch_up_s: float  # the lost replica, from ready again to holding every row


def _first_store(make, attempts: int = 4):
    """The store on a cluster just started: its schema statements run ON CLUSTER (idempotent), and a
    server still settling may drop the first connection; a few tries, then the error."""
    from egsu.readings.store import StoreUnavailableError

    for attempt in range(attempts):
        try:
            return make()
        except StoreUnavailableError:
            if attempt == attempts - 1:
                raise
            time.sleep(3)


def replica_lost(root: Path, cluster: ReplicatedClickHouse, *, kill: int = 0, kill_at: float = 3.0,
                 down_s: float = 8.0, after_s: float = 3.0, devices: int = 50) -> ReplicaOutcome:  # fmt: skip
    """The store (the System's only way to the readings) on the multi-host URL of `cluster`, one writer
    thread writing a batch of `devices` values every 0.1 s (resending a batch that failed, as the feeds'
    senders do) and one reader counting; replica `kill` is SIGKILLed at `kill_at`, started again
    `down_s` later; the outcome, once it has caught up."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from egsu.readings.backends.clickhouse import ClickHouseReadingsStore
    from egsu.readings.clickhouse_schema import ClusterLayout
    from egsu.readings.store import ReadingQuery, ReadingRow, SeriesKey

    database = "egsu_ha"
    layout = ClusterLayout(cluster=cluster.CLUSTER, replicated=True, on_cluster=True)
    store = _first_store(
        lambda: ClickHouseReadingsStore.from_url(
            cluster.url(database), layout=layout, claims_url=f"sqlite:///{root / 'claims.sqlite3'}"
        )
    )
    reader = ClickHouseReadingsStore.from_url(cluster.url(database), layout=layout, create_schema=False)
    base = datetime(2026, 11, 1, tzinfo=UTC)
    writes: list[tuple[float, str]] = []
    reads: list[tuple[float, str]] = []
    steps: list[tuple[str, float]] = []
    stop = threading.Event()
    acknowledged = [0]
    started = time.monotonic()

    def batch(k: int) -> list:
        return [
            ReadingRow(
                SeriesKey(f"obj-{k % 10}", f"dev-{d}", "volume"),
                "PT15M",
                base + timedelta(minutes=15 * k),
                Decimal(k * 1000 + d) / 100,
                "m3",
                "measured",
                f"batch-{k}",
            )  # fmt: skip
            for d in range(devices)
        ]

    def writer() -> None:
        k = 0
        while not stop.is_set():
            try:
                store.write(batch(k))
                writes.append((time.monotonic() - started, "ok"))
                acknowledged[0] += devices
                k += 1
            except Exception as error:  # noqa: BLE001 - every failure is counted and the batch resent
                writes.append((time.monotonic() - started, f"{type(error).__name__}: {str(error)[:120]}"))
                time.sleep(0.2)
            time.sleep(0.1)

    def read() -> None:
        while not stop.is_set():
            try:
                reader.count(ReadingQuery())
                reads.append((time.monotonic() - started, "ok"))
            except Exception as error:  # noqa: BLE001 - every failure is counted
                reads.append((time.monotonic() - started, f"{type(error).__name__}: {str(error)[:120]}"))
            time.sleep(0.25)

    threads = [threading.Thread(target=writer), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(kill_at)
        cluster.kill(kill)
        steps.append((f"replica {kill} killed (SIGKILL)", time.monotonic() - started))
        time.sleep(down_s)
        steps.append((f"replica {kill} starting", time.monotonic() - started))
        cluster.start_server(kill)
        ready = time.monotonic()
        steps.append((f"replica {kill} answering", ready - started))
        time.sleep(after_s)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    if any(thread.is_alive() for thread in threads):
        raise RuntimeError(f"a writer or reader is stuck: {steps}, {writes[-3:]}")
    steps.append(("writes stopped", time.monotonic() - started))
    deadline = time.monotonic() + 120
    while True:
        counts = [cluster.local_count(n, database) for n in range(cluster.replicas)]
        if len(set(counts)) == 1 and counts[0] >= acknowledged[0] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    catch_up = time.monotonic() - ready
    steps.append((f"every replica holds every row ({counts})", time.monotonic() - started))
    stored = reader.count(ReadingQuery())
    twice = reader.connection.query(
        f"SELECT count() FROM (SELECT object_id, device_id, period_start, count() AS n FROM {reader.table}"
        " GROUP BY object_id, device_id, period_start HAVING n > 1)"
    )[0][0]
    return ReplicaOutcome(steps, writes, reads, acknowledged[0], stored, twice, counts, catch_up)
