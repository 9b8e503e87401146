"""The readings page: the authorization matrix, the numbers (AMI-09), latest revisions and corrections."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from egsu.access.roles import Role
from egsu.cabinet.readings_stats import percent_change
from egsu.readings.services import get_store
from egsu.readings.store import ReadingRow, SeriesKey
from tests.cabinet.conftest import ROLES, START
from tests.registry.factories import make_device

PERIOD = {"start": "2025-06-01", "end": "2025-06-03", "interval": "PT2H"}
REFUSED = {"anonymous": 302, "no-role": 403, Role.STATE_BODY: 403}


def _expected(role: str, whose: str) -> int:
    if role in REFUSED:
        return REFUSED[role]
    if role == Role.SUBSCRIBER:  # its meters' readings only: an oil and gas point is not in its scope
        return 404
    return 404 if (role == Role.SUBJECT and whose == "other") else 200


@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
def test_the_readings_page_authorization_matrix(world, client_for, role, whose):
    # given a device of the own or the other subject
    device = world.own_device if whose == "own" else world.other_device
    # when the role asks for its readings
    response = client_for(role).get("/cabinet/readings/", {**PERIOD, "point": device.metering_point.pk})
    # then it is shown only to those whose scope holds it
    assert response.status_code == _expected(role, whose)
    if role == "anonymous":
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("param", "whose", "expected"),
    [
        ("facility", "own", 200),
        ("facility", "other", 404),
        ("subject", "own", 200),
        ("subject", "other", 404),
    ],
    ids=["own-facility", "other-facility", "own-subject", "other-subject"],
)
def test_a_subject_user_cannot_select_another_subjects_facility_or_subject(
    world, client_for, param, whose, expected
):
    subject = world.own if whose == "own" else world.other
    facility = world.own_facility if whose == "own" else world.other_facility
    value = facility.object_id if param == "facility" else subject.bin
    name = "object" if param == "facility" else param
    response = client_for(Role.SUBJECT).get("/cabinet/readings/", {**PERIOD, name: value})
    assert response.status_code == expected


def test_a_subject_user_sees_only_its_own_readings_without_filters(world, client_for):
    response = client_for(Role.SUBJECT).get("/cabinet/readings/", PERIOD)
    assert response.status_code == 200
    assert {row.object_id for row in response.context["rows"]} == {"A100"}
    assert response.context["page"].paginator.count == 72


def test_the_summary_holds_total_maximum_minimum_and_changes(world, client_for):
    # given 36 two-hourly values 100..135 of volume and tankLevel on the own device
    response = client_for(Role.OPERATOR).get(
        "/cabinet/readings/", {**PERIOD, "point": world.own_device.metering_point.pk}
    )
    stats = {s.quantity: s for s in response.context["stats"]}
    volume = stats["volume"]
    assert (volume.count, volume.total, volume.maximum, volume.minimum) == (
        36,
        Decimal(4230),
        Decimal(135),
        Decimal(100),
    )
    assert (volume.first, volume.last, volume.change_percent) == (
        Decimal(100),
        Decimal(135),
        Decimal("35.00"),
    )
    assert volume.previous_total is None and volume.previous_change_percent is None
    assert response.context["charts"][0]["y"][:3] == [100.0, 101.0, 102.0]


def test_the_change_against_the_previous_period_of_equal_length(world, client_for):
    # given the first day (100..111) as the previous period of the second day (112..123)
    response = client_for(Role.OPERATOR).get(
        "/cabinet/readings/",
        {
            "start": "2025-06-02",
            "end": "2025-06-02",
            "point": world.own_device.metering_point.pk,
            "quantity": "volume",
        },
    )
    (volume,) = response.context["stats"]
    assert (volume.total, volume.previous_total) == (Decimal(1410), Decimal(1266))
    assert volume.previous_change_percent == percent_change(Decimal(1266), Decimal(1410)) == Decimal("11.37")


def test_a_facility_trend_sums_its_devices(world, client_for):
    second = make_device(world.own_facility, "2", device_type_id=1, product_type_id=1)
    get_store().write([
        ReadingRow(SeriesKey("A100", second.device_id, "volume"), "PT2H", START, Decimal("7.5"), "m3", "good", "t")
    ])  # fmt: skip
    response = client_for(Role.SUBJECT).get(
        "/cabinet/readings/", {**PERIOD, "object": "A100", "quantity": "volume"}
    )
    chart = response.context["charts"][0]
    assert (chart["x"][0], chart["y"][0]) == ("2025-06-01 00:00", 107.5)
    assert response.context["stats"][0].total == Decimal("4237.5")


def test_only_the_latest_revision_is_shown_and_a_correction_is_marked(world, client_for):
    # given a corrected revision of the first volume value (Rules §53)
    key = SeriesKey("A100", "1", "volume")
    get_store().write([ReadingRow(key, "PT2H", START, Decimal("99.5"), "m3", "corrected", "act-1")])
    # when the first day's volume is shown
    response = client_for(Role.SUBJECT).get(
        "/cabinet/readings/",
        {
            "start": "2025-06-01",
            "end": "2025-06-01",
            "point": world.own_device.metering_point.pk,
            "quantity": "volume",
        },
    )
    rows = response.context["rows"]
    # then the value appears once, as revision 2, marked corrected, and the totals use it
    first = [r for r in rows if r.period_start == START]
    assert [(r.value, r.revision, r.corrected) for r in first] == [(Decimal("99.5"), 2, True)]
    assert len(rows) == 12
    assert response.context["stats"][0].total == Decimal(1266) - Decimal("0.5")
    assert 'class="corrected"' in response.content.decode()


def test_estimated_values_are_marked_and_counted(world, client_for):
    """AMI-16: a value a head-end substituted is shown as estimated, and the summary counts them."""
    # given estimates sent for two slots that already hold measured values of the same numbers
    key = SeriesKey("A100", "1", "volume")
    rows = [
        ReadingRow(key, "PT2H", START + timedelta(hours=2 * step), Decimal(100 + step), "m3", "good", "test")
        for step in (0, 1)
    ]
    get_store().write([replace(row, quality="estimated", source="est") for row in rows])
    # when the first day is shown
    response = client_for(Role.SUBJECT).get(
        "/cabinet/readings/",
        {"start": "2025-06-01", "end": "2025-06-01", "point": world.own_device.metering_point.pk},
    )
    # then nothing is estimated (an estimate never relabels a measured value)
    stats = {s.quantity: s for s in response.context["stats"]}
    assert (stats["volume"].count, stats["volume"].estimated, stats["tankLevel"].estimated) == (12, 0, 0)
    # given two slots of another device on the facility that hold nothing but estimates
    make_device(world.own_facility, "9", device_type_id=1, product_type_id=1)
    device_key = SeriesKey("A100", "9", "volume")
    get_store().write([replace(row, key=device_key, quality="estimated", source="est") for row in rows])
    response = client_for(Role.OPERATOR).get(
        "/cabinet/readings/", {"start": "2025-06-01", "end": "2025-06-01", "object": "A100"}
    )
    shown = [r for r in response.context["rows"] if r.device_id == "9"]
    assert [(r.value, r.quality, r.estimated, r.corrected) for r in shown] == [
        (Decimal(100), "estimated", True, False),
        (Decimal(101), "estimated", True, False),
    ]
    stats = {s.quantity: s for s in response.context["stats"]}
    assert (stats["volume"].count, stats["volume"].estimated) == (14, 2)
    html = response.content.decode()
    assert html.count('class="estimated"') == 2
    assert html.count('<span class="status late">estimated</span>') == 2
    # and when the measured values replace them, nothing is estimated any more
    get_store().write([replace(row, key=device_key, source="measured") for row in rows])
    response = client_for(Role.OPERATOR).get(
        "/cabinet/readings/", {"start": "2025-06-01", "end": "2025-06-01", "object": "A100"}
    )
    shown = [r for r in response.context["rows"] if r.device_id == "9"]
    assert [(r.quality, r.revision) for r in shown] == [("good", 2), ("good", 2)]
    assert {s.quantity: s.estimated for s in response.context["stats"]} == {"tankLevel": 0, "volume": 0}
    assert 'class="estimated"' not in response.content.decode()


def test_daily_interval_selects_daily_values(world, client_for):
    key = SeriesKey("A100", "1", "mass")
    get_store().write([
        ReadingRow(key, "P1D", START + timedelta(days=d), Decimal(10 + d), "t", "good", "t") for d in range(3)
    ])  # fmt: skip
    response = client_for(Role.SUBJECT).get("/cabinet/readings/", {**PERIOD, "interval": "P1D"})
    assert [(r.quantity, r.value) for r in response.context["rows"]] == [
        ("mass", Decimal(10)),
        ("mass", Decimal(11)),
        ("mass", Decimal(12)),
    ]


def test_ten_minute_interval_selects_ten_minute_gas_values(world, client_for):
    # given 10-minute values of a high-band gas meter (AMI-44)
    key = SeriesKey("A100", "1", "volume")
    get_store().write([
        ReadingRow(key, "PT10M", START + timedelta(minutes=10 * n), Decimal(n), "m3", "good", "t") for n in range(3)
    ])  # fmt: skip
    # when the 10-minute interval is picked, then exactly those values are listed
    response = client_for(Role.SUBJECT).get("/cabinet/readings/", {**PERIOD, "interval": "PT10M"})
    assert response.status_code == 200
    assert [(r.quantity, r.value) for r in response.context["rows"]] == [
        ("volume", Decimal(n)) for n in range(3)
    ]
    assert 'value="PT10M" selected' in response.content.decode()


def test_pages_of_one_hundred_rows_with_totals_over_all(world, client_for):
    response = client_for(Role.OPERATOR).get("/cabinet/readings/", {**PERIOD, "page": "2"})
    assert response.context["page"].paginator.count == 144
    assert len(response.context["rows"]) == 44
    assert sum(s.count for s in response.context["stats"]) == 144


def test_an_inverted_period_is_refused_with_a_message(world, client_for):
    response = client_for(Role.OPERATOR).get(
        "/cabinet/readings/", {"start": "2025-06-03", "end": "2025-06-01"}
    )
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()


def test_an_inverted_period_keeps_the_other_filters(world, client_for):
    response = client_for(Role.SUBJECT).get(
        "/cabinet/readings/", {"start": "2025-06-03", "end": "2025-06-01", "object": "A100"}
    )
    assert response.status_code == 200
    assert response.context["selection"].point_params["object"] == "A100"
    assert response.context["form"].non_field_errors()
