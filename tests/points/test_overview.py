"""The overview page: per energy what matters today, each a link (MON-01/02); first steps on an empty system."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from egsu.access.models import Profile
from egsu.access.roles import Role
from egsu.ami.events import MeterEventCode
from egsu.ami.models import MeterEvent
from egsu.readings.services import get_store
from egsu.readings.store import ReadingRow, SeriesKey
from egsu_core.clock import astana_date, astana_midnight, utcnow

pytestmark = pytest.mark.django_db


def test_an_empty_system_guides_the_administrator(client):
    user = User.objects.create_user("first-operator", "o@example.kz", "x-Password-123")
    Profile.objects.create(user=user, role=Role.OPERATOR)
    client.force_login(user)
    response = client.get("/cabinet/")
    steps = response.context["steps"]
    assert [s["done"] for s in steps][:3] == [False, False, False]
    assert steps[0]["url"] == "/admin/registry/subject/"
    assert b"First steps" in response.content


def test_each_energy_says_what_matters_and_links_to_it(meters, world, client_for):
    # given yesterday's volume of the own device and an alarm of the own meter today
    yesterday = astana_date(utcnow()) - timedelta(days=1)
    start = astana_midnight(yesterday)
    get_store().write([
        ReadingRow(SeriesKey("A100", "1", "volume"), "PT2H", start + timedelta(hours=2 * n), Decimal(10), "m³",
                   "good", "t") for n in range(12)
    ])  # fmt: skip
    MeterEvent.objects.create(meter=meters["own"], code=MeterEventCode.TERMINAL_COVER_OPENED,
                              occurred_at=utcnow() - timedelta(hours=1), alarm=True, batch_id="b")  # fmt: skip
    response = client_for(Role.OPERATOR).get("/cabinet/")
    cards = {card.energy: card for card in response.context["cards"]}
    assert list(cards) == ["oil_gas", "electricity", "heat", "gas"]
    oil = cards["oil_gas"]
    assert oil.points == 2 and [(t["quantity"], t["total"]) for t in oil.totals] == [("volume", Decimal(120))]
    assert oil.links["totals"].startswith("/cabinet/totals/?energy=oil_gas")
    assert cards["electricity"].meter_alarms == 1
    alarms = client_for(Role.OPERATOR).get(cards["electricity"].links["alarms"])
    assert [i["point"].name for i in alarms.context["items"]] == ["E-OWN-1"]  # the list of meters with alarms
    assert response.context["steps"] == []


def test_a_subscriber_sees_only_its_energies(meters, client_for):
    response = client_for(Role.SUBSCRIBER).get("/cabinet/")
    cards = response.context["cards"]
    assert [c.energy for c in cards] == ["electricity", "heat", "gas"]
    assert [c.points for c in cards] == [1, 0, 0]
