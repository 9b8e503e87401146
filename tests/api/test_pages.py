"""Cursor pages, CSV, NDJSON and the OpenAPI document of /api/v1/ (the answers' shape, not who sees what).

Large answers stream whole as CSV or NDJSON (issue 11: never built whole in memory; issue 13: a
region per point streamed); they must be exactly the JSON pages joined.
"""

from __future__ import annotations

import csv
import io
import json

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


def streamed_rows(response) -> list[dict]:
    """A CSV or NDJSON answer's rows as the JSON page gives them (CSV cells are text: '' for null)."""
    text = body(response)
    if response["Content-Type"].startswith("application/x-ndjson"):
        return [json.loads(line) for line in text.splitlines()]
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def as_csv(row: dict) -> dict:
    return {key: "" if value is None else str(value) for key, value in row.items()}


@pytest.fixture
def small_engine_slices(monkeypatch):
    """ClickHouse asked one series (point) per engine query of a streamed answer: the slices join up."""
    from egsu.readings.services import get_store

    backend = get_store().backend
    if hasattr(backend, "stream_slice_series"):
        monkeypatch.setattr(backend, "stream_slice_series", 1)


@pytest.mark.parametrize("answer_format", ["csv", "ndjson"])
@pytest.mark.parametrize(
    "params",
    [
        {**PERIOD, "group": "point", "bucket": "PT1H"},
        {**PERIOD, "group": "point", "bucket": "P1M", "energy": "electricity"},
        {**PERIOD, "group": "object", "bucket": "P1D"},
        {**PERIOD, "group": "subject", "bucket": "P1D"},
        {**PERIOD, "group": "region", "bucket": "P1D"},
        {**PERIOD, "group": "all", "bucket": "PT15M"},
    ],
    ids=["per-point", "per-point-month", "per-object", "per-subject", "per-region", "all"],
)
def test_streamed_aggregates_are_the_pages_joined(
    api_for, other_meter_values, small_engine_slices, params, answer_format
):
    # given the answer in JSON pages
    caller = api_for(Role.OPERATOR)
    paged, _pages = _all_pages(caller, "/api/v1/aggregates", {**params, "limit": 5})
    assert paged
    # when it is asked streamed whole (by parameter, and by the Accept header)
    response = caller.get("/api/v1/aggregates", {**params, "format": answer_format})
    accept = "text/csv" if answer_format == "csv" else "application/x-ndjson"
    by_header = caller.get("/api/v1/aggregates", params, HTTP_ACCEPT=accept)
    # then it is the same rows in the same order, in one streamed response without a cursor
    assert response.status_code == 200 and response.streaming and response["X-Accel-Buffering"] == "no"
    expected = paged if answer_format == "ndjson" else [as_csv(row) for row in paged]
    assert streamed_rows(response) == expected == streamed_rows(by_header)


def test_a_series_streamed_whole(api_for, world):
    caller = api_for(Role.SUBJECT)
    path = f"/api/v1/points/{world.own_device.metering_point.pk}/series"
    whole = body(caller.get(path, {**PERIOD, "interval": "PT2H"}))["data"]
    streamed = streamed_rows(caller.get(path, {**PERIOD, "interval": "PT2H", "format": "ndjson"}))
    assert len(whole) == 72 and streamed == whole


def test_a_streamed_csv_guards_text_against_formulas():
    from egsu.api import pages

    class Asked:
        GET = {"format": "csv"}
        headers: dict = {}

    chunks = iter([[("=cmd()", "-12.5", 3, None)], [("plain", "7", 4, "x")]])
    response = pages.streamed(Asked(), chunks=chunks, columns=("key", "sum", "count", "note"),
                              texts=("key", "note"), name="t")  # fmt: skip
    text = b"".join(response.streaming_content).decode()
    assert text == "\ufeffkey,sum,count,note\r\n'=cmd(),-12.5,3,\r\nplain,7,4,x\r\n"


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
