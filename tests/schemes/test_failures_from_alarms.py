"""A device failure started from an alarm, a notice or a meter's own fault event (DIG-45, OGM-12, INT-11):
the same replacement clock as a failure recorded on the point's page, audited, for those who handle the
alarm only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from egsu.access.models import AuditEvent
from egsu.access.roles import Role
from egsu.alarms import services as alarms
from egsu.alarms.models import Alarm, Notice, NoticeKind
from egsu.points.models import MeteringPoint
from egsu.schemes.models import Failure, ReplacementPeriod
from egsu.schemes.registers import today
from tests.points.conftest import meters  # noqa: F401 - shared fixture

FIRST_SEEN = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 20 November in Astana


@pytest.fixture
def point(world):
    return MeteringPoint.objects.get(device=world.own_device)


@pytest.fixture
def fault(point):
    return alarms.raise_alarm(source="device_status", key=f"{point.object_code}/{point.store_device_id}",
                              severity="warning", title="The device reports a fault (deviceStatus = no)",
                              point=point, at=FIRST_SEEN)  # fmt: skip


def test_the_subject_declares_the_alarms_device_failed(world, client_for, point, fault):
    ReplacementPeriod.objects.create(energy=point.energy, days=30)
    client = client_for(Role.SUBJECT)
    page = client.get(f"/cabinet/alarms/{fault.pk}/")
    assert page.context["may_declare_failure"] and b'id="failure-title"' in page.content
    answer = client.post(f"/cabinet/alarms/{fault.pk}/failure/", {"failed_on": "", "note": "sensor dead"})
    assert answer.status_code == 302
    failure = Failure.objects.get(point=point)
    # the clock starts on the alarm's first day (Astana) and runs 30 calendar days
    assert (failure.source, failure.failed_on, failure.due_on) == (
        "alarm",
        date(2026, 11, 20),
        date(2026, 12, 20),
    )
    assert failure.note == "sensor dead" and failure.recorded_by == world.users[Role.SUBJECT]
    event = AuditEvent.objects.get(event="device.failed")
    assert event.after["alarm"] == fault.pk and event.after["source"] == "alarm"
    fault.refresh_from_db()
    assert fault.state == "acknowledged" and "2026-12-20" in fault.comment
    page = client.get(f"/cabinet/alarms/{fault.pk}/")
    assert not page.context["may_declare_failure"] and b'id="replacement-clock"' in page.content
    # a second declaration changes nothing: one clock per point
    client.post(f"/cabinet/alarms/{fault.pk}/failure/", {"failed_on": "2026-11-25"})
    assert Failure.objects.filter(point=point).count() == 1


def test_a_day_in_the_future_is_refused(client_for, fault):
    future = (today() + timedelta(days=2)).isoformat()
    client_for(Role.SUBJECT).post(f"/cabinet/alarms/{fault.pk}/failure/", {"failed_on": future})
    assert not Failure.objects.exists()


@pytest.mark.parametrize(("role", "status"), [(Role.STATE_BODY, 403), ("anonymous", 302)])
def test_only_those_who_handle_the_alarm_declare_a_failure(client_for, fault, role, status):
    answer = client_for(role).post(f"/cabinet/alarms/{fault.pk}/failure/", {})
    assert answer.status_code in (status, 404)
    assert not Failure.objects.exists()


def test_an_alarm_about_no_device_starts_nothing(world, client_for):
    subject_alarm = alarms.raise_alarm(source="missing_data", key=f"subject:{world.own.bin}", severity="critical",
                                       title="The subject sends no data", subject=world.own)  # fmt: skip
    client = client_for(Role.OPERATOR)
    assert not client.get(f"/cabinet/alarms/{subject_alarm.pk}/").context["may_declare_failure"]
    client.post(f"/cabinet/alarms/{subject_alarm.pk}/failure/", {})
    assert not Failure.objects.exists()


def test_a_device_failure_notice_starts_the_clocks_of_its_points(world, point):
    from egsu.alarms.views import file_notice

    user = world.users[Role.SUBJECT]
    notice = Notice(subject=world.own, kind=NoticeKind.DEVICE_FAILURE, text="flow computer burnt",
                    starts_at=datetime(2026, 11, 30, 20, 0, tzinfo=UTC), ends_at=datetime(2026, 12, 5, tzinfo=UTC))  # fmt: skip
    file_notice(notice, [point], actor=user, via="cabinet")
    failure = Failure.objects.get(point=point)
    assert (failure.source, failure.failed_on) == ("notice", date(2026, 12, 1))  # 01:00 Astana on 1 December
    assert AuditEvent.objects.get(event="device.failed").after["notice"] == notice.pk


def test_a_meters_own_fault_event_starts_the_clock(world, meters):  # noqa: F811 - the shared fixture
    from egsu.alarms.sources import meter_events
    from egsu.ami.events import MeterEventCode
    from egsu.ami.models import MeterEvent

    meter = meters["own"]
    event = MeterEvent.objects.create(meter=meter, code=int(MeterEventCode.SENSOR_FAULT), alarm=True, batch_id="b1",
                                      occurred_at=datetime(2026, 11, 28, 10, 0, tzinfo=UTC))  # fmt: skip
    meter_events([event])
    failure = Failure.objects.get(point=meter.metering_point)
    assert (failure.source, failure.failed_on) == ("alarm", date(2026, 11, 28))
    assert Alarm.objects.filter(source="meter_event", point=meter.metering_point).exists()
