"""Metering points in the cabinet: one list and one page for oil and gas devices and AMI meters alike.

The authorization matrix (every role, own and other's data), status and last value (AMI-04, AMI-07),
search (AMI-03), filters and grouping (AMI-10), estimated values (AMI-16), meter events (MTR-06),
and the old addresses that now lead to the point.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from egsu.access.roles import Role
from egsu.ami.events import MeterEventCode
from egsu.ami.models import MeterEvent
from egsu.points.status import status_of
from egsu.readings.services import get_store
from egsu.readings.store import ReadingRow, SeriesKey
from tests.cabinet.conftest import ROLES, START
from tests.points.conftest import LISTED, PAGE_REFUSED, QUARTER, make_meter, point_expected
from tests.registry.factories import make_device, make_facility, make_subject
from tests.reports.helpers import phone_friendly_problems

pytestmark = pytest.mark.django_db


def _names(response) -> list[str]:
    return sorted(item["point"].name for item in response.context["items"])


@pytest.mark.parametrize("role", ROLES)
def test_the_point_list_authorization_matrix(meters, client_for, role):
    response = client_for(role).get("/cabinet/points/")
    assert response.status_code == PAGE_REFUSED.get(role, 200)
    if response.status_code == 200:
        assert _names(response) == LISTED[role]


def _page_expected(role: str, whose: str, kind: str) -> int:
    return point_expected(role, whose, kind, PAGE_REFUSED)


@pytest.mark.parametrize("kind", ["device", "meter"])
@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
def test_the_point_page_authorization_matrix(world, meters, client_for, role, whose, kind):
    owner = world.own_device if whose == "own" else world.other_device
    point = owner.metering_point if kind == "device" else meters[whose].metering_point
    response = client_for(role).get(f"/cabinet/points/{point.pk}/")
    assert response.status_code == _page_expected(role, whose, kind)
    if response.status_code == 200:
        assert response.context["point"] == point


def test_a_subscriber_never_sees_another_suppliers_meter_with_the_same_account(world, meters, client_for):
    # given the other utility's meter carries the subscriber's account number too
    twin = make_meter(world.other, "TP-TWIN", "E-TWIN-1", "ACC-100", "Elsewhere 1", "Someone")
    # then the subscriber's list and the twin's page know nothing of it (AMI-08)
    client = client_for(Role.SUBSCRIBER)
    assert _names(client.get("/cabinet/points/")) == ["E-OWN-1"]
    assert client.get(f"/cabinet/points/{twin.metering_point.pk}/").status_code == 404


def test_the_device_page_shows_key_facts_charts_attributes_and_table(world, client_for):
    point = world.own_device.metering_point
    response = client_for(Role.SUBJECT).get(
        f"/cabinet/points/{point.pk}/", {"start": "2025-06-01", "end": "2025-06-03"}
    )
    body = response.content.decode()
    assert "SN-A-1" in body and "Own tank farm" in body
    assert [c["quantity"] for c in response.context["charts"]] == ["tankLevel", "volume"]
    assert 'id="chart-data"' in body and "/vendor/plotly.min.js" in body
    assert response.context["page"].paginator.count == 72  # 36 two-hour slots × 2 quantities
    assert response.context["status"].last_period == START + timedelta(hours=70)
    # the last value of each quantity is a key fact above the fold, and a link
    facts = {v["row"].key.quantity: v["row"].value for v in response.context["last_values"]}
    assert facts == {"tankLevel": Decimal("135"), "volume": Decimal("135")}


def test_the_meter_page_shows_status_chart_and_table(meters, client_for):
    point = meters["own"].metering_point
    response = client_for(Role.OPERATOR).get(f"/cabinet/points/{point.pk}/")
    assert response.status_code == 200
    assert response.context["status"].last_period == QUARTER + timedelta(minutes=45)
    [chart] = response.context["charts"]
    assert (chart["quantity"], chart["unit"], chart["x"][0], chart["y"]) == (
        "A+", "kWh", "2025-06-01 00:00", [1.5, 2.5, 3.5, 4.5],
    )  # fmt: skip
    assert len(response.context["rows"]) == 4
    assert [row.value for row in response.context["rows"]] == [
        Decimal("1.5"),
        Decimal("2.5"),
        Decimal("3.5"),
        Decimal("4.5"),
    ]


def test_the_meter_page_marks_and_counts_estimated_values(meters, client_for):
    """AMI-16: the quarter hours a head-end substituted are visible as such on the meter's page."""
    own = meters["own"]
    get_store().write([
        ReadingRow(SeriesKey("TP-OWN", str(own.pk), "A+"), "PT15M", QUARTER + timedelta(minutes=15 * n),
                   Decimal("0.5"), "kWh", "estimated", "ami:hes:b2", True)
        for n in (4, 5)
    ])  # fmt: skip
    response = client_for(Role.SUBJECT).get(f"/cabinet/points/{own.metering_point.pk}/")
    assert [row.quality for row in response.context["rows"]] == ["good"] * 4 + ["estimated"] * 2
    [stats] = response.context["stats"]
    assert (stats.count, stats.estimated) == (6, 2)
    assert response.content.decode().count('<tr class="estimated">') == 2


