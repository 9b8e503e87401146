"""Gateway intake throughput and latency against a running server, and where the time goes.

What it does, in order (``--help`` for the options):

1. starts its own server (``egsu demo --no-serve`` then ``egsu serve``, gunicorn gthread) on a free
   loopback port, with a fresh temporary var dir: SQLite there by default, or a fresh PostgreSQL
   database with ``--database-url`` (created here and dropped at the end);
2. builds every request body beforehand (not timed): ISUN 2-hourly records for the demo sender's
   own facilities, each with its own (device, period) so that every record is NEW, never a duplicate;
3. sends, for each size (1, 100 and 5,000 records), a bounded number of requests concurrently
   through a thread pool of keep-alive ``httpx.Client``s, then checks EVERY answer (HTTP 200,
   SCSS001, every record ACCEPTED) and that the store holds exactly the rows sent;
4. compares the figures with the order's limits (INT-08, App.1 Table 1: 10 s average, 30 s maximum,
   2,000 requests an hour at peak);
5. profiles ``egsu.intake.services.receive`` in this process on the same database for one
   100-record and one 5,000-record message, and prints a breakdown by stage;
6. measures bare building blocks in the same run (lxml parse of the same body, an executemany insert
   of the same number of rows, one durable commit) as denominators.

The last line is ``msgs_per_s=N p50_ms=N p99_ms=N`` for the 100-record messages. The exit status is
non-zero when any request failed.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import math
import os
import platform
import pstats
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import machine  # benchmarks/machine.py (the script's own folder is on sys.path)
from lxml import etree
from machine import Postgres

from egsu_core.clock import ASTANA, to_astana
from egsu_core.isun.receipt import parse_receipt
from egsu_core.isun.samples import records_element, sample_record
from egsu_core.isun.units import UNITS
from egsu_core.shep.envelope import build_request, parse_fault, parse_response

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1, 100, 5000)
DEFAULT_REQUESTS = (500, 300, 10)
DEFAULT_CONCURRENCY = (8, 8, 2)
HEADLINE_SIZE = 100
DATA_TYPE = ("http://message.persistence.interactive.nat", "Request")
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
OK_CODE = "SCSS001"
PACKET_LIMIT = 15 * 1024 * 1024  # INT-07

# INT-08, App.1 Table 1: synchronous services.
LIMIT_AVERAGE_S = 10.0
LIMIT_MAXIMUM_S = 30.0
LIMIT_PEAK_PER_HOUR = 2000
LIMIT_NOMINAL_PER_HOUR = 360

# Records walk back from here in 2-hour steps: a fixed instant in the past, after the Astana
# offset change of 1 March 2024 for any sensible run (odd Astana hours are skipped anyway).
ANCHOR = datetime(2026, 1, 1, tzinfo=ASTANA)


def _log(text: str = "") -> None:
    print(text, flush=True)


# ------------------------------------------------------------------------------- options


def _per_size(text: str, name: str) -> tuple[int, ...]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name} takes N or N,N,N (one per size), got {text!r}") from None
    if len(values) == 1:
        values = values * len(SIZES)
    if len(values) != len(SIZES) or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{name} takes N or {len(SIZES)} positive numbers, got {text!r}")
    return values


def _options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        epilog="Sizes are 1, 100 and 5000 records; N,N,N gives one value per size, a single N applies to all.",
    )
    parser.add_argument(
        "--requests",
        type=lambda t: _per_size(t, "--requests"),
        default=DEFAULT_REQUESTS,
        help="requests per size (default 500,300,10)",
    )
    parser.add_argument(
        "--concurrency",
        type=lambda t: _per_size(t, "--concurrency"),
        default=DEFAULT_CONCURRENCY,
        help="requests in flight per size (default 8,8,2)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="threads per worker (default 0: as `egsu serve` picks: 1 on SQLite, 4 on PostgreSQL)",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="postgresql://user:pw@host:port/NAME to run on PostgreSQL; NAME must contain 'bench' "
        "(it is dropped and created afresh, and dropped at the end). Default: SQLite in the temp dir.",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="per-request client timeout, s")
    parser.add_argument(
        "--largest",
        action="store_true",
        help="also send, alone, one message of as many records as fit in the 15 MB packet limit (INT-07)",
    )
    parser.add_argument(
        "--signature",
        default="rsa",
        help="signature kinds, comma-separated: rsa (RSA-SHA256) and/or gost2004 (GOST 34.310-2004, a GOST "
        "signing certificate of the same subject from the stand's GOST test CA). Every size runs with the "
        "first; the 100-record messages run with each, in the same server run (default rsa)",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the in-process profile")
    parser.add_argument("--keep", action="store_true", help="keep the temporary var dir (and its logs)")
    return parser.parse_args(argv)


# ------------------------------------------------------------------------------- statistics


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p % of the values at or below it."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _median_time(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _fmt_ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:,.1f}" if ms >= 1 else f"{ms:,.3f}"


def _times(ratio: float) -> str:
    return f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:,.1f}×"


# ------------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class Slot:
    facility: dict
    device: dict
    period_start: datetime


def _slots(manifest: dict) -> Iterator[Slot]:
    """Distinct (device, 2-hour period) pairs: every device of the sender's facilities, period by period."""
    devices = [(f, d) for f in manifest["facilities"] for d in f["devices"]]
    if not devices:
        raise SystemExit("the demo manifest lists no device for the sender")
    now = datetime.now(UTC)
    moment = ANCHOR.astimezone(UTC)
    if moment > now - timedelta(days=1):  # a machine whose clock is before the anchor
        moment = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    while True:
        if to_astana(moment).hour % 2 == 0:  # INT-34: 00:00, 02:00, … Astana
            for facility, device in devices:
                yield Slot(facility, device, moment)
        moment -= timedelta(hours=1)


