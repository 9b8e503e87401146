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
from datetime import datetime

from django.db.models import F
from django.db.models.functions import Coalesce

from egsu.ami.models import Meter
from egsu.clock import astana_date, utcnow
from egsu.monitoring import slots as slot_rules
from egsu.monitoring.models import Arrival, ArrivalStatus, MeterDay, SubjectDay
from egsu.monitoring.services import _add, grace
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
        for pk, owner, energy, band in rows:
            interval = slot_rules.meter_interval(energy, band)
            if interval is not None:
                found[pk] = (owner, energy, interval.value)
    return found


def record_meter_values(
    rows: list[ReadingRow], outcomes: list[WriteOutcome], *, now: datetime | None = None
) -> None:
    """Intake hook (egsu.ami.intake.receive): the meters' slots that these stored rows fill."""
    if not rows:
        return
    now = now or utcnow()
    ids = {int(r.key.device_id) for r in rows if r.key.device_id.isdigit()}
    meters = _meters(ids)
    # slot key (object_id, device_id, interval, period_start) → (meter id, revised)
    slots: dict[tuple, tuple[int, bool]] = {}
    for row, outcome in zip(rows, outcomes, strict=False):
        meter = meters.get(int(row.key.device_id)) if row.key.device_id.isdigit() else None
        if meter is None or row.interval != meter[2]:
            continue
        key = (row.key.object_id, row.key.device_id, row.interval, row.period_start)
        revised = outcome == WriteOutcome.REVISED or (key in slots and slots[key][1])
        slots[key] = (int(row.key.device_id), revised)
    if not slots:
        return
    existing = _existing(slots)
    allowance = grace()
    new: list[Arrival] = []
    meter_delta: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    subject_delta: dict[str, dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for key, (meter_pk, revised) in slots.items():
        if key in existing:
            continue
        object_id, device_id, interval, start = key
        owner, energy, _ = meters[meter_pk]
        due = slot_rules.due_at(interval, start)
        on_time = now <= due + allowance
        day = astana_date(start)
        new.append(Arrival(
            object_id=object_id, device_id=device_id, interval=interval, period_start=start, day=day,
            subject_id=owner, meter_id=meter_pk, due_at=due, first_received_at=now, last_received_at=now,
            accepted_at=now, on_time=on_time,
            status=ArrivalStatus.REVISED if revised else ArrivalStatus.ACCEPTED,
        ))  # fmt: skip
        column = 0 if on_time else 1
        meter_delta[(meter_pk, day, interval)][column] += 1
        subject_delta[energy][(owner, day, interval)][column] += 1
    Arrival.objects.bulk_create(new, batch_size=_CHUNK)
    _touch(existing, slots, now)
    _add_meter_days(meter_delta)
    for energy, deltas in subject_delta.items():
        _add(SubjectDay, "subject_id", deltas, energy=energy)


def _existing(slots: dict[tuple, tuple[int, bool]]) -> dict[tuple, int]:
    """Slot key → ledger row id, for the slots already in the ledger (one query per chunk of meters)."""
    found: dict[tuple, int] = {}
    starts = [key[3] for key in slots]
    object_ids = sorted({key[0] for key in slots})
    device_ids = sorted({key[1] for key in slots})
    for chunk in _chunks(device_ids):
        rows = Arrival.objects.filter(
            object_id__in=object_ids,
            device_id__in=chunk,
            interval__in={key[2] for key in slots},
            period_start__gte=min(starts),
            period_start__lte=max(starts),
        ).values_list("pk", "object_id", "device_id", "interval", "period_start")
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
