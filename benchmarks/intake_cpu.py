"""CPU time and SQL statements per signed ISUN message, in process (issue 13, INT-08).

``egsu.intake.services.receive(body)`` run in this process against a stand that ``egsu demo
--no-serve`` prepares (SQLite in a temporary var dir, or ``--database-url`` on PostgreSQL, dropped
and created afresh): no HTTP, no server. For each signature kind, 100-record messages built as
``intake.py`` builds them (every record NEW), the kinds interleaved message by message; per
message this thread's CPU time (``time.thread_time``: the figure a loaded machine skews least) and
the SQL statements Django sent (``connection.execute_wrapper``: an executemany counts once).

Compare code versions by running this file with ``PYTHONPATH`` naming the other tree: the stand is
made and the messages are processed by whichever ``egsu`` that imports.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import intake  # benchmarks/intake.py (the script's own folder is on sys.path): messages, stand
from lxml import etree
from machine import process_cpu_seconds


class _Statements:
    """Counts what Django sends to the database."""

    def __init__(self) -> None:
        self.count = 0
        self.sql: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        self.sql.append(("many " if many else "") + " ".join(str(sql).split()))
        return execute(sql, params, many, context)


def _cpu(action) -> float:
    start = time.thread_time()
    action()
    return time.thread_time() - start


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=15, help="timed messages per kind (default 15)")
    parser.add_argument("--records", type=int, default=100, help="records per message (default 100)")
    parser.add_argument("--signature", default="rsa,gost2004", help="kinds, comma-separated (default both)")
    parser.add_argument(
        "--database-url", default="", help="postgresql://…/NAME (NAME must contain 'bench'); default SQLite"
    )
    parser.add_argument(
        "--profile", default="", help="write cProfile stats of the timed messages to this file"
    )
    parser.add_argument(
        "--show-sql",
        action="store_true",
        help="print the statements of the last message (120 characters each)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = _options(argv)
    kinds = [k.strip() for k in options.signature.split(",") if k.strip()]
    if not kinds or any(k not in intake.KINDS for k in kinds):
        raise SystemExit(f"--signature takes kinds from {', '.join(intake.KINDS)}")
    var_dir = Path(tempfile.mkdtemp(prefix="egsu-bench-cpu-"))
    pg = intake.Postgres(options.database_url) if options.database_url else None
    os.environ.update({
        "EGSU_VAR_DIR": str(var_dir),
        "EGSU_DATABASE_URL": options.database_url or f"sqlite:///{var_dir / 'egsu.sqlite3'}",
        "EGSU_ENV": "embedded",
        "DJANGO_SETTINGS_MODULE": "egsu.settings",
    })  # fmt: skip
    try:
        if pg is not None:
            pg.create()
        manifest = intake.demo_stand(var_dir, intake._free_port())
        import django

        django.setup()
        from django.db import connection

        from egsu.intake.services import receive

        slots = intake._slots(manifest)
        warm = [intake.build_message(slots, 1, manifest, kind) for kind in kinds for _ in range(2)]
        plan = {
            kind: [
                intake.build_message(slots, options.records, manifest, kind) for _ in range(options.messages)
            ]
            for kind in kinds
        }
        for message in warm:  # the password hash, the chain of each kind, lazy caches: not measured
            answer = receive(message.body)
            intake._expect_ok(answer.http_status, answer.body, 1)
        profiler = cProfile.Profile() if options.profile else None
        server = _ServerCpu(connection) if pg is not None else None
        cpu: dict[str, list[float]] = {kind: [] for kind in kinds}
        statements: dict[str, list[int]] = {kind: [] for kind in kinds}
        for index in range(options.messages):
            for kind in kinds:
                counter = _Statements()
                with connection.execute_wrapper(counter):
                    start = time.thread_time()
                    if profiler is not None:
                        profiler.enable()
                    answer = receive(plan[kind][index].body)
                    if profiler is not None:
                        profiler.disable()
                    cpu[kind].append(time.thread_time() - start)
                statements[kind].append(counter.count)
                last_sql = counter.sql
                intake._expect_ok(answer.http_status, answer.body, options.records)
        server_ms = server.ms_per(options.messages * len(kinds)) if server is not None else None
        connection.close()
        if profiler is not None:
            profiler.dump_stats(options.profile)
        # The bare building block, same run: lxml's parse of the same body, this thread's CPU.
        body = plan[kinds[0]][0].body
        parse = statistics.median(_cpu(lambda: etree.fromstring(body)) for _ in range(50))
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        backend = "PostgreSQL" if pg is not None else "SQLite"
        print(f"{backend}, {options.records} records a message, load average {load}")
        for kind in kinds:
            print(
                f"  {kind}: CPU median {statistics.median(cpu[kind]) * 1000:.1f} ms "
                f"(min {min(cpu[kind]) * 1000:.1f}, of {options.messages}); SQL statements a message: "
                f"{', '.join(str(n) for n in sorted(set(statements[kind])))}; "
                f"{statistics.median(cpu[kind]) / parse:.0f}× the bare parse"
            )
        print(f"  bare lxml.etree.fromstring of the {len(body):,}-byte body: {parse * 1000:.2f} ms CPU")
        if server_ms is not None:
            print(
                f"  PostgreSQL's own CPU a message (its backend process on this machine, all kinds): {server_ms:.1f} ms"
            )
        if options.show_sql:
            print(f"  the statements of the last message ({kinds[-1]}):")
            for number, sql in enumerate(last_sql, 1):
                print(f"  {number:3d}. {sql[:120]}")
        return 0
    finally:
        if pg is not None:
            pg.drop()
        shutil.rmtree(var_dir, ignore_errors=True)


class _ServerCpu:
    """The CPU the PostgreSQL backend process of `connection` spends, read from /proc (same machine).

    The database's share of a message is work the machine does for it beside our process: on two
    cores it bounds the throughput as much as our own CPU (benchmarks/README.md, intake).
    """

    def __init__(self, connection) -> None:
        connection.ensure_connection()
        self.connection = connection
        self.pid = connection.connection.info.backend_pid
        self.start = self._seconds()

    def _seconds(self) -> float | None:
        try:
            return process_cpu_seconds(self.pid)
        except OSError:
            return None  # a server on another machine

    def ms_per(self, messages: int) -> float | None:
        """Milliseconds a message, or None when it cannot be told (another machine, a new connection)."""
        end = self._seconds()
        same = (
            self.connection.connection is not None and self.connection.connection.info.backend_pid == self.pid
        )
        if self.start is None or end is None or not same:
            return None
        return (end - self.start) / messages * 1000


if __name__ == "__main__":
    sys.exit(main())
