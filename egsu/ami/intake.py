"""Receiving one `ami/1` batch from a head-end: check, store, answer (docs/ami-intake.md).

The same function serves REST and MQTT. A batch is stored in one database transaction
together with the record of its answer, so that a replay of its id gets the same answer and a
retry after a failure starts from nothing. Values go to the readings store through
`get_store().write(rows)`; on the SQL backend that write joins the same transaction, on
ClickHouse it happens first and is idempotent (a retry finds DUPLICATE rows). If anything
raises, nothing is acknowledged: the REST caller gets 503, the MQTT message is not acked. A
clash with a concurrent batch over an arrivals-ledger slot is settled inside the ledger update.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction

from egsu.alarms import sources as alarm_sources
from egsu.ami import catalog, gas, known, wire
from egsu.ami.events import ALARMS
from egsu.ami.known import MeterInfo
from egsu.ami.models import AmiBatch, HeadEndSystem, MeterEvent, MeterState
from egsu.monitoring.ledger import ValueSlots, prepare_values
from egsu.monitoring.slots import slot_of
from egsu.ops import metrics
from egsu.ops.timekeeping import system_time
from egsu.readings.services import get_store
from egsu.readings.store import (
    KNOWN_INTERVALS,
    Quality,
    ReadingColumns,
    ReadingsStore,
    WriteOutcome,
    fitting_text,
    joins_transaction,
    value_fits,
    write_columns,
)
from egsu_core.clock import to_astana, utcnow

log = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(seconds=60)  # a head-end's clock may run this far ahead of ours
_LOOKUP_CHUNK = 500
# The wire's quality (egsu.ami.wire.QUALITIES) → the stored flag; an estimate stays one (AMI-16).
_QUALITY = {
    "good": Quality.GOOD.value,
    "device_fault": Quality.DEVICE_FAULT.value,
    "estimated": Quality.ESTIMATED.value,
}
# Values a derived quantity may be computed from: measured or estimated, never a faulty one.
_USABLE = frozenset({Quality.GOOD.value, Quality.ESTIMATED.value})


@dataclass(frozen=True)
class Answer:
    """What the head-end is told: an HTTP status for REST and the document for both transports."""

    status: int
    body: dict
    replay: bool = False


def conflict_answer(head_end: HeadEndSystem, batch_id: str) -> Answer:
    return Answer(
        409,
        {
            "format": wire.FORMAT,
            "batchId": batch_id,
            "headEnd": head_end.name,
            "status": "conflict",
            "code": "batch-id-reused",
            "reason": "this batch id was already used for a different content; use a new id",
        },
    )


def document_error_answer(batch_id: str | None, error: wire.DocumentError) -> Answer:
    body = {
        "format": wire.FORMAT,
        "batchId": batch_id,
        "status": "refused",
        "code": error.code,
        "reason": error.reason,
    }
    return Answer(400, body)


@metrics.observe_ami  # latency, status and values of every batch, REST and MQTT (DIG-22)
def receive(
    head_end: HeadEndSystem, batch: wire.Batch, *, transport: str, now: datetime | None = None
) -> Answer:
    """Store what is valid in a parsed batch and answer per item; replays get the stored answer."""
    if batch.head_end is not None and batch.head_end != head_end.name:
        return document_error_answer(
            batch.batch_id, wire.DocumentError("wrong-head-end", f"headEnd {batch.head_end!r} is not you")
        )
    previous = _previous(head_end, batch)
    if previous is not None:
        return previous
    now = now or system_time(utcnow())  # the receipt time on the System's clock (egsu.ops.timekeeping)
    work = _Work(head_end, batch, now)
    work.check()
    try:
        body = _store(work, head_end, batch, transport, now)
    except IntegrityError:
        # The same batch id committed concurrently (a duplicate delivery racing the first).
        previous = _previous(head_end, batch)
        if previous is None:
            raise
        return previous
    return Answer(200, body)


def _store(work: _Work, head_end: HeadEndSystem, batch: wire.Batch, transport: str, now: datetime) -> dict:
    """Values, ledger, events, states and the batch record, in one transaction; the answer body.

    A store outside the Django database (ClickHouse) commits its claims by itself (ADR 0013): its
    write, and the Python work of the ledger's rows, come before the transaction, so that the Django
    database's single writer (SQLite) is held only for the writes that need it."""
    store = get_store()
    early = None if joins_transaction(store) else _write(store, work, now)
    with transaction.atomic():
        outcomes, arrivals = early or _write(store, work, now)
        arrivals.record()  # the arrivals ledger (issue 5)
        events_new, events_duplicate = _store_events(work.events, batch.batch_id)
        states = _store_states(work.states, batch.batch_id)
        body = work.answer(outcomes, events_new, events_duplicate, states)
        AmiBatch.objects.create(
            head_end=head_end,
            batch_id=batch.batch_id,
            digest=batch.digest,
            transport=transport,
            received=batch.received,
            stored=body["stored"],
            refused=len(body["refused"]),
            answer=body,
        )
    return body


