"""Device pages: the authorization matrix, status and last update, search, filters, grouping (AMI-03/04/07)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from egsu.access.roles import Role
from egsu.cabinet.device_list import device_status
from tests.cabinet.conftest import ROLES, START
from tests.registry.factories import make_device, make_facility, make_subject
from tests.reports.helpers import phone_friendly_problems

REFUSED = {"anonymous": 302, "no-role": 403, Role.STATE_BODY: 403, Role.SUBSCRIBER: 403}


def _devices(response) -> list[str]:
    return [f"{i['device'].facility.object_id}/{i['device'].device_id}" for i in response.context["items"]]


@pytest.mark.parametrize("role", ROLES)
def test_the_device_list_authorization_matrix(world, client_for, role):
    response = client_for(role).get("/cabinet/devices/")
    assert response.status_code == REFUSED.get(role, 200)
    if response.status_code == 200:
        expected = ["A100/1"] if role == Role.SUBJECT else ["A100/1", "B200/1"]
        assert _devices(response) == expected


@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
def test_the_device_page_authorization_matrix(world, client_for, role, whose):
    device = world.own_device if whose == "own" else world.other_device
    response = client_for(role).get(f"/cabinet/devices/{device.pk}/")
    expected = REFUSED.get(role, 404 if (role == Role.SUBJECT and whose == "other") else 200)
    assert response.status_code == expected


def test_the_device_page_shows_attributes_chart_and_table(world, client_for):
    # when the subject opens its device for the world's three days
    response = client_for(Role.SUBJECT).get(
        f"/cabinet/devices/{world.own_device.pk}/", {"start": "2025-06-01", "end": "2025-06-03"}
    )
    body = response.content.decode()
    # then its attributes, a chart per quantity with its data, and the paged table are there
    assert "SN-A-1" in body and "Own tank farm" in body
    assert [c["quantity"] for c in response.context["charts"]] == ["tankLevel", "volume"]
    assert 'id="chart-data"' in body and "/vendor/plotly.min.js" in body
    assert response.context["page"].paginator.count == 72
    assert response.context["status"].last_period == START + timedelta(hours=70)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "SN-B"}, ["B200/1"]),
        ({"q": "sn-a", "search_in": "serial"}, ["A100/1"]),
        ({"q": "Other Gas"}, ["B200/1"]),
        ({"q": "other", "search_in": "counterparty"}, ["B200/1"]),
        ({"q": "Mangystau", "search_in": "address"}, ["B200/1"]),
        ({"q": "own tank", "search_in": "name"}, ["A100/1"]),
        ({"q": "A100", "search_in": "serial"}, []),
        ({"q": "anything", "search_in": "account"}, []),  # AMI meters' accounts plug in later
        ({"region": "Atyrau"}, ["A100/1"]),
        ({"commercial": "yes"}, ["A100/1"]),
        ({"commercial": "no"}, ["B200/1"]),
        ({"kind": "1.2"}, ["A100/1", "B200/1"]),
        ({"kind": "1.3"}, []),
        ({"product": "1"}, ["A100/1", "B200/1"]),
        ({"active": "no"}, []),
        ({"updated_from": "2025-06-03"}, ["A100/1", "B200/1"]),
        ({"updated_from": "2025-06-04"}, []),
        ({"updated_to": "2025-05-31"}, []),
    ],
    ids=lambda v: "-".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, dict) else None,
)
def test_search_and_filters(world, client_for, query, expected):
    response = client_for(Role.OPERATOR).get("/cabinet/devices/", query)
    assert _devices(response) == expected


def test_filter_by_subject_and_device_type(world, client_for):
    response = client_for(Role.AUTHORITY).get(
        "/cabinet/devices/", {"subject": world.other.bin, "device_type": "1"}
    )
    assert _devices(response) == ["B200/1"]


def test_grouping_by_region_counts_devices_and_orders_the_list(world, client_for):
    # given an inactive device in a third region
    third = make_facility("C300", kind="1.3", subject=make_subject(name="Third"), region="Aktobe")
    make_device(third, "1", device_type_id=1, active=False)
    # when grouped by region
    response = client_for(Role.OPERATOR).get("/cabinet/devices/", {"group": "region"})
    # then groups carry counts and the list follows the groups
    assert [(g["label"], g["total"], g["active"]) for g in response.context["groups"]] == [
        ("Aktobe", 1, 0),
        ("Atyrau", 1, 1),
        ("Mangystau", 1, 1),
    ]
    assert _devices(response) == ["C300/1", "A100/1", "B200/1"]
    body = response.content.decode()
    assert body.count('class="group"') == 3
    statuses = [i["status"].code for i in response.context["items"]]
    assert statuses[0] == "bad"


def test_the_list_is_paginated(world, client_for):
    facility = make_facility("D400", kind="1.3", subject=world.own, name="Many")
    for number in range(2, 62):
        make_device(facility, str(number), device_type_id=1)
    first = client_for(Role.SUBJECT).get("/cabinet/devices/")
    second = client_for(Role.SUBJECT).get("/cabinet/devices/", {"page": "2"})
    assert (len(first.context["items"]), len(second.context["items"])) == (50, 11)
    assert first.context["page"].paginator.count == 61
    assert "page=2" in first.content.decode()


LAST = datetime(2025, 6, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("active", "last", "interval", "now", "code"),
    [
        (True, LAST, "PT2H", LAST + timedelta(hours=6), "ok"),  # slot ends at 12:00, 4 h grace
        (True, LAST, "PT2H", LAST + timedelta(hours=6, minutes=1), "late"),
        (True, LAST, "P1D", LAST + timedelta(hours=50), "ok"),  # day ends +24 h, 26 h grace
        (True, LAST, "P1D", LAST + timedelta(hours=50, minutes=1), "late"),
        (True, None, None, LAST, "missing"),
        (False, LAST, "PT2H", LAST, "bad"),
    ],
    ids=["2h-current", "2h-stale", "daily-current", "daily-stale", "never", "inactive"],
)
def test_device_status(active, last, interval, now, code):
    device = SimpleNamespace(active=active, last_period=last, last_interval=interval, last_recorded=None)
    assert device_status(device, now).code == code


@pytest.mark.parametrize(
    "url",
    [
        "/cabinet/devices/",
        "/cabinet/devices/?group=subject",
        "/cabinet/readings/?start=2025-06-01&end=2025-06-03",
    ],
    ids=["list", "grouped", "readings"],
)
def test_pages_are_phone_friendly(world, client_for, url):
    response = client_for(Role.OPERATOR).get(url)
    assert phone_friendly_problems(response.content) == []


def test_the_device_page_is_phone_friendly(world, client_for):
    response = client_for(Role.SUBJECT).get(f"/cabinet/devices/{world.own_device.pk}/?start=2025-06-01")
    assert phone_friendly_problems(response.content) == []
