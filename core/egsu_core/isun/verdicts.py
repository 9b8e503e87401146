"""The result of checking one ISUN record: accepted with its values, or rejected with a reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from egsu_core.vocabulary import Interval  # PT2H: isDaily = no (INT-34); P1D: isDaily = yes (INT-33)


class RecordStatus(StrEnum):
    ACCEPTED = "ACCEPTED"  # stored for the first time
    DUPLICATE = "DUPLICATE"  # the same values were already stored: nothing counted twice
    REVISED = "REVISED"  # the same record key with other values: stored as a new revision
    REJECTED = "REJECTED"  # not stored; see code and reason


@dataclass(frozen=True)
class ValidRecord:
    """A record that passed every rule; quantities are App.3 field names with values in App.3 units."""

    object_id: str
    device_id: str
    facility_kind: str
    device_type_id: int
    operation_type_id: int
    product_type_id: int | None
    pipeline_id: int | None
    period_start: datetime  # UTC, aware
    interval: Interval
    is_daily: bool
    device_ok: bool | None  # deviceStatus; None when the sender did not say
    registered_at: datetime | None  # regdatetime, UTC
    commercial: bool
    values: dict[str, Decimal]


@dataclass
class Verdict:
    position: int  # 1-based position of the record in the message
    object_id: str | None
    device_id: str | None
    status: RecordStatus
    code: str = ""  # machine-readable reason (see egsu_core.isun.rules.REASONS) when rejected
    reason: str = ""  # a sentence a person can act on
    warnings: list[str] = field(default_factory=list)
    record: ValidRecord | None = None
