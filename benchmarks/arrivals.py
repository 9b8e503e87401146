"""Arrivals page time at national scale: 1,000 subjects, 20,000 devices, 10,000 meters, a year of data.

What it does (``--help`` for the options):

1. makes a fresh temporary var dir with a SQLite database there (or, with ``--database-url``, uses a
   PostgreSQL database whose name contains ``bench``: it is flushed by migrate/flush and left empty);
2. builds the world with bulk inserts straight into the registry and the monitoring rollups (not
   through the intake): subjects in 17 regions, 5 facilities of kind 1.2 per subject and 4 devices
   per facility, installed 400 days ago, plus ``--meters-per-subject`` electricity meters (15-minute
   channel) on one transformer point per subject; the metering points are derived from them as in
   production (egsu.points.services.refresh_all); per (subject, energy, Astana day) and per
   (metering point, Astana day) rows for PT2H and P1D (devices) and PT15M (meters) with seeded random
   on-time/late/rejected counts: subject rows for the last 365 days, point rows for the last
   ``--device-days`` (92 by default, to keep setup short; only the subject page reads them);
3. signs in an operator and times GETs with the Django test Client (several runs, median): the
   default-period page (last 7 days by subject), the same by region and nationally, a full year by
   subject, and one subject's page for a full year; every answer must be HTTP 200 with the numbers.

The last line is ``arrivals_page_ms=N``: the median of the default-period page.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REGIONS = [f"Region {n:02d}" for n in range(17)]
FACILITIES_PER_SUBJECT = 5
DEVICES_PER_FACILITY = 4
BATCH = 20_000


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365, help="days of rollups (a year)")
    parser.add_argument("--runs", type=int, default=7, help="timed GETs per page (median reported)")
    parser.add_argument(
        "--meters-per-subject", type=int, default=10, help="AMI electricity meters per subject"
    )
    parser.add_argument("--database-url", default="", help="postgresql://…/…bench… (default: temp SQLite)")
    parser.add_argument(
        "--device-days",
        type=int,
        default=92,
        help="days of per-device rollups (the subject page); a year: 365",
    )
    return parser.parse_args()


def _environment(options) -> Path:
    var_dir = Path(tempfile.mkdtemp(prefix="egsu-bench-arrivals-"))
    os.environ["EGSU_VAR_DIR"] = str(var_dir)
    os.environ["EGSU_ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egsu.settings")
    if options.database_url:
        if "bench" not in options.database_url.rsplit("/", 1)[-1]:
            raise SystemExit("--database-url: the database name must contain 'bench'")
        os.environ["EGSU_DATABASE_URL"] = options.database_url
    else:
        os.environ["EGSU_DATABASE_URL"] = "sqlite:///" + str(var_dir / "bench.sqlite3")
    return var_dir


def _insert(cursor, table: str, columns: list[str], rows) -> int:
    """executemany in batches; plain tuples, one transaction per batch."""
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    total, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            cursor.executemany(sql, batch)
            total += len(batch)
            batch = []
    if batch:
        cursor.executemany(sql, batch)
        total += len(batch)
    return total


def _build(options, today: date) -> dict:
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    from egsu.access.models import Profile
    from egsu.ami.models import Channel, Meter, MeteringObject
    from egsu.monitoring.models import PointDay, SubjectDay
    from egsu.points.models import MeteringPoint
    from egsu.points.services import refresh_all
    from egsu.registry.models import Device, Facility, Subject

    rng = random.Random(20250601)
    installed = today - timedelta(days=400)
    subjects = Subject.objects.bulk_create(
        [
            Subject(bin=f"{900000000000 + n:012d}", name=f"Subject {n:04d}", region=REGIONS[n % len(REGIONS)])
            for n in range(options.subjects)
        ],
        batch_size=5000,
    )
    facilities = Facility.objects.bulk_create(
        [
            Facility(
                object_id=f"O{s.pk:05d}{f}", kind="1.2", subject=s, name=f"Tank farm {f}", region=s.region
            )
            for s in subjects
            for f in range(FACILITIES_PER_SUBJECT)
        ],
        batch_size=5000,
    )
    devices = Device.objects.bulk_create(
        [
            Device(facility=f, device_id=str(d + 1), device_type_id=1, installed_at=installed)
            for f in facilities
            for d in range(DEVICES_PER_FACILITY)
        ],
        batch_size=5000,
    )
    places = MeteringObject.objects.bulk_create(
        [
            MeteringObject(
                code=f"TP{s.pk:05d}", kind="transformer_point", name=f"TP {s.pk}", region=s.region, subject=s
            )
            for s in subjects
        ],
        batch_size=5000,
    )
    meters = Meter.objects.bulk_create(
        [
            Meter(
                subject=p.subject,
                metering_object=p,
                energy="electricity",
                meter_type="1P",
                model="CE-102",
                serial_number=f"E{p.pk:05d}{m:03d}",
                account=f"A{p.pk:05d}{m:03d}",
            )  # fmt: skip
            for p in places
            for m in range(options.meters_per_subject)
        ],
        batch_size=5000,
    )
    Channel.objects.bulk_create(
        [Channel(meter=m, code="A+", unit="kWh", interval="PT15M") for m in meters], batch_size=5000
    )
    refresh_all()  # bulk inserts send no signals: derive the points as `egsu init` would
    by_subject: dict[tuple[int, str], list[int]] = {}
    for point_pk, subject_pk, energy in MeteringPoint.objects.values_list("pk", "subject_id", "energy"):
        by_subject.setdefault((subject_pk, energy), []).append(point_pk)
    first_day = today - timedelta(days=options.days - 1)
    device_first = today - timedelta(days=min(options.device_days, options.days) - 1)
    device_rows = subject_rows = 0  # device_rows: point-day rows

    def pool(n: int) -> list[tuple[int, int, int]]:
        """Seeded (on_time, late, rejected) outcomes for a device-day of n slots: mostly complete."""
        found = []
        for _ in range(997):
            on_time = sum(1 for _ in range(n) if rng.random() < 0.9)
            late = sum(1 for _ in range(n - on_time) if rng.random() < 0.5)
            rejected = 1 if n - on_time - late and rng.random() < 0.3 else 0
            found.append((on_time, late, rejected))
        return found

    outcomes = {"oil_gas": {"PT2H": pool(12), "P1D": pool(1)}, "electricity": {"PT15M": pool(96)}}
    columns = ["day", "interval", "on_time", "late", "rejected"]
    subject_day: list[tuple] = []
    with transaction.atomic(), connection.cursor() as cursor:
        device_day: list[tuple] = []
        for offset in range(options.days):
            day = first_day + timedelta(days=offset)
            for (subject_pk, energy), device_pks in by_subject.items():
                for interval, choices in outcomes[energy].items():
                    picked = rng.choices(choices, k=len(device_pks))
                    subject_day.append((
                        subject_pk, energy, day, interval,
                        sum(p[0] for p in picked), sum(p[1] for p in picked), sum(p[2] for p in picked),
                    ))  # fmt: skip
                    if day >= device_first:
                        device_day.extend(
                            (pk, day, interval, *p) for pk, p in zip(device_pks, picked, strict=True)
                        )
            if len(device_day) >= 200_000:
                device_rows += _insert(cursor, PointDay._meta.db_table, ["point_id", *columns], device_day)
                device_day = []
        device_rows += _insert(cursor, PointDay._meta.db_table, ["point_id", *columns], device_day)
        subject_rows += _insert(
            cursor, SubjectDay._meta.db_table, ["subject_id", "energy", *columns], subject_day
        )
    user = User.objects.create_user("bench-operator", password="bench-Password-123")
    Profile.objects.create(user=user, role="operator")
    return {
        "subjects": len(subjects),
        "facilities": len(facilities),
        "devices": len(devices),
        "meters": len(meters),
        "subject_day_rows": subject_rows,
        "device_day_rows": device_rows,
        "user": user,
        "sample_bin": subjects[0].bin,
    }


def _time_page(client, url: str, runs: int, check) -> tuple[float, list[float], float]:
    """Median wall-clock ms, every run's, and the median CPU ms of this process (SQLite runs in it,
    so on a shared machine the CPU time tells a slower page from a starved process)."""
    response = client.get(url)  # warm-up: templates, translations, connection
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}")
    check(response)
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}")
    return statistics.median(times), times, statistics.median(cpu)


def main() -> int:
    options = _options()
    var_dir = _environment(options)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from egsu_core.clock import astana_date, utcnow

    print("command:", shlex.join([sys.executable, *sys.argv]))
    print(
        f"machine: {platform.platform()}; {os.cpu_count()} CPUs; Python {platform.python_version()}; "
        f"Django {django.get_version()}; database {connection.vendor} "
        f"{connection.Database.sqlite_version if connection.vendor == 'sqlite' else ''}".rstrip()
    )
    print(f"var dir: {var_dir}")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter()
    today = astana_date(utcnow())
    world = _build(options, today)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    built = time.perf_counter()
    print(
        f"setup: migrate {migrated - started:.1f} s, build {built - migrated:.1f} s — "
        f"{world['subjects']:,} subjects, {world['facilities']:,} facilities, {world['devices']:,} devices, "
        f"{world['meters']:,} meters, {world['subject_day_rows']:,} subject-day rows, "
        f"{world['device_day_rows']:,} point-day rows ({options.days} days: "
        f"{(world['devices'] * 13 + world['meters'] * 96) * options.days:,} slots owed)"
    )
    client = Client()
    client.force_login(world["user"])
    year = f"start={today - timedelta(days=options.days - 1)}&end={today}"

    def national_numbers(response):
        """The first tile is the expected total: it must be there and not zero."""
        found = re.search(rb'<span class="value">(\d+)</span><span class="label">', response.content)
        if not found or int(found.group(1)) == 0:
            raise SystemExit("the page shows no expected slots")

    pages = [
        ("default period (7 days), by subject", "/cabinet/monitoring/"),
        ("7 days, by region", "/cabinet/monitoring/?group=region"),
        ("7 days, national", "/cabinet/monitoring/?group=national"),
        ("7 days, electricity by subject", "/cabinet/monitoring/?energy=electricity"),
        (f"{options.days} days, by subject", f"/cabinet/monitoring/?{year}&group=subject"),
        (f"{options.days} days, national", f"/cabinet/monitoring/?{year}&group=national"),
        (
            f"one subject's page, {options.days} days",
            f"/cabinet/monitoring/subjects/{world['sample_bin']}/?{year}",
        ),
    ]
    results = {}
    for label, url in pages:
        check = national_numbers if "subjects/" not in url else (lambda r: None)
        median, times, cpu = _time_page(client, url, options.runs, check)
        results[label] = median
        print(
            f"{label:<40} median {median:8.1f} ms, CPU {cpu:8.1f} ms  (runs: {', '.join(f'{t:.0f}' for t in times)})"
        )
    print(f"grace: {getattr(settings, 'EGSU_ARRIVAL_GRACE_MINUTES', 30)} min; runs per page: {options.runs}")
    if not options.database_url:
        connection.close()
        shutil.rmtree(var_dir, ignore_errors=True)
    print(f"arrivals_page_ms={results[pages[0][0]]:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
