"""Where an AMI batch's values are written: inside the intake's transaction, or before it (ADR 0013).

On the SQL backend the values are rows of the Django database and join the batch's transaction. On
ClickHouse the claims commit by themselves, so the write and the ledger's Python work come before
the transaction, and the Django database's single writer is held only for the ledger, the events and
the batch record (AMI-13..21: volume). A failure of that transaction after the values were claimed
stores nothing twice, and the retry fills the ledger.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.db import OperationalError, connection

from egsu.ami import intake, wire
from egsu.ami.models import AmiBatch, Meter
from egsu.monitoring.models import Arrival, PointDay
from egsu.points.services import refresh_points
from egsu.readings.backends.sql import SqlReadingsStore
from egsu.readings.store import ReadingQuery
from egsu_core.clock import ASTANA
from tests.ami.conftest import DAY, document, make_world, quarter_values

LATER = DAY + timedelta(hours=1)


def _world():
    world = make_world(3)
    Meter.objects.update(created_at=datetime(2025, 6, 1, tzinfo=ASTANA))  # registered before DAY
    refresh_points(meters=Meter.objects.all())  # update() passes no signal: the points owe slots
    return world


def _send(world, batch_id: str, items: list[dict]) -> intake.Answer:
    batch = wire.parse_json(json.dumps(document(batch_id, intervals=items)).encode())
    return intake.receive(world.head_end, batch, transport="rest", now=LATER)


def _watch_writes(monkeypatch, store) -> list[bool]:
    """Whether each write of the store ran inside a Django transaction."""
    inside: list[bool] = []
    write = store.write_columns if hasattr(store, "write_columns") else None

    def watched(columns):
        inside.append(connection.in_atomic_block)
        return write(columns) if write is not None else store.write(columns.rows())

    monkeypatch.setattr(store, "write_columns", watched, raising=False)
    monkeypatch.setattr(intake, "get_store", lambda: store)
    return inside


@pytest.mark.django_db(transaction=True)
def test_on_clickhouse_the_values_are_claimed_before_the_intake_transaction(clickhouse, monkeypatch):
    # given meters that owe quarter-hour slots, and the ClickHouse store
    world = _world()
    inside = _watch_writes(monkeypatch, clickhouse)
    # when a batch of 3 meters × 4 channels × 2 quarter hours arrives
    answer = _send(world, "b-1", quarter_values(world.meters, quarters=2))
    # then its values were written outside any Django transaction, and all of it was stored
    assert inside == [False]
    assert answer.body["values"] == {"new": 24, "duplicate": 0, "revised": 0}
    assert clickhouse.count(ReadingQuery()) == 24
    assert Arrival.objects.count() == 6  # one slot per meter and quarter hour
    assert AmiBatch.objects.get(batch_id="b-1").stored == 24


@pytest.mark.django_db(transaction=True)
def test_on_sql_the_values_join_the_intake_transaction(monkeypatch):
    # given meters that owe slots, and the SQL store (values are rows of the Django database)
    world = _world()
    store = SqlReadingsStore()
    inside = _watch_writes(monkeypatch, store)
    # when a batch arrives
    answer = _send(world, "b-1", quarter_values(world.meters, quarters=2))
    # then its values were written inside the batch's transaction
    assert inside == [True]
    assert answer.body["values"]["new"] == 24
    assert store.count(ReadingQuery()) == 24


@pytest.mark.django_db(transaction=True)
def test_a_failed_intake_transaction_after_the_claims_stores_nothing_twice(clickhouse, monkeypatch):
    # given meters that owe slots, and a batch record that cannot be written the first time
    world = _world()
    monkeypatch.setattr(intake, "get_store", lambda: clickhouse)
    real_create = AmiBatch.objects.create
    failures = [OperationalError("disk I/O error")]

    def create(**fields):
        if failures:
            raise failures.pop()
        return real_create(**fields)

    monkeypatch.setattr(AmiBatch.objects, "create", create)
    items = quarter_values(world.meters, quarters=2)
    # when the batch arrives: its values are claimed, then its transaction fails
    with pytest.raises(OperationalError):
        _send(world, "b-1", items)
    # then nothing of the transaction stayed: no batch record, no ledger slot, no day count
    assert not AmiBatch.objects.exists()
    assert not Arrival.objects.exists()
    assert not PointDay.objects.exists()
    # when the head-end sends the batch again (it got no answer)
    answer = _send(world, "b-1", items)
    # then every value is a duplicate of the claimed one, ClickHouse holds each once, and the
    # ledger has every slot, counted once
    assert answer.body["values"] == {"new": 0, "duplicate": 24, "revised": 0}
    assert clickhouse.count(ReadingQuery()) == 24
    assert Arrival.objects.count() == 6
    assert sum(on_time + late for on_time, late in PointDay.objects.values_list("on_time", "late")) == 6
