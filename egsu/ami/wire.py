"""The `ami/1` batch document: parsing JSON and CSV into typed items (docs/ami-intake.md).

Plain Python. A document-level fault (not JSON, wrong format, no batch id) raises
`DocumentError`; a fault in one item refuses that item only, with its section, index and a
code, so that one bad value never costs a head-end the rest of its batch.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from egsu import compact_json
from egsu.ami.events import MeterEventCode, event_code

FORMAT = "ami/1"
MAX_ITEMS = 200_000  # per batch: about a quarter hour of 50,000 four-channel meters
_BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
# egsu.readings.store.Quality values a head-end may send; estimated: substituted for a missing value (AMI-16)
QUALITIES = ("good", "device_fault", "estimated")
RELAY_STATES = ("on", "off")
VALVE_STATES = ("open", "closed")
CSV_COLUMNS = ("kind", "meter", "channel", "time", "value", "quality")
SECTIONS = ("intervals", "registers", "events", "states")


class DocumentError(ValueError):
    """The whole document is unusable; nothing in it is looked at further."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Refusal:
    """Why one item was not stored (codes are listed in docs/ami-intake.md)."""

    section: str
    index: int
    meter: str | None
    channel: str | None
    code: str
    reason: str

    def as_dict(self) -> dict:
        return {
            "section": self.section,
            "index": self.index,
            "meter": self.meter,
            "channel": self.channel,
            "code": self.code,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class IntervalValue:
    index: int
    meter: str
    channel: str
    start: datetime  # UTC
    value: Decimal
    quality: str = "good"


class IntervalColumns:
    """The intervals of a batch as columns, one list per field (position k is one item).

    A quarter hour of a head-end is tens of thousands of values: they are parsed and checked
    column by column instead of as an object each (issue 13). Reading it as a sequence gives
    `IntervalValue`s (tests, rare callers).
    """

    __slots__ = ("index", "meter", "channel", "start", "value", "quality")

    def __init__(self) -> None:
        self.index: list[int] = []
        self.meter: list[str] = []
        self.channel: list[str] = []
        self.start: list[datetime] = []  # UTC
        self.value: list[Decimal] = []
        self.quality: list[str] = []

    def append(self, item: IntervalValue) -> None:
        self.index.append(item.index)
        self.meter.append(item.meter)
        self.channel.append(item.channel)
        self.start.append(item.start)
        self.value.append(item.value)
        self.quality.append(item.quality)

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, position: int) -> IntervalValue:
        return IntervalValue(
            self.index[position], self.meter[position], self.channel[position], self.start[position],
            self.value[position], self.quality[position],
        )  # fmt: skip

    def __iter__(self):
        return map(IntervalValue, self.index, self.meter, self.channel, self.start, self.value, self.quality)


@dataclass(frozen=True)
class RegisterReading:
    index: int
    meter: str
    channel: str
    at: datetime  # UTC; an Astana midnight (daily snapshot, MTR-04)
    value: Decimal
    quality: str = "good"


@dataclass(frozen=True)
class MeterEventItem:
    index: int
    meter: str
    code: MeterEventCode
    at: datetime  # UTC, the meter's own time stamp (MTR-10: may arrive late)
    phase: int | None = None
    value: Decimal | None = None
    details: str = ""


@dataclass(frozen=True)
class MeterStateItem:
    index: int
    meter: str
    at: datetime
    relay: str | None = None
    relay_reason: str = ""
    online: bool | None = None
    battery_low: bool | None = None
    valve: str | None = None
    clock_offset_s: int | None = None


@dataclass
class Batch:
    batch_id: str
    head_end: str | None
    digest: str = ""  # sha256 of the canonical content: replays are recognised by it
    intervals: IntervalColumns = field(default_factory=IntervalColumns)
    registers: list[RegisterReading] = field(default_factory=list)
    events: list[MeterEventItem] = field(default_factory=list)
    states: list[MeterStateItem] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    @property
    def received(self) -> int:
        return (
            len(self.intervals)
            + len(self.registers)
            + len(self.events)
            + len(self.states)
            + len(self.refused)
        )


