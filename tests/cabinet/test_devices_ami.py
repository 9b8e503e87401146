"""AMI meters on the device pages: the energy switch, search, the meter page and its matrix (AMI-03/04/07)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from egsu.access.roles import Role
from egsu.ami.models import Channel, Meter, MeteringObject
from egsu.readings.services import get_store
from egsu.readings.store import ReadingRow, SeriesKey
from tests.cabinet.conftest import ROLES

QUARTER = datetime(2025, 6, 1, tzinfo=UTC) - timedelta(hours=5)  # 2025-06-01 00:00 in Astana


def _meter(subject, code: str, serial: str, account: str, address: str, counterparty: str) -> Meter:
    obj = MeteringObject.objects.create(
        code=code, kind="transformer_point", name=f"Point {code}", region=subject.region, subject=subject
    )
    meter = Meter.objects.create(
        subject=subject, metering_object=obj, energy="electricity", meter_type="1P", model="CE-102",
        serial_number=serial, account=account, address=address, counterparty=counterparty,
    )  # fmt: skip
    Channel.objects.create(meter=meter, code="A+", unit="kWh", obis="1-0:1.8.0*255", interval="PT15M")
    return meter


@pytest.fixture
def meters(world):
    own = _meter(world.own, "TP-OWN", "E-OWN-1", "ACC-100", "Abay avenue 10", "Kazyna LLP")
    other = _meter(world.other, "TP-OTH", "E-OTH-1", "ACC-200", "Dostyk street 5", "Baiterek JSC")
    profile = world.users[Role.SUBSCRIBER].profile
    profile.meter_accounts = [[world.own.bin, "ACC-100"]]  # AMI-08: (supplier, account)
    profile.save()
    get_store().write([
        ReadingRow(SeriesKey("TP-OWN", str(own.pk), "A+"), "PT15M", QUARTER + timedelta(minutes=15 * n),
                   Decimal("1.5") + n, "kWh", "good", "ami:hes:b1", True)
        for n in range(4)
    ])  # fmt: skip
    return {"own": own, "other": other}


def _serials(response) -> list[str]:
    return [item["meter"].serial_number for item in response.context["items"]]


LIST_REFUSED = {"anonymous": 302, "no-role": 403, Role.STATE_BODY: 403}
LIST_SEES = {Role.SUBJECT: ["E-OWN-1"], Role.SUBSCRIBER: ["E-OWN-1"]}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_meter_list_authorization_matrix(meters, client_for, role):
    response = client_for(role).get("/cabinet/devices/?energy=electricity")
    assert response.status_code == LIST_REFUSED.get(role, 200)
    if response.status_code == 200:
        assert _serials(response) == LIST_SEES.get(role, ["E-OTH-1", "E-OWN-1"])


def _page_expected(role: str, whose: str) -> int:
    if role == "anonymous":
        return 302
    if role == "no-role":
        return 403
    if role in (Role.AUTHORITY, Role.OPERATOR):
        return 200
    if role in (Role.SUBJECT, Role.SUBSCRIBER):  # own subject / own account only
        return 200 if whose == "own" else 404
    return 404  # a state body holds no POWER module by default: no meter is in its scope


@pytest.mark.django_db
@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
def test_the_meter_page_authorization_matrix(meters, client_for, role, whose):
    response = client_for(role).get(f"/cabinet/monitoring/meters/{meters[whose].pk}/")
    assert response.status_code == _page_expected(role, whose)


@pytest.mark.django_db
def test_the_meter_page_shows_status_chart_and_table(meters, client_for):
    # given a meter with 4 quarter-hour values / when its page is opened
    response = client_for(Role.OPERATOR).get(f"/cabinet/monitoring/meters/{meters['own'].pk}/")
    # then the last update, one chart for its channel and 4 table rows are shown (Astana time)
    assert response.status_code == 200
    assert response.context["status"].last_period == QUARTER + timedelta(minutes=45)
    [chart] = response.context["charts"]
    assert (chart["quantity"], chart["unit"], chart["x"][0], chart["y"]) == (
        "A+", "kWh", "2025-06-01 00:00", [1.5, 2.5, 3.5, 4.5],
    )  # fmt: skip
    assert len(response.context["rows"]) == 4
    assert b'id="chart-data"' in response.content


@pytest.mark.django_db
def test_the_meter_page_marks_and_counts_estimated_values(meters, client_for):
    """AMI-16: the quarter hours a head-end substituted are visible as such on the meter page."""
    # given a fifth and sixth quarter hour, estimated by the head-end
    own = meters["own"]
    get_store().write([
        ReadingRow(SeriesKey("TP-OWN", str(own.pk), "A+"), "PT15M", QUARTER + timedelta(minutes=15 * n),
                   Decimal("0.5"), "kWh", "estimated", "ami:hes:b2", True)
        for n in (4, 5)
    ])  # fmt: skip
    # when the meter page is opened
    response = client_for(Role.SUBJECT).get(f"/cabinet/monitoring/meters/{own.pk}/")
    # then the six values are listed, the two estimates marked, and counted above the table
    assert [quality for *_, quality, _revision in response.context["rows"]] == ["good"] * 4 + [
        "estimated"
    ] * 2
    assert response.context["estimated"] == 2
    html = response.content.decode()
    assert html.count('<tr class="estimated">') == 2
    assert "Estimated values in this period: 2" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("q=ACC-200&search_in=account", ["E-OTH-1"], id="account"),
        pytest.param("q=abay&search_in=address", ["E-OWN-1"], id="address"),
        pytest.param("q=baiterek&search_in=counterparty", ["E-OTH-1"], id="counterparty"),
        pytest.param("q=E-OWN&search_in=serial", ["E-OWN-1"], id="serial"),
        pytest.param("q=TP-OTH&search_in=name", ["E-OTH-1"], id="name-is-the-object-code"),
        pytest.param("q=kazyna", ["E-OWN-1"], id="everything"),
        pytest.param("q=ACC-100&search_in=serial", [], id="account-is-not-a-serial"),
    ],
)
def test_search_meters_by_account_address_and_counterparty(meters, client_for, query, expected):
    response = client_for(Role.OPERATOR).get(f"/cabinet/devices/?energy=electricity&{query}")
    assert _serials(response) == expected


@pytest.mark.django_db
def test_the_meter_list_shows_status_and_the_energy_switch(meters, client_for):
    response = client_for(Role.OPERATOR).get("/cabinet/devices/?energy=electricity")
    statuses = {item["meter"].serial_number: item["status"].code for item in response.context["items"]}
    assert statuses == {"E-OWN-1": "late", "E-OTH-1": "missing"}  # 2025 data is long stale
    assert [e["energy"] for e in response.context["energies"]] == ["oil_gas", "electricity", "heat", "gas"]
    assert b"?energy=heat" in response.content
