"""An oil balance (a tank farm, a preparation shop, a delivery point) and a feeder with two
transformer points, on the cabinet world."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from egsu.readings.services import get_store
from egsu.readings.store import ReadingRow, SeriesKey
from tests.cabinet.conftest import START, client_for, world  # noqa: F401 - shared fixtures
from tests.points.conftest import make_meter
from tests.registry.factories import make_device, make_facility

JUNE_2, JUNE_3 = date(2025, 6, 2), date(2025, 6, 3)


def daily(facility, device, day: int, volume) -> ReadingRow:
    return ReadingRow(SeriesKey(facility.object_id, device.device_id, "volume"), "P1D",
                      START + timedelta(days=day), Decimal(volume), "m³", "good", "test")  # fmt: skip


@pytest.fixture
def oil(world):  # noqa: F811 - the shared fixture
    """The own subject's tank farm (the world's: its stock rises 12 m³ a day), a preparation shop
    producing 50 m³ a day and a delivery point shipping 38 m³ on 2 June and 30 m³ on 3 June."""
    shop = make_facility("A110", kind="1.1", subject=world.own, name="Preparation shop")
    point = make_facility("A130", kind="1.3", subject=world.own, name="Delivery point")
    producer = make_device(shop, "1", device_type_id=1, product_type_id=1)
    shipper = make_device(point, "1", device_type_id=1, product_type_id=1, operations=[2])
    get_store().write([daily(shop, producer, 1, 50), daily(shop, producer, 2, 50),
                       daily(point, shipper, 1, 38), daily(point, shipper, 2, 30)])  # fmt: skip
    return world


@pytest.fixture
def feeder(world):  # noqa: F811
    """A feeder whose own meter takes in 100 kWh on 2 June; two transformer points below it take 60 and 33."""
    top = make_meter(world.own, "F-1", "E-F-1", "", "", "")
    top.metering_object.kind = "feeder"
    top.metering_object.save()
    rows = [ReadingRow(SeriesKey("F-1", str(top.pk), "A+"), "PT15M", START + timedelta(days=1), Decimal(100),
                       "kWh", "good", "t", True)]  # fmt: skip
    for code, amount in (("TP-1", 60), ("TP-2", 33)):
        below = make_meter(world.own, code, f"E-{code}", "", "", "")
        below.metering_object.parent = top.metering_object
        below.metering_object.save()
        rows.append(ReadingRow(SeriesKey(code, str(below.pk), "A+"), "PT15M", START + timedelta(days=1, hours=3),
                               Decimal(amount), "kWh", "good", "t", True))  # fmt: skip
    get_store().write(rows)
    return top.metering_object
