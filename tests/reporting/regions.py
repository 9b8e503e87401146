"""Regions made of one, two and three subjects, each subject with one commercial oil metering point and
daily records of last month and of yesterday (sent through the readings store, as the intake does).

Each subject's daily volume is distinct (subject k of the world: 100·k + day), so a published figure
equal to one subject's total would be noticed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from egsu.readings.services import get_store
from egsu.readings.store import ReadingRow, SeriesKey
from egsu_core.clock import astana_date, astana_midnight, utcnow
from tests.registry.factories import make_device, make_facility, make_product_type, make_subject

REGIONS = {"Region One": 1, "Region Two": 2, "Region Three": 3}


@dataclass
class RegionWorld:
    today: date
    last_month: tuple[date, date]
    subjects: dict  # BIN → (region, Subject)
    daily: dict  # BIN → {day: Decimal volume}

    def subject_total(self, bin_: str, start: date, end: date, quantity: str = "volume") -> Decimal:
        factor = Decimal(1) if quantity == "volume" else Decimal("0.5")
        return sum((v * factor for d, v in self.daily[bin_].items() if start <= d <= end), Decimal(0))


def build_region_world(today: date | None = None) -> RegionWorld:
    make_product_type()
    today = today or astana_date(utcnow())
    last_end = today.replace(day=1) - timedelta(days=1)
    last_start = last_end.replace(day=1)
    subjects, daily, rows = {}, {}, []
    number = 0
    for region, count in REGIONS.items():
        for _n in range(count):
            number += 1
            subject = make_subject(name=f"Company {number} LLP", region=region)
            facility = make_facility(f"9{number:02d}001", kind="1.3", subject=subject, name=f"Station {number}",
                                     region=region)  # fmt: skip
            make_device(facility, "1", device_type_id=2, product_type_id=1, commercial=True)
            subjects[subject.bin] = (region, subject)
            days = [last_start + timedelta(days=i) for i in range((last_end - last_start).days + 1)]
            days.append(today - timedelta(days=1))
            daily[subject.bin] = {}
            for day in sorted(set(days)):
                volume = Decimal(100 * number + day.day)
                daily[subject.bin][day] = volume
                for quantity, value, unit in (("volume", volume, "m³"), ("mass", volume / 2, "t")):
                    rows.append(ReadingRow(
                        key=SeriesKey(facility.object_id, "1", quantity), interval="P1D",
                        period_start=astana_midnight(day), value=value, unit=unit, quality="good", source="test",
                        commercial=True,
                    ))  # fmt: skip
    get_store().write(rows)
    return RegionWorld(today, (last_start, last_end), subjects, daily)
