"""The arrivals ledger and rollups as intake writes them: on time, late, rejected, re-sent, revised."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from egsu.monitoring.expectations import expected_slots
from egsu.monitoring.ledger import Known, record_verdicts
from egsu.monitoring.models import Arrival, PointDay, SubjectDay, SubjectPeriod
from egsu.registry.snapshot import DjangoRegistryView
from egsu_core.clock import astana_date, utcnow
from egsu_core.isun.verdicts import RecordStatus
from tests.monitoring.conftest import accepted, rejected

SLOT = datetime(2025, 6, 2, 5, tzinfo=UTC)  # 2025-06-02 10:00 Astana, due 12:00 Astana = 07:00 UTC
DUE = datetime(2025, 6, 2, 7, tzinfo=UTC)
DAY = date(2025, 6, 2)


def _counts(model, **key):
    row = model.objects.get(day=DAY, interval="PT2H", **key)
    return (row.on_time, row.late, row.rejected)


def _send(world, verdicts, *, at, raws=(), entry=1):
    record_verdicts(list(verdicts), list(raws), entry, world.own.bin, now=at)


@pytest.mark.parametrize(
    ("received", "on_time"),
    [
        (DUE, True),
        (DUE + timedelta(minutes=30), True),  # within the 30-minute grace
        (DUE + timedelta(minutes=31), False),
        (DUE + timedelta(days=3), False),  # INT-15 backfill: accepted, but late
    ],
    ids=["at-due", "end-of-grace", "after-grace", "backfill"],
)
@pytest.mark.django_db
def test_on_time_or_late_is_judged_against_due_plus_grace(mworld, received, on_time):
    _send(mworld, [accepted(mworld.own_device, "PT2H", SLOT)], at=received)

    arrival = Arrival.objects.get()
    assert (arrival.status, arrival.on_time, arrival.due_at, arrival.accepted_at) == (
        "accepted",
        on_time,
        DUE,
        received,
    )
    expected = (1, 0, 0) if on_time else (0, 1, 0)
    assert _counts(SubjectDay, subject=mworld.own) == expected
    assert _counts(PointDay, point__device=mworld.own_device) == expected


@pytest.mark.django_db
def test_the_grace_is_a_setting(mworld, settings):
    settings.EGSU_ARRIVAL_GRACE_MINUTES = 0

    _send(mworld, [accepted(mworld.own_device, "PT2H", SLOT)], at=DUE + timedelta(minutes=1))

    assert Arrival.objects.get().on_time is False


@pytest.mark.django_db
def test_a_re_sent_record_moves_last_received_and_is_never_counted_twice(mworld):
    first, again = DUE, DUE + timedelta(hours=5)
    _send(mworld, [accepted(mworld.own_device, "PT2H", SLOT)], at=first, entry=1)

    _send(
        mworld, [accepted(mworld.own_device, "PT2H", SLOT, status=RecordStatus.DUPLICATE)], at=again, entry=2
    )
    _send(mworld, [accepted(mworld.own_device, "PT2H", SLOT, status=RecordStatus.REVISED)], at=again, entry=3)

    arrival = Arrival.objects.get()
    assert (arrival.first_received_at, arrival.last_received_at, arrival.record_count) == (first, again, 3)
    assert (arrival.status, arrival.on_time, arrival.journal_entry_id) == ("revised", True, 3)
    assert _counts(SubjectDay, subject=mworld.own) == (1, 0, 0)
    assert _counts(PointDay, point__device=mworld.own_device) == (1, 0, 0)


@pytest.mark.django_db
def test_the_same_message_processed_twice_changes_nothing(mworld):
    verdicts = [accepted(mworld.own_device, "PT2H", SLOT)]
    bad = rejected("A100", "1", when="2025-06-02T12:00:00", position=2)
    slotless = rejected("A100", "1", when="garbage", position=3)
    batch = [*verdicts, bad[0], slotless[0]]

    _send(mworld, batch, raws=[bad[1], slotless[1]], at=DUE)
    _send(mworld, batch, raws=[bad[1], slotless[1]], at=DUE)

    assert Arrival.objects.count() == 3
    assert _counts(SubjectDay, subject=mworld.own) == (1, 0, 1)


@pytest.mark.django_db
def test_a_rejected_slot_counts_as_rejected_until_a_good_record_arrives(mworld):
    verdict, raw = rejected("A100", "1", when="2025-06-02T10:00:00+05:00")
    _send(mworld, [verdict], raws=[raw], at=DUE)

    arrival = Arrival.objects.get()
    assert (arrival.status, arrival.period_start, arrival.point.device_id) == (
        "rejected",
        SLOT,
        mworld.own_device.pk,
    )
    assert (arrival.reason_code, arrival.reason) == ("VALUE_INVALID", "volume is negative")
    assert _counts(SubjectDay, subject=mworld.own) == (0, 0, 1)

    later = DUE + timedelta(hours=2)
    _send(mworld, [accepted(mworld.own_device, "PT2H", SLOT)], at=later, entry=2)

    arrival.refresh_from_db()
    assert (arrival.status, arrival.on_time, arrival.accepted_at, arrival.record_count) == (
        "accepted",
        False,
        later,
        2,
    )
    assert _counts(SubjectDay, subject=mworld.own) == (0, 1, 0)
    assert _counts(PointDay, point__device=mworld.own_device) == (0, 1, 0)


@pytest.mark.django_db
def test_a_rejected_resend_of_an_accepted_slot_keeps_it_arrived(mworld):
    _send(mworld, [accepted(mworld.own_device, "PT2H", SLOT)], at=DUE)
    verdict, raw = rejected("A100", "1", when="2025-06-02T10:00:00")

    _send(mworld, [verdict], raws=[raw], at=DUE + timedelta(hours=1), entry=2)

    arrival = Arrival.objects.get()
    assert (arrival.status, arrival.record_count, arrival.reason_code) == ("accepted", 2, "VALUE_INVALID")
    assert _counts(SubjectDay, subject=mworld.own) == (1, 0, 0)


@pytest.mark.parametrize(
    ("object_id", "device_id", "counted_for_device"),
    [("A100", "1", True), ("A100", "9", False), ("NOPE", None, False), ("B200", "1", False)],
    ids=["own-device", "unknown-device", "unknown-object", "other-subjects-object"],
)
@pytest.mark.django_db
def test_rejected_records_count_for_the_sender(mworld, object_id, device_id, counted_for_device):
    verdict, raw = rejected(object_id, device_id, when="2025-06-02", is_daily="yes")

    _send(mworld, [verdict], raws=[raw], at=DUE)

    arrival = Arrival.objects.get()
    assert (arrival.subject_id, arrival.interval, arrival.day) == (mworld.own.pk, "P1D", DAY)
    assert SubjectDay.objects.get(subject=mworld.own, interval="P1D").rejected == 1
    assert PointDay.objects.filter(interval="P1D").exists() == counted_for_device
    assert not SubjectDay.objects.filter(subject=mworld.other).exists()


@pytest.mark.django_db
def test_a_rejected_record_without_a_readable_period_is_kept_but_not_a_slot(mworld):
    verdict, raw = rejected("A100", "1", when="2025-06-02T11:00:00")  # odd hour: no 2-hourly slot

    _send(mworld, [verdict], raws=[raw], at=DUE)

    arrival = Arrival.objects.get()
    assert (arrival.period_start, arrival.day, arrival.status) == (None, DAY, "rejected")
    assert not SubjectDay.objects.exists()


@pytest.mark.parametrize(
    ("object_id", "device_id", "counted_for_device"),
    [("A100", "1", True), ("NOPE", None, False), ("B200", "1", False)],
    ids=["own-device", "unknown-object", "other-subjects-object"],
)
@pytest.mark.django_db
def test_what_the_intake_already_read_places_records_alike_without_reading_it_again(
    mworld, object_id, device_id, counted_for_device
):
    """ISUN intake hands over the sender's subject and the facilities' owners (ledger.Known)."""
    good = accepted(mworld.own_device, "PT2H", SLOT, position=2)
    verdict, raw = rejected(object_id, device_id, when="2025-06-02", is_daily="yes")
    view = DjangoRegistryView()
    view.prefetch({object_id, mworld.own_device.facility.object_id})
    known = Known(sender=mworld.own.pk, owners=view.owners())

    with CaptureQueriesContext(connection) as queries:
        record_verdicts([verdict, good], [raw], 1, mworld.own.bin, now=DUE, known=known)

    read = " ".join(q["sql"] for q in queries.captured_queries)
    assert "registry_subject" not in read and "registry_facility" not in read
    assert Arrival.objects.get(interval="PT2H").subject_id == mworld.own_device.facility.subject_id
    assert Arrival.objects.get(interval="P1D").subject_id == mworld.own.pk
    assert SubjectDay.objects.get(subject=mworld.own, interval="P1D").rejected == 1
    assert PointDay.objects.filter(interval="P1D").exists() == counted_for_device


# ------------------------------------------------------------------ the subjects' period counts
# A slot is owed once due plus the grace (INT-33/34, COL-05, AMI-41): what arrives before that is counted
# per period so that the summaries can leave it out of the owed arrivals.


def _period_counts(world):
    return [
        (p.interval, p.period_start, p.due_at, p.day, p.energy, p.on_time, p.late, p.rejected)
        for p in SubjectPeriod.objects.filter(subject=world.own)
    ]


@pytest.mark.django_db
def test_what_arrives_within_its_grace_is_counted_per_period_and_what_comes_later_is_not(mworld):
    # given a rejected record before the slot is due, fixed within the grace
    verdict, raw = rejected("A100", "1", when="2025-06-02T10:00:00+05:00")
    _send(mworld, [verdict], raws=[raw], at=DUE - timedelta(minutes=5))
    assert _period_counts(mworld) == [("PT2H", SLOT, DUE, DAY, "oil_gas", 0, 0, 1)]
    _send(mworld, [accepted(mworld.own_device, "PT2H", SLOT)], at=DUE + timedelta(minutes=10), entry=2)
    # then the period's row moved it from rejected to on time, as the day's rollup did
    assert _period_counts(mworld) == [("PT2H", SLOT, DUE, DAY, "oil_gas", 1, 0, 0)]
    assert _counts(SubjectDay, subject=mworld.own) == (1, 0, 0)
    # and a slot first received after its grace adds nothing to the period counts
    later = SLOT + timedelta(hours=2)
    _send(mworld, [accepted(mworld.own_device, "PT2H", later)], at=DUE + timedelta(hours=3), entry=3)
    assert SubjectPeriod.objects.filter(period_start=later).count() == 0
    assert _counts(SubjectDay, subject=mworld.own) == (1, 1, 0)


@pytest.mark.django_db
def test_a_fix_within_the_grace_without_its_period_row_is_taken_and_counts_no_lower_than_zero(mworld):
    # given a rejection counted before the period rows existed (an upgrade) or whose row is gone
    verdict, raw = rejected("A100", "1", when="2025-06-02T10:00:00+05:00")
    _send(mworld, [verdict], raws=[raw], at=DUE)
    SubjectPeriod.objects.all().delete()
    # when the good record arrives within the grace
    _send(mworld, [accepted(mworld.own_device, "PT2H", SLOT)], at=DUE + timedelta(minutes=20), entry=2)
    # then it is stored and counted; the period's rejected count stays at zero instead of failing
    assert Arrival.objects.get().status == "accepted"
    assert _counts(SubjectDay, subject=mworld.own) == (1, 0, 0)
    assert _period_counts(mworld) == [("PT2H", SLOT, DUE, DAY, "oil_gas", 1, 0, 0)]


@pytest.mark.django_db
def test_the_upgrade_fills_the_period_counts_of_slots_still_within_their_grace(mworld):
    from importlib import import_module

    from django.apps import apps

    fill = import_module("egsu.monitoring.migrations.0010_subject_period").fill_from_ledger
    now = utcnow()
    device = mworld.own_device
    slots = [s for s in expected_slots(device.metering_point, "PT2H", astana_date(now) - timedelta(days=1),
                                       astana_date(now), now=now + timedelta(days=1))]  # fmt: skip
    early = [s for s in slots if s.period_start <= now < s.due_at + timedelta(minutes=30)]
    owed = [s for s in slots if s.due_at + timedelta(minutes=30) <= now][-2:]
    for n, slot in enumerate([*owed, *early]):
        _send(mworld, [accepted(device, "PT2H", slot.period_start)], at=min(now, slot.due_at), entry=n + 1)
    # (the owed slots got rows too, when they arrived within their grace; the upgrade fills only the
    # periods a summary still reads)
    expected = sorted(row for row in _period_counts(mworld) if row[1] in {s.period_start for s in early})
    assert len(expected) == len(early) > 0
    SubjectPeriod.objects.all().delete()

    fill(apps, type("Editor", (), {"connection": connection})())

    assert sorted(_period_counts(mworld)) == expected


@pytest.mark.django_db
def test_period_counts_are_pruned_a_day_after_their_grace_and_the_purge_is_audited(mworld):
    from egsu.access.models import AuditEvent
    from egsu.ops.retention import purge_slot_periods

    _send(mworld, [accepted(mworld.own_device, "PT2H", SLOT)], at=DUE)
    _send(mworld, [accepted(mworld.own_device, "PT2H", SLOT + timedelta(days=2))], at=DUE + timedelta(days=2))
    assert SubjectPeriod.objects.count() == 2

    deleted = purge_slot_periods(now=DUE + timedelta(days=1, minutes=31), source="test")

    assert deleted == 1
    assert list(SubjectPeriod.objects.values_list("period_start", flat=True)) == [SLOT + timedelta(days=2)]
    event = AuditEvent.objects.get(event="ops.retention_purged")
    assert (event.after["kind"], event.after["deleted"]) == ("slot_periods", 1)
