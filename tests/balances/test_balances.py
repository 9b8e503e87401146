"""Balances (issue 14 item 6, Tech.req. §7): oil and gas per subject and day from App.2 tables, electricity
per object from its meters and its children's; alarms "balance"; the page with its chart, per role."""

from __future__ import annotations

import pytest

from egsu.access.roles import Role
from egsu.alarms.models import Alarm
from egsu.ami.models import MeteringObject
from egsu.balances import services
from egsu.balances.core import Line, OilGasDay, line_of, settle_oil_gas
from egsu.vee.models import Finding
from tests.balances.conftest import JUNE_2, JUNE_3


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
        assert Finding.objects.get(rule="tank_balance", object_id=oil.own.bin).detail == {
            "imbalance": -8.0,
            "relative": -0.16,
        }  # on the findings page, with the subject's other findings
        services.check_day(JUNE_2)
    assert Alarm.objects.get(pk=alarm.pk).state == "closed"


def test_energy_balance_losses_against_the_allowed_imbalance(feeder, django_capture_on_commit_callbacks):
    found = services.energy_balance(feeder, JUNE_2, JUNE_2)
    [(_, day)] = found.days
    assert (day.input, day.outputs, day.losses, day.loss_pct) == (100.0, 93.0, 7.0, 7.0)
    assert found.allowed_loss_pct == 5.0 and found.violated
    with django_capture_on_commit_callbacks(execute=True):
        services.check_day(JUNE_2)
    assert Alarm.objects.get(source="balance", key="energy:F-1").state == "open"
    finding = Finding.objects.get(rule="energy_balance", object_id="F-1")
    assert (finding.energy, finding.detail["loss_pct"], finding.subject_id) == (
        "electricity",
        7.0,
        feeder.subject_id,
    )
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
