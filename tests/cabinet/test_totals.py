"""The totals page: authorization matrix, sums per Astana day/quantity (and group), corrections, estimates."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from egsu.access.roles import Role
from egsu.cabinet.views_totals import TotalRow, point_labels
from egsu.points.models import MeteringPoint
from egsu.readings.services import get_store
from egsu.readings.store import ReadingRow, SeriesKey
from tests.cabinet.conftest import ROLES, START
from tests.registry.factories import make_device

DAY_ONE = {"start": "2025-06-01", "end": "2025-06-01", "interval": "PT2H", "quantity": "volume"}
REFUSED = {"anonymous": 302, "no-role": 403, Role.STATE_BODY: 403}
# Day one holds steps 0..11: own 100..111, other 500..511.
OWN_DAY_ONE, OTHER_DAY_ONE = Decimal(sum(range(100, 112))), Decimal(sum(range(500, 512)))


def _row(total: Decimal, values: int, group: str = "") -> TotalRow:
    return TotalRow(date(2025, 6, 1), group, "volume", "m³", total, values)


@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
def test_the_totals_page_authorization_matrix(world, client_for, role, whose):
    # given readings of the own and the other subject on 2025-06-01
    # when the role opens the totals page
    response = client_for(role).get("/cabinet/totals/", DAY_ONE)
    # then refused roles are refused, and the others' totals hold only what their scope sees
    if role in REFUSED:
        assert response.status_code == REFUSED[role]
        if role == "anonymous":
            assert response["Location"].startswith("/accounts/login/")
        return
    assert response.status_code == 200
    if role == Role.SUBSCRIBER:  # its meters' energies only: no oil and gas value is totalled for it
        assert response.context["rows"] == [] and "oil_gas" not in dict(
            response.context["form"].fields["energy"].choices
        )
        return
    national = role in (Role.AUTHORITY, Role.OPERATOR)
    visible = {"own": OWN_DAY_ONE, "other": OTHER_DAY_ONE} if national else {"own": OWN_DAY_ONE}
    assert response.context["rows"] == [_row(sum(visible.values()), 12 * len(visible))]
    assert (whose in visible) is (whose == "own" or national)
    assert response.context["national"] is national


def test_totals_are_per_astana_day_and_quantity(world, client_for):
    # given three days of two-hourly volume and tankLevel on both devices (same product)
    # when the analyst asks for all quantities over the three days
    response = client_for(Role.AUTHORITY).get(
        "/cabinet/totals/", {"start": "2025-06-01", "end": "2025-06-03", "interval": "PT2H"}
    )
    # then there is one row per day of the summable quantity (a tank level is a level: never summed):
    # 24 values a day (12 per device), summed exactly
    rows = response.context["rows"]
    assert [(r.day.isoformat(), r.quantity, r.values) for r in rows] == [
        (day, "volume", 24) for day in ("2025-06-01", "2025-06-02", "2025-06-03")
    ]
    third_day = [r.total for r in rows if r.day == date(2025, 6, 3)]
    steps = range(24, 36)
    assert third_day == [Decimal(sum(100 + s + 500 + s for s in steps))]
    assert [c["quantity"] for c in response.context["charts"]] == ["volume"]
    assert response.context["charts"][0]["series"][0]["x"] == ["2025-06-01", "2025-06-02", "2025-06-03"]


@pytest.mark.parametrize(
    ("group", "expected"),
    [("region", {"Atyrau": OWN_DAY_ONE, "Mangystau": OTHER_DAY_ONE}),
     ("subject", {"Own Oil LLP": OWN_DAY_ONE, "Other Gas JSC": OTHER_DAY_ONE}),
     ("product", {"1 Crude oil": OWN_DAY_ONE + OTHER_DAY_ONE})],
    ids=["region", "subject", "product"],
)  # fmt: skip
def test_totals_per_region_subject_or_product(world, client_for, group, expected):
    response = client_for(Role.AUTHORITY).get("/cabinet/totals/", {**DAY_ONE, "group": group})
    assert {r.group: r.total for r in response.context["rows"]} == expected


def test_a_newer_revision_replaces_the_value_in_the_totals(world, client_for):
    # given the first slot of the own device was corrected from 100 to 160 (revision 2)
    get_store().write(
        [
            ReadingRow(
                key=SeriesKey("A100", "1", "volume"), interval="PT2H", period_start=START,
                value=Decimal("160"), unit="m3", quality="corrected", source="act:1", commercial=True,
            )
        ]
    )  # fmt: skip
    # when the operator views day one
    response = client_for(Role.OPERATOR).get("/cabinet/totals/", DAY_ONE)
    # then the total counts the corrected value once
    assert response.context["rows"] == [_row(OWN_DAY_ONE + OTHER_DAY_ONE + 60, 24)]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2025-06-03", "end": "2025-06-01"}, "The end date is before the start date."),
        ({"start": "2024-01-01", "end": "2025-06-01"}, "Choose a period of at most one year."),
    ],
    ids=["reversed", "too-long"],
)
def test_a_bad_period_is_a_400_with_the_reason(world, client_for, params, message):
    response = client_for(Role.AUTHORITY).get("/cabinet/totals/", params)
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [message]


def test_the_page_renders_its_chart_and_table(world, client_for):
    response = client_for(Role.AUTHORITY).get("/cabinet/totals/", DAY_ONE)
    body = response.content.decode()
    assert '<script src="/vendor/plotly.min.js"></script>' in body
    assert 'id="totals-chart-0"' in body
    assert '<td class="num">7332</td>' in body


def test_totals_count_the_estimated_values(world, client_for):
    """AMI-16: the totals say how many of the summed values were substituted by a head-end."""
    # given the first two volumes of day one on a second device of the own facility, estimated
    make_device(world.own_facility, "2", device_type_id=1)
    key = SeriesKey("A100", "2", "volume")
    get_store().write(
        [
            ReadingRow(key, "PT2H", START + timedelta(hours=2 * step), Decimal(1), "m3", "estimated", "est")
            for step in (0, 1)
        ]
    )
    # when the analyst opens day one's volume totals
    response = client_for(Role.AUTHORITY).get("/cabinet/totals/", DAY_ONE)
    # then the estimates are summed and counted
    [row] = response.context["rows"]
    assert (row.total, row.values, row.estimated) == (OWN_DAY_ONE + OTHER_DAY_ONE + 2, 26, 2)
    by_product = client_for(Role.AUTHORITY).get("/cabinet/totals/", {**DAY_ONE, "group": "product"})
    products = {r.group: (r.total, r.values, r.estimated) for r in by_product.context["rows"]}
    assert products == {"1 Crude oil": (OWN_DAY_ONE + OTHER_DAY_ONE, 24, 0), "—": (Decimal(2), 2, 2)}
    assert "Estimated values" in response.content.decode()


@pytest.mark.django_db
def test_point_labels_of_points_that_can_match_nothing(world):
    # point_labels runs the ORM's SQL on a plain cursor: a filter Django knows to be empty has no SQL
    assert point_labels(MeteringPoint.objects.none(), "region") == {}
    assert point_labels(MeteringPoint.objects.filter(pk__in=[]), "subject_bin") == {}
    labels = point_labels(MeteringPoint.objects.all(), "region")
    assert (
        labels == {(p.object_code, p.store_device_id): p.region or "—" for p in MeteringPoint.objects.all()}
        and labels
    )