def _record(slot: Slot) -> dict[str, str]:
    return sample_record(
        slot.facility["kind"],
        slot.facility["id"],
        slot.device["deviceNameId"],
        period_start=slot.period_start,
        is_daily=False,
        device_type_id=slot.device["deviceTypeId"],
        operation_type_id=slot.device["operationTypeId"][0],
        product_type_id=slot.device["productTypeId"],
        pipeline_id=slot.device.get("pipelineId"),
    )


@dataclass
class Message:
    body: bytes
    records: list[dict[str, str]]
    slots: list[Slot]

    @property
    def rows(self) -> int:
        """Values the store keeps for this message: one row per quantity of each record."""
        return sum(1 for record in self.records for name in record if name in UNITS)


KINDS = ("rsa", "gost2004")
_identities: dict[tuple[str, str], object] = {}


def _identity(manifest: dict, kind: str = "rsa"):
    """The signing key of the subject that owns the sender's facilities (stand.json, issue 3).

    rsa: the demo subject's own RSA key. gost2004: a GOST 34.310-2004 signing certificate for the
    same subject (same BIN, same sender) from the stand's GOST test CA, issued here through
    ``egsu.signatures.stand.subject_files`` (Django must be set up on the stand's var dir).
    """
    owner = manifest["facilities"][0]["subject_bin"]
    if (owner, kind) not in _identities:
        from egsu_core.pki.keys import load_identity

        subject = next(s for s in manifest["subjects"] if s["bin"] == owner)
        if kind == "rsa":
            key_path, cert_path = Path(subject["sign_key"]), Path(subject["sign_cert"])
        else:
            from egsu.signatures.stand import subject_files

            key_path, cert_path, _p12 = subject_files(owner, subject["name"], key_type=kind)
        _identities[(owner, kind)] = load_identity(key_path.read_bytes(), cert_path.read_bytes())
    return _identities[(owner, kind)]


def build_message(slots: Iterator[Slot], size: int, manifest: dict, kind: str = "rsa") -> Message:
    """A SendMessage as a real client sends it: records in data, the Body signed (WS-Security)."""
    from egsu_core.pki.wsse import sign_transport

    taken = [next(slots) for _ in range(size)]
    records = [_record(slot) for slot in taken]
    body = build_request(
        message_id=str(uuid.uuid4()),
        service_id=manifest["serviceId"],
        sender_id=manifest["senderId"],
        password=manifest["password"],
        payload=list(records_element(records)),
        data_type=DATA_TYPE,
    )
    identity = _identity(manifest, kind)
    body = sign_transport(
        body,
        private_key=identity.private_key,
        certificate_der=identity.certificate_der,
        algorithm_uri=identity.algorithm_uri,
    )
    return Message(body, records, taken)


