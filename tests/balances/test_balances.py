"""Balances (issue 14 item 6, Tech.req. §7): oil and gas per subject and day from App.2 tables, electricity
per object from its meters and its children's; alarms "balance"; the page with its chart, per role."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from egsu.access.roles import Role
from egsu.alarms.models import Alarm
from egsu.ami.models import MeteringObject
from egsu.balances import services
from egsu.balances.core import Line, OilGasDay, line_of, settle_oil_gas
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


def test_lines_of_the_app2_tables():
    assert line_of("1.1", set()) is Line.PRODUCTION and line_of("1.9", set()) is Line.STOCK
    assert line_of("1.3", {1, 5}) is Line.RECEIPT and line_of("1.8", {19}) is Line.FLARING
    assert line_of("1.3", {1, 2}) is None  # both ways: not placed, never guessed


def test_oil_gas_balance_arithmetic_with_normative_losses():
    day = OilGasDay(
        flows={Line.PRODUCTION: 100.0, Line.SHIPMENT: 80.0, Line.FLARING: 5.0}, stock_begin=10, stock_end=24
    )
    [settled] = settle_oil_gas([day], tolerance_abs=0.5, tolerance_rel=0.0, losses_rel=0.01)
    assert settled.flows[Line.LOSSES] == 1.0 and settled.imbalance == 0.0 and not settled.violated


def test_oil_balance_per_day_and_its_alarm(oil, django_capture_on_commit_callbacks):
    found = services.oil_gas_balance(oil.own, "oil", JUNE_2, JUNE_3)
    (_, closes), (_, open_) = found.days
    assert (closes.stock_begin, closes.stock_end, closes.inflow, closes.outflow) == (111.0, 123.0, 50.0, 38.0)
    assert (closes.imbalance, closes.violated) == (0.0, False)
    assert (open_.imbalance, round(open_.relative, 2), open_.violated) == (-8.0, -0.16, True)
    assert {f.object_id: (f.line, f.volume) for f in found.facilities} == {
        "A100": (Line.STOCK, 135.0),
        "A110": (Line.PRODUCTION, 100.0),
        "A130": (Line.SHIPMENT, 68.0),
    }
    with django_capture_on_commit_callbacks(execute=True):
        services.check_day(JUNE_3)
        alarm = Alarm.objects.get(source="balance", key=f"oil_gas:{oil.own.bin}:oil")
        assert (alarm.state, alarm.severity, alarm.subject_id) == ("open", "warning", oil.own.pk)
        services.check_day(JUNE_2)
    assert Alarm.objects.get(pk=alarm.pk).state == "closed"


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


def test_energy_balance_losses_against_the_allowed_imbalance(feeder, django_capture_on_commit_callbacks):
    found = services.energy_balance(feeder, JUNE_2, JUNE_2)
    [(_, day)] = found.days
    assert (day.input, day.outputs, day.losses, day.loss_pct) == (100.0, 93.0, 7.0, 7.0)
    assert found.allowed_loss_pct == 5.0 and found.violated
    with django_capture_on_commit_callbacks(execute=True):
        services.check_day(JUNE_2)
    assert Alarm.objects.get(source="balance", key="energy:F-1").state == "open"
    assert list(MeteringObject.objects.filter(code="F-1")) == list(services.energy_objects())


@pytest.mark.parametrize("role, status, sees", [
    ("anonymous", 302, False), (Role.SUBSCRIBER, 200, False), (Role.SUBJECT, 200, True),
    (Role.OPERATOR, 200, True),
])  # fmt: skip
def test_balance_page_per_role(oil, feeder, client_for, role, status, sees):  # noqa: F811
    response = client_for(role).get("/cabinet/balances/", {"balance": f"oil:{oil.own.bin}", "start": "2025-06-02",
                                                            "end": "2025-06-03"})  # fmt: skip
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert ('id="balance-chart"' in page) is sees
        assert ("Preparation shop" in page) is sees
        energy = client_for(role).get("/cabinet/balances/", {"balance": "object:F-1", "start": "2025-06-02",
                                                              "end": "2025-06-02"}).content.decode()  # fmt: skip
        assert ("7.00" in energy) is sees
