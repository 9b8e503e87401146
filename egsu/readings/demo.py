"""Demo history for `make demo`: daily oil and gas records of the demo registry's metering points.

Written through the readings store like any intake, from the first day of last month to yesterday,
so the reports, totals and open data of a fresh demo have something to show. Deterministic values
(the same demo gives the same numbers); re-running writes DUPLICATEs, nothing new.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal

from egsu.quantities import unit_of
from egsu.readings.services import get_store
from egsu.readings.store import ReadingRow, SeriesKey
from egsu_core.clock import astana_date, astana_midnight, utcnow
from egsu_core.vocabulary import Energy, Interval

SOURCE = "demo-history"


def _value(object_code: str, device: str, quantity: str, day: date) -> Decimal:
    seed = int(hashlib.sha256(f"{object_code}/{device}".encode()).hexdigest()[:6], 16)
    base = 800 + seed % 4000  # each point its own size
    wobble = (int(hashlib.sha256(f"{seed}{day}".encode()).hexdigest()[:4], 16) % 200) - 100
    volume = Decimal(base + wobble + 3 * (day.toordinal() % 7))
    return volume if quantity == "volume" else (volume * Decimal("0.85")).quantize(Decimal("0.001"))


def load_demo_readings(today: date | None = None) -> int:
    """Write the daily volume and mass of every active oil and gas metering point; returns rows written."""
    from egsu.points.models import MeteringPoint

    today = today or astana_date(utcnow())
    start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    points = MeteringPoint.objects.filter(energy=Energy.OIL_GAS, active=True).values_list(
        "object_code", "store_device_id", "commercial"
    )
    rows = []
    for code, device, commercial in points:
        day = start
        while day < today:
            for quantity in ("volume", "mass"):
                rows.append(ReadingRow(
                    key=SeriesKey(code, device, quantity), interval=Interval.DAY.value,
                    period_start=astana_midnight(day), value=_value(code, device, quantity, day),
                    unit=unit_of(quantity), quality="good", source=SOURCE, commercial=commercial,
                ))  # fmt: skip
            day += timedelta(days=1)
    summary = get_store().write_many(rows)
    return summary.new
