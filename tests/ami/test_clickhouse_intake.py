"""The REST path into the ClickHouse backend: thousands of meters, same totals as SQL, replays.

Issue 7 "Done when": 15-minute data of thousands of meters goes over real HTTP into ClickHouse
(a server from scripts/ensure-clickhouse, or chDB in process when no server can be had) and
reads back with the same totals as the SQL backend gives for the same batches.
"""

from __future__ import annotations

import httpx
import pytest
from django.test.utils import override_settings

from egsu.ami import intake
from egsu.ami.models import AmiBatch
from egsu.readings.backends.sql import SqlReadingsStore
from egsu.readings.services import _store, get_store
from egsu.readings.store import ReadingQuery
from tests.ami.conftest import document, expected_totals, make_world, quarter_values

pytestmark = pytest.mark.urls("tests.ami.urls")
URL = "/api/ami/v1/batches"
BATCH = 4000


def post_all(live_server, token: str, batches: list[list[dict]], prefix: str) -> list[dict]:
    with httpx.Client(base_url=live_server.url, timeout=120) as client:
        responses = [
            client.post(
                URL,
                json=document(f"{prefix}-{n}", intervals=chunk),
                headers={"Authorization": f"Bearer {token}"},
            )
            for n, chunk in enumerate(batches)
        ]
    assert [r.status_code for r in responses] == [200] * len(batches)
    return [r.json() for r in responses]


@pytest.mark.django_db(transaction=True)
def test_thousands_of_meters_into_clickhouse_read_back_like_sql(live_server, clickhouse):
    # given 2,000 meters × 4 channels × four quarter hours: 32,000 values in 8 batches of 4,000
    world = make_world(2000)
    items = quarter_values(world.meters)
    batches = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
    # when they are posted over HTTP with ClickHouse as the readings backend, then posted again
    answers = post_all(live_server, world.token, batches, "q")
    replays = post_all(live_server, world.token, batches, "q")
    # then every value was stored once and the replays got the same answers
    assert sum(a["values"]["new"] for a in answers) == 32_000
    assert replays == answers
    assert clickhouse.count(ReadingQuery()) == 32_000
    clickhouse_totals = clickhouse.totals(ReadingQuery())
    assert clickhouse_totals == expected_totals(world.meters)
    # when the same content comes once more under new batch ids (the store's own idempotence)
    again = post_all(live_server, world.token, batches, "again")
    # then every value is a duplicate and nothing in ClickHouse changed
    assert [a["values"] for a in again] == [{"new": 0, "duplicate": BATCH, "revised": 0}] * len(batches)
    assert clickhouse.count(ReadingQuery()) == 32_000
    assert clickhouse.totals(ReadingQuery()) == clickhouse_totals

    # when the same batches go into the SQL backend (their ids forgotten, so they are not replays)
    AmiBatch.objects.all().delete()
    with override_settings(READINGS_BACKEND="sql"):
        _store.cache_clear()
        intake_store = intake.get_store
        intake.get_store = get_store  # undo a chDB fallback for this part
        try:
            sql_answers = post_all(live_server, world.token, batches, "q")
        finally:
            intake.get_store = intake_store
            _store.cache_clear()
    # then SQL gives the same answers' counts and the same totals as ClickHouse
    assert [a["values"] for a in sql_answers] == [a["values"] for a in answers]
    sql = SqlReadingsStore()
    assert sql.count(ReadingQuery()) == 32_000
    assert sql.totals(ReadingQuery()) == clickhouse_totals
