"""A meter with a day of 15-minute values and daily register readings, on the cabinet world."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from egsu.readings.services import get_store
from egsu.readings.store import ReadingRow, SeriesKey
from tests.cabinet.conftest import START, client_for, world  # noqa: F401 - shared fixtures
from tests.points.conftest import make_meter

Q = timedelta(minutes=15)
DAY = START + timedelta(days=1)  # 2025-06-02 00:00 Astana, a Monday


def quarter(meter, slot: int, value, quality="good", source="ami:hes:b1", quantity="A+") -> ReadingRow:
    key = SeriesKey(meter.metering_object.code, str(meter.pk), quantity)
    return ReadingRow(key, "PT15M", DAY + slot * Q, Decimal(str(value)), "kWh", quality, source, True)


def register(meter, day: int, value) -> ReadingRow:
    key = SeriesKey(meter.metering_object.code, str(meter.pk), "reg:A+")
    return ReadingRow(
        key, "P1D", DAY + timedelta(days=day), Decimal(str(value)), "kWh", "good", "ami:hes:b1", True
    )


def level(slot: int) -> float:
    return 1.0 + (slot % 4) / 10


@pytest.fixture
def meter(world):  # noqa: F811 - the shared fixture
    """The own subject's meter: on 2 June one value negative (slot 10), slots 20-21 and 40-59 missing;
    the whole previous working day (30 May, Friday) alike for the like-day profile; the register
    rolls back on 3 June."""
    own = make_meter(world.own, "TP-VEE", "E-VEE-1", "ACC-900", "Abay avenue 1", "Kazyna LLP")
    missing = {20, 21, *range(40, 60)}
    rows = [
        quarter(own, slot, -2 if slot == 10 else level(slot)) for slot in range(96) if slot not in missing
    ]
    rows += [quarter(own, slot - 96 * 3, level(slot)) for slot in range(96)]  # Friday 30 May
    rows += [register(own, 0, 1000), register(own, 1, 990)]
    get_store().write(rows)
    return own
