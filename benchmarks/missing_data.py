"""The missing-data alarm rule (INT-10) over many meters: how long one evaluation takes.

    EGSU_DATABASE_URL=postgresql://egsu:egsu@127.0.0.1:5432/egsu_alarms_bench \\
        .venv/bin/python benchmarks/missing_data.py --meters 20000 --reporting 2000

Makes a utility with --meters electricity meters (PT15M), of which --reporting sent every slot of
the last day (ledger rows), the rest nothing; then times `evaluate_missing_data` twice: the first
run raises the alarm (one for the subject: more than 20 of its meters are silent), the second
only folds the repeat. Last line: `meters=N seconds_first=S seconds_again=S alarms=N`.
The database is flushed first: use a database of its own (its name must contain "bench").
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egsu.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=20000)
    parser.add_argument("--reporting", type=int, default=2000)
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if "bench" not in str(connection.settings_dict["NAME"]):
        sys.exit("use a database whose name contains 'bench' (it is flushed)")
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    from egsu.alarms.models import Alarm
    from egsu.alarms.sources import LOOKBACK, evaluate_missing_data, missing_data_delay
    from egsu.ami import services
    from egsu.ami.models import Meter, MeteringObject
    from egsu.monitoring.models import Arrival
    from egsu.monitoring.slots import slots_between
    from egsu.points.models import MeteringPoint
    from egsu.registry.models import Subject
    from egsu.registry.services import load_dictionaries
    from egsu_core.clock import astana_date, utcnow

    load_dictionaries()
    now = utcnow()
    subject = Subject.objects.create(bin="990140000011", name="Bench utility", region="Astana")
    obj = MeteringObject.objects.create(code="TP-B", kind="transformer_point", name="TP", region="Astana")
    started = time.perf_counter()
    services.register_meters(
        [Meter(subject=subject, metering_object=obj, energy="electricity", meter_type="1P", model="M",
               serial_number=f"B{n:08d}", verified_on=date(2024, 1, 1), verification_due=date(2032, 1, 1))
         for n in range(args.meters)],
        ("A+",), validate=False,
    )  # fmt: skip
    MeteringPoint.objects.update(owes_from=astana_date(now) - timedelta(days=3))
    slots = [
        s for s in slots_between("PT15M", astana_date(now - LOOKBACK) - timedelta(days=1), astana_date(now),
                                 due_by=now - missing_data_delay())
        if s.due_at >= now - LOOKBACK
    ]  # fmt: skip
    points = list(MeteringPoint.objects.order_by("pk")[: args.reporting])
    rows = [
        Arrival(object_id=p.object_code, device_id=p.store_device_id, interval="PT15M", period_start=s.period_start,
                day=s.day, subject=subject, point=p, due_at=s.due_at, first_received_at=s.due_at,
                last_received_at=s.due_at, accepted_at=s.due_at, on_time=True, status="accepted")
        for p in points for s in slots
    ]  # fmt: skip
    Arrival.objects.bulk_create(rows, batch_size=5000)
    print(f"setup: {args.meters} meters, {len(rows)} ledger rows in {time.perf_counter() - started:.1f} s")
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        result = evaluate_missing_data(now)
        timings.append(time.perf_counter() - started)
    alarms = Alarm.objects.filter(state="open").count()
    silent = args.meters - args.reporting
    assert alarms == (silent if silent <= 20 else 1), (alarms, result)
    print(
        f"meters={args.meters} seconds_first={timings[0]:.2f} seconds_again={timings[1]:.2f} alarms={alarms}"
    )


if __name__ == "__main__":
    main()
