"""The AMI intake hook: put the slots of the meters in one stored batch in the ledger and rollups.

A meter owes one slot per period of its interval (egsu.monitoring.slots.meter_interval: PT15M for
electricity and heat, P1D, PT1H or PT10M for gas by band), not one per channel: the slot has
arrived as soon as any of its channels has a value for it (COL-05, AMI-41, AMI-44). Values at another interval (daily register snapshots of a 15-minute meter) are not
slots. AMI refusals stay in the batch answer; only stored values reach the ledger, so an AMI
slot is never "rejected".

A batch may hold thousands of meters × quarter hours, so the work is a fixed number of bulk
statements, never one per value: one read of the meters, one of the slots already in the
ledger, bulk inserts of the new slots, one update of the re-sent ones, and the rollups (meter
days read once, then bulk updated and bulk created; subject days by F() per subject, day and
interval — a handful). A replayed batch never gets here: receive() answers it from AmiBatch.
Runs inside receive()'s transaction, so the ledger and the stored values commit together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache

from django.db import connections
from django.db.models import F
from django.db.models.functions import Coalesce

from egsu.ami.models import Meter
from egsu.clock import astana_date, utcnow
from egsu.monitoring import slots as slot_rules
from egsu.monitoring.models import Arrival, ArrivalStatus, MeterDay, SubjectDay
from egsu.monitoring.services import _add, grace, retrying_slot_races
from egsu.readings.store import ReadingRow, WriteOutcome

_CHUNK = 500


def _chunks(items: list, size: int = _CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _meters(ids: set[int]) -> dict[int, tuple[int, str, str]]:
    """meter id → (owning subject id, energy, slot interval) for meters that owe slots."""
    found: dict[int, tuple[int, str, str]] = {}
    for chunk in _chunks(sorted(ids)):
        rows = (
            Meter.objects.filter(pk__in=chunk)
            .annotate(owner=Coalesce("metering_object__subject_id", "subject_id"))
            .values_list("pk", "owner", "energy", "gas_band")
        )
        found |= _owing(rows)
    return found


def _owing(meters: Iterable[tuple[int, int, str, str]]) -> dict[int, tuple[int, str, str]]:
    """(meter id, owner, energy, gas band) → meter id → (owner, energy, slot interval), for meters that owe slots."""
    found: dict[int, tuple[int, str, str]] = {}
    for pk, owner, energy, band in meters:
        interval = slot_rules.meter_interval(energy, band)
        if interval is not None:
            found[pk] = (owner, energy, interval.value)
    return found


def record_meter_values(
    rows: list[ReadingRow],
    outcomes: list[WriteOutcome],
    *,
    now: datetime | None = None,
    meters: dict[int, tuple[int, str, str]] | None = None,
) -> None:
    """Intake hook (egsu.ami.intake.receive): the meters' slots that these stored rows fill.

    `meters` (meter id → owning subject id, energy, gas band) spares the lookup when the caller
    read the rows' meters already; it must hold every meter the rows name. A slot that a
    concurrent batch put in the ledger first is updated on a second attempt.
    """
    retrying_slot_races(lambda: _record_meter_values(rows, outcomes, now=now, meters=meters))


def _record_meter_values(
    rows: list[ReadingRow],
    outcomes: list[WriteOutcome],
    *,
    now: datetime | None,
    meters: dict[int, tuple[int, str, str]] | None,
) -> None:
    if not rows:
        return
    now = now or utcnow()
    # A batch names each meter in several rows (channels × periods): read its device id once.
    meter_ids = {
        device_id: int(device_id) for device_id in {r.key.device_id for r in rows} if device_id.isdigit()
    }
    if meters is None:
        meters = _meters(set(meter_ids.values()))
    else:
        meters = _owing((pk, *info) for pk, info in meters.items())
    # slot key (object_id, device_id, interval, period_start) → (meter id, revised)
    slots: dict[tuple, tuple[int, bool]] = {}
    revision = WriteOutcome.REVISED
    for row, outcome in zip(rows, outcomes, strict=False):
        series = row.key
        meter_pk = meter_ids.get(series.device_id)
        meter = meters.get(meter_pk) if meter_pk is not None else None
        if meter is None or row.interval != meter[2]:
            continue
        key = (series.object_id, series.device_id, row.interval, row.period_start)
        if outcome == revision:
            slots[key] = (meter_pk, True)
        else:
            slots[key] = (meter_pk, slots.get(key, (0, False))[1])  # revised by an earlier row stays so
    if not slots:
        return
    existing = _existing(slots)
    allowance = grace()
    new: list[tuple] = []
    periods: dict[tuple[str, datetime], tuple[datetime, bool, date]] = {}  # few per batch: each once
    meter_delta: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    subject_delta: dict[str, dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for key, (meter_pk, revised) in slots.items():
        if key in existing:
            continue
        object_id, device_id, interval, start = key
        owner, energy, _ = meters[meter_pk]
        period = periods.get((interval, start))
        if period is None:
            due = slot_rules.due_at(interval, start)
            period = periods[(interval, start)] = (due, now <= due + allowance, astana_date(start))
        due, on_time, day = period
        status = ArrivalStatus.REVISED if revised else ArrivalStatus.ACCEPTED
        new.append((object_id, device_id, interval, start, day, owner, meter_pk, due, on_time, status))
        column = 0 if on_time else 1
        meter_delta[(meter_pk, day, interval)][column] += 1
        subject_delta[energy][(owner, day, interval)][column] += 1
    _insert_arrivals(new, now)
    _touch(existing, slots, now)
    _add_meter_days(meter_delta)
    for energy, deltas in subject_delta.items():
        _add(SubjectDay, "subject_id", deltas, energy=energy)


# The columns a new AMI slot sets; every other column of the ledger takes its field's default.
_SLOT_COLUMNS = (
    "object_id", "device_id", "interval", "period_start", "day", "subject", "meter", "due_at", "on_time",
    "status", "first_received_at", "last_received_at", "accepted_at",
)  # fmt: skip


def _insert_arrivals(new: list[tuple], now: datetime) -> None:
    """INSERT the new slots as plain tuples (one executemany per chunk).

    Arrival instances through bulk_create were most of the hook's time (about 0.2 ms a slot, a
    quarter of an AMI batch's intake); the rows and their defaults are the same. A concurrent
    insert of the same slot still raises IntegrityError (the unique slot constraint), and
    receive()'s transaction rolls back as before.
    """
    if not new:
        return
    connection = connections[Arrival.objects.db]
    ops = connection.ops
    fields = {f.name: f for f in Arrival._meta.concrete_fields if not f.primary_key}
    defaults = [
        (f.column, f.get_db_prep_save(f.get_default(), connection))
        for name, f in fields.items()
        if name not in _SLOT_COLUMNS
    ]
    columns = [fields[name].column for name in _SLOT_COLUMNS] + [column for column, _ in defaults]
    fixed = (*([ops.adapt_datetimefield_value(now)] * 3), *(value for _, value in defaults))
    instant = cache(ops.adapt_datetimefield_value)  # period starts and due times repeat: adapt each once
    days: dict[date, object] = {}

    params = []
    for object_id, device_id, interval, start, day, owner, meter_pk, due, on_time, status in new:
        if day not in days:
            days[day] = ops.adapt_datefield_value(day)
        params.append(
            (object_id, device_id, interval, instant(start), days[day], owner, meter_pk, instant(due), on_time,
             str(status), *fixed)
        )  # fmt: skip
    quote = ops.quote_name
    sql = (
        f"INSERT INTO {quote(Arrival._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with connection.cursor() as cursor:
        for chunk in _chunks(params):
            cursor.executemany(sql, chunk)


def _existing(slots: dict[tuple, tuple[int, bool]]) -> dict[tuple, int]:
    """Slot key → ledger row id, for the slots already in the ledger (one query per chunk of meters)."""
    found: dict[tuple, int] = {}
    starts = [key[3] for key in slots]
    object_ids = sorted({key[0] for key in slots})
    device_ids = sorted({key[1] for key in slots})
    # The id lists as plain SQL: the queryset would prepare each of the thousands of ids through
    # the field, which cost more than the query itself.
    quote = connections[Arrival.objects.db].ops.quote_name
    table = quote(Arrival._meta.db_table)
    object_in = f"{table}.{quote('object_id')} IN ({', '.join(['%s'] * len(object_ids))})"
    for chunk in _chunks(device_ids):
        rows = (
            Arrival.objects.filter(
                interval__in={key[2] for key in slots},
                period_start__gte=min(starts),
                period_start__lte=max(starts),
            )
            .extra(
                where=[object_in, f"{table}.{quote('device_id')} IN ({', '.join(['%s'] * len(chunk))})"],
                params=[*object_ids, *chunk],
            )
            .values_list("pk", "object_id", "device_id", "interval", "period_start")
        )
        for pk, *key in rows:
            if tuple(key) in slots:
                found[tuple(key)] = pk
    return found


def _touch(existing: dict[tuple, int], slots: dict[tuple, tuple[int, bool]], now: datetime) -> None:
    """A re-sent slot only moves last_received_at (and becomes revised when a value changed)."""
    plain = sorted(pk for key, pk in existing.items() if not slots[key][1])
    revised = sorted(pk for key, pk in existing.items() if slots[key][1])
    for chunk in _chunks(plain):
        Arrival.objects.filter(pk__in=chunk).update(last_received_at=now, record_count=F("record_count") + 1)
    for chunk in _chunks(revised):
        Arrival.objects.filter(pk__in=chunk).update(
            last_received_at=now, record_count=F("record_count") + 1, status=ArrivalStatus.REVISED
        )


def _add_meter_days(deltas: dict[tuple, list[int]]) -> None:
    """Add to meter-day rows: the same one-statement upsert as every rollup (services._add)."""
    _add(MeterDay, "meter_id", deltas)
