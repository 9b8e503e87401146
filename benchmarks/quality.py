"""Data quality (VEE) over a day of N meters on ClickHouse: the whole rule catalogue, alarms included.

    .venv/bin/python benchmarks/quality.py                  # 100,000 meters × 96 quarter hours = 9.6 million values
    .venv/bin/python benchmarks/quality.py --meters 2000    # a quick run

What it does:

1. A fresh temporary SQLite database for the Django side (migrate: the seeded rule catalogue, the
   alarms, findings and scores), and a fresh ClickHouse database for the readings store
   (scripts/ensure-clickhouse, or --clickhouse-url). Dropped at the end.
2. Load (not timed): N meters × 96 quarter hours of `A+` (kWh) generated inside the engine
   (INSERT … SELECT FROM numbers()), values varying by slot so that nothing is a flat line. One meter
   in a thousand has a negative value (slot 40), one a spike (slot 50, 500 kWh), one four missing
   slots (60–63).
3. Timed: `egsu.vee.services.run_window()` over that day exactly as the periodic job runs it —
   reading the newest revisions through the store (`value_stream`, series order, batches of 500,000
   values cut at a meter's boundary), judging each batch column-wise (egsu.vee.engine), replacing the
   window's findings, raising an alarm (source "vee") per rule and meter whose findings carry a
   severity (negative consumption: warning by default), computing the quality score. Estimation is
   off here (it is a separate pass over the gaps only).
4. Checked after the run: the number of values read, and exactly the findings and alarms planted.

The last line is `vee_values_per_s=N alarms_raised=N`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import machine  # benchmarks/machine.py (the script's own folder is on sys.path)

ROOT = Path(__file__).resolve().parent.parent
SLOTS = 96
EVERY = 1000  # one meter in this many carries each planted problem


def clickhouse_store(url: str | None):
    from egsu.readings.backends.clickhouse import ClickHouseReadingsStore, connect

    url = (
        url
        or subprocess.run(
            [str(ROOT / "scripts" / "ensure-clickhouse")], check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    connection, _database = connect(url)
    return ClickHouseReadingsStore(connection, database=f"egsu_bench_{uuid.uuid4().hex[:8]}")


def load(store, meters: int, start: datetime) -> int:
    """N meters' day of quarter hours, with the planted problems; returns the values stored."""
    from egsu.readings.clickhouse_schema import COLUMN_NAMES

    meter, slot = f"intDiv(number, {SLOTS})", f"(number % {SLOTS})"
    value = (
        f"multiIf({meter} % {EVERY} = 0 AND {slot} = 40, toDecimal128(-3, 12),"
        f" {meter} % {EVERY} = 1 AND {slot} = 50, toDecimal128(500, 12),"
        f" toDecimal128(1 + ({slot} % 7) / 10 + ({meter} % 5) / 100, 12))"
    )
    store.connection.command(
        f"INSERT INTO {store.table} ({', '.join(COLUMN_NAMES)}) SELECT"
        f" concat('TP', toString(intDiv({meter}, 50))), toString({meter}), 'A+', 'PT15M',"
        f" toDateTime({int(start.timestamp())} + {slot} * 900), 1, {value}, 'kWh', 'good', 1, 'bench', now()"
        f" FROM numbers({meters * SLOTS})"
        f" WHERE NOT ({meter} % {EVERY} = 2 AND {slot} BETWEEN 60 AND 63)"
    )
    while store.connection.query(f"SELECT count() FROM system.merges WHERE database = '{store.database}'")[0][
        0
    ]:
        time.sleep(1)
    return store.connection.query(f"SELECT count() FROM {store.table}")[0][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--meters", type=int, default=100_000)
    parser.add_argument("--clickhouse-url", default=None, help="default: scripts/ensure-clickhouse")
    args = parser.parse_args()
    print(f"$ .venv/bin/python benchmarks/quality.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"{machine.machine_line()}; commit {machine.commit()}")

    os.environ["EGSU_VAR_DIR"] = tempfile.mkdtemp(prefix="egsu-quality-bench-")
    os.environ.pop("EGSU_DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "egsu.settings"
    import django

    django.setup()
    from django.core.management import call_command

    from egsu.alarms.models import Alarm
    from egsu.vee import services
    from egsu.vee.models import Finding
    from egsu_core.clock import ASTANA

    call_command("migrate", verbosity=0)
    store = clickhouse_store(args.clickhouse_url)
    start = datetime(2025, 6, 2, tzinfo=ASTANA).astimezone(UTC)
    end = start + timedelta(days=1)
    try:
        began = time.perf_counter()
        stored = load(store, args.meters, start)
        planted = len(range(0, args.meters, EVERY))
        print(f"clickhouse: {args.meters:,} meters × {SLOTS} quarter hours, {stored:,} values stored"
              f" ({planted} negative, {len(range(1, args.meters, EVERY))} spikes,"
              f" {len(range(2, args.meters, EVERY))} gaps of 4 slots); load {time.perf_counter() - began:.0f} s,"
              " not counted")  # fmt: skip
        summary = services.run_window(start, end, now=end + timedelta(hours=1), estimate=False, store=store)
        assert summary.values == stored, (summary.values, stored)
        counts = {rule: Finding.objects.filter(rule=rule).count() for rule in ("negative", "spike", "gap")}
        expected = {
            "negative": planted,
            "spike": len(range(1, args.meters, EVERY)),
            "gap": len(range(2, args.meters, EVERY)),
        }
        assert counts == expected and Finding.objects.count() == sum(expected.values()), counts
        opened = Alarm.objects.filter(source="vee", state="open").count()
        assert summary.alarms_raised == opened == planted, (summary.alarms_raised, opened)
        rate = summary.values / summary.seconds
        print(f"run_window: {summary.values:,} values in {summary.seconds:.1f} s = {rate:,.0f} values/s;"
              f" of which judging (egsu.vee.engine) {summary.judge_seconds:.1f} s ="
              f" {summary.values / max(summary.judge_seconds, 1e-9):,.0f} values/s, the rest reading through"
              f" the store (value_stream), storing {summary.findings} findings and the scores, {summary.alarms_raised} alarms")  # fmt: skip
    finally:
        store.connection.command(f"DROP DATABASE IF EXISTS {store.database}")
    print(f"vee_values_per_s={rate:.0f} alarms_raised={summary.alarms_raised}")


if __name__ == "__main__":
    main()