def _write(store: ReadingsStore, work: _Work, now: datetime) -> tuple[list[WriteOutcome], ValueSlots]:
    """The values written, and what they add to the arrivals ledger."""
    outcomes = write_columns(store, work.rows)
    return outcomes, prepare_values(work.rows, outcomes, now=now, points=work.slot_points())


def _previous(head_end: HeadEndSystem, batch: wire.Batch) -> Answer | None:
    stored = (
        AmiBatch.objects.filter(head_end=head_end, batch_id=batch.batch_id).only("digest", "answer").first()
    )
    if stored is None:
        return None
    if stored.digest != batch.digest:
        return conflict_answer(head_end, batch.batch_id)
    return Answer(200, stored.answer, replay=True)


class _Work:
    """The checks of one batch, and the rows, events and states that passed them."""

    def __init__(self, head_end: HeadEndSystem, batch: wire.Batch, now: datetime) -> None:
        self.head_end, self.batch, self.now = head_end, batch, now
        self.source = f"ami:{head_end.name}:{batch.batch_id}"[:100]
        self.refused: list[wire.Refusal] = list(batch.refused)
        self.rows = ReadingColumns(source=self.source)  # the values to store, as columns
        self.stored_values = 0  # items among them (derived values are not items)
        self.events: list[MeterEvent] = []
        self.states: list[MeterState] = []
        self.derived = 0
        self.accepted = 0

    def refuse(
        self, section: str, index: int, meter: str, channel: str | None, code: str, reason: str
    ) -> None:
        self.refused.append(wire.Refusal(section, index, meter, channel, code, reason))

    def check(self) -> None:
        batch = self.batch
        serials = set(batch.intervals.meter) | {r.meter for r in batch.registers}
        serials |= {e.meter for e in batch.events} | {s.meter for s in batch.states}
        self.meters, self.channels = known.KNOWN.lookup(self.head_end.subject_id, serials)
        self._intervals()
        self._registers()
        self._events()
        self._states()

    def slot_points(self) -> dict[tuple[str, str], tuple[int, int, str, str]]:
        """What the arrivals ledger needs of the batch's owing points, read with the meters (one query fewer)."""
        return {
            (m.object_code, m.device_id): (m.point, m.owner, m.energy, m.owed_intervals)
            for m in self.meters.values()
            if m.point is not None and m.owes and m.owed_intervals
        }

    def _meter(self, section: str, index: int, serial: str, channel: str | None) -> MeterInfo | None:
        meter = self.meters.get(serial)
        if meter is None:
            # Also the answer for another subject's meter: we do not say that it exists (ACC).
            self.refuse(
                section,
                index,
                serial,
                channel,
                "unknown-meter",
                "no meter with this serial number is registered to your subject",
            )
            return None
        if not meter.active:
            self.refuse(
                section,
                index,
                serial,
                channel,
                "inactive-meter",
                "the meter is registered as inactive (AMI-04)",
            )
            return None
        return meter

    def _intervals(self) -> None:
        """Check the interval values column by column: a batch repeats few meters, channels and periods."""
        gas_parts: dict[tuple[int, datetime], dict[str, tuple[Decimal, str]]] = defaultdict(dict)
        periods: dict[tuple[str, datetime], tuple[str, str] | None] = {}
        now, rows = self.now, self.rows
        gas = catalog.Energy.GAS
        # each column's append, bound once (a batch appends to each tens of thousands of times)
        add_object, add_device, add_quantity = (
            rows.object_id.append,
            rows.device_id.append,
            rows.quantity.append,
        )
        add_interval, add_start, add_value = rows.interval.append, rows.period_start.append, rows.value.append
        add_unit, add_quality, add_commercial = rows.unit.append, rows.quality.append, rows.commercial.append
        add_text = rows.text.append
        bounds = {code: (q.low, q.high) for code, q in catalog.QUANTITIES.items()}
        items, before = self.batch.intervals, len(rows)
        # (meter serial, channel code) → what its values share, or None when its items are refused:
        # a batch repeats each series for every period it holds, so each is looked up once.
        series: dict[tuple[str, str], tuple | None] = {}
        texts: dict[int, str | None] = {}  # id(value) → fitting_text(value)
        for index, serial, code, start, value, wire_quality in zip(
            items.index, items.meter, items.channel, items.start, items.value, items.quality, strict=True
        ):
            shared = series.get((serial, code), series)
            if shared is series:
                shared = series[(serial, code)] = self._series(serial, code, bounds)
            if shared is None:
                self._refuse_series(index, serial, code)
                continue
            meter, unit, interval, low, high = shared
            period = (interval, start)
            if period not in periods:  # a batch holds few distinct periods: check each once
                periods[period] = _interval_problem(interval, start, now)
            problem = periods[period]
            if problem is None:
                if low <= value <= high:
                    # one shared Decimal per distinct text of the batch (egsu.ami.wire): each fitted
                    # once; by identity, as the digest does (the batch holds every value meanwhile)
                    text = texts.get(id(value), texts)
                    if text is texts:
                        text = texts[id(value)] = fitting_text(value)
                else:
                    text = None
                if text is None:
                    problem = _value_problem(code, value)  # says why
            if problem:
                self.refuse("intervals", index, serial, code, *problem)
                continue
            quality = _QUALITY[wire_quality]
            add_object(meter.object_code)
            add_device(meter.device_id)
            add_quantity(code)
            add_interval(interval)
            add_start(start)
            add_value(value)
            add_unit(unit)
            add_quality(quality)
            add_commercial(meter.commercial)
            add_text(text)
            if meter.energy == gas and quality in _USABLE:
                gas_parts[(meter.id, start)][code] = (value, quality)
        self.stored_values += len(rows) - before
        self._derive_standard_volumes(gas_parts)

    def _series(self, serial: str, code: str, bounds: dict) -> tuple | None:
        """(meter, unit, interval, low, high) of a series the batch may store values of, else None."""
        meter = self.meters.get(serial)
        if meter is None or not meter.active:
            return None
        channel = self.channels.get((meter.id, code))
        if channel is None:
            return None
        return (meter, *channel, *bounds[code])

    def _refuse_series(self, index: int, serial: str, code: str) -> None:
        """Refuse an interval item of a series `_series` found nothing for (unknown meter or channel)."""
        if self._meter("intervals", index, serial, code) is not None:
            self.refuse(
                "intervals", index, serial, code, "unknown-channel", f"the meter has no channel {code}"
            )

    def _derive_standard_volumes(
        self, parts: dict[tuple[int, datetime], dict[str, tuple[Decimal, str]]]
    ) -> None:
        """Vstd from Vop, Pabs and Tgas of the same meter and period, unless the corrector sent it (AMI-45).

        An estimated input still gives a Vstd (the head-end's substitute for the operating volume
        is the best there is for that period), and that Vstd is stored as estimated too (AMI-16).
        """
        by_id = {m.id: m for m in self.meters.values()}
        for (meter_id, start), values in parts.items():
            if "Vstd" in values or not {"Vop", "Pabs", "Tgas"} <= values.keys():
                continue
            channel = self.channels.get((meter_id, "Vstd"))
            if channel is None:
                continue
            meter = by_id[meter_id]
            (v_op, q_v), (p_abs, q_p), (t_gas, q_t) = values["Vop"], values["Pabs"], values["Tgas"]
            estimated = Quality.ESTIMATED.value in (q_v, q_p, q_t)
            quality = Quality.ESTIMATED.value if estimated else Quality.GOOD.value
            try:
                volume = gas.standard_volume(v_op, p_abs, t_gas, meter.composition)
            except (ValueError, RuntimeError) as exc:
                log.warning("no Vstd for meter %s at %s: %s", meter_id, start, exc)
                continue
            if not value_fits(volume):
                continue
            self._row(meter, "Vstd", channel[1], start, volume, channel[0], quality, ("derived", -1))
            self.derived += 1

    def _row(
        self,
        meter: MeterInfo,
        quantity: str,
        interval: str,
        start: datetime,
        value: Decimal,
        unit: str,
        quality: str,
        item: tuple[str, int],
    ) -> None:
        self.rows.append(meter.object_code, meter.device_id, quantity, interval, start, value, unit, quality,
                         meter.commercial, fitting_text(value))  # fmt: skip
        if item[0] != "derived":
            self.stored_values += 1

    def _registers(self) -> None:
        for item in self.batch.registers:
            meter = self._meter("registers", item.index, item.meter, item.channel)
            if meter is None:
                continue
            channel = self.channels.get((meter.id, item.channel))
            if channel is None:
                self.refuse(
                    "registers",
                    item.index,
                    item.meter,
                    item.channel,
                    "unknown-channel",
                    f"the meter has no channel {item.channel}",
                )
                continue
            if not catalog.QUANTITIES[item.channel].cumulative:
                self.refuse(
                    "registers",
                    item.index,
                    item.meter,
                    item.channel,
                    "not-a-register",
                    f"{item.channel} is not a cumulative quantity",
                )
                continue
            local = to_astana(item.at)
            if (local.hour, local.minute, local.second, local.microsecond) != (0, 0, 0, 0):
                self.refuse(
                    "registers",
                    item.index,
                    item.meter,
                    item.channel,
                    "misaligned",
                    "a register snapshot is taken at 00:00 Astana time (MTR-04)",
                )
                continue
            if item.at > self.now + CLOCK_SKEW:
                self.refuse(
                    "registers",
                    item.index,
                    item.meter,
                    item.channel,
                    "future-time",
                    "the snapshot time is in the future",
                )
                continue
            if not Decimal(0) <= item.value <= catalog.REGISTER_HIGH or not value_fits(item.value):
                self.refuse(
                    "registers",
                    item.index,
                    item.meter,
                    item.channel,
                    "implausible-value",
                    f"a register holds 0..{catalog.REGISTER_HIGH}",
                )
                continue
            self._row(
                meter,
                catalog.REGISTER_PREFIX + item.channel,
                "P1D",
                item.at,
                item.value,
                channel[0],
                _QUALITY[item.quality],
                ("registers", item.index),
            )

    def _events(self) -> None:
        for item in self.batch.events:
            meter = self._meter("events", item.index, item.meter, item.code.name)
            if meter is None:
                continue
            if item.at > self.now + CLOCK_SKEW:
                self.refuse(
                    "events",
                    item.index,
                    item.meter,
                    item.code.name,
                    "future-time",
                    "the event time is in the future",
                )
                continue
            if item.value is not None and not value_fits(item.value):
                self.refuse(
                    "events",
                    item.index,
                    item.meter,
                    item.code.name,
                    "implausible-value",
                    "the value cannot be stored exactly",
                )
                continue
            self.events.append(
                MeterEvent(
                    meter_id=meter.id, code=int(item.code), occurred_at=item.at, phase=item.phase or 0,
                    value=item.value, details=item.details, alarm=item.code in ALARMS,
                )
            )  # fmt: skip
        self.accepted += len(self.events)

    def _states(self) -> None:
        newest: dict[int, MeterState] = {}
        for item in self.batch.states:
            meter = self._meter("states", item.index, item.meter, None)
            if meter is None:
                continue
            if item.at > self.now + CLOCK_SKEW:
                self.refuse(
                    "states", item.index, item.meter, None, "future-time", "the state time is in the future"
                )
                continue
            self.accepted += 1
            state = MeterState(
                meter_id=meter.id, reported_at=item.at, relay=item.relay or "", relay_reason=item.relay_reason,
                online=item.online, battery_low=item.battery_low, valve=item.valve or "", clock_offset_s=item.clock_offset_s,
            )  # fmt: skip
            if meter.id not in newest or newest[meter.id].reported_at <= item.at:
                newest[meter.id] = state
        self.states = list(newest.values())

    def answer(
        self, outcomes: list[WriteOutcome], events_new: int, events_duplicate: int, states: int
    ) -> dict:
        counts = dict.fromkeys(WriteOutcome, 0)
        for outcome in outcomes:
            counts[outcome] += 1
        stored_items = self.stored_values + self.accepted
        refused = sorted(self.refused, key=lambda r: (wire.SECTIONS.index(r.section), r.index))
        if not refused:
            status = "stored"
        elif stored_items:
            status = "partly-stored"
        else:
            status = "refused"
        return {
            "format": wire.FORMAT,
            "batchId": self.batch.batch_id,
            "headEnd": self.head_end.name,
            "status": status,
            "received": self.batch.received,
            "stored": stored_items,
            "values": {
                "new": counts[WriteOutcome.NEW],
                "duplicate": counts[WriteOutcome.DUPLICATE],
                "revised": counts[WriteOutcome.REVISED],
            },
            "derived": {"Vstd": self.derived},
            "events": {"new": events_new, "duplicate": events_duplicate},
            "states": states,
            "refused": [r.as_dict() for r in refused],
        }


