"""Ten-minute gas meters (AMI-44, above 2,000 m³/h) in arrivals monitoring, end to end.

Values go through the real AMI REST endpoint (POST /api/ami/v1/batches with the head-end's bearer
token, through Django's test client and the whole request stack); the ledger, the rollups, the summaries, what the subject owes and the arrivals pages must
treat a ten-minute gas meter exactly as they treat a fifteen-minute electricity meter (COL-05).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.test import Client

from egsu.access.roles import Module, Role
from egsu.access.scope import Scope
from egsu.ami import intake
from egsu.ami import services as ami
from egsu.ami.models import Meter, MeteringObject
from egsu.monitoring import owed as owed_slots
from egsu.monitoring import summaries
from egsu.monitoring.models import Arrival, PointDay, SubjectDay
from egsu.points.services import refresh_points
from egsu_core.clock import ASTANA
from tests.ami.conftest import DAY, document
from tests.cabinet.conftest import client_for, world  # noqa: F401 - fixtures reused

pytestmark = [pytest.mark.urls("tests.ami.urls"), pytest.mark.django_db]
URL = "/api/ami/v1/batches"
NATIONAL = Scope(1, Role.AUTHORITY, True, frozenset(), frozenset(Module.values))
POSTED = DAY + timedelta(hours=1)  # the head-end posts at 01:00 Astana on 2 June 2025
LATER = DAY + timedelta(days=2)  # the whole of 2 June is overdue

# energy, channel, step in minutes, slots a day, on time by period (posted at 01:00, 30 min grace)
CASES = [
    pytest.param("electricity", "A+", 15, 96, [False, True, True, True], id="electricity-PT15M"),
    pytest.param("gas", "Vop", 10, 144, [False, False, True, True, True, True], id="gas-high-PT10M"),
]


@pytest.fixture
def utility(world, monkeypatch):  # noqa: F811 - the cabinet world: its subject owns the meters
    """A head-end of the cabinet world's own subject, an electricity and a high-band gas meter."""
    _head_end, token = ami.create_head_end("hes-a", world.own)
    point = MeteringObject.objects.create(
        code="TP-1", kind="transformer_point", name="TP 1", region="Atyrau", subject=world.own
    )
    grp = MeteringObject.objects.create(
        code="GDP-1", kind="gas_distribution_point", name="GRP 1", region="Atyrau", subject=world.own
    )
    made = {
        "electricity": ami.register_meters(
            [Meter(subject=world.own, metering_object=point, energy="electricity", meter_type="1P", model="M1",
                   serial_number="E1")],
            ["A+"],
        )[0],
        "gas": ami.register_meters(
            [Meter(subject=world.own, metering_object=grp, energy="gas", meter_type="GAS-I", model="G",
                   serial_number="G1", gas_band="high")],
            ["Vop"],
        )[0],
    }  # fmt: skip
    Meter.objects.update(created_at=datetime(2025, 6, 1, tzinfo=ASTANA))  # registered before DAY
    refresh_points(meters=Meter.objects.all())  # update() passes no signal
    monkeypatch.setattr(intake, "utcnow", lambda: POSTED)
    return world, token, made


