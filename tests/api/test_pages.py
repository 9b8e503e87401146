"""Cursor pages, CSV and the OpenAPI document of /api/v1/ (the answers' shape, not who sees what)."""

from __future__ import annotations

import csv
import io

import pytest

from egsu.access.roles import Role
from egsu.points.models import MeteringPoint
from tests.api.conftest import body

pytestmark = pytest.mark.django_db
PERIOD = {"start": "2025-06-01", "end": "2025-06-03"}


def _all_pages(caller, path: str, params: dict) -> tuple[list[dict], int]:
    rows, pages, cursor = [], 0, None
    while True:
        answer = body(caller.get(path, {**params, **({"cursor": cursor} if cursor else {})}))
        rows += answer["data"]
        pages += 1
        cursor = answer["next"]
        if cursor is None:
            return rows, pages


@pytest.mark.parametrize(
    "path,params,limit",
    [
        ("/api/v1/points", {}, 1),
        ("/api/v1/points/latest", {}, 1),
        ("/api/v1/aggregates", {**PERIOD, "group": "point", "bucket": "PT1H"}, 7),
        ("/api/v1/aggregates", {**PERIOD, "group": "object", "bucket": "P1D"}, 2),
        ("/api/v1/aggregates", {**PERIOD, "group": "region", "bucket": "P1D"}, 3),
        ("/api/v1/aggregates", {**PERIOD, "group": "all", "bucket": "PT15M"}, 50),
        ("/api/v1/arrivals", {"group": "subject"}, 1),
    ],
    ids=["points", "latest", "per-point", "per-object", "per-region", "all", "arrivals"],
)
def test_pages_joined_are_the_whole_answer(
    api_for, other_meter_values, points_owing_for_days, path, params, limit
):
    caller = api_for(Role.OPERATOR)
    whole = body(caller.get(path, {**params, "limit": 10_000}))
    assert whole["next"] is None and whole["data"]
    paged, pages = _all_pages(caller, path, {**params, "limit": limit})
    assert paged == whole["data"]
    assert pages == -(-len(whole["data"]) // limit)  # no empty last page


def test_a_series_in_pages(api_for, world):
    caller = api_for(Role.SUBJECT)
    path = f"/api/v1/points/{world.own_device.metering_point.pk}/series"
    whole = body(caller.get(path, {**PERIOD, "interval": "PT2H"}))["data"]
    paged, pages = _all_pages(caller, path, {**PERIOD, "interval": "PT2H", "limit": 10})
    assert len(whole) == 72 and paged == whole and pages == 8
    assert [r["quantity"] for r in whole[:1] + whole[-1:]] == ["tankLevel", "volume"]  # series order


@pytest.mark.parametrize(
    "params",
    [{"cursor": "not-ours"}, {"cursor": "WzFd"}, {"limit": "0"}, {"limit": "x"}, {"bucket": "PT2H"},
     {"group": "facility"}, {"format": "xml"}, {"start": "2025-06-09", "end": "2025-06-01"}, {"energy": "coal"}],
    ids=["cursor", "cursor-shape", "limit-0", "limit-text", "bucket", "group", "format", "period", "energy"],
)  # fmt: skip
def test_malformed_questions_are_400(api_for, world, params):
    response = api_for(Role.OPERATOR).get("/api/v1/aggregates", params)
    assert response.status_code == 400, response.content


def test_csv_is_the_whole_answer_and_safe_in_a_spreadsheet(api_for, world, meters):
    # given a counterparty that a spreadsheet would run as a formula
    MeteringPoint.objects.filter(pk=meters["own"].metering_point.pk).update(counterparty='=HYPERLINK("x")')
    caller = api_for(Role.OPERATOR)
    by_parameter = caller.get("/api/v1/points", {"format": "csv", "limit": 1})
    by_header = caller.get("/api/v1/points", HTTP_ACCEPT="text/csv")
    text = body(by_parameter)
    assert text == body(by_header) and by_parameter["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 4  # CSV is never cut into pages
    assert {r["counterparty"] for r in rows if r["name"] == "E-OWN-1"} == {'\'=HYPERLINK("x")'}


def test_negative_numbers_stay_numbers_in_csv():
    from decimal import Decimal

    from egsu.spreadsheets import csv_cell

    assert [csv_cell(v) for v in ("-12.5", "=1+2", "+7", "@x", Decimal("-3"), None, True)] == [
        "-12.5", "'=1+2", "+7", "'@x", "-3", "", "yes"]  # fmt: skip


def test_the_openapi_document_and_docs_are_served_locally(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    assert set(schema["paths"]) >= {"/api/v1/points", "/api/v1/points/latest", "/api/v1/points/{pk}",
                                    "/api/v1/points/{pk}/series", "/api/v1/aggregates", "/api/v1/arrivals"}  # fmt: skip
    assert schema["components"]["securitySchemes"]["TokenBearer"]["scheme"] == "bearer"
    docs = client.get("/api/v1/docs").content.decode()
    assert "swagger" in docs.lower() and "cdn" not in docs and "https://" not in docs
