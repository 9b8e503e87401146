"""AMI meters in arrivals monitoring: quarter-hour slots, the intake hook, summaries, owed (COL-05, AMI-41)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from egsu.access.roles import Module, Role
from egsu.access.scope import Scope
from egsu.ami import intake, wire
from egsu.ami.models import Meter
from egsu.monitoring import owed as owed_slots
from egsu.monitoring import summaries
from egsu.monitoring.models import Arrival, ArrivalStatus, PointDay, SubjectDay
from egsu.monitoring.slots import SlotInterval, day_slots, meter_interval
from egsu.points.services import refresh_points
from egsu_core.clock import ASTANA
from tests.ami.conftest import DAY, document, make_world, quarter_values

NATIONAL = Scope(1, Role.AUTHORITY, True, frozenset(), frozenset(Module.values))
ONE_HOUR_LATER = DAY + timedelta(hours=1)


# ------------------------------------------------------------------ slot arithmetic


@pytest.mark.parametrize(
    ("day", "count", "first_local", "last_local"),
    [
        pytest.param(date(2024, 2, 28), 96, "00:00:00+06:00", "23:45:00+06:00", id="utc+6"),
        pytest.param(date(2024, 2, 29), 100, "00:00:00+06:00", "23:45:00+05:00", id="the-25-hour-day"),
        pytest.param(date(2024, 3, 1), 96, "00:00:00+05:00", "23:45:00+05:00", id="utc+5"),
    ],
)
def test_quarter_hour_slots_across_the_1_march_2024_change(day, count, first_local, last_local):
    # given an Astana day around the change of offset / when its PT15M slots are laid out
    found = day_slots(SlotInterval.QUARTER_HOUR, day)
    # then it has 96 of them (100 on the long day), each due when the next starts
    assert len(found) == count
    assert found[0].period_start.astimezone(ASTANA).isoformat()[11:] == first_local
    assert found[-1].period_start.astimezone(ASTANA).isoformat()[11:] == last_local
    assert all(a.due_at == b.period_start for a, b in zip(found, found[1:], strict=False))
    assert found[-1].due_at == datetime.combine(day + timedelta(days=1), datetime.min.time(), ASTANA)


@pytest.mark.parametrize(
    ("energy", "band", "expected"),
    [
        pytest.param("electricity", "", SlotInterval.QUARTER_HOUR, id="electricity"),
        pytest.param("heat", "", SlotInterval.QUARTER_HOUR, id="heat"),
        pytest.param("gas", "low", SlotInterval.DAY, id="gas-low"),
        pytest.param("gas", "medium", SlotInterval.HOUR, id="gas-medium"),
        pytest.param("gas", "high", SlotInterval.TEN_MINUTES, id="gas-high"),
        pytest.param("gas", "", None, id="gas-without-a-band"),
    ],
)
def test_a_meter_owes_the_interval_of_its_energy_and_band(energy, band, expected):
    assert meter_interval(energy, band) == expected


# ------------------------------------------------------------------ the intake hook


def send(world, batch_id: str, items: list[dict], now: datetime = ONE_HOUR_LATER) -> intake.Answer:
    batch = wire.parse_json(json.dumps(document(batch_id, intervals=items)).encode())
    return intake.receive(world.head_end, batch, transport="rest", now=now)


@pytest.fixture
def ami(db):
    given = make_world(3)
    Meter.objects.update(created_at=datetime(2025, 6, 1, tzinfo=ASTANA))  # registered before DAY
    refresh_points(meters=Meter.objects.all())  # update() passes no signal
    return given


def test_a_batch_fills_one_slot_per_meter_and_quarter_whatever_its_channels(ami):
    # given 3 meters × 4 channels × 4 quarter hours, received at 01:00
    answer = send(ami, "b1", quarter_values(ami.meters))
    assert answer.body["values"]["new"] == 48
    # then the ledger holds 12 slots (one per meter and quarter), judged against due + 30 min grace
    slots = Arrival.objects.order_by("device_id", "period_start")
    assert slots.count() == 12
    first = slots.first()
    assert (first.object_id, first.interval, first.subject_id) == ("TP-1", "PT15M", ami.subject.pk)
    assert first.point.meter_id == ami.meters[0].pk
    assert [a.on_time for a in slots[:4]] == [False, True, True, True]  # 00:00 was due by 00:45
    # and the rollups add up: per meter 3 on time + 1 late, per subject the sum for electricity
    assert sorted(PointDay.objects.values_list("on_time", "late")) == [(3, 1)] * 3
    [subject_day] = SubjectDay.objects.all()
    assert (subject_day.energy, subject_day.interval, subject_day.on_time, subject_day.late) == (
        "electricity", "PT15M", 9, 3,
    )  # fmt: skip


def test_a_new_slot_is_a_complete_ledger_row(ami):
    # given one meter's first quarter hour (4 channels), received at 01:00
    send(ami, "b1", quarter_values(ami.meters[:1], quarters=1))
    # then its one ledger row holds what the model would give it (the hook inserts plain rows)
    [slot] = Arrival.objects.all()
    assert (slot.object_id, slot.device_id, slot.interval) == ("TP-1", str(ami.meters[0].pk), "PT15M")
    assert (slot.period_start, slot.day, slot.due_at) == (DAY, DAY.date(), DAY + timedelta(minutes=15))
    assert (slot.subject_id, slot.point.meter_id) == (ami.subject.pk, ami.meters[0].pk)
    assert slot.point.device_id is None
    assert slot.first_received_at == slot.last_received_at == slot.accepted_at == ONE_HOUR_LATER
    assert (slot.on_time, slot.status, slot.record_count) == (False, ArrivalStatus.ACCEPTED, 1)
    assert (slot.journal_entry_id, slot.position, slot.reason_code, slot.reason) == (None, 0, "", "")


def test_a_replayed_or_resent_batch_is_not_counted_twice(ami):
    # given a stored batch
    items = quarter_values(ami.meters, quarters=2)
    send(ami, "b1", items)
    # when it is replayed, then sent again under a new id, then with one changed value
    assert send(ami, "b1", items).replay is True
    send(ami, "b2", items)
    changed = [dict(items[0], value="9.5")]
    send(ami, "b3", changed)
    # then every slot is counted once, the re-sent ones moved on and the changed one is revised
    assert Arrival.objects.count() == 6
    assert (
        sum(PointDay.objects.values_list("on_time", flat=True))
        + sum(PointDay.objects.values_list("late", flat=True))
        == 6
    )
    assert sum(SubjectDay.objects.values_list("on_time", flat=True)) == 3
    counts = sorted(Arrival.objects.values_list("record_count", flat=True))
    assert counts == [2, 2, 2, 2, 2, 3]
    assert Arrival.objects.filter(status=ArrivalStatus.REVISED).count() == 1


def test_a_batch_of_old_and_new_slots_inserts_the_new_and_moves_the_old_on(ami):
    """Slots are inserted at once; one slot already in the ledger sends the batch through the look-up,
    and nothing of the undone insert remains."""
    # given the first quarter of every meter in the ledger
    first = quarter_values(ami.meters, quarters=1)
    send(ami, "q1", first)
    # when a batch repeats the first meter's quarter and brings the second quarter of every meter
    second = [i for i in quarter_values(ami.meters, quarters=2) if i not in first]
    answer = send(ami, "q2", [*[i for i in first if i["meter"] == first[0]["meter"]], *second])
    assert answer.body["values"]["new"] == len(second)
    # then six slots, each once; the re-sent one received twice; every slot counted once
    assert Arrival.objects.count() == 6
    assert sorted(Arrival.objects.values_list("record_count", flat=True)) == [1, 1, 1, 1, 1, 2]
    assert sum(on + late for on, late in PointDay.objects.values_list("on_time", "late")) == 6


def test_new_slots_are_inserted_without_looking_them_up_and_a_resent_one_is_looked_up(ami, monkeypatch):
    from egsu.monitoring import ledger

    looked_up = []
    real = ledger._existing
    monkeypatch.setattr(ledger, "_existing", lambda slots: looked_up.append(len(slots)) or real(slots))
    items = quarter_values(ami.meters, quarters=1)
    send(ami, "n1", items)
    assert looked_up == []  # every slot new: inserted at once
    send(ami, "n2", items)
    assert looked_up == [3]  # the insert met a slot in the ledger: undone, then the slots looked up
    assert sorted(Arrival.objects.values_list("record_count", flat=True)) == [2, 2, 2]


def test_an_estimated_value_counts_as_arrived_and_its_measured_value_does_not_count_again(ami):
    """AMI-16, AMI-12: a substituted value was delivered; the slot is filled, not owed."""
    # given one meter's first two quarters, both substituted by the head-end, received at 01:00
    items = [dict(i, quality="estimated") for i in quarter_values(ami.meters[:1], quarters=2)]
    assert send(ami, "e1", items).body["values"]["new"] == 8
    # then both slots arrived (the 00:00 one late, as any value received at 01:00)
    slots = Arrival.objects.order_by("period_start")
    assert [(a.on_time, a.status) for a in slots] == [
        (False, ArrivalStatus.ACCEPTED),
        (True, ArrivalStatus.ACCEPTED),
    ]
    assert list(PointDay.objects.values_list("on_time", "late")) == [(1, 1)]
    # when the measured values arrive later with the same numbers
    measured = [{k: v for k, v in i.items() if k != "quality"} for i in items]
    assert send(ami, "e2", measured, now=DAY + timedelta(hours=3)).body["values"]["revised"] == 8
    # then the slots are not counted again: they are marked revised, and the day's counts stand
    assert [(a.status, a.record_count) for a in Arrival.objects.order_by("period_start")] == [
        (ArrivalStatus.REVISED, 2)
    ] * 2
    assert list(PointDay.objects.values_list("on_time", "late")) == [(1, 1)]
    # and the owed list shows the estimated 00:00 slot as arrived late, not missing
    owed = owed_slots.owed(
        NATIONAL, ami.subject, start=DAY.date(), end=DAY.date(), now=DAY + timedelta(days=2)
    )
    meter = str(ami.meters[0].pk)
    assert [o.state for o in owed if o.device_id == meter and o.period_start == DAY] == ["late"]


def test_daily_register_snapshots_are_not_slots_of_a_quarter_hour_meter(ami):
    # given only a daily register value for a PT15M meter
    from egsu.monitoring.ledger import prepare_values
    from egsu.readings.store import ReadingRow, SeriesKey, WriteOutcome

    row = ReadingRow(
        SeriesKey("TP-1", str(ami.meters[0].pk), "A+"), "P1D", DAY, 1, "kWh", "good", "ami:hes-a:x"
    )
    # when the hook sees it / then nothing is owed or counted for it
    prepare_values([row], [WriteOutcome.NEW], now=ONE_HOUR_LATER).record()
    assert Arrival.objects.count() == 0


# ------------------------------------------------------------------ summaries and owed


def test_summaries_include_meters_and_filter_by_energy(ami):
    # given 4 quarters of 3 meters stored, and the whole of DAY overdue
    send(ami, "b1", quarter_values(ami.meters))
    now = DAY + timedelta(days=2)
    # when the arrivals are summarised per subject, for electricity and for oil and gas
    [electricity] = summaries.arrivals_summary(
        NATIONAL, start=DAY.date(), end=DAY.date(), now=now, energy="electricity"
    )
    oil_gas = summaries.arrivals_summary(
        NATIONAL, start=DAY.date(), end=DAY.date(), now=now, energy="oil_gas"
    )
    national = summaries.arrivals_summary(
        NATIONAL, start=DAY.date(), end=DAY.date(), now=now, group_by="national"
    )
    # then the utility owed 3 × 96 quarter hours and 12 arrived; oil and gas shows none of it
    assert (electricity.key, electricity.expected, electricity.on_time, electricity.late) == (
        ami.subject.pk, 288, 9, 3,
    )  # fmt: skip
    assert electricity.missing == 276
    assert oil_gas == []
    assert (national[0].expected, national[0].arrived) == (288, 12)


def test_quarter_hours_sent_within_their_grace_do_not_hide_missing_ones(ami):
    # given at 01:00 one of 3 meters sends only its 00:30 and 00:45 quarters, still within their grace
    # (due 00:45 and 01:00, owed from 01:15 and 01:30), while 00:00 and 00:15 are owed and missing
    early = [
        v for v in quarter_values(ami.meters[:1]) if v["start"] >= (DAY + timedelta(minutes=30)).isoformat()
    ]
    send(ami, "b1", early, now=ONE_HOUR_LATER)
    # when the day is summarised at 01:00, per subject, for the country and per meter
    day = {"start": DAY.date(), "end": DAY.date(), "now": ONE_HOUR_LATER}
    [subject] = summaries.arrivals_summary(NATIONAL, **day)
    [national] = summaries.arrivals_summary(NATIONAL, group_by="national", **day)
    meters = summaries.arrivals_summary(NATIONAL, group_by="device", subject=ami.subject, **day)
    # then both arrivals count as arrived and on time, none as owed: all 6 owed quarters are missing
    for row in (subject, national):
        assert (row.expected, row.arrived, row.on_time, row.pending, row.missing) == (6, 2, 2, 2, 6)
        assert (row.completeness, row.timeliness) == (0.0, 0.0)
    assert sorted((r.expected, r.arrived, r.pending, r.missing) for r in meters) == [
        (2, 0, 0, 2), (2, 0, 0, 2), (2, 2, 2, 2),
    ]  # fmt: skip
    # and at 02:00, with 00:00-01:15 owed (6 quarters of 3 meters), both are owed and arrived
    later = {**day, "now": DAY + timedelta(hours=2)}
    [subject] = summaries.arrivals_summary(NATIONAL, **later)
    assert (subject.expected, subject.arrived, subject.pending, subject.missing) == (18, 2, 0, 16)


def test_device_grouping_lists_meters_under_their_own_keys(ami):
    send(ami, "b1", quarter_values(ami.meters[:1]))
    rows = summaries.arrivals_summary(
        NATIONAL, start=DAY.date(), end=DAY.date(), now=DAY + timedelta(days=2), group_by="device",
        subject=ami.subject,
    )  # fmt: skip
    by_key = {r.key: r for r in rows}
    meter = ami.meters[0]
    assert by_key[meter.metering_point.pk].arrived == 4
    assert by_key[meter.metering_point.pk].label == meter.serial_number
    assert by_key[meter.metering_point.pk].extra["meter_pk"] == meter.pk
    assert {r.expected for r in rows} == {96}


def test_a_scope_without_the_power_module_sees_no_electricity_meters(ami):
    send(ami, "b1", quarter_values(ami.meters))
    oil_only = Scope(1, Role.AUTHORITY, True, frozenset(), frozenset({Module.OIL_GAS, Module.MONITORING}))
    rows = summaries.arrivals_summary(oil_only, start=DAY.date(), end=DAY.date(), now=DAY + timedelta(days=2))
    assert rows == []


def test_owed_lists_the_missing_quarter_hours_of_a_meter(ami):
    # given one meter sent its first 4 quarters; the other two are inactive
    Meter.objects.exclude(pk=ami.meters[0].pk).update(active=False)
    refresh_points(meters=Meter.objects.all())  # update() passes no signal
    send(ami, "b1", quarter_values(ami.meters[:1]))
    # when the subject's owed slots of DAY are listed
    found = owed_slots.owed(
        NATIONAL, ami.subject, start=DAY.date(), end=DAY.date(), now=DAY + timedelta(days=2)
    )
    # then 92 quarter hours are missing and the 00:00 one was late
    states = [o.state for o in found]
    assert states.count("missing") == 92
    assert states.count("late") == 1
    late = next(o for o in found if o.state == "late")
    assert (late.object_id, late.device_id, late.period_start) == ("TP-1", str(ami.meters[0].pk), DAY)


def test_a_deleted_point_leaves_its_slots_in_the_ledger_without_a_point(ami):
    # given two meters' slots in the ledger (the ledger's point has no database constraint and no
    # index of its own: deleting a point is Django's SET_NULL, by one scan of the ledger)
    from egsu.points.models import MeteringPoint

    send(ami, "b1", quarter_values(ami.meters[:2], quarters=2))
    gone = MeteringPoint.objects.get(meter=ami.meters[0])
    # when the first meter's point is deleted
    gone.delete()
    # then its slots stay, counted for the subject, with no point; the other meter's keep theirs
    rows = list(Arrival.objects.order_by("device_id", "period_start").values_list("device_id", "point_id"))
    kept = MeteringPoint.objects.get(meter=ami.meters[1]).pk
    assert rows == [(str(ami.meters[0].pk), None)] * 2 + [(str(ami.meters[1].pk), kept)] * 2
    assert Arrival.objects.filter(subject=ami.subject).count() == 4


@pytest.mark.django_db
def test_no_index_of_the_ledger_leads_with_the_point():
    # A batch's new slots belong to a thousand points: an index that leads with the point takes a leaf
    # page per slot, which made every batch rewrite a thousand pages as the ledger grew (AMI-13..21).
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Arrival._meta.db_table)
    leading = {name: c["columns"][0] for name, c in constraints.items() if c["index"] or c["unique"]}
    assert "point_id" not in leading.values(), leading