def test_the_meter_page_lists_its_events_with_alarms_marked(meters, client_for):
    own = meters["own"]
    MeterEvent.objects.create(
        meter=own, code=MeterEventCode.TERMINAL_COVER_OPENED, occurred_at=QUARTER, alarm=True, batch_id="b1"
    )
    response = client_for(Role.OPERATOR).get(f"/cabinet/points/{own.metering_point.pk}/")
    [event] = response.context["events"]
    assert event.alarm and b'class="alarm"' in response.content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "SN-B"}, ["B200/1"]),
        ({"q": "sn-a", "search_in": "serial"}, ["A100/1"]),
        ({"q": "Other Gas"}, ["B200/1", "E-OTH-1"]),
        ({"q": "own tank", "search_in": "name"}, ["A100/1"]),
        ({"q": "A100", "search_in": "serial"}, []),
        ({"q": "ACC-200", "search_in": "account"}, ["E-OTH-1"]),
        ({"q": "abay", "search_in": "address"}, ["E-OWN-1"]),
        ({"q": "baiterek", "search_in": "counterparty"}, ["E-OTH-1"]),
        ({"q": "E-OWN", "search_in": "serial"}, ["E-OWN-1"]),
        ({"q": "TP-OTH", "search_in": "name"}, ["E-OTH-1"]),
        ({"q": "kazyna"}, ["E-OWN-1"]),
        ({"q": "ACC-100", "search_in": "serial"}, []),
        ({"energy": "oil_gas"}, ["A100/1", "B200/1"]),
        ({"energy": "electricity"}, ["E-OTH-1", "E-OWN-1"]),
        ({"region": "Atyrau"}, ["A100/1", "E-OWN-1"]),
        ({"commercial": "no"}, ["B200/1"]),
        ({"object_kind": "1.2"}, ["A100/1", "B200/1"]),
        ({"product": "1 Crude oil"}, ["A100/1", "B200/1"]),
        ({"active": "no"}, []),
        ({"updated_from": "2025-06-04"}, []),
        ({"updated_to": "2025-05-31"}, []),
    ],
    ids=lambda v: "-".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, dict) else None,
)
def test_search_and_filters(meters, client_for, query, expected):
    response = client_for(Role.OPERATOR).get("/cabinet/points/", query)
    assert response.status_code == 200
    assert _names(response) == expected


def test_filter_by_subject(meters, world, client_for):
    response = client_for(Role.AUTHORITY).get("/cabinet/points/", {"subject": world.other.bin})
    assert _names(response) == ["B200/1", "E-OTH-1"]


def test_a_subject_user_cannot_filter_by_another_subject(meters, world, client_for):
    response = client_for(Role.SUBJECT).get("/cabinet/points/", {"subject": world.other.bin})
    assert response.status_code == 200 and _names(response) == ["A100/1", "E-OWN-1"]  # the choice is refused


