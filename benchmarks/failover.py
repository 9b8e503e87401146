"""Failover drills (DIG-19, DIG-13), with the machinery of tests/ops/availability.py:

`postgres`: a private primary and synchronous streaming replica (ports 5470–5479), the System (`egsu web`)
on `postgresql://…@primary,replica/egsu?target_session_attrs=read-write`, ISUN and AMI senders that
resend until acknowledged; the primary crashes (`pg_ctl stop -m immediate`), the replica is promoted
(`pg_ctl promote`) `--promote-after` seconds later. Prints the outage seen by the senders and what the
new primary holds.

`clickhouse`: one shard of `--replicas` ClickHouse servers and a ZooKeeper (ports 19710–19799), the
readings store on every host's URL, a writer (a batch of 50 values every 0.1 s, resent when it fails)
and a reader; replica `--kill` is SIGKILLed and started again `--down` seconds later.

    .venv/bin/python benchmarks/failover.py postgres
    .venv/bin/python benchmarks/failover.py clickhouse --replicas 3 --quorum 2 --kill 2
    .venv/bin/python benchmarks/failover.py clickhouse --replicas 2 --quorum 2 --kill 0   # 18.16's stall

Last line: `failover=postgres acknowledged=N lost=N stored_twice=N outage_s=N` or
`failover=clickhouse writes_failed=N reads_failed=N lost=N stored_twice=N catch_up_s=N`.
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
    parser.add_argument("drill", choices=("postgres", "clickhouse"))
    parser.add_argument("--messages", type=int, default=60)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--promote-after", type=float, default=1.0)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--quorum", type=int, default=2, help="insert_quorum (1: off)")
    parser.add_argument(
        "--kill", type=int, default=0, help="which replica (0: the one the store enters through)"
    )
    parser.add_argument("--down", type=float, default=8.0, help="seconds the replica stays down")
    args = parser.parse_args()
    machine.setup_django()
    print("command:", shlex.join([sys.executable, *sys.argv]))
    print("load average before:", Path("/proc/loadavg").read_text().strip())
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="egsu-failover-") as folder:
        line = (_postgres if args.drill == "postgres" else _clickhouse)(args, Path(folder))
    print(
        "load average after:",
        Path("/proc/loadavg").read_text().strip(),
        f"; {time.monotonic() - t0:.0f} s in all",
    )
    print(line)
    return 0


def _postgres(args, folder: Path) -> str:
    from tests.intake.conftest import DEMO_PASSWORD
    from tests.ops.availability import PostgresPair, failover

    pair = PostgresPair()
    print(f"primary 127.0.0.1:{pair.ports[0]}, replica 127.0.0.1:{pair.ports[1]}; the System on {pair.url()}")
    try:
        outcome = failover(folder, pair, password=DEMO_PASSWORD, messages=args.messages, batches=args.batches,
                           promote_after=args.promote_after)  # fmt: skip
    finally:
        pair.stop()
    for what, at in outcome.steps:
        print(f"  {at:7.2f} s  {what}")
    print(
        f"attempts: {outcome.attempts}, failed (no answer, SCE909 or 503, then resent): {outcome.failed_attempts}"
    )
    print(
        f"outage seen by the senders: {outcome.outage_s:.2f} s (first failed answer to the first acknowledgement after)"
    )
    stored = outcome.stored
    print(f"on the new primary: {stored}")
    expected = args.messages + args.batches
    lost = expected - min(expected, stored["messages"] + stored["batches"])
    twice = stored["messages_twice"] + stored["revised"]
    return (
        f"failover=postgres acknowledged={len(outcome.acknowledged)} lost={lost} stored_twice={twice} "
        f"outage_s={outcome.outage_s:.2f}"
    )


def _clickhouse(args, folder: Path) -> str:
    from collections import Counter

    from tests.ops.availability import ReplicatedClickHouse, replica_lost

    cluster = ReplicatedClickHouse(folder, args.replicas, insert_quorum=args.quorum)
    try:
        cluster.start()
        print(f"ZooKeeper 127.0.0.1:{cluster.zk_port}; replicas {cluster.ports}; insert_quorum={args.quorum}")
        outcome = replica_lost(folder, cluster, kill=args.kill, kill_at=3.0, down_s=args.down, after_s=3.0)
    finally:
        cluster.stop()
    for what, at in outcome.steps:
        print(f"  {at:7.2f} s  {what}")
    writes_failed = [(round(at, 2), what[:160]) for at, what in outcome.writes if what != "ok"]
    reads_failed = [(round(at, 2), what[:160]) for at, what in outcome.reads if what != "ok"]
    killed, back = outcome.steps[0][1], outcome.steps[2][1]
    during = Counter(what for at, what in outcome.writes if killed < at < back)
    print(f"writes: {len(outcome.writes)} attempts; while the replica was down: {dict(during)}")
    print(f"writes failed: {writes_failed or 'none'}")
    print(f"reads: {len(outcome.reads)}; failed: {reads_failed or 'none'}")
    print(
        f"acknowledged rows {outcome.acknowledged_rows}, stored {outcome.stored_rows}, per replica {outcome.replica_rows}"
    )
    lost = outcome.acknowledged_rows - min(outcome.acknowledged_rows, outcome.stored_rows)
    return (
        f"failover=clickhouse writes_failed={len(writes_failed)} reads_failed={len(reads_failed)} lost={lost} "
        f"stored_twice={outcome.stored_twice} catch_up_s={outcome.catch_up_s:.1f}"
    )


if __name__ == "__main__":
    sys.exit(main())
