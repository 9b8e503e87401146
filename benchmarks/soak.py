"""Soak (issue 17 item 5): a real `egsu web` under a steady load of both feeds for a while.

Signed ISUN messages at `--isun-per-hour` (default 20,000: ten times the order's peak of 2,000 an
hour) and AMI REST batches carrying `--ami-values-per-s` values, for `--seconds` (600 for the CI-size
run, 3600 for the full hour). Reports errors (transport errors and answers other than 200), latency
percentiles per feed and per tenth of the run (stable or not), and the web workers' resident memory
at the first and the last tenth (growth). The store is the default SQLite in a temporary directory,
or `--database-url` (a PostgreSQL database of its own, empty).

    .venv/bin/python benchmarks/soak.py --seconds 60            # a quick look
    .venv/bin/python benchmarks/soak.py                         # 10 minutes

Last line: `soak_errors=N rss_growth_mb=N p99_ms=N`.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import machine  # benchmarks/machine.py (the script's own folder is on sys.path)

ROOT = Path(__file__).resolve().parent.parent


def _rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--isun-per-hour", type=int, default=20_000)
    parser.add_argument("--ami-values-per-s", type=int, default=2_000)
    parser.add_argument("--meters", type=int, default=200, help="AMI meters (4 channels each)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    machine.setup_django()
    from egsu_core.pki.keys import load_identity
    from tests.ami.conftest import DAY, document, quarter_values
    from tests.intake.conftest import DEMO_PASSWORD
    from tests.ops.conftest import egsu_env, isun_message
    from tests.ops.drills import gunicorn_workers, seed
    from tests.readings.store_backends import free_port_block

    print("command:", shlex.join([sys.executable, *sys.argv]))
    with tempfile.TemporaryDirectory(prefix="egsu-soak-") as folder:
        var = Path(folder) / "var"
        env = egsu_env(var, args.database_url or f"sqlite:///{var / 'egsu.sqlite3'}")
        world = seed(env, args.meters, DEMO_PASSWORD)
        stand = world["stand"]
        owner = next(s for s in stand["subjects"] if s["bin"] == stand["facilities"][0]["subject_bin"])
        identity = load_identity(Path(owner["sign_key"]).read_bytes(), Path(owner["sign_cert"]).read_bytes())
        meters = [SimpleNamespace(pk=pk, serial_number=serial) for pk, serial in world["meters"]]
        port = free_port_block(1)
        log = (Path(folder) / "web.log").open("w")
        server = subprocess.Popen(
            [sys.executable, "-m", "egsu.cli", "web", "--port", str(port), "--workers", str(args.workers)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                try:
                    if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            results = _soak(args, base, stand, identity, meters, world["token"], isun_message, document,
                            quarter_values, DAY, lambda: gunicorn_workers(server.pid))  # fmt: skip
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    return _report(args, results)


def _soak(args, base, stand, identity, meters, token, isun_message, document, quarter_values, day, workers):
    started = time.monotonic()
    end = started + args.seconds
    lock = threading.Lock()
    samples: list[tuple[str, float, float, str]] = []  # (feed, offset s, latency ms, outcome)
    rss: dict[int, float] = {}
    counter = {"isun": 0, "ami": 0}

    def record(feed: str, at: float, latency: float, outcome: str) -> None:
        with lock:
            samples.append((feed, at - started, latency, outcome))

    def paced(feed: str, every: float, send) -> None:
        with httpx.Client(timeout=60) as client:
            while True:
                with lock:
                    n = counter[feed]
                    counter[feed] += 1
                due = started + n * every
                # the run ends at --seconds even when the machine cannot keep the pace: what was not
                # sent is reported as the offered load's shortfall, not sent after the end
                if due >= end or time.monotonic() >= end:
                    return
                time.sleep(max(0.0, due - time.monotonic()))
                t0 = time.monotonic()
                try:
                    answer = send(client, n)
                    outcome = "ok" if answer.status_code == 200 else f"http-{answer.status_code}"
                except httpx.HTTPError as error:
                    outcome = type(error).__name__
                record(feed, t0, (time.monotonic() - t0) * 1000, outcome)

    def isun(client, n):
        body = isun_message(stand, identity, hours_back=4 + 2 * (n % 24))
        return client.post(base + "/shep/SyncChannel", content=body, headers={"Content-Type": "text/xml"})

    per_batch = len(meters) * 4

    def ami(client, n):
        items = quarter_values(meters, quarters=1, day=day + timedelta(minutes=15 * n))
        return client.post(
            base + "/api/ami/v1/batches", json=document(f"soak-{n}", intervals=items),
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip

    threads = [
        threading.Thread(target=paced, args=("isun", 3600 / args.isun_per_hour, isun)) for _ in range(4)
    ] + [
        threading.Thread(target=paced, args=("ami", per_batch / args.ami_values_per_s, ami)) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    tenth = args.seconds / 10
    for k in range(10):
        time.sleep(max(0.0, started + (k + 0.5) * tenth - time.monotonic()))
        rss[k] = _rss_mb(workers())
    for thread in threads:
        thread.join()
    return SimpleNamespace(samples=samples, rss=rss, per_batch=per_batch, seconds=time.monotonic() - started)


def _report(args, results) -> int:
    samples = results.samples
    errors = Counter(outcome for _, _, _, outcome in samples if outcome != "ok")
    offered = {
        "isun": args.isun_per_hour * args.seconds / 3600,
        "ami": args.ami_values_per_s * args.seconds / results.per_batch,
    }
    for feed in ("isun", "ami"):
        times = [ms for f, _, ms, outcome in samples if f == feed and outcome == "ok"]
        sent = sum(1 for f, *_ in samples if f == feed)
        print(
            f"{feed}: {sent} requests ({sent / results.seconds:.2f}/s; {100 * sent / offered[feed]:.0f} % of the offered "
            f"{offered[feed]:.0f}), p50 {_percentile(times, 0.5):.0f} ms, p99 {_percentile(times, 0.99):.0f} ms"
        )
    tenth = args.seconds / 10
    print("per tenth (p99 ms, rss MB):")
    for k in range(10):
        times = [
            ms for _, at, ms, outcome in samples if outcome == "ok" and k * tenth <= at < (k + 1) * tenth
        ]
        print(f"  {k + 1:2d}: p99 {_percentile(times, 0.99):6.0f} ms   rss {results.rss.get(k, 0):7.1f} MB")
    print(f"errors: {dict(errors) or 'none'}")
    every = [ms for _, _, ms, outcome in samples if outcome == "ok"]
    growth = results.rss.get(9, 0) - results.rss.get(0, 0)
    print(f"latency over all: median {statistics.median(every) if every else 0:.0f} ms")
    print(
        f"soak_errors={sum(errors.values())} rss_growth_mb={growth:.1f} p99_ms={_percentile(every, 0.99):.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
