"""The claims of ClickHouse writes kept up (ADR 0013 amendment): filling them from a store, pruning them,
and what a write for a slot whose claim was pruned costs against one whose claim is there.

    .venv/bin/python benchmarks/claims.py                     # 500,000 values, claims in a SQLite file
    .venv/bin/python benchmarks/claims.py --rows 2000000 --claims-url postgresql://egsu:egsu@127.0.0.1:5432/egsu_bench

The values are generated inside the engine (not timed): --meters meters × 15-minute values ending 40
days ago. Bare building blocks measured in the same run: streaming every value through the store's
`rows()` (what the fill reads) and one plain `DELETE` of as many claims (what pruning deletes).
Then --claim-batches batches of 4,000 new keys are claimed as the AMI intake claims them: the CPU a
claim, and the size of a SQLite claims file. Last line: `fill_values_per_s=N prune_claims_per_s=N
pruned_slot_write_ms=N claimed_write_ms=N new_claim_us=N`.
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
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import commit, machine_line  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--meters", type=int, default=1_000, help="at least 1,000")
    parser.add_argument("--batches", type=int, default=20, help="write batches of 1,000 values per kind")
    parser.add_argument("--clickhouse-url", default=None)
    parser.add_argument("--claims-url", default=None, help="default: a SQLite file in a temporary folder")
    parser.add_argument(
        "--claim-batches", type=int, default=250, help="batches of 4,000 new keys claimed at the end"
    )
    args = parser.parse_args()
    if args.meters < 1_000 or args.rows // args.meters <= args.batches:
        parser.error("--meters at least 1,000 and more values per meter than --batches")
    print(f"command: {' '.join([sys.executable, *sys.argv])}")  # noqa: T201
    print(f"{machine_line()}; commit {commit()}; load average {os.getloadavg()[0]:.2f}")  # noqa: T201
    from egsu.readings.backends.clickhouse import ClickHouseReadingsStore
    from egsu.readings.clickhouse_schema import COLUMN_NAMES
    from egsu.readings.store import ReadingQuery, ReadingRow, SeriesKey

    url = (
        args.clickhouse_url
        or subprocess.run(
            [str(ROOT / "scripts" / "ensure-clickhouse")], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    folder = tempfile.mkdtemp(prefix="egsu-bench-claims-")
    claims_url = args.claims_url or f"sqlite:///{folder}/claims.sqlite3"
    store = ClickHouseReadingsStore.from_url(
        f"{url.rsplit('/', 1)[0]}/egsu_bench_{uuid.uuid4().hex[:8]}", claims_url=claims_url
    )
    claims = store.claims
    per_meter = args.rows // args.meters
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = int((now - timedelta(days=40) - timedelta(minutes=15 * per_meter)).timestamp())
    try:
        store.connection.command(
            f"INSERT INTO {store.table} ({', '.join(COLUMN_NAMES)}) SELECT concat('R', toString(intDiv(number, "
            f"{per_meter}))), '1', 'energyActiveImport', 'PT15M', toDateTime({start} + (number % {per_meter}) * 900),"
            f" 1, toDecimal128(number % 997, 12), 'kWh', 'good', 1, 'bench', now() FROM numbers({args.rows})"
        )
        began = time.monotonic()
        streamed = sum(1 for _row in store.rows(ReadingQuery()))
        read_s = time.monotonic() - began
        began = time.monotonic()
        filled = store.fill_claims(page_size=50_000)
        fill_s = time.monotonic() - began
        assert filled.read == filled.written == streamed == args.rows == claims.count(), (filled, streamed)
        cutoff = int((now - timedelta(days=35)).timestamp())
        claims.prune_min_age_s = 0  # the figures, not the rule: prune what was just filled
        began = time.monotonic()
        pruned = claims.prune(cutoff, batch=10_000)
        prune_s = time.monotonic() - began
        assert pruned.deleted == args.rows and claims.count() == 0
        store.fill_claims(page_size=50_000, restart=True)
        began = time.monotonic()
        claims._run(f"DELETE FROM {claims.claims_table} WHERE period_start < {claims.placeholder}", (cutoff,))
        delete_s = time.monotonic() - began

        def batch(k: int, moment: datetime) -> list[ReadingRow]:
            """Slot k of meters R0…R999, with the value the engine generated for it."""
            return [
                ReadingRow(SeriesKey(f"R{meter}", "1", "energyActiveImport"), "PT15M", moment,
                           Decimal((meter * per_meter + k) % 997), "kWh", "good", "bench")
                for meter in range(1_000)
            ]  # fmt: skip

        # pruned slots: each batch 1,000 slots ClickHouse holds and no claim (answered from the store)
        old = [batch(k, datetime.fromtimestamp(start + 900 * k, UTC)) for k in range(args.batches)]
        # claimed slots: 1,000 recent slots, claimed once, then sent again (answered from the claims)
        recent = batch(0, now - timedelta(hours=3))
        store.write(recent)
        timings = {"pruned": [], "claimed": []}
        for rows in old:
            began = time.monotonic()
            outcomes = store.write(rows)
            timings["pruned"].append(time.monotonic() - began)
            assert all(o.value == "DUPLICATE" for o in outcomes)
            began = time.monotonic()
            store.write(recent)
            timings["claimed"].append(time.monotonic() - began)
        claim_us, claim_mean_us, claim_mib = _claim_new_keys(claims, args.claim_batches, now, folder)
        pruned_ms = 1000 * sorted(timings["pruned"])[len(old) // 2]
        claimed_ms = 1000 * sorted(timings["claimed"])[len(old) // 2]
        print(  # noqa: T201
            f"{args.rows:,} values of {args.meters} meters; claims in {claims_url.split(':')[0]}\n"
            f"read (rows(), bare):  {read_s:.1f} s = {streamed / read_s:,.0f} values/s\n"
            f"fill:                 {fill_s:.1f} s = {args.rows / fill_s:,.0f} values/s ({fill_s / read_s:.1f}× the read)\n"
            f"prune (batches 10k):  {prune_s:.1f} s = {args.rows / prune_s:,.0f} claims/s"
            f" (one plain DELETE: {delete_s:.1f} s, {prune_s / delete_s:.1f}×)\n"
            f"write of 1,000 values, median of {len(old)}: pruned slots {pruned_ms:.0f} ms,"
            f" claimed slots {claimed_ms:.0f} ms ({pruned_ms / claimed_ms:.1f}×)\n"
            f"claims of new keys, {args.claim_batches:,} batches of 4,000 (CPU µs a claim, by quarter of the"
            f" run): {' / '.join(f'{us:.2f}' for us in claim_us)}, all {claim_mean_us:.2f}"
            + (f"; the claims file then {claim_mib:,.0f} MiB" if claim_mib is not None else "")
        )
        print(  # noqa: T201
            f"fill_values_per_s={args.rows / fill_s:.0f} prune_claims_per_s={args.rows / prune_s:.0f} "
            f"pruned_slot_write_ms={pruned_ms:.0f} claimed_write_ms={claimed_ms:.0f} "
            f"new_claim_us={claim_mean_us:.2f}"
        )
    finally:
        store.connection.command(f"DROP DATABASE IF EXISTS {store.database}")
        claims.drop()


def _claim_new_keys(
    claims, batches: int, now: datetime, folder: str
) -> tuple[list[float], float, float | None]:
    """`Claims.claim` of batches of 4,000 new keys (a head-end's quarter hour of 1,000 meters × 4
    channels, as the AMI intake claims them): this thread's CPU µs a claim in each quarter of the
    run and over all of it, and the size of a SQLite claims file afterwards (None on PostgreSQL)."""
    from egsu.readings.claims import PRUNE_MIN_AGE_S

    claims.prune_min_age_s = PRUNE_MIN_AGE_S  # recent slots: no lookup of pruned claims, as live data
    first = int((now - timedelta(days=2)).timestamp()) // 900 * 900
    channels = ("A+", "A-", "R+", "R-")
    cpu: list[float] = []
    for n in range(batches):
        period, group = first + 900 * (n // 5), n % 5
        entries = [
            ("TP-1", f"N{meter:07d}", channel, "PT15M", period, "12.25", "kWh", "good")
            for meter in range(group * 1_000, group * 1_000 + 1_000) for channel in channels
        ]  # fmt: skip
        began = time.thread_time()
        revisions, _intent = claims.claim(entries, lambda revisions: None)
        cpu.append(time.thread_time() - began)
        assert revisions == [1] * len(entries)
    bounds = [batches * q // 4 for q in range(5)]  # four quarters, every batch in one of them
    per_claim = [
        1e6 * sum(cpu[a:b]) / (4_000 * (b - a)) for a, b in zip(bounds, bounds[1:], strict=False) if b > a
    ]
    mean = 1e6 * sum(cpu) / (4_000 * len(cpu))
    files = list(Path(folder).glob("claims.sqlite3*"))
    return per_claim, mean, (sum(f.stat().st_size for f in files) / 2**20 if files else None)


if __name__ == "__main__":
    main()