# ------------------------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_stand(var_dir: Path, port: int, env: dict | None = None) -> dict:
    """`egsu demo --no-serve` into `var_dir` (migrations, the demo registry, the stand): its manifest."""
    demo = subprocess.run(
        [*_egsu_command(), "demo", "--no-serve", "--port", str(port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if demo.returncode != 0:
        raise RuntimeError(f"egsu demo failed ({demo.returncode}):\n{demo.stdout}\n{demo.stderr}")
    return json.loads((var_dir / "demo" / "stand.json").read_text(encoding="utf-8"))


def _egsu_command() -> list[str]:
    script = Path(sys.executable).parent / "egsu"
    if not script.exists():
        raise SystemExit(f"{script} is missing: run `make install` first")
    return [str(script)]


class Server:
    """``egsu serve`` as a child process in its own session, stopped by its own process id."""

    def __init__(self, env: dict[str, str], port: int, workers: int, threads: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self._log = log_path.open("wb")
        command = [
            *_egsu_command(),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ]
        self.process = subprocess.Popen(
            command, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, wsdl: str, limit_s: float = 90.0) -> float:
        start = time.perf_counter()
        with httpx.Client(timeout=5) as client:
            while time.perf_counter() - start < limit_s:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"the server exited with {self.process.returncode}:\n{self.log_tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    answer = client.get(wsdl)
                    if answer.status_code == 200 and b"definitions" in answer.content:
                        return time.perf_counter() - start
                time.sleep(0.2)
        raise RuntimeError(f"the WSDL did not answer within {limit_s:.0f} s:\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            # gunicorn's master stops its workers on SIGTERM; the group is ours (start_new_session).
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._log.close()


# ------------------------------------------------------------------------------- sending


@dataclass
class Outcome:
    started: float
    finished: float
    status: int
    content: bytes

    @property
    def latency(self) -> float:
        return self.finished - self.started


def send_all(endpoint: str, bodies: list[bytes], concurrency: int, timeout: float) -> list[Outcome]:
    """POST every body, ``concurrency`` at a time; one keep-alive client per sending thread."""
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def post(body: bytes) -> Outcome:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(timeout=timeout, headers=HEADERS)
            with lock:
                clients.append(client)
        started = time.perf_counter()
        try:
            answer = client.post(endpoint, content=body)
            status, content = answer.status_code, answer.content
        except httpx.HTTPError as exc:
            status, content = 0, f"{type(exc).__name__}: {exc}".encode()
        return Outcome(started, time.perf_counter(), status, content)

    try:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bench") as pool:
            return list(pool.map(post, bodies))
    finally:
        for client in clients:
            client.close()


def check_answer(outcome: Outcome, size: int) -> str | None:
    """Why this answer is not a full success, or None: HTTP 200, SCSS001 and every record ACCEPTED."""
    if outcome.status != 200:
        try:
            code, message, _when = parse_fault(outcome.content)
        except Exception:  # noqa: BLE001 - not a SOAP fault: show the start of what came back
            return f"HTTP {outcome.status}: {outcome.content[:300]!r}"
        return f"HTTP {outcome.status}, fault {code}: {message}"
    try:
        response = parse_response(outcome.content)
    except Exception as exc:  # noqa: BLE001 - any unreadable answer is a failure to report
        return f"unreadable answer ({exc}): {outcome.content[:300]!r}"
    if response.status_code != OK_CODE:
        return f"{response.status_code}: {response.status_message}"
    receipt = parse_receipt(response.data_text or "")
    statuses: dict[str, int] = {}
    for record in receipt.records:
        statuses[record.status] = statuses.get(record.status, 0) + 1
    if statuses != {"ACCEPTED": size}:
        return f"receipt {receipt.code}: record statuses {statuses}, expected {{'ACCEPTED': {size}}}"
    return None


@dataclass
class RunResult:
    size: int
    concurrency: int
    outcomes: list[Outcome]
    failures: list[tuple[int, str]]

    @property
    def requests(self) -> int:
        return len(self.outcomes)

    @property
    def wall(self) -> float:
        return max(o.finished for o in self.outcomes) - min(o.started for o in self.outcomes)

    @property
    def latencies(self) -> list[float]:
        return sorted(o.latency for o in self.outcomes)

    @property
    def msgs_per_s(self) -> float:
        return self.requests / self.wall

    @property
    def records_per_s(self) -> float:
        return self.requests * self.size / self.wall

    @property
    def mean(self) -> float:
        return statistics.fmean(self.latencies)


def run_size(
    endpoint: str, messages: list[Message], size: int, concurrency: int, timeout: float
) -> RunResult:
    outcomes = send_all(endpoint, [m.body for m in messages], concurrency, timeout)
    failures = []
    for index, outcome in enumerate(outcomes):
        reason = check_answer(outcome, size)
        if reason is not None:
            failures.append((index, reason))
    return RunResult(size, concurrency, outcomes, failures)


def trivial_requests(endpoint: str, count: int, concurrency: int) -> tuple[float, float, float]:
    """The server's floor: GET on the endpoint (405 from the view, no database); req/s, p50, p99."""
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def get(_: int) -> float:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(timeout=10)
            with lock:
                clients.append(client)
        started = time.perf_counter()
        client.get(endpoint)
        return time.perf_counter() - started

    start = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            latencies = sorted(pool.map(get, range(count)))
    finally:
        for client in clients:
            client.close()
    wall = time.perf_counter() - start
    return count / wall, percentile(latencies, 50), percentile(latencies, 99)


# ------------------------------------------------------------------------------- profile


STAGES = (
    "parse (egsu_core.shep.xmlparse)",
    "envelope (egsu_core.shep.envelope)",
    "auth (egsu.registry.services)",
    "journal (egsu.journal)",
    "records+rules (egsu_core.isun)",
    "registry lookups (egsu.registry.snapshot)",
    "store (egsu.readings, intake._store)",
    "response + receipt building",
)
# The envelope module both reads requests and writes answers; these functions write.
_ENVELOPE_WRITERS = frozenset(
    {
        "build_response",
        "build_fault",
        "_new_envelope",
        "_add",
        "_serialize",
        "_xml_safe",
        "_truncate",
        "_guid",
    }
    | {"_flatten", "_error_info"}
)
_INTAKE_STAGES = {
    "_check_headers": STAGES[1],
    "_check_message_date": STAGES[1],
    "_authorise": STAGES[2],
    "_store": STAGES[6],
}


def _is_orchestrator(file: str, function: str) -> bool:
    return file.replace(os.sep, "/").endswith("egsu/intake/services.py") and function in {
        "receive",
        "_process",
    }


def _stage_of(file: str, function: str) -> str | None:
    """The stage a function of ours belongs to; None for the orchestrator and everything not ours."""
    path = file.replace(os.sep, "/")
    if "/egsu/" not in path:
        return None
    module = path.rsplit("/egsu/", 1)[1]
    if module == "shep/xmlparse.py":
        return STAGES[0]
    if module == "shep/envelope.py":
        return STAGES[7] if function in _ENVELOPE_WRITERS else STAGES[1]
    if module == "registry/services.py":
        return STAGES[2]
    if module.startswith("journal/"):
        return STAGES[3]
    if module == "isun/receipt.py":
        return STAGES[7]
    if module.startswith("isun/"):
        return STAGES[4]
    if module == "registry/snapshot.py":
        return STAGES[5]
    if module.startswith("readings/"):
        return STAGES[6]
    if module == "intake/services.py":
        return _INTAKE_STAGES.get(function)
    return None


@dataclass
class Breakdown:
    total: float
    stages: dict[str, float]
    driver: float  # inside the database driver: SQL execution, fsync at commit
    orm: float  # inside django.db, driver included
    top: list[tuple[str, float, int]]  # (function, own time, calls)


def breakdown(profile: cProfile.Profile) -> Breakdown:
    """Inclusive time of each stage, entered from the orchestrator or from another stage (not nested twice)."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = 0.0
    stages = dict.fromkeys(STAGES, 0.0)
    driver = orm = 0.0
    for (file, _line, function), (_cc, _nc, _tt, ct, callers) in stats.items():
        if function == "receive" and _is_orchestrator(file, function):
            total = max(total, ct)
        callee_stage = _stage_of(file, function)
        for (caller_file, _caller_line, caller_function), edge in callers.items():
            edge_ct = edge[3]
            caller_stage = _stage_of(caller_file, caller_function)
            if callee_stage is not None and callee_stage != caller_stage:
                if _is_orchestrator(caller_file, caller_function):
                    stages[callee_stage] += edge_ct
                elif caller_stage is not None:
                    # A stage entered from inside another (e.g. a registry lookup made by a rule):
                    # move that time from the caller's stage to its own.
                    stages[callee_stage] += edge_ct
                    stages[caller_stage] -= edge_ct
            caller_is_django_db = "django/db/" in caller_file.replace(os.sep, "/")
            if caller_is_django_db and _is_driver(file, function):
                driver += edge_ct
            if "/egsu/" in caller_file.replace(os.sep, "/") and "django/db/" in file.replace(os.sep, "/"):
                orm += edge_ct
    top = sorted(
        ((_describe(file, line, fn), tt, nc) for (file, line, fn), (_cc, nc, tt, _ct, _c) in stats.items()),
        key=lambda item: -item[1],
    )[:12]
    return Breakdown(total, stages, driver, orm, top)


def _is_driver(file: str, function: str) -> bool:
    """Time inside the DB-API driver: sqlite3's C methods (cProfile names Django's cursor subclass's
    ``execute`` after the subclass), or any psycopg code."""
    if file == "~":
        return "sqlite3." in function or "SQLiteCursorWrapper.execute" in function
    return "/psycopg/" in file.replace(os.sep, "/")


def _describe(file: str, line: int, function: str) -> str:
    if file == "~":
        return function
    path = file.replace(os.sep, "/")
    for marker in ("/site-packages/", str(ROOT).replace(os.sep, "/") + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{line}({function})"


def print_breakdown(title: str, result: Breakdown, plain: float) -> None:
    _log(
        f"  {title}: profiled {_fmt_ms(result.total)} ms (unprofiled {_fmt_ms(plain)} ms; cProfile adds the rest)"
    )
    accounted = 0.0
    for name, seconds in result.stages.items():
        accounted += seconds
        _log(f"    {name:<44} {seconds:8.3f} s {100 * seconds / result.total:5.1f} %")
    other = result.total - accounted
    _log(
        f"    {'other (intake glue: uuid, hashing, …)':<44} {other:8.3f} s {100 * other / result.total:5.1f} %"
    )
    _log("    across stages:")
    _log(
        f"    {'  database driver (SQL, commits/fsync)':<44} {result.driver:8.3f} s "
        f"{100 * result.driver / result.total:5.1f} %"
    )
    orm_only = result.orm - result.driver
    _log(f"    {'  Django ORM around it':<44} {orm_only:8.3f} s {100 * orm_only / result.total:5.1f} %")
    python = result.total - result.orm
    _log(
        f"    {'  everything else (our Python, lxml)':<44} {python:8.3f} s {100 * python / result.total:5.1f} %"
    )
    _log("    top functions by own time:")
    for name, seconds, calls in result.top[:8]:
        _log(f"      {seconds:7.3f} s {calls:>8,} calls  {name}")


# ------------------------------------------------------------------------------- bare building blocks


def _bare_rows(messages: list[Message], run: int) -> list[tuple]:
    """The values of these messages as plain tuples (key, value), revision ``run`` so that each run is new."""
    return [
        (
            slot.facility["id"],
            slot.device["deviceNameId"],
            name,
            "PT2H",
            slot.period_start.isoformat(),
            value,
            run,
        )
        for message in messages
        for slot, record in zip(message.slots, message.records, strict=True)
        for name, value in record.items()
        if name in UNITS
    ]


_BARE_TABLE = (
    "CREATE TABLE bare_reading (object_id varchar(64), device_id varchar(64), quantity varchar(32), "
    "interval varchar(8), period_start varchar(40), value varchar(40), revision integer, "
    "PRIMARY KEY (object_id, device_id, quantity, interval, period_start, revision))"
)
_BARE_INSERT = "INSERT INTO bare_reading VALUES (?, ?, ?, ?, ?, ?, ?)"


@dataclass
class Bare:
    lxml_parse: float
    our_parse: float
    insert: dict[int, float]  # rows → seconds for one executemany + commit
    commit: float  # one single-row insert + durable commit


class _BareDatabase:
    """A plain DB-API connection with the application's durability, outside Django."""

    def __init__(self, var_dir: Path, pg: Postgres | None) -> None:
        self.pg = pg
        if pg is None:
            self.conn = sqlite3.connect(var_dir / "bare.sqlite3", isolation_level=None)
            # The application's SQLite settings (egsu.conf): WAL, synchronous=FULL, BEGIN IMMEDIATE.
            self.conn.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
            self.conn.execute(_BARE_TABLE)
            self.cursor = self.conn.cursor()
            self.sql = _BARE_INSERT
        else:
            self.conn = pg.connect()
            self.cursor = self.conn.cursor()
            self.cursor.execute(_BARE_TABLE)
            self.conn.commit()
            self.sql = _BARE_INSERT.replace("?", "%s")

    def insert(self, rows: list[tuple]) -> None:
        if self.pg is None:
            self.cursor.execute("BEGIN IMMEDIATE")
            self.cursor.executemany(self.sql, rows)
            self.cursor.execute("COMMIT")
        else:
            self.cursor.executemany(self.sql, rows)
            self.conn.commit()

    def close(self) -> None:
        self.conn.close()


def bare_blocks(
    message100: Message, insert_sets: dict[int, Message], var_dir: Path, pg: Postgres | None
) -> Bare:
    from egsu_core.shep.xmlparse import parse_document

    body = message100.body
    lxml_parse = _median_time(lambda: etree.fromstring(body), 200)
    our_parse = _median_time(lambda: parse_document(body), 200)
    database = _BareDatabase(var_dir, pg)
    run = 0
    insert: dict[int, float] = {}
    try:
        for message in insert_sets.values():
            times = []
            for _ in range(7):
                run += 1
                rows = _bare_rows([message], run)
                start = time.perf_counter()
                database.insert(rows)
                times.append(time.perf_counter() - start)
            insert[message.rows] = statistics.median(times)
        commits = []
        for _ in range(21):
            run += 1
            rows = [("c", "c", "c", "PT2H", "c", "0", run)]
            start = time.perf_counter()
            database.insert(rows)
            commits.append(time.perf_counter() - start)
    finally:
        database.close()
    return Bare(lxml_parse, our_parse, insert, statistics.median(commits))


# ------------------------------------------------------------------------------- facts


def _machine_facts(options: argparse.Namespace, backend: str, var_dir: Path) -> list[str]:
    commit = machine.commit()
    import django
    import gunicorn

    return [
        machine.machine_line(),
        f"python {platform.python_version()}, Django {django.get_version()}, gunicorn {gunicorn.__version__}, "
        f"lxml {'.'.join(map(str, etree.LXML_VERSION))}, egsu @ {commit}",
        f"database: {backend}",
        f"temp var dir on {_filesystem(var_dir)}",
        f"server: gunicorn, workers={options.workers} threads={options.threads or 'auto'}, "
        "on 127.0.0.1; the client runs on the same machine",
    ]


def _filesystem(path: Path) -> str:
    """The file system holding path (from /proc/mounts): tmpfs would make every fsync free."""
    best, kind = "", "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and str(path.resolve()).startswith(parts[1]) and len(parts[1]) > len(best):
                best, kind = parts[1], f"{parts[2]} ({parts[0]} at {parts[1]})"
    return kind


def _backend_description(pg: Postgres | None) -> str:
    if pg is None:
        return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=FULL, BEGIN IMMEDIATE), file in the temp var dir"
    with pg.connect() as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        fsync = conn.execute("SHOW fsync").fetchone()[0]
        sync_commit = conn.execute("SHOW synchronous_commit").fetchone()[0]
    return f"PostgreSQL {version} (fsync={fsync}, synchronous_commit={sync_commit}), database {pg.name}"


# ------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    options = _options(argv)
    shown = [os.path.relpath(sys.executable) if sys.executable.startswith(os.getcwd()) else sys.executable]
    _log("command: " + shlex.join([*shown, *(sys.argv if argv is None else ["benchmarks/intake.py", *argv])]))
    if HEADLINE_SIZE not in SIZES:
        raise SystemExit("the headline size must be one of the sizes")

    kinds = [k.strip() for k in options.signature.split(",") if k.strip()]
    if not kinds or any(k not in KINDS for k in kinds) or len(set(kinds)) != len(kinds):
        raise SystemExit(
            f"--signature takes kinds from {', '.join(KINDS)}, comma-separated, got {options.signature!r}"
        )
    var_dir = Path(tempfile.mkdtemp(prefix="egsu-bench-"))
    pg = Postgres(options.database_url) if options.database_url else None
    database_url = options.database_url or f"sqlite:///{var_dir / 'egsu.sqlite3'}"
    # The same settings for the server and for Django in this process (the profile, the checks).
    os.environ.update(
        {
            "EGSU_VAR_DIR": str(var_dir),
            "EGSU_DATABASE_URL": database_url,
            "EGSU_ENV": "embedded",
            "DJANGO_SETTINGS_MODULE": "egsu.settings",
        }
    )
    env = dict(os.environ)
    server: Server | None = None
    failed = True
    try:
        if pg is not None:
            pg.create()
        backend = _backend_description(pg)
        for line in _machine_facts(options, backend, var_dir):
            _log(line)
        _log(f"temp var dir: {var_dir}")

        port = _free_port()
        started = time.perf_counter()
        manifest = demo_stand(var_dir, port, env)
        _log(f"database prepared and demo registry loaded in {time.perf_counter() - started:.1f} s")
        import django

        django.setup()  # the stand's GOST test CA (--signature gost2004) and the store's count
        from django.db import connections

        from egsu.readings.models import Reading

        values_before = Reading.objects.count()  # the demo may store sample values of its own
        connections.close_all()

        server = Server(env, port, options.workers, options.threads, var_dir / "server.log")
        ready = server.wait_ready(manifest["wsdl"])
        _log(f"server up at {manifest['endpoint']} (WSDL answered after {ready:.1f} s)")

        # Every body is built before anything is timed; every record takes its own (device, period).
        started = time.perf_counter()
        slots = _slots(manifest)
        threads = options.threads or (4 if options.database_url else 1)
        first = kinds[0]
        # Every kind warms every worker: the first GOST message of a process verifies its chain.
        warmup = [
            build_message(slots, 1, manifest, kind)
            for kind in kinds
            for _ in range(4 * options.workers * threads)
        ]
        plan = {
            size: [build_message(slots, size, manifest, first) for _ in range(count)]
            for size, count in zip(SIZES, options.requests, strict=True)
        }
        headline_count = options.requests[SIZES.index(HEADLINE_SIZE)]
        other_kinds = {
            kind: [build_message(slots, HEADLINE_SIZE, manifest, kind) for _ in range(headline_count)]
            for kind in kinds[1:]
        }
        warm_in_process = [build_message(slots, 1, manifest, kind) for kind in kinds]
        plain_messages = {
            1: [build_message(slots, 1, manifest, first) for _ in range(9)],
            100: [build_message(slots, 100, manifest, first) for _ in range(5)],
            5000: [build_message(slots, 5000, manifest, first)],
        }
        plain_kinds = (
            {kind: [build_message(slots, 100, manifest, kind) for _ in range(9)] for kind in kinds}
            if len(kinds) > 1
            else {}
        )
        profiled = {size: build_message(slots, size, manifest, first) for size in (100, 5000)}
        if options.largest:
            # As many records as fit under INT-07's 15 MB, from the size of a 5,000-record body.
            per_record = len(plan[5000][0].body) / 5000
            largest = int(PACKET_LIMIT * 0.98 / per_record) // 1000 * 1000
            plan[largest] = [build_message(slots, largest, manifest)]
            if len(plan[largest][0].body) > PACKET_LIMIT:
                raise SystemExit(f"the {largest}-record body is over the 15 MB limit")
        records = sum(len(m.records) for ms in (*plan.values(), *other_kinds.values()) for m in ms)
        rows = sum(m.rows for ms in (*plan.values(), *other_kinds.values()) for m in ms) + sum(
            m.rows for m in warmup
        )
        _log(
            f"built {sum(len(ms) for ms in (*plan.values(), *other_kinds.values())) + len(warmup)} request bodies "
            f"(signature: {', '.join(kinds)}; every size {first}) "
            f"({records + len(warmup):,} records, {rows:,} values) in {time.perf_counter() - started:.1f} s (not timed)"
        )
        for size in plan:
            sample = plan[size][0]
            _log(f"  {size:>5}-record body: {len(sample.body):,} bytes, {sample.rows:,} values")

        endpoint = manifest["endpoint"]
        floor_rate, floor_p50, floor_p99 = trivial_requests(endpoint, 400, 8)
        _log(
            f"floor (GET on the endpoint, answered 405 by the view, no database; 400 at concurrency 8): "
            f"{floor_rate:,.0f} req/s, p50 {_fmt_ms(floor_p50)} ms, p99 {_fmt_ms(floor_p99)} ms"
        )
        warm = run_size(endpoint, warmup, 1, min(len(warmup), options.workers * threads), options.timeout)
        _log(
            f"warm-up: {warm.requests} one-record messages (first call per worker hashes the password), "
            f"max {_fmt_ms(warm.latencies[-1])} ms, {len(warm.failures)} failed"
        )

        _log("")
        _log(
            f"{'records':>7} {'requests':>8} {'conc.':>5} {'wall s':>7} {'msgs/s':>8} {'records/s':>10} "
            f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'mean ms':>8} {'failed':>6}"
        )
        results: dict[int, RunResult] = {}
        by_kind: dict[str, RunResult] = {}
        headline_concurrency = options.concurrency[SIZES.index(HEADLINE_SIZE)]
        runs = [
            (size, concurrency, first) for size, concurrency in zip(SIZES, options.concurrency, strict=True)
        ]
        runs += [(HEADLINE_SIZE, headline_concurrency, kind) for kind in other_kinds]
        runs += [(size, 1, first) for size in plan if size not in SIZES]  # the largest message, alone
        workers_before = _worker_memory(server.process.pid)
        for size, concurrency, kind in runs:
            messages = plan[size] if kind == first else other_kinds[kind]
            if size not in SIZES:
                workers_before = _worker_memory(server.process.pid)
            result = run_size(endpoint, messages, size, concurrency, options.timeout)
            if kind == first:
                results[size] = result
            if size == HEADLINE_SIZE:
                by_kind[kind] = result
            lat = result.latencies
            _log(
                f"{size:>7} {result.requests:>8} {concurrency:>5} {result.wall:>7.1f} {result.msgs_per_s:>8.1f} "
                f"{result.records_per_s:>10,.0f} {_fmt_ms(percentile(lat, 50)):>8} {_fmt_ms(percentile(lat, 99)):>8} "
                f"{_fmt_ms(lat[-1]):>8} {_fmt_ms(result.mean):>8} {len(result.failures):>6}  {kind}"
            )
        workers_after = _worker_memory(server.process.pid)
        all_failures = [(1, i, r) for i, r in warm.failures] + [
            (size, i, reason) for size, result in results.items() for i, reason in result.failures
        ]
        all_failures += [
            (HEADLINE_SIZE, i, f"{kind}: {reason}")
            for kind, result in by_kind.items()
            if kind != first
            for i, reason in result.failures
        ]
        if len(by_kind) > 1:
            base = by_kind[first]
            for kind, result in by_kind.items():
                if kind == first:
                    continue
                _log(
                    f"  {kind} ÷ {first}, {HEADLINE_SIZE} records at concurrency {headline_concurrency}: "
                    f"msgs/s {result.msgs_per_s / base.msgs_per_s:.2f}×, p50 "
                    f"{percentile(result.latencies, 50) / percentile(base.latencies, 50):.2f}×, p99 "
                    f"{percentile(result.latencies, 99) / percentile(base.latencies, 99):.2f}×"
                )
        _log(
            "worker memory (VmHWM = peak RSS since the worker started; VmRSS now), MB: "
            + "; ".join(
                f"pid {pid}: peak {hwm:,.0f} (before the last run {workers_before.get(pid, (0, 0))[0]:,.0f}), "
                f"now {rss:,.0f}"
                for pid, (hwm, rss) in sorted(workers_after.items())
            )
        )
        if any(size not in SIZES for size in plan):
            grew = max(
                (hwm - workers_before.get(pid, (0.0, 0.0))[0], pid, hwm)
                for pid, (hwm, _rss) in workers_after.items()
            )
            largest_size = max(plan)
            _log(
                f"  the {largest_size:,}-record message ({len(plan[largest_size][0].body) / 1e6:.1f} MB): peak RSS of "
                f"the worker that took it {grew[2]:,.0f} MB (+{grew[0]:,.0f} MB over its peak before), "
                f"{grew[2] / 300:.2f}× the 300 MB aim"
            )
        if not server.alive():
            all_failures.append((0, 0, f"the server died during the run:\n{server.log_tail()}"))
        if all_failures:
            _log("")
            _log(f"FAILED: {len(all_failures)} request(s) not fully successful; the first ones:")
            for size, index, reason in all_failures[:10]:
                _log(f"  {size}-record message #{index}: {reason}")

        _log("")
        _log("INT-08 (App.1 Table 1): how far inside the order's limits (limit ÷ measured)")
        _log(
            f"{'records':>7} {'mean ms':>8} {'10 s÷mean':>10} {'10 s÷p50':>9} {'max ms':>8} {'30 s÷max':>9} "
            f"{'msgs/h':>10} {'÷2,000/h peak':>14} {'÷360/h nominal':>15}"
        )
        for size, result in results.items():
            lat = result.latencies
            per_hour = result.msgs_per_s * 3600
            _log(
                f"{size:>7} {_fmt_ms(result.mean):>8} {_times(LIMIT_AVERAGE_S / result.mean):>10} "
                f"{_times(LIMIT_AVERAGE_S / percentile(lat, 50)):>9} {_fmt_ms(lat[-1]):>8} "
                f"{_times(LIMIT_MAXIMUM_S / lat[-1]):>9} {per_hour:>10,.0f} "
                f"{_times(per_hour / LIMIT_PEAK_PER_HOUR):>14} {_times(per_hour / LIMIT_NOMINAL_PER_HOUR):>15}"
            )
        _log(
            "  (capacity = messages per hour at the concurrency used, client and server sharing this machine)"
        )

        server.stop()
        server = None

        # ---- in process, on the same database: correctness of the store, then where the time goes
        import django

        django.setup()
        from django.db import connections

        from egsu.intake.services import receive
        from egsu.readings.models import Reading

        stored = Reading.objects.count() - values_before
        if stored != rows:
            all_failures.append((0, 0, f"the store holds {stored:,} values, {rows:,} were sent as new"))
            _log(f"FAILED: the store holds {stored:,} values, expected {rows:,}")
        else:
            _log(f"store check: {stored:,} values stored, exactly the {rows:,} sent (every record new)")

        plain: dict[int, float] = {}
        if not options.no_profile:
            _log("")
            _log("Where the time goes: egsu.intake.services.receive in this process, same database, no HTTP")
            # The first call hashes the password and fills lazy caches: not measured.
            for message in warm_in_process:
                answer = receive(message.body)
                _expect_ok(answer.http_status, answer.body, 1)
            for size, messages in plain_messages.items():
                times = []
                for message in messages:
                    start = time.perf_counter()
                    answer = receive(message.body)
                    times.append(time.perf_counter() - start)
                    _expect_ok(answer.http_status, answer.body, size)
                plain[size] = statistics.median(times)
            _log(
                "  unprofiled receive(), median: "
                + ", ".join(
                    f"{size} records {_fmt_ms(plain[size])} ms (of {len(ms)})"
                    for size, ms in plain_messages.items()
                )
            )
            # The kinds interleaved, message by message, so that the machine's load drifts alike for
            # each; CPU time (this thread's) as well as wall time, the steadier of the two here.
            wall: dict[str, list[float]] = {kind: [] for kind in plain_kinds}
            cpu: dict[str, list[float]] = {kind: [] for kind in plain_kinds}
            for index in range(len(next(iter(plain_kinds.values()), []))):
                for kind, messages in plain_kinds.items():
                    start, start_cpu = time.perf_counter(), time.thread_time()
                    answer = receive(messages[index].body)
                    cpu[kind].append(time.thread_time() - start_cpu)
                    wall[kind].append(time.perf_counter() - start)
                    _expect_ok(answer.http_status, answer.body, 100)
            for kind in plain_kinds:
                wall_ratio = statistics.median(wall[kind]) / statistics.median(wall[first])
                cpu_ratio = statistics.median(cpu[kind]) / statistics.median(cpu[first])
                _log(
                    f"  receive(), 100 records signed {kind}, interleaved with the other kinds, median: wall "
                    f"{_fmt_ms(statistics.median(wall[kind]))} ms ({wall_ratio:.2f}× {first}), "
                    f"CPU {_fmt_ms(statistics.median(cpu[kind]))} ms ({cpu_ratio:.2f}× {first})"
                )
            _signature_blocks(
                manifest, {first: plan[HEADLINE_SIZE][0], **{k: m[0] for k, m in other_kinds.items()}}
            )
            for size, message in profiled.items():
                profile = cProfile.Profile()
                answer = profile.runcall(receive, message.body)
                _expect_ok(answer.http_status, answer.body, size)
                print_breakdown(f"{size}-record message", breakdown(profile), plain[size])

        connections.close_all()

        _log("")
        _log("Bare building blocks, same run, same machine (denominators)")
        bare = bare_blocks(plan[100][0], {100: plan[100][0], 5000: plan[5000][0]}, var_dir, pg)
        rows100 = plan[100][0].rows
        rows5000 = plan[5000][0].rows
        _log(
            f"  lxml.etree.fromstring of the 100-record body ({len(plan[100][0].body):,} bytes): "
            f"{_fmt_ms(bare.lxml_parse)} ms; our hardened parse_document: {_fmt_ms(bare.our_parse)} ms "
            f"({_times(bare.our_parse / bare.lxml_parse)})"
        )
        db_name = "SQLite" if pg is None else "PostgreSQL"
        for count, seconds in bare.insert.items():
            _log(
                f"  {db_name} executemany of {count:,} rows with a primary key, one durable commit: "
                f"{_fmt_ms(seconds)} ms ({count / seconds:,.0f} rows/s)"
            )
        _log(f"  {db_name} one-row insert + durable commit: {_fmt_ms(bare.commit)} ms")
        head = results[HEADLINE_SIZE]
        _log(
            f"  empty Django round trip (the GET floor above) at concurrency 8: {floor_rate:,.0f} req/s, p50 "
            f"{_fmt_ms(floor_p50)} ms; 100-record messages ({first}) run at {head.msgs_per_s / floor_rate:.1%} of it"
        )
        if plain:
            floor100 = bare.lxml_parse + bare.insert[rows100]
            floor5000 = bare.insert[rows5000]
            _log(
                f"  receive() of 100 records = {_fmt_ms(plain[100])} ms = {_times(plain[100] / floor100)} "
                f"(lxml parse + executemany of its {rows100} rows) = {_times(plain[100] / bare.commit)} one durable commit"
            )
            _log(
                f"  receive() of 5,000 records = {_fmt_ms(plain[5000])} ms = "
                f"{_times(plain[5000] / floor5000)} an executemany of its {rows5000:,} rows"
            )
        _log(
            f"  HTTP p50 of 100 records at concurrency {head.concurrency} = {_fmt_ms(percentile(head.latencies, 50))} ms; "
            f"the trivial GET's p50 = {_fmt_ms(floor_p50)} ms"
        )

        failed = bool(all_failures)
        if failed:
            _log("")
            _log(f"RESULT: FAILED ({len(all_failures)} failure(s) above)")
        lat = head.latencies
        _log(
            f"msgs_per_s={head.msgs_per_s:.1f} p50_ms={percentile(lat, 50) * 1000:.1f} p99_ms={percentile(lat, 99) * 1000:.1f}"
        )
        return 1 if failed else 0
    finally:
        if server is not None:
            server.stop()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if pg is not None:
            try:
                pg.drop()
            except Exception as exc:  # noqa: BLE001 - report, do not hide the run's own error
                print(f"could not drop database {pg.name}: {exc}", file=sys.stderr)
        if options.keep or failed:
            print(f"kept {var_dir} (server.log inside)", file=sys.stderr)
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


def _worker_memory(master_pid: int) -> dict[int, tuple[float, float]]:
    """pid → (VmHWM, VmRSS) in MB of every process under the server's (gunicorn's workers), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: dict[int, tuple[float, float]] = {}
    todo = list(children.get(master_pid, []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        if children.get(pid):
            continue  # a process with children of its own is a master, not a worker
        values = {}
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                name, _, rest = line.partition(":")
                if name in ("VmHWM", "VmRSS"):
                    values[name] = int(rest.split()[0]) / 1024
        if len(values) == 2:
            found[pid] = (values["VmHWM"], values["VmRSS"])
    return found


def _signature_blocks(manifest: dict, messages: dict[str, Message]) -> None:
    """The signature work alone, per 100-record message of each kind (denominators for the pipeline).

    xml signature: egsu_core.pki.wsse.verify_transport (c14n, digest, signature) of a parsed body;
    whole check: the gateway's egsu.signatures.services verify_transport + complete, i.e. the XML
    signature, the certificate path and a fresh OCSP round trip (a new document id each time, as
    every new message does, SIG-08), answered in process by the stand's test CA.
    """
    import uuid as _uuid

    from egsu.registry.services import system_for_sender
    from egsu.signatures import services as signatures
    from egsu_core.pki.wsse import verify_transport as verify_xml
    from egsu_core.shep.envelope import parse_request
    from egsu_core.shep.xmlparse import parse_document

    system = system_for_sender(manifest["senderId"])
    for kind, message in messages.items():
        request = parse_request(parse_document(message.body))
        xml = _median_time(lambda request=request: verify_xml(request.envelope), 15)

        def whole(request=request) -> None:
            now = datetime.now(UTC)
            check = signatures.verify_transport(request, system, at=now)
            signatures.complete(check, system, document_id="bench:" + _uuid.uuid4().hex)

        whole()  # the first one verifies the chain; every later message of the sender reuses that
        full = _median_time(whole, 15)
        _log(
            f"  signature alone, 100 records, {kind}: XML signature {_fmt_ms(xml)} ms; whole check with path and "
            f"OCSP {_fmt_ms(full)} ms"
        )


def _expect_ok(status: int, body: bytes, size: int) -> None:
    reason = check_answer(Outcome(0.0, 0.0, status, body), size)
    if reason is not None:
        raise RuntimeError(f"in-process receive() of {size} records did not succeed: {reason}")


if __name__ == "__main__":
    sys.exit(main())
