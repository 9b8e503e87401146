"""Summaries equal a brute-force count on a small random world; what a subject owes, newest first.

Slots, due times and the grace: INT-33/34; a slot that has begun and is not yet owed is sent to as well,
so the count proves that early arrivals hide no missing slot."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from egsu.access import scope as gate
from egsu.monitoring.expectations import expected_slots
from egsu.monitoring.ledger import record_verdicts
from egsu.monitoring.owed import owed
from egsu.monitoring.summaries import arrivals_summary
from egsu_core.clock import ASTANA
from egsu_core.isun.verdicts import RecordStatus
from tests.monitoring.conftest import accepted, rejected
from tests.registry.factories import make_device, make_facility, make_product_type, make_subject

FIRST, LAST = date(2025, 6, 1), date(2025, 6, 5)
NOW = datetime(2025, 6, 4, 13, 17, tzinfo=ASTANA)
GRACE = timedelta(minutes=30)


def _brute_slots(day: date):
    """Independently of egsu.monitoring.slots: even Astana hours, and the day (June: no change)."""
    for hour in range(0, 24, 2):
        start = datetime(day.year, day.month, day.day, hour, tzinfo=ASTANA)
        yield "PT2H", start.astimezone(UTC), (start + timedelta(hours=2)).astimezone(UTC)
    midnight = datetime(day.year, day.month, day.day, tzinfo=ASTANA)
    yield "P1D", midnight.astimezone(UTC), (midnight + timedelta(days=1)).astimezone(UTC)


def _random_world(seed: int):
    rng = random.Random(seed)
    make_product_type()
    subjects = [make_subject(name=f"S{n}", region=rng.choice(["Atyrau", "Aktobe"])) for n in range(4)]
    devices = []
    for n, subject in enumerate(subjects):
        for f in range(rng.randint(1, 2)):
            facility = make_facility(f"R{seed}-{n}-{f}", kind="1.2", subject=subject)
            for d in range(rng.randint(1, 3)):
                installed = FIRST + timedelta(days=rng.randint(-2, 3))
                removed = rng.choice([None, None, installed + timedelta(days=rng.randint(0, 3))])
                active = rng.random() < 0.85 or removed is not None
                devices.append(make_device(
                    facility, str(d + 1), device_type_id=1, product_type_id=1,
                    installed_at=installed, removed_at=removed, active=active,
                ))  # fmt: skip
    return rng, subjects, devices


def _owes(device, day):
    if not device.active and device.removed_at is None:
        return False
    return device.installed_at <= day and (device.removed_at is None or day <= device.removed_at)


@pytest.mark.parametrize("seed", [1, 2, 3], ids=lambda s: f"seed-{s}")
@pytest.mark.django_db
def test_summaries_equal_a_brute_force_count(seed, django_user_model):
    rng, subjects, devices = _random_world(seed)
    truth = defaultdict(lambda: defaultdict(int))  # subject pk → counter
    entry = 0
    for device in devices:
        subject = device.facility.subject
        for day in [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]:
            for interval, start, due in _brute_slots(day):
                if not _owes(device, day) or start > NOW:
                    continue
                if due + GRACE > NOW:  # begun, not yet owed: what arrives for it may not hide a missing slot
                    entry += 1
                    _send_early(rng, device, subject, interval, start, entry, truth[subject.pk])
                    continue
                truth[subject.pk]["expected"] += 1
                fate = rng.choice(["none", "on_time", "late", "rejected", "fixed", "resent"])
                entry += 1
                good = [accepted(device, interval, start)]
                if fate in ("on_time", "resent"):
                    record_verdicts(
                        good, [], entry, subject.bin, now=due + timedelta(minutes=rng.randint(0, 30))
                    )
                    truth[subject.pk]["on_time"] += 1
                if fate == "resent":
                    again = [accepted(device, interval, start, status=RecordStatus.DUPLICATE)]
                    record_verdicts(again, [], entry + 10_000, subject.bin, now=due + timedelta(hours=9))
                if fate == "late":
                    record_verdicts(
                        good, [], entry, subject.bin, now=due + timedelta(hours=rng.randint(1, 30))
                    )
                    truth[subject.pk]["late"] += 1
                if fate in ("rejected", "fixed"):
                    when = start.astimezone(ASTANA).isoformat()
                    verdict, raw = rejected(
                        device.facility.object_id, device.device_id, when=when,
                        is_daily="yes" if interval == "P1D" else "no",
                    )  # fmt: skip
                    record_verdicts([verdict], [raw], entry, subject.bin, now=due)
                if fate == "fixed":
                    record_verdicts(good, [], entry + 20_000, subject.bin, now=due + timedelta(hours=1))
                    truth[subject.pk]["late"] += 1
                truth[subject.pk]["rejected"] += fate == "rejected"
    operator = gate.scope_for(_operator(django_user_model))

    def expect(pks):
        names = ("expected", "on_time", "late", "rejected", "pending", "pending_rejected")
        t = {k: sum(truth[pk][k] for pk in pks) for k in names}
        owed_arrived = t["on_time"] + t["late"] - t["pending"]
        missing = t["expected"] - owed_arrived - (t["rejected"] - t["pending_rejected"])
        return (t["expected"], t["on_time"] + t["late"], t["on_time"], t["late"], missing, t["rejected"])

    def got(row):
        return (row.expected, row.arrived, row.on_time, row.late, row.missing, row.rejected)

    by_subject = arrivals_summary(operator, start=FIRST, end=LAST, group_by="subject", now=NOW)
    assert {r.key: got(r) for r in by_subject} == {s.pk: expect([s.pk]) for s in subjects if truth[s.pk]}
    by_region = arrivals_summary(operator, start=FIRST, end=LAST, group_by="region", now=NOW)
    regions = defaultdict(list)
    for s in subjects:
        regions[s.region].append(s.pk)
    assert {r.key: got(r) for r in by_region} == {
        region: expect(pks) for region, pks in regions.items() if expect(pks)[0]
    }
    (national,) = arrivals_summary(operator, start=FIRST, end=LAST, group_by="national", now=NOW)
    assert got(national) == expect([s.pk for s in subjects])
    assert national.completeness == pytest.approx(
        100 * (national.arrived - national.pending) / national.expected
    )
    assert national.pending == sum(truth[s.pk]["pending"] for s in subjects) > 0
    by_device = arrivals_summary(operator, start=FIRST, end=LAST, group_by="device", now=NOW)
    assert sum(r.expected for r in by_device) == national.expected
    assert sum(r.arrived for r in by_device) == national.arrived
    assert sum(r.missing for r in by_device) == national.missing  # per point, from the ledger
    assert sum(r.pending for r in by_device) == national.pending
    for device in devices:
        slots = [
            s
            for interval in ("PT2H", "P1D")
            for s in expected_slots(device.metering_point, interval, FIRST, LAST, now=NOW)
        ]
        point = device.metering_point  # the rollup is per metering point (its own ids)
        assert len(slots) == next((r.expected for r in by_device if r.key == point.pk), 0)
    for subject in subjects:
        listed = owed(operator, subject, start=FIRST, end=LAST, now=NOW, limit=None)
        states = [o.state for o in listed]
        (row,) = [r for r in by_subject if r.key == subject.pk] or [None]
        if row is None:
            assert listed == []
            continue
        assert (states.count("missing"), states.count("late"), states.count("rejected")) == (
            row.missing,
            row.late,
            row.rejected,  # a rejected record still within its grace is listed too: the sender can fix it
        )
        assert [o.period_start for o in listed] == sorted((o.period_start for o in listed), reverse=True)


def _send_early(rng, device, subject, interval, start, entry, truth) -> None:
    """What may arrive for a slot that has begun and is not yet owed: nothing, an accepted record, a
    rejected one, or a rejected one fixed before NOW. All of it is on time."""
    fate = rng.choice(["none", "early", "early_rejected", "early_fixed"])
    sent = min(NOW, start + timedelta(minutes=rng.randint(0, 200)))
    if fate in ("early_rejected", "early_fixed"):
        verdict, raw = rejected(
            device.facility.object_id, device.device_id, when=start.astimezone(ASTANA).isoformat(),
            is_daily="yes" if interval == "P1D" else "no",
        )  # fmt: skip
        record_verdicts([verdict], [raw], entry, subject.bin, now=sent)
    if fate in ("early", "early_fixed"):
        fixed_at = min(NOW, sent + timedelta(minutes=rng.randint(0, 60)))
        record_verdicts([accepted(device, interval, start)], [], entry + 30_000, subject.bin, now=fixed_at)
        truth["on_time"] += 1
        truth["pending"] += 1
    if fate == "early_rejected":
        truth["rejected"] += 1
        truth["pending_rejected"] += 1


def _operator(django_user_model):
    from egsu.access.models import Profile

    user = django_user_model.objects.create_user("op-brute", password="x-Password-123")
    Profile.objects.create(user=user, role="operator")
    return user


@pytest.mark.django_db
def test_a_subject_scope_sees_only_its_own_rows(mworld):
    own_scope = gate.scope_for(mworld.users["subject"])

    rows = arrivals_summary(own_scope, start=FIRST, end=LAST, group_by="subject", now=NOW)

    assert [r.bin for r in rows] == [mworld.own.bin]
    with pytest.raises(type(mworld.own).DoesNotExist):
        owed(own_scope, mworld.other, start=FIRST, end=LAST, now=NOW)


@pytest.mark.django_db
def test_owed_lists_missing_late_and_rejected_with_due_times(mworld):
    device = mworld.own_device
    day = date(2025, 6, 1)
    slots = expected_slots(device.metering_point, "PT2H", day, day, now=NOW)
    late, bad = slots[-1], slots[-2]
    for n, slot in enumerate(slots[:-2]):
        record_verdicts([accepted(device, "PT2H", slot.period_start)], [], n, mworld.own.bin, now=slot.due_at)
    record_verdicts([accepted(device, "PT2H", late.period_start)], [], 2, mworld.own.bin, now=NOW)
    verdict, raw = rejected("A100", "1", when=bad.period_start.astimezone(ASTANA).isoformat())
    record_verdicts([verdict], [raw], 3, mworld.own.bin, now=bad.due_at)

    listed = owed(gate.scope_for(mworld.users["operator"]), mworld.own, start=day, end=day, now=NOW)

    assert [(o.interval, o.period_start, o.due_at, o.state) for o in listed] == [
        ("PT2H", late.period_start, late.due_at, "late"),
        ("PT2H", bad.period_start, bad.due_at, "rejected"),
        ("P1D", datetime(2025, 5, 31, 19, tzinfo=UTC), datetime(2025, 6, 1, 19, tzinfo=UTC), "missing"),
    ]
    assert listed[0].received_at == NOW and listed[1].reason == "volume is negative"