def _interval_problem(interval: str, start: datetime, now: datetime) -> tuple[str, str] | None:
    """Whether a value's period is one the store keeps, aligned on the Astana clock, and over."""
    if interval not in KNOWN_INTERVALS:
        return ("interval-not-stored", f"the readings store does not keep {interval} values yet")
    slot = slot_of(interval, start)  # the Astana wall-clock grid of every interval, clock changes included
    if slot is None:
        return ("misaligned", f"a {interval} period starts on its boundary of the Astana clock (COL-05)")
    if slot.due_at > now + CLOCK_SKEW:
        return ("future-time", "the period has not ended yet")
    return None


def _value_problem(code: str, value: Decimal) -> tuple[str, str] | None:
    problem = catalog.plausibility_problem(code, value)
    if problem:
        return ("implausible-value", problem)
    if not value_fits(value):
        return ("implausible-value", "at most 15 significant digits and 12 decimals")
    return None


def _store_events(events: list[MeterEvent], batch_id: str) -> tuple[int, int]:
    """Insert events once each (MTR-10 re-sends); returns (new, duplicate)."""
    if not events:
        return 0, 0
    existing: set[tuple] = set()
    meter_ids = sorted({e.meter_id for e in events})
    low, high = min(e.occurred_at for e in events), max(e.occurred_at for e in events)
    for start in range(0, len(meter_ids), _LOOKUP_CHUNK):
        existing |= set(
            MeterEvent.objects.filter(
                meter_id__in=meter_ids[start : start + _LOOKUP_CHUNK],
                occurred_at__gte=low,
                occurred_at__lte=high,
            ).values_list("meter_id", "code", "occurred_at", "phase")
        )
    fresh, seen = [], set()
    for event in events:
        key = (event.meter_id, event.code, event.occurred_at, event.phase)
        if key in existing or key in seen:
            continue
        seen.add(key)
        event.batch_id = batch_id
        fresh.append(event)
    MeterEvent.objects.bulk_create(fresh, batch_size=2000)
    alarm_sources.meter_events(fresh)  # alarming events open alarms, restores close them (AMI-13)
    return len(fresh), len(events) - len(fresh)


def _store_states(states: list[MeterState], batch_id: str) -> int:
    """Keep the newest state per meter; an older report arriving late changes nothing."""
    if not states:
        return 0
    current = dict(
        MeterState.objects.filter(meter_id__in=[s.meter_id for s in states]).values_list(
            "meter_id", "reported_at"
        )
    )
    newer = [s for s in states if s.meter_id not in current or current[s.meter_id] < s.reported_at]
    for state in newer:
        state.batch_id = batch_id
    MeterState.objects.bulk_create(
        newer,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["meter"],
        update_fields=[
            "reported_at",
            "relay",
            "relay_reason",
            "online",
            "battery_low",
            "valve",
            "clock_offset_s",
            "batch_id",
        ],
    )
    return len(newer)
