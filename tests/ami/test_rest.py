"""The REST path over real HTTP (live server): thousands of meters, replays, CSV, the auth matrix."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from egsu.ami.models import AmiBatch, MeterEvent
from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery
from tests.ami.conftest import DAY, document, expected_totals, make_world, quarter_values

pytestmark = pytest.mark.urls("tests.ami.urls")
URL = "/api/ami/v1/batches"


def post(
    live_server, token: str | None, body: bytes, content_type="application/json", **params
) -> httpx.Response:
    headers = {"Content-Type": content_type} | ({"Authorization": f"Bearer {token}"} if token else {})
    return httpx.post(live_server.url + URL, content=body, headers=headers, params=params, timeout=120)


@pytest.mark.django_db(transaction=True)
def test_thousands_of_meters_arrive_and_read_back_with_the_same_totals(live_server):
    # given 2,000 meters × 4 channels and four quarter hours: 32,000 values in 8 batches of 4,000
    world = make_world(2000)
    items = quarter_values(world.meters)
    batches = [items[i : i + 4000] for i in range(0, len(items), 4000)]
    # when they are posted over HTTP
    with httpx.Client(base_url=live_server.url, timeout=120) as client:
        answers = [
            client.post(
                URL,
                json=document(f"q-{n}", intervals=chunk),
                headers={"Authorization": f"Bearer {world.token}"},
            )
            for n, chunk in enumerate(batches)
        ]
        # and every batch is sent a second time (a head-end that missed our answers)
        replays = [
            client.post(
                URL,
                json=document(f"q-{n}", intervals=chunk),
                headers={"Authorization": f"Bearer {world.token}"},
            )
            for n, chunk in enumerate(batches)
        ]
    # then all were stored once, the replays got the same answers, and the store adds up
    assert [a.status_code for a in answers] == [200] * 8
    assert sum(a.json()["values"]["new"] for a in answers) == 32_000
    assert [r.json() for r in replays] == [a.json() for a in answers]
    store = get_store()
    assert store.count(ReadingQuery()) == 32_000
    assert store.totals(ReadingQuery()) == expected_totals(world.meters)


@pytest.mark.django_db(transaction=True)
def test_the_csv_variant_is_stored_like_json(live_server):
    world = make_world(2)
    meter = world.meters[0]
    body = (
        "kind,meter,channel,time,value,quality\n"
        f"interval,{meter.serial_number},A+,{DAY.isoformat()},1.5,\n"
        f"event,{meter.serial_number},MAGNETIC_FIELD,{DAY.isoformat()},,\n"
    ).encode()
    response = post(live_server, world.token, body, "text/csv", batchId="csv-1")
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 2
    assert MeterEvent.objects.get().alarm is True
    assert post(live_server, world.token, body, "text/csv").status_code == 400  # no batch id


@pytest.mark.django_db(transaction=True)
def test_same_id_other_content_is_409(live_server):
    world = make_world(1)
    item = {"meter": world.meters[0].serial_number, "channel": "A+", "start": DAY.isoformat(), "value": "1"}
    assert (
        post(live_server, world.token, json.dumps(document("d1", intervals=[item])).encode()).status_code
        == 200
    )
    response = post(
        live_server, world.token, json.dumps(document("d1", intervals=[item | {"value": "2"}])).encode()
    )
    assert response.status_code == 409
    assert response.json()["code"] == "batch-id-reused"


@pytest.mark.parametrize(
    ("who", "status", "stored"),
    [
        pytest.param("anonymous", 401, 0, id="no-token"),
        pytest.param("wrong", 401, 0, id="wrong-token"),
        pytest.param("inactive", 401, 0, id="inactive-head-end"),
        pytest.param("other", 200, 0, id="other-head-ends-meter"),
        pytest.param("owner", 200, 1, id="own-meter"),
    ],
)
@pytest.mark.django_db(transaction=True)
def test_auth_matrix(live_server, who, status, stored):
    # given a meter of head-end A's subject
    world = make_world(1)
    if who == "inactive":
        world.head_end.active = False
        world.head_end.save()
    token = {
        "anonymous": None,
        "wrong": "ami_" + "x" * 43,
        "inactive": world.token,
        "other": world.other_token,
    }.get(who, world.token)
    body = json.dumps(
        document(
            "auth-1",
            intervals=[
                {
                    "meter": world.meters[0].serial_number,
                    "channel": "A+",
                    "start": DAY.isoformat(),
                    "value": 1,
                }
            ],
        )
    ).encode()
    # when someone posts a value for it
    response = post(live_server, token, body)
    # then only A stores it; the others change nothing
    assert response.status_code == status
    assert get_store().count(ReadingQuery()) == stored
    if who == "other":
        assert response.json()["refused"][0]["code"] == "unknown-meter"
    assert AmiBatch.objects.count() == (1 if status == 200 else 0)


@pytest.mark.django_db(transaction=True)
def test_a_malformed_document_is_400_and_stores_nothing(live_server):
    world = make_world(1)
    response = post(live_server, world.token, b'{"format": "ami/1", "batchId": "x", "intervals": 3}')
    assert response.status_code == 400
    assert response.json()["code"] == "bad-document"
    surrogate = (
        b'{"format": "ami/1", "batchId": "y", "intervals": [{"meter": "\\udc00", "channel": "A+",'
        b' "start": "2025-06-02T19:00:00+00:00", "value": "1"}]}'
    )
    response = post(live_server, world.token, surrogate)  # half a UTF-16 pair: a 500 before
    assert response.status_code == 400
    assert "surrogate" in response.json()["reason"]
    response = post(live_server, world.token, b"<xml/>", "application/xml")
    assert response.status_code == 415
    assert AmiBatch.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_storage_outage_is_503_and_the_retry_stores(live_server, monkeypatch):
    from egsu.ami import intake
    from egsu.readings.store import StoreUnavailableError

    world = make_world(1)

    class DownStore:
        def write(self, rows):
            raise StoreUnavailableError("down")

    body = json.dumps(
        document(
            "out-1",
            intervals=[
                {
                    "meter": world.meters[0].serial_number,
                    "channel": "A+",
                    "start": DAY.isoformat(),
                    "value": 1,
                }
            ],
        )
    ).encode()
    monkeypatch.setattr(intake, "get_store", lambda: DownStore())
    response = post(live_server, world.token, body)
    assert (response.status_code, response.headers["Retry-After"]) == (503, "30")
    monkeypatch.undo()
    assert post(live_server, world.token, body).json()["status"] == "stored"
    assert get_store().count(ReadingQuery()) == 1


@pytest.mark.django_db
def test_openapi_describes_the_batch_endpoint(client):
    schema = client.get("/api/ami/v1/openapi.json").json()
    operation = schema["paths"]["/api/ami/v1/batches"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "text/csv"}
    assert set(operation["responses"]) >= {"200", "400", "409", "503"}
    assert "IntervalItem" in schema["components"]["schemas"]
    assert schema["info"]["version"] == "ami/1"


@pytest.mark.django_db(transaction=True)
def test_estimated_values_over_json_and_csv_are_stored_as_estimated(live_server):
    """AMI-16: a head-end's substituted values arrive flagged, and a measured value replaces its estimate."""
    world = make_world(2)
    first, second = (m.serial_number for m in world.meters)
    quarter = DAY.isoformat()
    # given a JSON batch with an estimated interval value and an estimated register reading
    body = document(
        "est-json",
        intervals=[
            {"meter": first, "channel": "A+", "start": quarter, "value": "0.75", "quality": "estimated"},
            {"meter": first, "channel": "A-", "start": quarter, "value": "0"},
        ],
        registers=[
            {"meter": first, "channel": "A+", "at": quarter, "value": "1200.5", "quality": "estimated"}
        ],
    )
    response = post(live_server, world.token, json.dumps(body).encode())
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["values"]["new"]) == ("stored", 3)
    # and a CSV batch with the other meter's estimate, plus the first meter's measured value
    csv_body = (
        "kind,meter,channel,time,value,quality\n"
        f"interval,{second},A+,{quarter},0.5,estimated\n"
        f"register,{second},A+,{quarter},99,estimated\n"
        f"interval,{first},A+,{quarter},0.75,good\n"
    ).encode()
    response = post(live_server, world.token, csv_body, "text/csv", batchId="est-csv")
    assert response.status_code == 200, response.text
    assert response.json()["values"] == {"new": 2, "duplicate": 0, "revised": 1}
    # then the store holds each value with the quality it arrived with, the estimate replaced
    stored = {
        (r.key.device_id, r.key.quantity): (r.value, r.quality, r.revision)
        for r in get_store().latest(ReadingQuery())
    }
    one, two = (str(m.pk) for m in world.meters)
    assert stored == {
        (one, "A+"): (Decimal("0.75"), "good", 2),
        (one, "A-"): (Decimal(0), "good", 1),
        (one, "reg:A+"): (Decimal("1200.5"), "estimated", 1),
        (two, "A+"): (Decimal("0.5"), "estimated", 1),
        (two, "reg:A+"): (Decimal(99), "estimated", 1),
    }
    # and an unknown quality is refused per item, over HTTP too
    response = post(
        live_server,
        world.token,
        b"kind,meter,channel,time,value,quality\n" + f"interval,{second},A-,{quarter},1,guessed\n".encode(),
        "text/csv",
        batchId="est-bad",
    )
    assert response.json()["refused"][0]["code"] == "bad-quality"
