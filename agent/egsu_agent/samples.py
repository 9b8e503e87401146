"""A raw sample: one value of one source tag at one instant, as the device reported it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, order=True)
class Sample:
    """Times are aware UTC instants; the value is in the device's own unit (converted at aggregation)."""

    at: datetime
    tag: str
    value: Decimal
    fault: bool = False
    """The device flagged this reading as faulty (a status bit, a quality code): deviceStatus "no" (FMT-05)."""
    note: str = field(default="", compare=False)
    """Why it is faulty, when the source says (an OPC UA status name); shown in the INT-11 notice."""