def test_grouping_by_region_counts_points_and_orders_the_list(world, client_for):
    third = make_facility("C300", kind="1.3", subject=make_subject(name="Third"), region="Aktobe")
    make_device(third, "1", device_type_id=1, active=False)
    response = client_for(Role.OPERATOR).get("/cabinet/points/", {"group": "region"})
    assert [(g["label"], g["total"], g["active"]) for g in response.context["groups"]] == [
        ("Aktobe", 1, 0),
        ("Atyrau", 1, 1),
        ("Mangystau", 1, 1),
    ]
    assert [item["point"].name for item in response.context["items"]] == ["C300/1", "A100/1", "B200/1"]
    assert response.content.decode().count('class="group"') == 3
    assert response.context["items"][0]["status"].code == "bad"


def test_the_list_is_paginated(world, client_for):
    facility = make_facility("D400", kind="1.3", subject=world.own, name="Many")
    for number in range(2, 62):
        make_device(facility, str(number), device_type_id=1)
    first = client_for(Role.SUBJECT).get("/cabinet/points/")
    second = client_for(Role.SUBJECT).get("/cabinet/points/", {"page": "2"})
    assert (len(first.context["items"]), len(second.context["items"])) == (50, 11)
    assert first.context["page"].paginator.count == 61
    assert "page=2" in first.content.decode()


def test_the_list_shows_status_and_the_energy_switch(meters, client_for):
    response = client_for(Role.OPERATOR).get("/cabinet/points/?energy=electricity")
    statuses = {item["point"].name: item["status"].code for item in response.context["items"]}
    assert statuses == {"E-OWN-1": "late", "E-OTH-1": "missing"}  # 2025 data is long stale
    assert [e["energy"] for e in response.context["energies"]] == [
        "",
        "oil_gas",
        "electricity",
        "heat",
        "gas",
    ]
    assert b"?energy=heat" in response.content


LAST = datetime(2025, 6, 1, 10, tzinfo=UTC)


def _row(interval: str) -> ReadingRow:
    return ReadingRow(SeriesKey("A", "1", "volume"), interval, LAST, Decimal(1), "m³", "good", "t")


@pytest.mark.parametrize(
    ("active", "rows", "now", "code"),
    [
        (True, [_row("PT2H")], LAST + timedelta(hours=6), "ok"),  # slot ends at 12:00, 4 h allowance
        (True, [_row("PT2H")], LAST + timedelta(hours=6, minutes=1), "late"),
        (True, [_row("P1D")], LAST + timedelta(hours=50), "ok"),  # day ends +24 h, 26 h allowance
        (True, [_row("P1D")], LAST + timedelta(hours=50, minutes=1), "late"),
        (True, [_row("PT15M")], LAST + timedelta(hours=1, minutes=15), "ok"),
        (True, [], LAST, "missing"),
        (False, [_row("PT2H")], LAST, "bad"),
    ],
    ids=["2h-current", "2h-stale", "daily-current", "daily-stale", "15min-current", "never", "inactive"],
)
def test_point_status(active, rows, now, code):
    assert status_of(active, rows, now).code == code


def test_the_old_addresses_lead_to_the_point(world, meters, client_for):
    client = client_for(Role.OPERATOR)
    device = client.get(f"/cabinet/devices/{world.own_device.pk}/")
    meter = client.get(f"/cabinet/monitoring/meters/{meters['own'].pk}/")
    listing = client.get("/cabinet/devices/?energy=electricity")
    assert device["Location"] == f"/cabinet/points/{world.own_device.metering_point.pk}/"
    assert meter["Location"] == f"/cabinet/points/{meters['own'].metering_point.pk}/"
    assert listing["Location"] == "/cabinet/points/?energy=electricity"


@pytest.mark.parametrize(
    "url", ["/cabinet/points/", "/cabinet/points/?group=subject"], ids=["list", "grouped"]
)
def test_the_list_is_phone_friendly(meters, client_for, url):
    assert phone_friendly_problems(client_for(Role.OPERATOR).get(url).content) == []


def test_the_point_page_is_phone_friendly(world, client_for):
    point = world.own_device.metering_point
    response = client_for(Role.SUBJECT).get(f"/cabinet/points/{point.pk}/?start=2025-06-01")
    assert phone_friendly_problems(response.content) == []
