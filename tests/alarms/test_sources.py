"""Where alarms come from: meter events (AMI-13), deviceStatus = no (INT-11), missing data (INT-10),
verification dates (DIG-45), and the urgent reports a critical alarm starts (ANA-07)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from egsu.alarms import sources
from egsu.alarms.models import Alarm, Notice
from egsu.alarms.services import raise_alarm
from egsu.points.models import MeteringPoint
from egsu_core.clock import utcnow
from tests.ami.conftest import DAY, document


def post_events(client, ami, batch_id: str, *codes: str, at=DAY):
    meter = ami.meters[0]
    events = [{"meter": meter.serial_number, "code": code, "at": (at + timedelta(minutes=n)).isoformat()}
              for n, code in enumerate(codes)]  # fmt: skip
    answer = client.post(
        "/api/ami/v1/batches", document(batch_id, events=events), content_type="application/json",
        headers={"Authorization": f"Bearer {ami.token}"},
    )  # fmt: skip
    assert answer.status_code == 200, answer.content
    return answer.json()


@pytest.mark.django_db
def test_an_alarming_meter_event_opens_an_alarm_on_its_point_and_its_restore_closes_it(client, ami):
    point = MeteringPoint.objects.get(meter=ami.meters[0])
    post_events(client, ami, "b1", "TERMINAL_COVER_OPENED", "POWER_UP")
    post_events(client, ami, "b2", "TERMINAL_COVER_OPENED", at=DAY + timedelta(hours=1))  # folds
    alarm = Alarm.objects.get(source=sources.METER_EVENT)
    assert (alarm.point, alarm.subject, alarm.state, alarm.severity, alarm.count) == (
        point,
        ami.subject,
        "open",
        "critical",
        2,
    )
    assert alarm.evidence["event"] == "TERMINAL_COVER_OPENED"
    post_events(client, ami, "b3", "TERMINAL_COVER_CLOSED", at=DAY + timedelta(hours=2))
    alarm.refresh_from_db()
    assert alarm.state == "closed"
    assert Alarm.objects.count() == 1  # POWER_UP is an event, not an alarm


@pytest.mark.django_db
def test_device_status_no_is_an_alarm_at_once_and_yes_closes_it(world):
    from egsu_core.isun.verdicts import RecordStatus, ValidRecord, Verdict
    from egsu_core.vocabulary import Interval

    def verdict(ok):
        record = ValidRecord(
            world.own_facility.object_id, world.own_device.device_id, "1.2", 1, 1, 1, None, DAY,
            Interval.TWO_HOURS, False, ok, None, True, {},
        )  # fmt: skip
        return Verdict(1, record.object_id, record.device_id, RecordStatus.ACCEPTED, record=record)

    sources.device_statuses([verdict(False)])
    alarm = Alarm.objects.get(source=sources.DEVICE_STATUS)
    assert alarm.point == MeteringPoint.objects.get(device=world.own_device)
    assert alarm.subject == world.own and alarm.state == "open"
    sources.device_statuses([verdict(None)])  # not said: nothing changes
    assert Alarm.objects.get().state == "open"
    sources.device_statuses([verdict(True)])
    assert Alarm.objects.get().state == "closed"


@pytest.mark.django_db
def test_a_passed_verification_date_is_an_alarm_until_the_point_is_verified(world):
    point = MeteringPoint.objects.get(device=world.own_device)
    MeteringPoint.objects.filter(pk=point.pk).update(verification_due=date(2025, 1, 1))
    # one rule (OGM-09, DIG-45): the schemes app's metrology watch, with the alarms' own source
    from egsu.schemes.registers import watch_verifications

    assert watch_verifications(date(2025, 1, 2)) == 1
    alarm = Alarm.objects.get(source=sources.VERIFICATION)
    assert (alarm.point_id, alarm.evidence["verification_due"]) == (point.pk, "2025-01-01")
    assert alarm.title == sources.VERIFICATION_OVERDUE
    MeteringPoint.objects.filter(pk=point.pk).update(verification_due=date(2030, 1, 1))
    assert watch_verifications(date(2025, 1, 3)) == 0
    assert Alarm.objects.get(source=sources.VERIFICATION).state == "closed"


def _owing_since(point, day):
    MeteringPoint.objects.filter(pk=point.pk).update(owes=True, owes_from=day, owed_intervals="PT2H")


@pytest.mark.django_db
def test_missing_data_past_the_grace_time_is_an_alarm_and_an_announced_window_waits(world, settings):
    """INT-10 and INT-09..12: no alarm for slots inside an announced window until it is over."""
    settings.EGSU_MISSING_DATA_ALARM_MINUTES = 180
    MeteringPoint.objects.update(owes=False)
    point = MeteringPoint.objects.get(device=world.own_device)
    now = utcnow().replace(minute=7, second=0, microsecond=0)
    _owing_since(point, (now - timedelta(days=3)).date())
    window = Notice.objects.create(
        subject=world.own, kind="maintenance", starts_at=now - timedelta(days=2), ends_at=now - timedelta(hours=1),
        created_at=now - timedelta(days=2),
    )  # fmt: skip
    # every slot of the last day lies in the window, which ended an hour ago (< 3 hours): no alarm
    assert sources.evaluate_missing_data(now) == {"active": 0, "closed": 0}
    # three hours after the window the data is still owed: the alarm comes
    later = now + timedelta(hours=2, minutes=30)
    assert sources.evaluate_missing_data(later) == {"active": 1, "closed": 0}
    alarm = Alarm.objects.get(source=sources.MISSING_DATA)
    assert (alarm.key, alarm.severity) == (f"point:{point.pk}", "critical")
    # withdrawn notices do not count; a window that ended long ago does not hide newer slots
    window.withdrawn_at = now
    window.save()
    assert sources.evaluate_missing_data(later)["active"] == 1


@pytest.mark.django_db
def test_a_critical_alarm_starts_urgent_reports_in_a_job_and_a_warning_does_not(
    world, settings, django_capture_on_commit_callbacks
):
    """ANA-07: egsu.reporting's hook runs as a background job after the alarm's commit."""
    from egsu.jobs.models import Job
    from egsu.reporting.models import Report

    settings.EGSU_ALARM_URGENT_REPORTS = True
    settings.TASKS = {
        "default": {"BACKEND": "egsu.jobs.backend.QueueBackend", "QUEUES": []}
    }  # queued, not inline
    point = MeteringPoint.objects.get(device=world.own_device)
    with django_capture_on_commit_callbacks(execute=True):
        raise_alarm(source="x", key="w", severity="warning", title="Low battery", point=point)
        raise_alarm(source="x", key="c", severity="critical", title="Leak detected", point=point)
    queued = list(Job.objects.values_list("task_path", "args"))
    assert queued.count(("egsu.alarms.tasks.critical_alarm_reports", [Alarm.objects.get(key="c").pk])) == 1
    assert not any(path.endswith("critical_alarm_reports") and args == [Alarm.objects.get(key="w").pk]
                   for path, args in queued)  # fmt: skip
    from egsu.alarms.tasks import critical_alarm_reports

    assert critical_alarm_reports.call(Alarm.objects.get(key="c").pk) == 4
    assert {(r.kind, r.level, r.area) for r in Report.objects.all()} == {
        ("oil_gas_turnover", "local", world.own.bin), ("oil_gas_turnover", "national", ""),
        ("arrivals", "local", world.own.bin), ("arrivals", "national", ""),
    }  # fmt: skip


@pytest.mark.django_db
def test_the_owed_list_marks_slots_of_an_announced_period(world):
    from egsu.access.scope import scope_for
    from egsu.monitoring.owed import owed

    point = MeteringPoint.objects.get(device=world.own_device)
    now = utcnow()
    _owing_since(point, (now - timedelta(days=1)).date())
    Notice.objects.create(subject=world.own, kind="outage", starts_at=now - timedelta(days=3), ends_at=now,
                          created_at=now)  # fmt: skip
    slots = owed(scope_for(world.users["operator"]), world.own, start=(now - timedelta(days=1)).date(),
                 end=now.date(), now=now)  # fmt: skip
    missing = [s for s in slots if s.state == "missing" and s.object_id == point.object_code]
    assert missing and all(s.announced for s in missing)
