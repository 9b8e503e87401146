"""Rolling restart behind nginx (DIG-19): two `egsu web` servers behind a private nginx running
deploy/nginx/egsu.conf (tests/ops/availability.py), pages + signed ISUN messages + AMI REST batches
sent without any client retry, while each server is restarted in turn (`systemctl restart`: SIGTERM,
exit, start, ready, nginx sending to it again) and then reloaded (`systemctl reload`: SIGHUP).

    .venv/bin/python benchmarks/rolling_restart.py                       # SQLite in a temporary directory
    .venv/bin/python benchmarks/rolling_restart.py --database-url postgresql://…/egsu_roll   # an empty database

Last line: `rolling_failed=N requests=N retried_by_nginx=N stored_twice=N acknowledged_missing=N seconds_down=N`.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

import machine  # benchmarks/machine.py (the script's own folder is on sys.path)

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=400, help="distinct ISUN messages (then resent)")
    parser.add_argument("--batches", type=int, default=200, help="distinct AMI batches (then resent)")
    parser.add_argument("--meters", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--pause", type=float, default=0.02, help="seconds between one sender's requests")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    machine.setup_django()
    from tests.intake.conftest import DEMO_PASSWORD
    from tests.ops.availability import rolling_restart
    from tests.ops.conftest import egsu_env

    print("command:", shlex.join([sys.executable, *sys.argv]))
    print("load average before:", Path("/proc/loadavg").read_text().strip())
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="egsu-roll-") as folder:
        var = Path(folder) / "var"
        env = egsu_env(var, args.database_url or f"sqlite:///{var / 'egsu.sqlite3'}")
        outcome = rolling_restart(
            Path(folder), env, password=DEMO_PASSWORD, meters=args.meters, messages=args.messages,
            batches=args.batches, workers=args.workers, pause=args.pause,
        )  # fmt: skip
    load = outcome.load
    print("steps (seconds since the load started):")
    for what, at in outcome.steps:
        print(f"  {at:7.1f}  {what}")
    counts = load.counts()
    print(f"requests: {sum(counts.values())} ({dict(counts)}), over {outcome.steps[-1][1]:.1f} s")
    retried = sum(n for upstream, n in load.upstreams.items() if ", " in upstream)
    print(f"answered by: {dict(load.upstreams)}  (two addresses: nginx retried on the other server)")
    for kind in ("page", "isun", "ami"):
        times = sorted(ms for k, _, ms, outcome_ in load.samples if k == kind and outcome_ == "ok")
        if times:
            print(f"{kind}: p50 {times[len(times) // 2]:.0f} ms, max {times[-1]:.0f} ms")
    failed = load.failed()
    print(f"failed: {failed[:20] or 'none'}")
    stored = outcome.stored
    print(
        f"stored: {stored}; acknowledged distinct: {args.messages} messages, {args.batches} batches expected"
    )
    # the time each restarted server was away (SIGTERM to ready), the balancer covering for it
    down = 0.0
    marks = dict(outcome.steps)
    for what, at in outcome.steps:
        if what.endswith(": SIGTERM") and what.startswith("restart"):
            down += marks[what.replace("SIGTERM", "ready")] - at
    print(
        "load average after:",
        Path("/proc/loadavg").read_text().strip(),
        f"; {time.monotonic() - t0:.0f} s in all",
    )
    twice = stored["messages_twice"] + stored["revised"]
    missing = stored["acknowledged_missing"]
    print(f"acknowledged but not stored: {missing or 'none'}")
    print(
        f"rolling_failed={len(failed)} requests={sum(counts.values())} retried_by_nginx={retried} "
        f"stored_twice={twice} acknowledged_missing={len(missing)} seconds_down={down:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
