"""The arrivals ledger's writers: both intakes put what arrived into the ledger and the rollups.

ISUN (`record_verdicts`): one message's record verdicts, accepted or rejected, by slot. AMI
(`prepare_values(…).record()`): the slots that stored values fill — a meter owes one slot per
period of its interval, not one per channel: the slot has arrived as soon as any of its channels
has a value for it (COL-05, AMI-41, AMI-44); values at another interval (daily register snapshots
of a 15-minute meter) are not slots, and AMI refusals stay in the batch answer, so an AMI slot is
never rejected.

Both add to the same rollups, per metering point (PointDay) and per subject and energy
(SubjectDay), by Astana day, inside the intake's transaction, so the ledger commits with the
batch's record (and, on the SQL store, with the stored values; ClickHouse's claims commit before
it). A batch may hold thousands of meters × quarter hours, so the work is a fixed number of bulk
statements, never one per value. Two writers racing for the same new slot: the
loser re-reads and updates (`retrying_slot_races`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from functools import cache
from itertools import islice, product
from operator import attrgetter

from django.db import IntegrityError, connections, transaction
from django.db.models import F
from django.db.models.functions import Greatest

from egsu.bulk_rows import insert_rows
from egsu.monitoring import slots as slot_rules
from egsu.monitoring.expectations import grace
from egsu.monitoring.models import Arrival, ArrivalStatus, PointDay, SubjectDay, SubjectPeriod
from egsu.monitoring.slots import SlotInterval
from egsu.points.models import MeteringPoint
from egsu.readings.store import ReadingColumns, ReadingRow, WriteOutcome
from egsu.registry.models import Facility, Subject
from egsu_core.clock import astana_date, utcnow
from egsu_core.isun.formats import parse_flag, parse_moment
from egsu_core.isun.records import RawRecord
from egsu_core.isun.verdicts import RecordStatus, Verdict
from egsu_core.vocabulary import Energy

_CHUNK = 500


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


@dataclass(frozen=True)
class Known:
    """What the ISUN intake already read for this message, so that the ledger does not read it again.

    ``sender``: the pk of the subject the sender authenticated as (its BIN is unique); ``owners``:
    object ID → the owning subject's pk (None: not registered), as the record rules read it (it may
    hold other objects too: the registry view's per-process reading).
    """

    sender: int
    owners: dict[str, int | None]


class _Registry:
    """Facilities and metering points named in one message: at most three queries however many records."""

    def __init__(self, object_ids: set[str], sender_bin: str, known: Known | None = None):
        if known is None:
            self.sender = Subject.objects.filter(bin=sender_bin).values_list("pk", flat=True).first()
            owners: dict[str, int | None] = {}
        else:
            self.sender, owners = known.sender, known.owners
        # the message's own objects only: `owners` may hold what the process read for other messages
        self.facility_subject = {o: pk for o in object_ids if (pk := owners.get(o)) is not None}
        if missing := {o for o in object_ids if o not in owners}:
            self.facility_subject.update(
                Facility.objects.filter(object_id__in=missing).values_list("object_id", "subject_id")
            )
        self.points: dict[tuple[str, str], int] = {}
        found = MeteringPoint.objects.filter(energy=Energy.OIL_GAS, object_code__in=object_ids)
        for pk, object_code, device_id in found.values_list("pk", "object_code", "store_device_id"):
            self.points[(object_code, _normal(device_id))] = pk

    def place(self, item: _Item) -> tuple[int | None, int | None]:
        """(subject pk, point pk): accepted data counts for the facility's owner; a rejected
        record counts for its sender, and for a point only when the sender owns it."""
        owner = self.facility_subject.get(item.object_id)
        point = self.points.get((item.object_id, _normal(item.device_id)))
        if item.accepted:
            return owner, point
        return self.sender, point if owner is not None and owner == self.sender else None


def record_verdicts(
    verdicts: list[Verdict],
    raw_records: list[RawRecord],
    journal_entry_id: int | None,
    sender_bin: str,
    *,
    now: datetime | None = None,
    known: Known | None = None,
) -> None:
    """Intake hook; two messages racing for the same new slot: the loser re-reads and updates instead."""
    retrying_slot_races(
        lambda: _record_verdicts(verdicts, raw_records, journal_entry_id, sender_bin, now=now, known=known)
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
    known: Known | None = None,
) -> None:
    """Intake hook: put one message's record verdicts in the ledger and the rollups, atomically.

    Idempotent: a record for a slot already in the ledger only moves ``last_received_at`` (and may
    turn a rejected slot into an arrived one); nothing is counted twice.
    """
    now = now or utcnow()
    items = _items(verdicts, raw_records)
    if not items:
        return
    registry = _Registry({i.object_id for i in items if i.object_id}, sender_bin, known)
    allowance = grace()
    # atomic as a whole: inside `retrying_slot_races`'s savepoint, so no savepoint of its own
    with transaction.atomic(savepoint=False):
        existing = _existing_rows(items, journal_entry_id)
        new: dict[tuple, Arrival] = {}
        changed: dict[int, Arrival] = {}
        subject_delta: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
        point_delta: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
        period_delta: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
        for item in items:
            key = _key(item, journal_entry_id)
            row = new.get(key) or existing.get(key)
            subject_pk, point_pk = registry.place(item)
            if row is None:
                row = _new_row(item, subject_pk, point_pk, journal_entry_id, now)
                new[key] = row
                delta = (0, 0, 1) if not item.accepted else _accept(row, now, allowance)
            else:
                delta = _update(row, item, journal_entry_id, now, allowance)
                if row.pk is not None:
                    changed[row.pk] = row
            if row.period_start is not None and any(delta):
                targets = []
                if row.subject_id is not None:
                    targets.append((subject_delta, (row.subject_id, row.day, row.interval)))
                    if _in_grace(row.due_at, now, allowance):
                        targets.append((period_delta, _period_key(row)))
                if row.point_id is not None:
                    targets.append((point_delta, (row.point_id, row.day, row.interval)))
                for target, key in targets:
                    counts = target[key]
                    for n, d in enumerate(delta):
                        counts[n] += d
        _insert_new_slots(list(new.values()))
        _update_slots(list(changed.values()))
        _add(SubjectDay, SUBJECT_DAY, subject_delta, energy=Energy.OIL_GAS)
        _add(PointDay, POINT_DAY, point_delta)
        _add_periods(period_delta, Energy.OIL_GAS)


def _in_grace(due_at: datetime | None, now: datetime, allowance: timedelta) -> bool:
    """Whether a slot is still within its grace now: not yet owed, so not yet in "expected"."""
    return due_at is not None and now <= due_at + allowance


def _period_key(row: Arrival) -> tuple:
    return (row.subject_id, row.period_start, row.interval, row.day, row.due_at)


def _add_periods(deltas: dict[tuple, list[int]], energy: str) -> None:
    """What arrived within its grace, per subject and period (SubjectPeriod; keys as SUBJECT_PERIOD)."""
    _add(SubjectPeriod, SUBJECT_PERIOD, deltas, conflict=_PERIOD_CONFLICT, floor=True, energy=energy)


@cache
def _ledger_columns() -> tuple[tuple[str, str, str], ...]:
    """(attribute, column, kind) of every ledger column but the id; kind: datetime, date, text or plain
    (numbers and flags: passed as they are)."""
    kinds = {"DateTimeField": "datetime", "DateField": "date", "CharField": "text"}
    return tuple(
        (f.attname, f.column, kinds.get(f.get_internal_type(), "plain"))
        for f in Arrival._meta.concrete_fields
        if not f.primary_key
    )


def _plain(value):
    return value.value if isinstance(value, Enum) else value  # ArrivalStatus: its text, as the ORM writes


def _adapters(ops) -> dict[str, Callable]:
    """How a ledger column of each kind becomes a plain parameter (times and days repeat: cached)."""
    instant = cache(ops.adapt_datetimefield_value)
    return {
        "datetime": lambda v: None if v is None else instant(v),
        "date": cache(ops.adapt_datefield_value),
        "text": _plain,
        "plain": _plain,
    }


def _insert_new_slots(rows: list[_NewSlot]) -> None:
    """INSERT new ISUN slots as plain tuples (a slot taken meanwhile by another writer raises
    IntegrityError, and ``retrying_slot_races`` runs the update again).

    All of a row's columns are read at once (``attrgetter``) and only the times, the day and the texts
    (an interval or a status may be an enum) are adapted, not each of the 18 columns of every row.
    """
    if not rows:
        return
    columns = _ledger_columns()
    adapt = _adapters(connections[Arrival.objects.db].ops)
    values_of = attrgetter(*(attname for attname, _column, _kind in columns))
    adapted = [(n, adapt[kind]) for n, (_attname, _column, kind) in enumerate(columns) if kind != "plain"]
    params = []
    for row in rows:
        values = list(values_of(row))
        for n, fn in adapted:
            values[n] = fn(values[n])
        params.append(tuple(values))
    _write_arrival_rows([column for _a, column, _k in columns], params)


_UPDATED = (
    "status", "last_received_at", "accepted_at", "on_time", "record_count", "journal_entry_id",
    "position", "reason_code", "reason",
)  # fmt: skip
"""What a slot received again changes (``_update``, ``_accept``)."""


def _update_slots(rows: list[Arrival]) -> None:
    """UPDATE the slots a message received again, one executemany of plain tuples per chunk.

    ``bulk_update`` built a CASE over every row for each of the nine columns: for a re-sent
    15 MB message (INT-07, 38,000 slots) that expression building was most of the ledger's time.
    """
    if not rows:
        return
    connection = connections[Arrival.objects.db]
    ops, quote = connection.ops, connection.ops.quote_name
    kinds = {attname: (column, kind) for attname, column, kind in _ledger_columns()}
    adapt = _adapters(ops)
    adapters = [(name, adapt[kinds[name][1]]) for name in _UPDATED]
    assignments = ", ".join(f"{quote(kinds[name][0])} = %s" for name in _UPDATED)
    table, pk = quote(Arrival._meta.db_table), quote(Arrival._meta.pk.column)
    sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # nosec B608 - our names; values are parameters
    params = [(*(fn(getattr(row, name)) for name, fn in adapters), row.pk) for row in rows]
    with connection.cursor() as cursor:
        for chunk in _chunks(params):
            cursor.executemany(sql, chunk)


def _write_arrival_rows(columns: list[str], params: list[tuple]) -> None:
    """Plain tuples into the arrivals table (egsu.bulk_rows): one statement for both ledger paths."""
    insert_rows(connections[Arrival.objects.db], Arrival._meta.db_table, columns, params, batch=_CHUNK)


def _key(item: _Item, journal_entry_id: int | None) -> tuple:
    if item.period_start is None:
        return ("slotless", journal_entry_id, item.position)
    return (item.object_id, item.device_id, item.interval, item.period_start)


def _existing_rows(items: list[_Item], journal_entry_id: int | None) -> dict[tuple, Arrival]:
    keyed = [i for i in items if i.period_start is not None]
    found: dict[tuple, Arrival] = {}
    if keyed:
        starts = {i.period_start for i in keyed}
        wanted = {(i.object_id, i.device_id, i.interval, i.period_start) for i in keyed}
        # Keys first, as plain values: a message's slots are almost always new, and model
        # instances of the neighbouring slots cost more than the query (benchmarks/README.md).
        # Every column of the slot index is named by a list (its periods too: the index leads with
        # the period), so the index is probed per slot; by a range of periods it would read every
        # slot of every device in that range, a cost that grew with the number of devices.
        objects, devices = {i.object_id for i in keyed}, {i.device_id for i in keyed}
        intervals = {i.interval for i in keyed}
        pks = []
        for chunk in _chunks(sorted(starts)):
            candidates = Arrival.objects.filter(
                period_start__in=chunk, object_id__in=objects, device_id__in=devices, interval__in=intervals
            ).values_list("pk", "object_id", "device_id", "interval", "period_start")
            pks += [pk for pk, *key in candidates if tuple(key) in wanted]
        if pks:
            for row in Arrival.objects.filter(pk__in=pks):
                found[(row.object_id, row.device_id, row.interval, row.period_start)] = row
    if journal_entry_id is not None and len(keyed) < len(items):
        for row in Arrival.objects.filter(journal_entry_id=journal_entry_id, period_start__isnull=True):
            found[("slotless", journal_entry_id, row.position)] = row
    return found


@dataclass(slots=True)
class _NewSlot:
    """A ledger row not yet inserted: the columns of ``Arrival`` by attribute name, without the ORM.

    A model instance per slot, then ``bulk_create``, was most of the ledger's cost for a
    100-record message (benchmarks/README.md, intake); these are inserted as plain tuples.
    """

    object_id: str
    device_id: str
    interval: str
    period_start: datetime | None
    day: date
    subject_id: int | None
    point_id: int | None
    due_at: datetime | None
    first_received_at: datetime
    last_received_at: datetime
    status: str
    record_count: int
    journal_entry_id: int | None
    position: int
    reason_code: str
    reason: str
    accepted_at: datetime | None = None
    on_time: bool | None = None
    pk: None = None  # not in the ledger yet


def _new_row(item, subject_pk, point_pk, journal_entry_id, now) -> _NewSlot:
    slot_due = slot_rules.due_at(item.interval, item.period_start) if item.period_start else None
    return _NewSlot(
        object_id=item.object_id[:64],
        device_id=item.device_id[:64],
        interval=item.interval,
        period_start=item.period_start,
        day=astana_date(item.period_start or now),
        subject_id=subject_pk,
        point_id=point_pk,
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
    row.on_time = row.due_at is None or _in_grace(row.due_at, now, allowance)
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


# The rollups' keys, in the order of a delta's key tuple; a period row also sets its day and due time.
POINT_DAY = ("point_id", "day", "interval")
SUBJECT_DAY = ("subject_id", "day", "interval")
SUBJECT_PERIOD = ("subject_id", "period_start", "interval", "day", "due_at")
_PERIOD_CONFLICT = ("period_start", "interval", "subject_id", "energy")


def _add(
    model, keys: tuple[str, ...], deltas: dict[tuple, list[int]], *, conflict=None, floor=False, **fixed
) -> None:
    """Add deltas to rollup rows: one INSERT … ON CONFLICT DO UPDATE per chunk (SQLite ≥ 3.24, PostgreSQL).

    A delta's key tuple holds the columns `keys`; `fixed` columns are the same for every row;
    `conflict` names the unique key (default: every key and fixed column); with `floor` a count
    never falls below zero (a period row may lack what a subtraction expects). The database adds the
    counts itself, so concurrent writers stay exact; one statement per chunk instead of one UPDATE
    per (row, day, interval) keeps a large message cheap (benchmarks/README.md: the per-row updates
    were most of the intake's time).
    """
    if not deltas:
        return
    conflict = conflict or (*keys, *fixed)
    # A slot leaving "rejected" subtracts: a negative count cannot be the row an INSERT proposes
    # (CHECK ≥ 0 applies before the conflict), so those rare rows take the create-then-F() path.
    negative = {key: delta for key, delta in deltas.items() if min(delta) < 0}
    if negative:
        model.objects.bulk_create(
            [model(**dict(zip(keys, key, strict=True)), **fixed) for key in negative],
            ignore_conflicts=True,
            batch_size=500,
        )
        for key, delta in negative.items():
            found = {name: value for name, value in zip(keys, key, strict=True) if name in conflict}
            added = {
                name: Greatest(F(name) + n, 0) if floor else F(name) + n
                for name, n in zip(("on_time", "late", "rejected"), delta, strict=True)
            }
            model.objects.filter(**found, **{k: v for k, v in fixed.items() if k in conflict}).update(**added)
        deltas = {key: delta for key, delta in deltas.items() if key not in negative}
        if not deltas:
            return
    connection = connections[model.objects.db]
    ops = connection.ops
    quote = ops.quote_name
    table = quote(model._meta.db_table)
    counts = ["on_time", "late", "rejected"]
    columns = ", ".join(quote(c) for c in (*keys, *fixed, *counts))
    placeholders = ", ".join(["%s"] * (len(keys) + len(fixed) + len(counts)))
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "
        f"ON CONFLICT ({', '.join(quote(k) for k in conflict)}) DO UPDATE SET "
        + ", ".join(f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in counts)
    )
    kinds = {f.column: f.get_internal_type() for f in model._meta.concrete_fields}
    adapt = {
        "DateField": cache(ops.adapt_datefield_value),
        "DateTimeField": cache(ops.adapt_datetimefield_value),
    }
    adapted = [(n, adapt[kinds[name]]) for n, name in enumerate(keys) if kinds[name] in adapt]
    params = []
    for key, delta in sorted(deltas.items()):
        values = list(key)
        for n, fn in adapted:
            values[n] = fn(values[n])
        params.append((*values, *fixed.values(), *delta))
    with connection.cursor() as cursor:
        for start in range(0, len(params), 500):
            cursor.executemany(sql, params[start : start + 500])


# ------------------------------------------------------------------ AMI values


def _chunks(items: list, size: int = _CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# A value slot's point: (point pk, owning subject pk, energy, the interval it owes).
PointSlot = tuple[int, int, str, str]


def value_points(store_keys: set[tuple[str, str]]) -> dict[tuple[str, str], PointSlot]:
    """(object_id, device_id) → PointSlot for the points that owe slots (one query per 500 device ids)."""
    found: dict[tuple[str, str], PointSlot] = {}
    device_ids = sorted({device_id for _object, device_id in store_keys})
    for chunk in _chunks(device_ids):
        rows = MeteringPoint.objects.filter(store_device_id__in=chunk, owes=True).exclude(owed_intervals="")
        for object_code, device_id, pk, owner, energy, intervals in rows.values_list(
            "object_code", "store_device_id", "pk", "subject_id", "energy", "owed_intervals"
        ):
            if (object_code, device_id) in store_keys:
                found[(object_code, device_id)] = (pk, owner, energy, intervals)
    return found


def prepare_values(
    rows: list[ReadingRow] | ReadingColumns,
    outcomes: list[WriteOutcome],
    *,
    now: datetime | None = None,
    points: dict[tuple[str, str], PointSlot] | None = None,
) -> ValueSlots:
    """Intake hook (egsu.ami.intake.receive): the points' slots that these stored rows fill, worked
    out in Python; `record()` writes them. A caller can do this before its transaction and hold the
    database's writer only for `record()`.

    `points` ((object_id, device_id) → PointSlot) spares the lookup when the caller read the rows'
    points already; it must hold every owing point the rows name.
    """
    now = now or utcnow()
    if not len(rows):
        return ValueSlots({}, {}, now)
    if isinstance(rows, ReadingColumns):
        objects, devices, intervals, starts = rows.object_id, rows.device_id, rows.interval, rows.period_start
    else:
        objects, devices = [r.key.object_id for r in rows], [r.key.device_id for r in rows]
        intervals, starts = [r.interval for r in rows], [r.period_start for r in rows]
    if points is None:
        points = value_points(set(zip(objects, devices, strict=True)))
    # slot key (object_id, device_id, interval, period_start) → (point pk, revised)
    slots: dict[tuple, tuple[int, bool]] = {}
    revision = WriteOutcome.REVISED
    # Each distinct slot once (a batch holds every channel of a meter's slot), then the revised ones;
    # as before, rows without an outcome count for nothing.
    keys = islice(zip(objects, devices, intervals, starts, strict=False), min(len(outcomes), len(objects)))
    for key in dict.fromkeys(keys):
        point = points.get(key[:2])
        if point is not None and key[2] == point[3]:
            slots[key] = (point[0], False)
    if revision in outcomes:
        for object_id, device_id, interval, start, outcome in zip(
            objects, devices, intervals, starts, outcomes, strict=False
        ):
            key = (object_id, device_id, interval, start)
            if outcome == revision and key in slots:
                slots[key] = (slots[key][0], True)  # revised by any of its rows
    return ValueSlots(slots, {point[0]: point for point in points.values()}, now)


class ValueSlots:
    """The ledger's share of stored AMI values (`prepare_values`): their slots, and the rows and
    counts they add if every slot is new, as a batch's slots nearly always are."""

    def __init__(self, slots: dict[tuple, tuple[int, bool]], by_pk: dict[int, PointSlot], now: datetime):
        self.slots, self.by_pk, self.now = slots, by_pk, now
        self.new, self.point_delta, self.subject_delta, self.period_delta = _new_slots(slots, {}, by_pk, now)
        self.params = _arrival_params(self.new, now) if self.new else None

    def record(self) -> None:
        """Write them (in the caller's transaction); a slot another batch put in the ledger first is
        updated on a second attempt."""
        if self.slots:
            retrying_slot_races(self._record)

    def _record(self) -> None:
        slots, now = self.slots, self.now
        point_delta, subject_delta, period_delta = self.point_delta, self.subject_delta, self.period_delta
        # Inserted at once, and only when one was in the ledger already (a re-send, another batch of
        # the same slot) is the insert undone and the slots looked up (issue 13: the look-up was a
        # sixth of the hook).
        try:
            with transaction.atomic():  # a savepoint inside the intake's transaction
                existing: dict[tuple, int] = {}
                if self.params is not None:
                    _write_arrival_rows(*self.params)
        except IntegrityError:
            existing = _existing(slots)
            new, point_delta, subject_delta, period_delta = _new_slots(slots, existing, self.by_pk, now)
            if new:
                _write_arrival_rows(*_arrival_params(new, now))
        _touch(existing, slots, now)
        _add(PointDay, POINT_DAY, point_delta)
        for energy, deltas in subject_delta.items():
            _add(SubjectDay, SUBJECT_DAY, deltas, energy=energy)
        for energy, deltas in period_delta.items():
            _add_periods(deltas, energy)


def _new_slots(
    slots: dict[tuple, tuple[int, bool]],
    existing: dict[tuple, int],
    by_pk: dict[int, PointSlot],
    now: datetime,
) -> tuple[list[tuple], dict[tuple, list[int]], dict[str, dict[tuple, list[int]]], dict[str, dict]]:
    """The ledger rows of the slots not in `existing`, and what they add to the points' and the
    subjects' day counts and (those within their grace) to the subjects' period counts."""
    allowance = grace()
    new: list[tuple] = []
    periods: dict[tuple[str, datetime], tuple[datetime, bool, date]] = {}  # few per batch: each once
    point_delta: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    subject_delta: dict[str, dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    period_delta: dict[str, dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for key, (point_pk, revised) in slots.items():
        if key in existing:
            continue
        object_id, device_id, interval, start = key
        _pk, owner, energy, _interval = by_pk[point_pk]
        period = periods.get((interval, start))
        if period is None:
            due = slot_rules.due_at(interval, start)
            period = periods[(interval, start)] = (due, _in_grace(due, now, allowance), astana_date(start))
        due, on_time, day = period
        status = ArrivalStatus.REVISED if revised else ArrivalStatus.ACCEPTED
        new.append((object_id, device_id, interval, start, day, owner, point_pk, due, on_time, status))
        column = 0 if on_time else 1
        point_delta[(point_pk, day, interval)][column] += 1
        subject_delta[energy][(owner, day, interval)][column] += 1
        if on_time:  # arrived within its grace: not yet owed (an AMI slot is never rejected)
            period_delta[energy][(owner, start, interval, day, due)][0] += 1
    return new, point_delta, subject_delta, period_delta


# The columns a new AMI slot sets; every other column of the ledger takes its field's default.
_SLOT_COLUMNS = (
    "object_id", "device_id", "interval", "period_start", "day", "subject", "point", "due_at", "on_time",
    "status", "first_received_at", "last_received_at", "accepted_at",
)  # fmt: skip


def _arrival_params(new: list[tuple], now: datetime) -> tuple[list[str], list[tuple]]:
    """The columns and plain tuples that INSERT the new slots (one executemany per chunk).

    Arrival instances through bulk_create were most of the hook's time (about 0.2 ms a slot, a
    quarter of an AMI batch's intake); the rows and their defaults are the same. A concurrent
    insert of the same slot still raises IntegrityError (the unique slot constraint).
    """
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
    for object_id, device_id, interval, start, day, owner, point_pk, due, on_time, status in new:
        if day not in days:
            days[day] = ops.adapt_datefield_value(day)
        params.append(
            (object_id, device_id, interval, instant(start), days[day], owner, point_pk, instant(due), on_time,
             str(status), *fixed)
        )  # fmt: skip
    return columns, params


def _existing(slots: dict[tuple, tuple[int, bool]]) -> dict[tuple, int]:
    """Slot key → ledger row id, for the slots already in the ledger (one query per chunk of meters
    and periods: the slot index leads with the period, so both are lists and the index is probed
    per slot, not read over a range of periods for every device)."""
    found: dict[tuple, int] = {}
    starts = sorted({key[3] for key in slots})
    object_ids = sorted({key[0] for key in slots})
    device_ids = sorted({key[1] for key in slots})
    # The id lists as plain SQL: the queryset would prepare each of the thousands of ids through
    # the field, which cost more than the query itself.
    quote = connections[Arrival.objects.db].ops.quote_name
    table = quote(Arrival._meta.db_table)
    object_in = f"{table}.{quote('object_id')} IN ({', '.join(['%s'] * len(object_ids))})"
    intervals = {key[2] for key in slots}
    for chunk, periods in product(_chunks(device_ids), _chunks(starts)):
        rows = (
            # extra() with our own SQL fragment; values travel as parameters
            Arrival.objects.filter(interval__in=intervals, period_start__in=periods)  # nosec B610
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
