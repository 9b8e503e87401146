"""A failed device replaced by another (DIG-45, OGM-12): the metering point's series reads on across the
replacement day — the old device's values before, the new one's from that day, no gap and nothing
counted twice — on pages, charts, the read API, aggregates, balances and arrivals alike. Runs on SQLite
and, in the ClickHouse pass, on ClickHouse (every read goes through the readings store)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from egsu.access.roles import Role
from egsu.access.scope import scope_for
from egsu.balances.services import oil_gas_balance
from egsu.points.models import MeteringPoint
from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery, ReadingRow, SeriesKey
from egsu.schemes import registers
from egsu_core.clock import astana_midnight
from tests.cabinet.conftest import START
from tests.registry.factories import make_device

REPLACED_ON = date(2025, 6, 2)  # the world's values run 1–3 June (Astana)
PERIOD = {"start": "2025-06-01", "end": "2025-06-03", "interval": "PT2H"}


@pytest.fixture
def replaced(world):
    """Device A100/1 fails on 1 June and is replaced by A100/2 on 2 June. The new device sent values
    on all three days (bench tests before it went in) and the old one kept sending after."""
    new_device = make_device(world.own_facility, "2", device_type_id=1, product_type_id=1, serial_number="SN-A-2",
                             installed_at=date(2025, 5, 30))  # fmt: skip
    rows = []
    for step in range(36):
        for quantity, unit in (("volume", "m3"), ("tankLevel", "cm")):
            rows.append(ReadingRow(
                key=SeriesKey("A100", "2", quantity), interval="PT2H", period_start=START + timedelta(hours=2 * step),
                value=Decimal(1000 + step), unit=unit, quality="good", source="test",
            ))  # fmt: skip
    get_store().write(rows)
    old = MeteringPoint.objects.get(device=world.own_device)
    new = MeteringPoint.objects.get(device=new_device)
    subject = world.users[Role.SUBJECT]
    scope = scope_for(subject)
    failure = registers.report_failure(scope, subject, old, failed_on=date(2025, 6, 1))
    registers.record_replacement(scope, subject, failure, new, replaced_on=REPLACED_ON)
    return old, new


def _expected_volume_by_day():
    """By hand: 1 June the old device's steps 0–11 (100+step); 2 and 3 June the new device's 12–35 (1000+step)."""
    return {
        date(2025, 6, 1): sum(Decimal(100 + s) for s in range(12)),
        date(2025, 6, 2): sum(Decimal(1000 + s) for s in range(12, 24)),
        date(2025, 6, 3): sum(Decimal(1000 + s) for s in range(24, 36)),
    }


def test_the_object_counts_each_day_once_across_the_replacement(replaced):
    query = ReadingQuery(object_ids=["A100"], quantities=["volume"], start=astana_midnight(date(2025, 6, 1)),
                         end=astana_midnight(date(2025, 6, 4)))  # fmt: skip
    from egsu_core.clock import astana_date

    days = {
        astana_date(r.bucket_start): r.sum for r in get_store().aggregate(query, bucket="P1D", group="object")
    }
    assert days == _expected_volume_by_day()
    assert get_store().count(query) == 36  # 12 a day, never 24
    assert get_store().totals(query)["volume"] == sum(_expected_volume_by_day().values())
    # a read that asks for no windows sees every stored value (the store keeps them all)
    assert get_store().count(ReadingQuery(object_ids=["A100"], quantities=["volume"], windows=())) == 72


def test_the_read_api_series_runs_on_from_either_point(replaced, world):
    from django.test import Client

    from egsu.api import tokens

    old, new = replaced
    token = tokens.create_token(world.users[Role.SUBJECT], "script")[1]
    for point in (old, new):
        answer = Client().get(f"/api/v1/points/{point.pk}/series", {**PERIOD, "quantity": "volume", "limit": 1000},
                              HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
        assert answer.status_code == 200, answer.content
        text = b"".join(answer.streaming_content) if answer.streaming else answer.content
        rows = json.loads(text)["data"]
        by_time = sorted((r["period_start"], r["device_id"], Decimal(r["value"])) for r in rows)
        assert len(by_time) == 36  # three days of 2-hourly values: no gap, no doubles
        devices = [device for _at, device, _value in by_time]
        assert devices == ["1"] * 12 + ["2"] * 24  # the old device before the day, the new one from it
        assert len({at for at, _d, _v in by_time}) == 36


def test_the_point_page_chart_and_totals_run_on(replaced, client_for):
    old, _new = replaced
    page = client_for(Role.SUBJECT).get(f"/cabinet/points/{old.pk}/", {**PERIOD, "quantity": "volume"})
    assert page.status_code == 200
    stats = {s.quantity: s for s in page.context["stats"]}
    assert stats["volume"].count == 36
    assert stats["volume"].total == sum(_expected_volume_by_day().values())


def test_arrivals_expect_the_old_device_until_the_day_before_and_the_new_one_from_the_day(replaced):
    old, new = (MeteringPoint.objects.get(pk=p.pk) for p in replaced)
    assert old.owes_until == REPLACED_ON - timedelta(days=1)
    assert new.owes_from == REPLACED_ON


def test_the_balance_counts_the_stock_of_one_device_a_day(replaced, world):
    found = oil_gas_balance(world.own, "oil", date(2025, 6, 2), date(2025, 6, 3))
    stocks = [(day, round(d.stock_begin, 3), round(d.stock_end, 3)) for day, d in found.days]
    # the tank's last level each day: the old device's 111 on 1 June, the new one's 1023 and 1035 after
    assert stocks == [(date(2025, 6, 2), 111.0, 1023.0), (date(2025, 6, 3), 1023.0, 1035.0)]
