"""Arrivals monitoring: what each device owed, what arrived, when, and with which result.

Definitions (issue 5 item 2; INT-33/34 for the slots, see egsu.monitoring.slots for due times):

- **expected**: the slots of the chosen Astana days that a device owes and that are overdue, i.e.
  ``due_at + grace <= now``. A device owes the intervals of its facility's kind from its
  ``installed_at`` (else the Astana date it was registered) to its ``removed_at``, both included,
  while its facility is active; an inactive device without a removal date owes nothing.
- **arrived**: slots with at least one accepted record (first time, re-sent or revised).
- **on time**: arrived slots whose first accepted record came by ``due_at + grace``; **late**: after.
  Judged once, when the record arrives (a later change of the grace does not re-judge history).
- **rejected**: slots for which records came but every one was rejected (nothing usable yet); a
  later accepted record moves the slot from rejected to arrived (late or on time).
- **missing**: expected slots with nothing at all: ``max(0, expected − arrived − rejected)``.
- **completeness** = arrived ÷ expected, **timeliness** = on time ÷ expected (both capped at 100 %).

The grace is the Django setting ``EGSU_ARRIVAL_GRACE_MINUTES`` (default 30).
Every read goes through the permission gate (egsu.access.scope).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import Count, DateField, F, Q, Sum
from django.db.models.functions import Coalesce, TruncDate

from egsu.access import scope as gate
from egsu.clock import ASTANA, astana_date, utcnow
from egsu.isun.formats import parse_flag, parse_moment
from egsu.isun.records import RawRecord
from egsu.isun.verdicts import RecordStatus, Verdict
from egsu.monitoring import slots as slot_rules
from egsu.monitoring.models import Arrival, ArrivalStatus, DeviceDay, Energy, MeterDay, SubjectDay
from egsu.monitoring.slots import Slot, SlotInterval
from egsu.registry.models import Device, Facility, Subject

GROUPS = ("subject", "region", "facility", "device", "national")
DEFAULT_GRACE_MINUTES = 30


def grace() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "EGSU_ARRIVAL_GRACE_MINUTES", DEFAULT_GRACE_MINUTES)))


# ------------------------------------------------------------------ writing: the intake hook


@dataclass
class _Item:
    object_id: str
    device_id: str
    interval: str
    period_start: datetime | None
    accepted: bool
    revised: bool
    position: int
    code: str = ""
    reason: str = ""


def _normal(device_id: str) -> str:
    """deviceNameId "01" and "1" name the same device (the rules compare numeric codes so)."""
    return str(int(device_id)) if device_id.isascii() and device_id.isdigit() else device_id


def _rejected_period(raw: RawRecord | None) -> tuple[str, datetime | None]:
    """Best effort: the slot a rejected record meant, read as the rules would (INT-33/34)."""
    if raw is None:
        return "", None
    text = (raw.fields.get("datetime") or "").strip()
    try:
        flag_text = (raw.fields.get("isDaily") or "").strip()
        is_daily = parse_flag(flag_text) if flag_text else None
        moment = parse_moment(text) if text else None
    except ValueError:
        return "", None
    if moment is None:
        return "", None
    if is_daily is False:
        slot = slot_rules.slot_of(SlotInterval.TWO_HOURS, moment.instant)
        return (SlotInterval.TWO_HOURS, slot.period_start) if slot else (SlotInterval.TWO_HOURS, None)
    return SlotInterval.DAY, slot_rules.day_slots(SlotInterval.DAY, moment.local.date())[0].period_start


def _items(verdicts: list[Verdict], raw_records: list[RawRecord]) -> list[_Item]:
    raws = {raw.position: raw for raw in raw_records}
    items = []
    for verdict in verdicts:
        if verdict.status is RecordStatus.REJECTED or verdict.record is None:
            interval, period_start = _rejected_period(raws.get(verdict.position))
            items.append(_Item(
                verdict.object_id or "", verdict.device_id or "", interval, period_start,
                accepted=False, revised=False, position=verdict.position,
                code=verdict.code[:40], reason=verdict.reason[:300],
            ))  # fmt: skip
        else:
            rec = verdict.record
            items.append(_Item(
                rec.object_id, rec.device_id, rec.interval.value, rec.period_start,
                accepted=True, revised=verdict.status is RecordStatus.REVISED, position=verdict.position,
            ))  # fmt: skip
    return items


class _Registry:
    """Facilities and devices named in one message: two queries however many records."""

    def __init__(self, object_ids: set[str], sender_bin: str):
        self.sender = Subject.objects.filter(bin=sender_bin).values_list("pk", flat=True).first()
        self.facility_subject = dict(
            Facility.objects.filter(object_id__in=object_ids).values_list("object_id", "subject_id")
        )
        self.devices: dict[tuple[str, str], int] = {}
        for pk, object_id, device_id in Device.objects.filter(facility__object_id__in=object_ids).values_list(
            "pk", "facility__object_id", "device_id"
        ):
            self.devices[(object_id, _normal(device_id))] = pk

    def place(self, item: _Item) -> tuple[int | None, int | None]:
        """(subject pk, device pk): accepted data counts for the facility's owner; a rejected
        record counts for its sender, and for a device only when the sender owns it."""
        owner = self.facility_subject.get(item.object_id)
        device = self.devices.get((item.object_id, _normal(item.device_id)))
        if item.accepted:
            return owner, device
        return self.sender, device if owner is not None and owner == self.sender else None


def record_verdicts(
    verdicts: list[Verdict],
    raw_records: list[RawRecord],
    journal_entry_id: int | None,
    sender_bin: str,
    *,
    now: datetime | None = None,
) -> None:
    """Intake hook; two messages racing for the same new slot: the loser re-reads and updates instead."""
    retrying_slot_races(
        lambda: _record_verdicts(verdicts, raw_records, journal_entry_id, sender_bin, now=now)
    )


SLOT_RACE_ATTEMPTS = 3


def retrying_slot_races(record: Callable[[], None]) -> None:
    """Run a ledger update in a savepoint of its own; run it again when it lost a race for a new slot.

    Two writers (ISUN messages, AMI batches) can both find a slot absent and insert it; the
    second insert breaks the unique slot constraint (IntegrityError) and rolls back only this
    update, which then re-reads the ledger, finds the slot, and updates it instead.
    """
    for attempt in range(1, SLOT_RACE_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                record()
            return
        except IntegrityError:
            if attempt == SLOT_RACE_ATTEMPTS:
                raise


def _record_verdicts(
    verdicts: list[Verdict],
    raw_records: list[RawRecord],
    journal_entry_id: int | None,
    sender_bin: str,
    *,
    now: datetime | None = None,
) -> None:
    """Intake hook: put one message's record verdicts in the ledger and the rollups, atomically.

    Idempotent: a record for a slot already in the ledger only moves ``last_received_at`` (and may
    turn a rejected slot into an arrived one); nothing is counted twice.
    """
    now = now or utcnow()
    items = _items(verdicts, raw_records)
    if not items:
        return
    registry = _Registry({i.object_id for i in items if i.object_id}, sender_bin)
    allowance = grace()
    with transaction.atomic():
        existing = _existing(items, journal_entry_id)
        new: dict[tuple, Arrival] = {}
        changed: dict[int, Arrival] = {}
        subject_delta: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
        device_delta: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
        for item in items:
            key = _key(item, journal_entry_id)
            row = new.get(key) or existing.get(key)
            subject_pk, device_pk = registry.place(item)
            if row is None:
                row = _new_row(item, subject_pk, device_pk, journal_entry_id, now)
                new[key] = row
                delta = (0, 0, 1) if not item.accepted else _accept(row, now, allowance)
            else:
                delta = _update(row, item, journal_entry_id, now, allowance)
                if row.pk is not None:
                    changed[row.pk] = row
            if row.period_start is not None and any(delta):
                for target, pk in ((subject_delta, row.subject_id), (device_delta, row.registered_device_id)):
                    if pk is not None:
                        counts = target[(pk, row.day, row.interval)]
                        for n, d in enumerate(delta):
                            counts[n] += d
        Arrival.objects.bulk_create(new.values(), batch_size=500)
        Arrival.objects.bulk_update(
            changed.values(),
            ["status", "last_received_at", "accepted_at", "on_time", "record_count", "journal_entry_id",
             "position", "reason_code", "reason"],
            batch_size=500,
        )  # fmt: skip
        _add(SubjectDay, "subject_id", subject_delta, energy=Energy.OIL_GAS)
        _add(DeviceDay, "device_id", device_delta)


def _key(item: _Item, journal_entry_id: int | None) -> tuple:
    if item.period_start is None:
        return ("slotless", journal_entry_id, item.position)
    return (item.object_id, item.device_id, item.interval, item.period_start)


def _existing(items: list[_Item], journal_entry_id: int | None) -> dict[tuple, Arrival]:
    keyed = [i for i in items if i.period_start is not None]
    found: dict[tuple, Arrival] = {}
    if keyed:
        starts = {i.period_start for i in keyed}
        rows = Arrival.objects.filter(
            object_id__in={i.object_id for i in keyed},
            interval__in={i.interval for i in keyed},
            period_start__gte=min(starts),
            period_start__lte=max(starts),
        )
        for row in rows:
            found[(row.object_id, row.device_id, row.interval, row.period_start)] = row
    if journal_entry_id is not None and len(keyed) < len(items):
        for row in Arrival.objects.filter(journal_entry_id=journal_entry_id, period_start__isnull=True):
            found[("slotless", journal_entry_id, row.position)] = row
    return found


def _new_row(item, subject_pk, device_pk, journal_entry_id, now) -> Arrival:
    slot_due = slot_rules.due_at(item.interval, item.period_start) if item.period_start else None
    return Arrival(
        object_id=item.object_id[:64],
        device_id=item.device_id[:64],
        interval=item.interval,
        period_start=item.period_start,
        day=astana_date(item.period_start or now),
        subject_id=subject_pk,
        registered_device_id=device_pk,
        due_at=slot_due,
        first_received_at=now,
        last_received_at=now,
        status=ArrivalStatus.REVISED
        if item.revised
        else ArrivalStatus.ACCEPTED
        if item.accepted
        else ArrivalStatus.REJECTED,
        record_count=1,
        journal_entry_id=journal_entry_id,
        position=item.position,
        reason_code=item.code,
        reason=item.reason,
    )


def _accept(row: Arrival, now: datetime, allowance: timedelta) -> tuple[int, int, int]:
    """Mark a slot arrived; return the rollup delta (on_time, late, rejected)."""
    row.accepted_at = now
    row.on_time = row.due_at is None or now <= row.due_at + allowance
    return (1, 0, 0) if row.on_time else (0, 1, 0)


def _update(row: Arrival, item: _Item, journal_entry_id, now, allowance) -> tuple[int, int, int]:
    row.last_received_at = now
    row.record_count += 1
    row.journal_entry_id = journal_entry_id
    row.position = item.position
    if not item.accepted:
        row.reason_code, row.reason = item.code, item.reason
        return (0, 0, 0)
    if row.status == ArrivalStatus.REJECTED:
        row.status = ArrivalStatus.REVISED if item.revised else ArrivalStatus.ACCEPTED
        on_time, late, _ = _accept(row, now, allowance)
        return (on_time, late, -1)
    if item.revised:
        row.status = ArrivalStatus.REVISED
    return (0, 0, 0)


def _add(model, fk: str, deltas: dict[tuple, list[int]], **fixed) -> None:
    """Add deltas to rollup rows: one INSERT … ON CONFLICT DO UPDATE per chunk (SQLite ≥ 3.24, PostgreSQL).

    The database adds the counts itself, so concurrent writers stay exact; one statement per
    chunk instead of one UPDATE per (row, day, interval) keeps a large message cheap
    (benchmarks/README.md: the per-row updates were most of the intake's time).
    """
    if not deltas:
        return
    # A slot leaving "rejected" subtracts: a negative count cannot be the row an INSERT proposes
    # (CHECK ≥ 0 applies before the conflict), so those rare rows take the create-then-F() path.
    negative = {key: delta for key, delta in deltas.items() if min(delta) < 0}
    if negative:
        model.objects.bulk_create(
            [model(**{fk: pk}, day=day, interval=interval, **fixed) for pk, day, interval in negative],
            ignore_conflicts=True,
            batch_size=500,
        )
        for (pk, day, interval), (on_time, late, rejected) in negative.items():
            model.objects.filter(**{fk: pk}, day=day, interval=interval, **fixed).update(
                on_time=F("on_time") + on_time, late=F("late") + late, rejected=F("rejected") + rejected
            )
        deltas = {key: delta for key, delta in deltas.items() if key not in negative}
        if not deltas:
            return
    connection = connections[model.objects.db]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    keys = [fk, "day", "interval", *fixed]
    counts = ["on_time", "late", "rejected"]
    columns = ", ".join(quote(c) for c in (*keys, *counts))
    placeholders = ", ".join(["%s"] * (len(keys) + len(counts)))
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "
        f"ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET "
        + ", ".join(f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in counts)
    )
    params = [
        (pk, connection.ops.adapt_datefield_value(day), interval, *fixed.values(), *delta)
        for (pk, day, interval), delta in sorted(deltas.items())
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(params), 500):
            cursor.executemany(sql, params[start : start + 500])


# ------------------------------------------------------------------ reading: expectations


def owing_devices(devices_qs):
    """Devices that can owe anything: on an active facility, and active or with a removal date."""
    return devices_qs.filter(facility__active=True).filter(Q(active=True) | Q(removed_at__isnull=False))


def device_life(
    installed_at: date | None, created_day: date, removed_at: date | None
) -> tuple[date, date | None]:
    return (installed_at or created_day, removed_at)


def expected_slots(
    device: Device, interval: SlotInterval | str, start: date, end: date, *, now: datetime | None = None
) -> list[Slot]:
    """The slots a device owes on Astana days start..end (inclusive) that are overdue by now."""
    if not device.facility.active or (not device.active and device.removed_at is None):
        return []
    if SlotInterval(interval) not in slot_rules.intervals_for_kind(device.facility.kind):
        return []
    first, last = device_life(device.installed_at, astana_date(device.created_at), device.removed_at)
    first, last = max(first, start), min(last or end, end)
    if first > last:
        return []
    due_by = (now or utcnow()) - grace()
    return slot_rules.slots_between(interval, first, last, due_by=due_by)


class _ExpectedCounter:
    """Expected slots for any life window inside the period, in O(1) by prefix sums per interval.

    The sums of an interval are built when it is first counted, so a period's ten-minute grid
    (144 slots a day) costs nothing while no meter owes it.
    """

    def __init__(self, start: date, end: date, now: datetime, intervals=None):
        self.start, self.end = start, end
        self.due_by = now - grace()
        self.intervals = {SlotInterval(i) for i in (intervals or SlotInterval)}
        self.prefix: dict[str, list[int]] = {}

    def _prefix(self, interval: str) -> list[int] | None:
        if interval not in self.intervals:
            return None
        if interval not in self.prefix:
            running = [0]
            for n in slot_rules.due_count_by_day(interval, self.start, self.end, self.due_by):
                running.append(running[-1] + n)
            self.prefix[interval] = running
        return self.prefix[interval]

    def count_interval(self, interval: str, first: date, last: date | None) -> int:
        """Expected slots of one interval over a life window (AMI meters owe one interval each)."""
        first, last = max(first, self.start), min(last or self.end, self.end)
        prefix = self._prefix(interval)
        if first > last or prefix is None:
            return 0
        i, j = (first - self.start).days, (last - self.start).days + 1
        return prefix[j] - prefix[i]

    def count(self, kind: str, first: date, last: date | None, interval: str | None = None) -> int:
        first, last = max(first, self.start), min(last or self.end, self.end)
        if first > last:
            return 0
        i, j = (first - self.start).days, (last - self.start).days + 1
        total = 0
        for owed in slot_rules.intervals_for_kind(kind):
            prefix = self._prefix(owed) if interval is None or owed == interval else None
            if prefix is not None:
                total += prefix[j] - prefix[i]
        return total


# ------------------------------------------------------------------ reading: summaries


@dataclass
class SummaryRow:
    key: object
    label: str
    bin: str = ""
    region: str = ""
    expected: int = 0
    on_time: int = 0
    late: int = 0
    rejected: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def arrived(self) -> int:
        return self.on_time + self.late

    @property
    def missing(self) -> int:
        return max(0, self.expected - self.arrived - self.rejected)

    @property
    def completeness(self) -> float | None:
        return None if not self.expected else min(100.0, 100.0 * self.arrived / self.expected)

    @property
    def timeliness(self) -> float | None:
        return None if not self.expected else min(100.0, 100.0 * self.on_time / self.expected)

    def as_dict(self) -> dict:
        return {
            "key": str(self.key), "label": self.label, "bin": self.bin, "region": self.region,
            "expected": self.expected, "arrived": self.arrived, "on_time": self.on_time, "late": self.late,
            "missing": self.missing, "rejected": self.rejected, "completeness": self.completeness,
            "timeliness": self.timeliness,
        }  # fmt: skip


_DEVICE_GROUP = {
    "subject": "facility__subject_id",
    "region": "facility__subject__region",
    "facility": "facility_id",
    "device": "id",
    "national": None,
}
_ROLLUP_GROUP = {
    "subject": "subject_id",
    "region": "subject__region",
    "facility": "device__facility_id",
    "device": "device_id",
    "national": None,
}


def arrivals_summary(
    scope,
    *,
    start: date,
    end: date,
    group_by: str = "subject",
    now: datetime | None = None,
    interval: str | None = None,
    subject: Subject | None = None,
    energy: str | None = None,
) -> list[SummaryRow]:
    """Expected, arrived, on time, late, missing, rejected per group over Astana days start..end.

    ``subject`` narrows to one subject (its facility or device rows on the subject page); the scope
    still decides what is visible. ``energy`` (Energy: oil_gas, electricity, heat, gas) narrows to
    ISUN devices or to one energy's AMI meters; AMI meters count only for energies whose module
    the scope holds. In the facility and device groupings an AMI metering object's key is
    ("object", pk) and a meter's ("meter", pk), so they never collide with registry ids.
    """
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPS)}")
    if end < start:
        raise ValueError("the period ends before it starts")
    now = now or utcnow()
    rows: dict[object, SummaryRow] = {}

    def row(key) -> SummaryRow:
        if key not in rows:
            rows[key] = SummaryRow(key=key, label="")
        return rows[key]

    energies = [Energy.OIL_GAS.value, *gate.meter_energies(scope)]
    if energy:
        energies = [e for e in energies if e == energy]
    meter_energies = [e for e in energies if e != Energy.OIL_GAS]
    if meter_energies:
        _meters_summary(scope, row, start, end, now, group_by, interval, subject, meter_energies)
    if Energy.OIL_GAS in energies:
        _devices_summary(scope, row, start, end, now, group_by, interval, subject)
    _label(rows, group_by, scope)
    return [r for r in rows.values() if r.expected or r.arrived or r.rejected or group_by == "national"] or (
        [SummaryRow(key=None, label=str(_national_label()))] if group_by == "national" else []
    )


def _devices_summary(scope, row, start, end, now, group_by, interval, subject) -> None:
    """ISUN oil and gas devices: expected from the registry, arrivals from the rollups."""
    # Expected, from the registry through the gate.
    devices = owing_devices(gate.devices(scope))
    if subject is not None:
        devices = devices.filter(facility__subject=subject)
    counter = _ExpectedCounter(start, end, now, [interval] if interval else slot_rules.OIL_AND_GAS)
    group = _DEVICE_GROUP[group_by]
    # COALESCE evaluates lazily: the (slow on SQLite) date cast runs only for devices without installed_at.
    first_day = Coalesce("installed_at", TruncDate("created_at", tzinfo=ASTANA), output_field=DateField())
    fields = {"kind": F("facility__kind"), "first_day": first_day}
    if group:
        fields["group"] = F(group)
    windows = devices.values(**fields, removed=F("removed_at")).order_by().annotate(n=Count("id"))
    for window in windows:
        n = counter.count(window["kind"], window["first_day"], window["removed"], interval) * window["n"]
        row(window.get("group")).expected += n

    # Arrivals, from the rollups through the gate.
    if group_by in ("facility", "device"):
        rollup = DeviceDay.objects.filter(device__in=gate.devices(scope))
        if subject is not None:
            rollup = rollup.filter(device__facility__subject=subject)
    else:
        rollup = SubjectDay.objects.filter(subject__in=gate.subjects(scope), energy=Energy.OIL_GAS)
        if subject is not None:
            rollup = rollup.filter(subject=subject)
    rollup = rollup.filter(day__gte=start, day__lte=end)
    if interval:
        rollup = rollup.filter(interval=interval)
    sums = {"s_on_time": Sum("on_time"), "s_late": Sum("late"), "s_rejected": Sum("rejected")}
    group = _ROLLUP_GROUP[group_by]
    if group:
        totals = rollup.values(group_key=F(group)).order_by().annotate(**sums)
    else:
        totals = [rollup.aggregate(**sums)]
    for total in totals:
        if total["s_on_time"] is None:
            continue
        target = row(total.get("group_key"))
        target.on_time += total["s_on_time"]
        target.late += total["s_late"]
        target.rejected += total["s_rejected"]


_METER_OWNER = Coalesce("metering_object__subject_id", "subject_id")
_METER_GROUP = {
    "subject": _METER_OWNER,
    "region": Coalesce("metering_object__subject__region", "subject__region"),
    "facility": F("metering_object_id"),
    "device": F("id"),
    "national": None,
}
_METER_KEY = {"facility": "object", "device": "meter"}


def owing_meters(meters_qs):
    """Meters that owe slots: active, on an active metering object (AMI-04)."""
    return meters_qs.filter(active=True, metering_object__active=True)


def _meters_summary(scope, row, start, end, now, group_by, interval, subject, energies) -> None:
    """AMI meters: one slot per meter at its interval; arrivals from the meter or subject rollups."""
    meters = owing_meters(gate.meters(scope)).filter(energy__in=energies).annotate(owner=_METER_OWNER)
    if subject is not None:
        meters = meters.filter(owner=subject.pk)
    counter = _ExpectedCounter(start, end, now, [interval] if interval else [*slot_rules.ENERGY_INTERVALS.values(),
                                                                            *slot_rules.GAS_BAND_INTERVALS.values()])  # fmt: skip
    fields = {"e": F("energy"), "band": F("gas_band"), "first_day": TruncDate("created_at", tzinfo=ASTANA)}
    group = _METER_GROUP[group_by]
    if group is not None:
        fields["group"] = group
    prefix = _METER_KEY.get(group_by)
    for window in meters.values(**fields).order_by().annotate(n=Count("id")):
        owed_interval = slot_rules.meter_interval(window["e"], window["band"])
        if owed_interval is None or (interval and owed_interval != interval):
            continue
        n = counter.count_interval(owed_interval, window["first_day"], None) * window["n"]
        key = window.get("group")
        row((prefix, key) if prefix else key).expected += n

    if prefix:
        rollup = MeterDay.objects.filter(meter__in=gate.meters(scope).filter(energy__in=energies))
        if subject is not None:
            rollup = rollup.annotate(
                owner=Coalesce("meter__metering_object__subject_id", "meter__subject_id")
            ).filter(owner=subject.pk)
        key_field = F("meter__metering_object_id") if group_by == "facility" else F("meter_id")
    else:
        rollup = SubjectDay.objects.filter(subject__in=gate.subjects(scope), energy__in=energies)
        if subject is not None:
            rollup = rollup.filter(subject=subject)
        key_field = {"subject": F("subject_id"), "region": F("subject__region"), "national": None}[group_by]
    rollup = rollup.filter(day__gte=start, day__lte=end)
    if interval:
        rollup = rollup.filter(interval=interval)
    sums = {"s_on_time": Sum("on_time"), "s_late": Sum("late"), "s_rejected": Sum("rejected")}
    if key_field is not None:
        totals = rollup.values(group_key=key_field).order_by().annotate(**sums)
    else:
        totals = [rollup.aggregate(**sums)]
    for total in totals:
        if total["s_on_time"] is None:
            continue
        key = total.get("group_key")
        target = row((prefix, key) if prefix else key)
        target.on_time += total["s_on_time"]
        target.late += total["s_late"]
        target.rejected += total["s_rejected"]


def _national_label():
    from django.utils.translation import gettext

    return gettext("Whole country")


def _label(rows: dict, group_by: str, scope) -> None:
    if group_by == "national":
        for r in rows.values():
            r.label = _national_label()
    elif group_by == "region":
        for r in rows.values():
            r.region = r.key or ""
            r.label = r.key or "—"
    elif group_by == "subject":
        for pk, bin_, name, short, region in (
            gate.subjects(scope)
            .filter(pk__in=list(rows))
            .values_list("pk", "bin", "name", "short_name", "region")
        ):
            rows[pk].label, rows[pk].bin, rows[pk].region = short or name, bin_, region
    elif group_by in ("facility", "device"):
        _label_meters(rows, group_by, scope)
    if group_by == "facility":
        for pk, object_id, name in (
            gate.facilities(scope)
            .filter(pk__in=[k for k in rows if not isinstance(k, tuple)])
            .values_list("pk", "object_id", "name")
        ):
            rows[pk].label, rows[pk].extra = f"{object_id} {name}", {"object_id": object_id}
    elif group_by == "device":
        found = gate.devices(scope).filter(pk__in=[k for k in rows if not isinstance(k, tuple)])
        found = found.select_related("facility")
        for device in found:
            rows[device.pk].label = f"{device.facility.object_id}/{device.device_id}"
            rows[device.pk].extra = {
                "object_id": device.facility.object_id,
                "device_id": device.device_id,
                "model": device.model_name,
                "serial": device.serial_number,
                "active": device.active,
                "pk": device.pk,
            }


def _label_meters(rows: dict, group_by: str, scope) -> None:
    keys = [key[1] for key in rows if isinstance(key, tuple)]
    if not keys:
        return
    if group_by == "facility":
        from egsu.ami.models import MeteringObject

        visible = gate.meters(scope).values("metering_object_id")
        for pk, code, name in (
            MeteringObject.objects.filter(pk__in=keys)
            .filter(pk__in=visible)
            .values_list("pk", "code", "name")
        ):
            rows[("object", pk)].label, rows[("object", pk)].extra = f"{code} {name}", {"object_id": code}
        return
    for meter in gate.meters(scope).filter(pk__in=keys).select_related("metering_object"):
        rows[("meter", meter.pk)].label = f"{meter.metering_object.code}/{meter.serial_number}"
        rows[("meter", meter.pk)].extra = {
            "object_id": meter.metering_object.code,
            "device_id": str(meter.pk),
            "model": meter.model,
            "serial": meter.serial_number,
            "active": meter.active,
            "meter_pk": meter.pk,
            "energy": meter.energy,
        }


# ------------------------------------------------------------------ reading: what a subject owes


class OwedState:
    MISSING = "missing"
    LATE = "late"
    REJECTED = "rejected"


@dataclass(frozen=True)
class OwedSlot:
    object_id: str
    device_id: str
    interval: str
    period_start: datetime | None
    due_at: datetime | None
    state: str
    received_at: datetime | None = None
    reason: str = ""


def visible_subject(scope, bin_: str) -> Subject:
    """The subject if the scope sees it; Subject.DoesNotExist otherwise (the page answers 404)."""
    return gate.subjects(scope).get(bin=bin_)


def owed(
    scope,
    subject: Subject | str,
    *,
    start: date,
    end: date,
    now: datetime | None = None,
    limit: int | None = 500,
) -> list[OwedSlot]:
    """The subject's missing, late and rejected slots on Astana days start..end, newest first.

    Walks back a week at a time and stops once ``limit`` rows are found, so a year's page costs
    what its newest weeks cost.
    """
    now = now or utcnow()
    subject = visible_subject(scope, subject if isinstance(subject, str) else subject.bin)
    arrivals = Arrival.objects.filter(subject__in=gate.subjects(scope).filter(pk=subject.pk))
    devices = list(
        owing_devices(gate.devices(scope)).filter(facility__subject=subject).select_related("facility")
    )
    meters = list(
        owing_meters(gate.meters(scope))
        .annotate(owner=_METER_OWNER)
        .filter(owner=subject.pk)
        .select_related("metering_object")
        .order_by("metering_object__code", "serial_number")
    )
    found: list[OwedSlot] = []
    chunk_end = end
    while chunk_end >= start and (limit is None or len(found) < limit):
        chunk_start = max(start, chunk_end - timedelta(days=6))
        found.extend(_owed_between(arrivals, devices, chunk_start, chunk_end, now, meters, limit))
        chunk_end = chunk_start - timedelta(days=1)
    return found[:limit] if limit is not None else found


def expected_meter_slots(meter, start: date, end: date, *, now: datetime | None = None) -> list[Slot]:
    """The slots an AMI meter owes on Astana days start..end that are overdue (from its registration)."""
    interval = slot_rules.meter_interval(meter.energy, meter.gas_band)
    if interval is None or not meter.active or not meter.metering_object.active:
        return []
    first, last = max(astana_date(meter.created_at), start), end
    if first > last:
        return []
    return slot_rules.slots_between(interval, first, last, due_by=(now or utcnow()) - grace())


def _owed_between(
    arrivals, devices, start: date, end: date, now: datetime, meters=(), limit: int | None = None
) -> list[OwedSlot]:
    ledger: dict[tuple, Arrival] = {}
    loose: list[Arrival] = []
    for arrival in arrivals.filter(day__gte=start, day__lte=end):
        if arrival.meter_id is not None and arrival.period_start is not None:
            ledger[("meter", arrival.meter_id, arrival.interval, arrival.period_start)] = arrival
        elif arrival.registered_device_id is not None and arrival.period_start is not None:
            ledger[(arrival.registered_device_id, arrival.interval, arrival.period_start)] = arrival
        else:
            loose.append(arrival)
    found: list[OwedSlot] = []
    for device in devices:
        for interval in slot_rules.intervals_for_kind(device.facility.kind):
            for slot in expected_slots(device, interval, start, end, now=now):
                arrival = ledger.pop((device.pk, interval, slot.period_start), None)
                state = _state(arrival)
                if state:
                    found.append(_owed(device.facility.object_id, device.device_id, slot, state, arrival))
    # Meters: a utility may have many thousands, so stop once the page is full (order is by meter).
    for meter in meters:
        if limit is not None and len(found) >= limit:
            break
        for slot in expected_meter_slots(meter, start, end, now=now):
            arrival = ledger.pop(("meter", meter.pk, slot.interval.value, slot.period_start), None)
            state = _state(arrival)
            if state:
                found.append(_owed(meter.metering_object.code, str(meter.pk), slot, state, arrival))
    for arrival in [*ledger.values(), *loose]:  # arrivals outside any expected slot
        state = _state(arrival)
        if state:
            found.append(OwedSlot(
                arrival.object_id, arrival.device_id, arrival.interval, arrival.period_start, arrival.due_at,
                state, arrival.last_received_at, arrival.reason,
            ))  # fmt: skip
    found.sort(key=lambda o: o.period_start or o.received_at, reverse=True)
    return found


def _state(arrival: Arrival | None) -> str | None:
    if arrival is None:
        return OwedState.MISSING
    if arrival.status == ArrivalStatus.REJECTED:
        return OwedState.REJECTED
    if arrival.on_time is False:
        return OwedState.LATE
    return None


def _owed(object_id, device_id, slot: Slot, state: str, arrival: Arrival | None) -> OwedSlot:
    return OwedSlot(
        object_id,
        device_id,
        slot.interval.value,
        slot.period_start,
        slot.due_at,
        state,
        (arrival.accepted_at or arrival.last_received_at) if arrival else None,
        arrival.reason if arrival else "",
    )


def last_days(days: int, *, now: datetime | None = None) -> tuple[date, date]:
    """The default period: the last ``days`` Astana days, today included."""
    today = astana_date(now or utcnow())
    return today - timedelta(days=days - 1), today


__all__ = [
    "GROUPS",
    "SummaryRow",
    "OwedSlot",
    "OwedState",
    "arrivals_summary",
    "expected_slots",
    "owed",
    "record_verdicts",
    "visible_subject",
    "last_days",
]
