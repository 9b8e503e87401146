"""A subscriber's own consumption: by day and month, next to the same period a year earlier (Tech.req. §4 8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from egsu.access.roles import Role
from egsu.readings.services import get_store
from egsu.readings.store import ReadingRow, SeriesKey
from tests.cabinet.conftest import ROLES

pytestmark = pytest.mark.django_db

JUNE_2025 = datetime(2025, 6, 1, tzinfo=UTC) - timedelta(hours=5)  # Astana midnight
JUNE_2024 = datetime(2024, 6, 1, tzinfo=UTC) - timedelta(hours=5)


def _quarters(meter, start, values):
    key = SeriesKey(meter.metering_point.object_code, meter.metering_point.store_device_id, "A+")
    get_store().write(
        [ReadingRow(key, "PT15M", start + timedelta(minutes=15 * n), Decimal(v), "kWh", "good", "t", True)
         for n, v in enumerate(values)]
    )  # fmt: skip


def test_the_subscriber_sees_its_month_by_day_against_a_year_earlier(meters, client_for):
    own = meters["own"]
    _quarters(own, JUNE_2024, ["2"] * 4)  # 8 kWh on 1 June 2024
    response = client_for(Role.SUBSCRIBER).get("/cabinet/consumption/", {"month": "2025-06"})
    assert response.status_code == 200
    [meter] = response.context["meters"]
    assert meter["point"] == own.metering_point
    [line] = meter["daily"]
    # the fixture's 1.5 + 2.5 + 3.5 + 4.5 kWh on 1 June 2025, against 8 a year earlier
    first_day = line.periods[0]
    assert (first_day[1], first_day[2]) == (Decimal("12"), Decimal("8"))
    assert (line.total, line.total_before, line.change_percent) == (
        Decimal("12"),
        Decimal("8"),
        Decimal("50.00"),
    )
    [monthly] = meter["monthly"]
    june = next(p for p in monthly.periods if p[0].month == 6)
    assert (june[1], june[2]) == (Decimal("12"), Decimal("8"))
    assert b"consumption-data" in response.content


def test_the_subscriber_sees_only_its_own_meter(meters, client_for):
    response = client_for(Role.SUBSCRIBER).get("/cabinet/consumption/", {"month": "2025-06"})
    assert [m["point"].name for m in response.context["meters"]] == ["E-OWN-1"]
    assert b"E-OTH-1" not in response.content


@pytest.mark.parametrize("role", ROLES)
def test_the_consumption_page_authorization_matrix(meters, client_for, role):
    response = client_for(role).get("/cabinet/consumption/", {"month": "2025-06"})
    expected = {"anonymous": 302, "no-role": 403, Role.STATE_BODY: 403}.get(role, 200)
    assert response.status_code == expected
    if role == Role.SUBJECT:  # its own subject's meters
        assert [m["point"].name for m in response.context["meters"]] == ["E-OWN-1"]


def test_only_the_subscriber_has_it_in_the_menu(meters, client_for):
    assert b"My consumption" in client_for(Role.SUBSCRIBER).get("/cabinet/").content
    assert b"My consumption" not in client_for(Role.OPERATOR).get("/cabinet/").content