def post(token: str, batch_id: str, items: list[dict]):
    return Client().post(
        URL, document(batch_id, intervals=items), content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip


def periods(serial: str, channel: str, step: int, count: int, first: datetime = DAY) -> list[dict]:
    """One value per period of `step` minutes from `first`."""
    return [
        {"meter": serial, "channel": channel, "start": (first + timedelta(minutes=step * n)).isoformat(),
         "value": str(n + 1)}
        for n in range(count)
    ]  # fmt: skip


@pytest.mark.parametrize(("energy", "channel", "step", "per_day", "on_time"), CASES)
def test_a_meter_is_on_time_late_and_missing_by_its_own_interval(
    utility, energy, channel, step, per_day, on_time
):
    cabinet, token, made = utility
    meter = made[energy]
    interval = f"PT{step}M"
    # given the meter's first hour of 2 June, posted over HTTP at 01:00
    response = post(token, "b1", periods(meter.serial_number, channel, step, 60 // step))
    assert response.status_code == 200 and response.json()["status"] == "stored"

    # then the ledger holds one slot per period, judged against its end + 30 minutes' grace
    slots = Arrival.objects.filter(point__meter=meter).order_by("period_start")
    assert [(a.interval, a.period_start) for a in slots] == [
        (interval, DAY + timedelta(minutes=step * n)) for n in range(60 // step)
    ]
    assert [a.on_time for a in slots] == on_time
    assert all(a.due_at == a.period_start + timedelta(minutes=step) for a in slots)
    late = on_time.count(False)
    assert PointDay.objects.filter(point__meter=meter).values_list("interval", "on_time", "late").get() == (
        interval, len(on_time) - late, late,
    )  # fmt: skip
    assert SubjectDay.objects.filter(subject=cabinet.own, energy=energy).values_list(
        "interval", "on_time", "late"
    ).get() == (interval, len(on_time) - late, late)

    # and the day's summary owes every period of the day: the rest is missing
    [row] = summaries.arrivals_summary(
        NATIONAL, start=DAY.date(), end=DAY.date(), now=LATER, energy=energy, subject=cabinet.own
    )
    assert (row.expected, row.on_time, row.late, row.missing) == (
        per_day, len(on_time) - late, late, per_day - len(on_time),
    )  # fmt: skip

    # and the subject owes the missing periods and sees the late ones
    owed = [
        o for o in owed_slots.owed(NATIONAL, cabinet.own, start=DAY.date(), end=DAY.date(), now=LATER, limit=None)
        if o.device_id == str(meter.pk)
    ]  # fmt: skip
    assert {o.interval for o in owed} == {interval}
    assert sum(o.state == "missing" for o in owed) == per_day - len(on_time)
    assert sorted(o.period_start for o in owed if o.state == "late") == [
        DAY + timedelta(minutes=step * n) for n in range(late)
    ]
    missing = sorted(o.period_start for o in owed if o.state == "missing")
    assert missing[0] == DAY + timedelta(hours=1) and missing[-1] == DAY + timedelta(days=1, minutes=-step)


@pytest.mark.parametrize(("energy", "channel", "step", "per_day", "on_time"), CASES)
def test_a_backfilled_period_moves_from_missing_to_late(
    utility, monkeypatch, energy, channel, step, per_day, on_time
):
    cabinet, token, made = utility
    meter = made[energy]
    # given nothing was sent for 2 June; two days later the head-end backfills its 12:00 period
    monkeypatch.setattr(intake, "utcnow", lambda: LATER)
    noon = DAY + timedelta(hours=12)
    assert post(token, "late-1", periods(meter.serial_number, channel, step, 1, noon)).status_code == 200
    # then that period is late, every other one still missing
    [row] = summaries.arrivals_summary(
        NATIONAL, start=DAY.date(), end=DAY.date(), now=LATER, energy=energy, subject=cabinet.own
    )
    assert (row.expected, row.on_time, row.late, row.missing) == (per_day, 0, 1, per_day - 1)


def test_the_arrivals_pages_count_and_list_ten_minute_periods(utility, client_for):  # noqa: F811
    cabinet, token, made = utility
    gas = made["gas"]
    post(token, "g1", periods(gas.serial_number, "Vop", 10, 6))
    # when an operator opens the arrivals page for gas, then the subject page of 2 June
    operator = client_for(Role.OPERATOR)
    page = operator.get("/cabinet/monitoring/?start=2025-06-02&end=2025-06-02&energy=gas")
    assert page.status_code == 200
    [row] = [r for r in page.context["rows"] if r.bin == cabinet.own.bin]
    # then the day owed 144 ten-minute periods: 4 on time, 2 late, 138 missing
    assert (row.expected, row.on_time, row.late, row.missing) == (144, 4, 2, 138)
    subject = operator.get(f"/cabinet/monitoring/subjects/{cabinet.own.bin}/?start=2025-06-02&end=2025-06-02")
    assert subject.status_code == 200
    meter_row = next(r for r in subject.context["devices"] if r.key == gas.metering_point.pk)
    assert (meter_row.expected, meter_row.arrived, meter_row.missing) == (144, 6, 138)
    ten_minute = [o for o in subject.context["owed"] if o.interval == "PT10M"]
    assert {o.state for o in ten_minute} == {"missing", "late"}
    assert b"<td>10 minutes</td>" in subject.content  # the owed table names the interval


def test_the_long_day_owes_150_ten_minute_periods(utility):
    # 29 February 2024 lasted 25 hours (UTC+6 to UTC+5): its repeated hour owes its own six periods
    cabinet, _token, made = utility
    Meter.objects.update(created_at=datetime(2024, 2, 1, tzinfo=ASTANA))
    refresh_points(meters=Meter.objects.all())  # update() passes no signal
    rows = summaries.arrivals_summary(
        NATIONAL, start=date(2024, 2, 29), end=date(2024, 3, 1), now=datetime(2024, 3, 3, tzinfo=ASTANA),
        group_by="device", subject=cabinet.own,
    )  # fmt: skip
    by_key = {r.key: r.expected for r in rows}
    assert by_key[made["gas"].metering_point.pk] == 150 + 144
    assert by_key[made["electricity"].metering_point.pk] == 100 + 96
