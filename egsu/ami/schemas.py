"""The `ami/1` documents as pydantic models, for the OpenAPI description only.

The intake parses bodies itself (egsu.ami.wire) so that one bad item refuses that item, not the
batch; tests check that the examples of docs/ami-intake.md validate against both.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from egsu.ami.catalog import QUANTITIES
from egsu.ami.events import MeterEventCode

ChannelCode = Literal[tuple(QUANTITIES)]  # type: ignore[valid-type]
EventName = Literal[tuple(code.name for code in MeterEventCode)]  # type: ignore[valid-type]
# egsu.ami.wire.QUALITIES; estimated = substituted by the head-end for a missing value (AMI-16)
QualityCode = Literal["good", "device_fault", "estimated"]
_QUALITY = (
    "good: measured; device_fault: the meter reported a fault; estimated: the head-end substituted "
    "the value for a missing one (profile, interpolation) and says so (AMI-16)."
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IntervalItem(_Strict):
    meter: str = Field(max_length=64, description="Serial number, as registered for your subject.")
    channel: ChannelCode
    start: datetime = Field(description="Period start with offset; aligned on the Astana clock.")
    value: Decimal | str
    quality: QualityCode = Field("good", description=_QUALITY)


class RegisterItem(_Strict):
    meter: str = Field(max_length=64)
    channel: ChannelCode
    at: datetime = Field(description="00:00 Astana time: the daily (or monthly) snapshot (MTR-04).")
    value: Decimal | str
    quality: QualityCode = Field("good", description=_QUALITY)


class EventItem(_Strict):
    meter: str = Field(max_length=64)
    code: EventName | int
    at: datetime
    phase: Literal[1, 2, 3] | None = None
    value: Decimal | str | None = None
    details: str = Field("", max_length=200)


class StateItem(_Strict):
    meter: str = Field(max_length=64)
    at: datetime
    relay: Literal["on", "off"] | None = None
    relayReason: str = Field("", max_length=40)  # noqa: N815 (wire name)
    online: bool | None = None
    batteryLow: bool | None = None  # noqa: N815
    valve: Literal["open", "closed"] | None = None
    clockOffsetS: int | None = None  # noqa: N815


class BatchDocument(_Strict):
    format: Literal["ami/1"]
    batchId: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")  # noqa: N815
    headEnd: str | None = None  # noqa: N815
    intervals: list[IntervalItem] = []
    registers: list[RegisterItem] = []
    events: list[EventItem] = []
    states: list[StateItem] = []


class RefusalOut(BaseModel):
    section: Literal["intervals", "registers", "events", "states"]
    index: int
    meter: str | None
    channel: str | None
    code: str
    reason: str


class ValueCounts(BaseModel):
    new: int
    duplicate: int
    revised: int


class EventCounts(BaseModel):
    new: int
    duplicate: int


class BatchAnswer(BaseModel):
    format: Literal["ami/1"]
    batchId: str  # noqa: N815
    headEnd: str  # noqa: N815
    status: Literal["stored", "partly-stored", "refused"]
    received: int
    stored: int
    values: ValueCounts
    derived: dict[str, int]
    events: EventCounts
    states: int
    refused: list[RefusalOut]


class BatchError(BaseModel):
    format: Literal["ami/1"] = "ami/1"
    batchId: str | None = None  # noqa: N815
    status: str
    code: str
    reason: str