class _ItemError(ValueError):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def parse_json(body: bytes) -> Batch:
    """Parse a JSON `ami/1` document."""
    try:
        document = json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DocumentError("not-json", f"the body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise DocumentError("bad-document", "the document must be a JSON object")
    if document.get("format") != FORMAT:
        raise DocumentError("bad-format", f"format must be {FORMAT!r}, got {document.get('format')!r}")
    sections = {}
    for name in SECTIONS:
        items = document.get(name, [])
        if not isinstance(items, list):
            raise DocumentError("bad-document", f"{name} must be a list")
        sections[name] = items
    head_end = document.get("headEnd")
    if head_end is not None and not isinstance(head_end, str):
        raise DocumentError("bad-document", "headEnd must be a string")
    return _parse(_batch_id(document.get("batchId")), head_end, sections)


def parse_csv(body: bytes, batch_id: str | None) -> Batch:
    """Parse the CSV variant: a header `kind,meter,channel,time,value,quality` and one item per line.

    kind is interval, register or event (for an event, channel holds the event code); the batch
    id comes with the request (the `batchId` query parameter or MQTT has no CSV variant).
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError("bad-document", f"CSV must be UTF-8: {exc}") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(column.strip() for column in header) != CSV_COLUMNS:
        raise DocumentError("bad-document", f"the CSV header must be {','.join(CSV_COLUMNS)}")
    sections: dict[str, list] = {name: [] for name in SECTIONS}
    for line in reader:
        if not line:
            continue
        cells = dict(zip(CSV_COLUMNS, (cell.strip() for cell in line), strict=False))
        kind = cells.get("kind", "")
        if kind == "interval":
            item = {"meter": cells.get("meter"), "channel": cells.get("channel"), "start": cells.get("time")}
            item |= {"value": cells.get("value")}
            if cells.get("quality"):
                item["quality"] = cells["quality"]
            sections["intervals"].append(item)
        elif kind == "register":
            sections["registers"].append(
                {
                    "meter": cells.get("meter"),
                    "channel": cells.get("channel"),
                    "at": cells.get("time"),
                    "value": cells.get("value"),
                }
                | ({"quality": cells["quality"]} if cells.get("quality") else {})
            )
        elif kind == "event":
            item = {"meter": cells.get("meter"), "code": cells.get("channel"), "at": cells.get("time")}
            if cells.get("value"):
                item["value"] = cells["value"]
            sections["events"].append(item)
        else:
            raise DocumentError(
                "bad-document", f"line {reader.line_num}: kind must be interval, register or event"
            )
    return _parse(_batch_id(batch_id), None, sections)


def _batch_id(raw: object) -> str:
    if not isinstance(raw, str) or not _BATCH_ID.fullmatch(raw):
        raise DocumentError(
            "bad-batch-id", "batchId must be 1-64 characters: letters, digits and . _ : - (not first)"
        )
    return raw


def _parse(batch_id: str, head_end: str | None, sections: dict[str, list]) -> Batch:
    if sum(len(items) for items in sections.values()) > MAX_ITEMS:
        raise DocumentError("too-many-items", f"a batch holds at most {MAX_ITEMS} items; split it")
    batch = Batch(batch_id=batch_id, head_end=head_end)
    readers = {
        "intervals": (_interval, batch.intervals),
        "registers": (_register, batch.registers),
        "events": (_event, batch.events),
        "states": (_state, batch.states),
    }
    times: dict[str, datetime] = {}  # a batch repeats a few time stamps: parse each text once
    for name in SECTIONS:
        if name == "intervals" and _interval_columns(sections[name], times, batch.intervals):
            continue  # every item well formed: read column by column
        read, into = readers[name]
        for index, raw in enumerate(sections[name]):
            try:
                if not isinstance(raw, dict):
                    raise _ItemError("bad-item", "an item must be an object")
                into.append(read(index, raw, times))
            except _ItemError as exc:
                meter = raw.get("meter") if isinstance(raw, dict) else None
                channel = raw.get("channel", raw.get("code")) if isinstance(raw, dict) else None
                batch.refused.append(
                    Refusal(name, index, _short(meter), _short(channel), exc.code, exc.reason)
                )
    batch.digest = _digest(batch, sections)
    return batch


def _interval_columns(items: list, times: dict[str, datetime], into: IntervalColumns) -> bool:
    """Read a section of interval items into `into` column by column, when every item is well formed.

    Each distinct meter, channel, start and quality text is checked once (a batch repeats them),
    each value is read into a Decimal; False (and `into` untouched) as soon as anything is unusual
    (a non-object item, a missing, padded or bad field, a number that is not finite), and then the
    item-by-item reader decides every item as before, with its refusals.
    """
    if not items:
        return True
    try:
        meters = [item["meter"] for item in items]
        channels = [item["channel"] for item in items]
        starts = [item["start"] for item in items]
        raw_values = [item["value"] for item in items]
        qualities = [item.get("quality", "good") for item in items]
    except (TypeError, KeyError, AttributeError):
        return False
    try:
        for text in {*meters, *channels}:
            if text.__class__ is not str or not text or len(text) > 64 or text.strip() != text:
                return False
        moments = {}
        for text in set(starts):
            moments[text] = _time({"start": text}, "start", times)
        if not set(qualities) <= _QUALITY_SET:
            return False
        values = []
        append = values.append
        # Meters of one batch send the same few texts again and again ("0", "0.125"): each distinct
        # text is read once, and its values share one Decimal (less time, less memory).
        read: dict[str, Decimal] = {}
        for raw in raw_values:
            if raw.__class__ is str:
                value = read.get(raw)
                if value is None:
                    value = read[raw] = Decimal(raw)
            elif raw.__class__ is Decimal or raw.__class__ is int:
                value = Decimal(raw)
            else:
                return False
            if not value.is_finite():
                return False
            append(value)
    except (TypeError, _ItemError, InvalidOperation):  # unhashable, a bad time, not a number
        return False
    # One text object per distinct meter and channel (json gives each item its own copies), and the
    # items' dicts let go at once: a 15 MB batch holds 200,000 of them (issue 13, memory).
    texts: dict[str, str] = {}
    into.index.extend(range(len(items)))
    into.meter.extend([texts.setdefault(text, text) for text in meters])
    into.channel.extend([texts.setdefault(text, text) for text in channels])
    into.start.extend(map(moments.__getitem__, starts))
    into.value.extend(values)
    into.quality.extend([texts.setdefault(text, text) for text in qualities])
    items.clear()  # the section's list (in the parsed document): nothing reads its items again
    return True


_QUALITY_SET = frozenset(QUALITIES)


def _short(raw: object) -> str | None:
    return None if raw is None else str(raw)[:64]


def _text(raw: dict, name: str, *, limit: int = 64) -> str:
    value = raw.get(name)
    if value.__class__ is str:  # the common case, decided as below without the general checks
        stripped = value.strip()
        if stripped and len(value) <= limit:
            return stripped
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise _ItemError("missing-field", f"{name} is missing or empty")
    if len(value) > limit:
        raise _ItemError("bad-field", f"{name} is longer than {limit} characters")
    return value.strip()


def _time(raw: dict, name: str, times: dict[str, datetime]) -> datetime:
    """An aware instant in UTC; `times` remembers the texts already read in this document."""
    text = _text(raw, name)
    moment = times.get(text)
    if moment is not None:
        return moment
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _ItemError("bad-time", f"{name} {text!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise _ItemError("bad-time", f"{name} {text!r} has no offset: write Z or +05:00")
    moment = times[text] = moment.astimezone(UTC)
    return moment


def _decimal(raw: object, name: str) -> Decimal:
    if isinstance(raw, bool) or raw is None:
        raise _ItemError("bad-value", f"{name} must be a number")
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except InvalidOperation:
        raise _ItemError("bad-value", f"{name} {raw!r} is not a number") from None
    if not value.is_finite():
        raise _ItemError("bad-value", f"{name} {raw!r} is not a finite number")
    return value


def _quality(raw: dict) -> str:
    quality = raw.get("quality", "good")
    if not isinstance(quality, str) or quality not in QUALITIES:
        raise _ItemError("bad-quality", f"quality must be one of {', '.join(QUALITIES)}")
    return quality


def _interval(index: int, raw: dict, times: dict[str, datetime]) -> IntervalValue:
    quality = _quality(raw)
    return IntervalValue(
        index,
        _text(raw, "meter"),
        _text(raw, "channel"),
        _time(raw, "start", times),
        _decimal(raw.get("value"), "value"),
        quality,
    )


def _register(index: int, raw: dict, times: dict[str, datetime]) -> RegisterReading:
    quality = _quality(raw)
    return RegisterReading(
        index,
        _text(raw, "meter"),
        _text(raw, "channel"),
        _time(raw, "at", times),
        _decimal(raw.get("value"), "value"),
        quality,
    )


def _event(index: int, raw: dict, times: dict[str, datetime]) -> MeterEventItem:
    try:
        code = event_code(raw.get("code"))
    except ValueError as exc:
        raise _ItemError("unknown-event", str(exc)) from None
    phase = raw.get("phase")
    if phase is not None and (isinstance(phase, bool) or phase not in (1, 2, 3)):
        raise _ItemError("bad-field", "phase must be 1, 2 or 3")
    value = raw.get("value")
    details = raw.get("details", "")
    if not isinstance(details, str) or len(details) > 200:
        raise _ItemError("bad-field", "details must be text of at most 200 characters")
    return MeterEventItem(
        index,
        _text(raw, "meter"),
        code,
        _time(raw, "at", times),
        phase,
        None if value in (None, "") else _decimal(value, "value"),
        details,
    )


def _state(index: int, raw: dict, times: dict[str, datetime]) -> MeterStateItem:
    relay, valve = raw.get("relay"), raw.get("valve")
    if relay is not None and relay not in RELAY_STATES:
        raise _ItemError("bad-field", "relay must be on or off")
    if valve is not None and valve not in VALVE_STATES:
        raise _ItemError("bad-field", "valve must be open or closed")
    flags = {}
    for name in ("online", "batteryLow"):
        if raw.get(name) is not None and not isinstance(raw[name], bool):
            raise _ItemError("bad-field", f"{name} must be true or false")
        flags[name] = raw.get(name)
    offset = raw.get("clockOffsetS")
    if offset is not None and (isinstance(offset, bool) or not isinstance(offset, int)):
        raise _ItemError("bad-field", "clockOffsetS must be a whole number of seconds")
    reason = raw.get("relayReason", "")
    if not isinstance(reason, str) or len(reason) > 40:
        raise _ItemError("bad-field", "relayReason must be text of at most 40 characters")
    return MeterStateItem(
        index,
        _text(raw, "meter"),
        _time(raw, "at", times),
        relay,
        reason,
        flags["online"],
        flags["batteryLow"],
        valve,
        offset,
    )


def _digest(batch: Batch, sections: dict[str, list]) -> str:
    """sha256 of the content as understood: JSON and CSV of the same values digest alike."""
    texts: dict[datetime, str] = {}  # few distinct instants: write each once

    def iso(moment: datetime) -> str:
        text = texts.get(moment)
        if text is None:
            text = texts[moment] = moment.isoformat()
        return text

    # Values repeat too, as one shared Decimal per distinct text (_interval_columns): each written
    # once. Keyed by identity, not by equality, which would make -0 and 0 one value; the batch holds
    # every value until the digest is done, so no identity is reused meanwhile.
    numbers: dict[int, str] = {}

    def num(value: Decimal) -> str:
        text = numbers.get(id(value))
        if text is None:
            text = numbers[id(value)] = _num(value)
        return text

    canonical = {
        "batchId": batch.batch_id,
        "intervals": list(
            zip(
                batch.intervals.meter,
                batch.intervals.channel,
                map(iso, batch.intervals.start),
                map(num, batch.intervals.value),
                batch.intervals.quality,
                strict=True,
            )
        ),  # fmt: skip
        # A register's quality joins its digest only when not good, so that batches sent before
        # registers carried a quality keep their digest (their replays stay replays, not 409s).
        "registers": [
            [
                r.meter,
                r.channel,
                iso(r.at),
                _num(r.value),
                *([r.quality] if r.quality != "good" else []),
            ]
            for r in batch.registers
        ],
        "events": [
            [
                e.meter,
                int(e.code),
                e.at.isoformat(),
                e.phase,
                None if e.value is None else _num(e.value),
                e.details,
            ]
            for e in batch.events
        ],
        "states": [
            [
                s.meter,
                s.at.isoformat(),
                s.relay,
                s.relay_reason,
                s.online,
                s.battery_low,
                s.valve,
                s.clock_offset_s,
            ]
            for s in batch.states
        ],
        "refused": [[r.section, r.index, repr(sections[r.section][r.index])] for r in batch.refused],
    }
    try:
        return hashlib.sha256(compact_json.dumps(canonical)).hexdigest()
    except compact_json.NotEncodable:
        # JSON can escape half of a UTF-16 pair (\ud800) in any text; no value of ours holds one
        raise DocumentError(
            "bad-document", "the document holds a lone UTF-16 surrogate escape (\\ud800-\\udfff): not text"
        ) from None


def _num(value: Decimal) -> str:
    """1.50, 1.5 and "1.5" are one value."""
    return str(value.normalize())
