"""Metrology, documents, failures and obligated objects (OGM-07..09, DIG-45, DIG-46): each overdue
condition raises an alarm and queues an e-mail to the subject; the document store keeps versions."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import Workbook

from egsu.access.roles import Role
from egsu.access.scope import scope_for
from egsu.alarms.models import Alarm
from egsu.mail.models import Mail
from egsu.points.models import MeteringPoint
from egsu.schemes import registers
from egsu.schemes.models import ReplacementPeriod
from egsu.schemes.services import WorkflowError, today


@pytest.fixture
def point(world):
    return MeteringPoint.objects.get(device=world.own_device)


def _alarms(source):
    return Alarm.objects.filter(source=source, state="open")


def test_overdue_verification_raises_an_alarm_and_mails_the_subject(world, point, settings):
    subject = world.users[Role.SUBJECT]
    scope = scope_for(subject)
    day = today()
    registers.record_verification(scope, subject, point, verified_on=day - timedelta(days=400),
                                  valid_until=day - timedelta(days=3), certificate_no="VC-1")  # fmt: skip
    state = registers.verification_state(point, day)
    assert state.overdue and state.due == day - timedelta(days=3)
    assert registers.watch_verifications(day) == 1
    assert _alarms(registers.VERIFICATION_SOURCE).get().point == point
    assert Mail.objects.filter(recipient=subject.email, subject__icontains="verification").count() == 1
    registers.watch_verifications(day)  # the same condition again: one alarm, one message
    assert Mail.objects.filter(recipient=subject.email).count() == 1
    # a new verification clears it
    registers.record_verification(scope, subject, point, verified_on=day, valid_until=day + timedelta(days=365),
                                  certificate_no="VC-2")  # fmt: skip
    assert not _alarms(registers.VERIFICATION_SOURCE).exists()
    assert not registers.verification_state(point, day).overdue


def test_a_failure_not_replaced_in_time_raises_an_alarm(world, point):
    subject = world.users[Role.SUBJECT]
    scope = scope_for(subject)
    ReplacementPeriod.objects.create(energy=point.energy, days=10)  # per sector
    day = today()
    failure = registers.report_failure(scope, subject, point, failed_on=day - timedelta(days=11))
    assert failure.due_on == day - timedelta(days=1)
    assert registers.watch_replacements(day) == 1 and _alarms(registers.REPLACEMENT_SOURCE).exists()
    assert Mail.objects.filter(recipient=subject.email, subject__icontains="replaced").exists()
    other = MeteringPoint.objects.get(device=world.other_device)
    registers.record_replacement(
        scope_for(world.users[Role.OPERATOR]), subject, failure, other, replaced_on=day
    )
    assert not _alarms(registers.REPLACEMENT_SOURCE).exists()
    assert registers.watch_replacements(day) == 0


def test_obligated_objects_import_and_overdue_equipping(world):
    operator = world.users[Role.OPERATOR]
    book = Workbook()
    sheet = book.active
    sheet.append(["BIN", "Object code", "Object name", "Deadline"])
    sheet.append([world.own.bin, "OBJ-9", "Gathering point 9", date(2020, 1, 1)])
    sheet.append([world.own.bin, world.own_facility.object_id, "Equipped already", date(2020, 1, 1)])
    sheet.append([world.own.bin, "OBJ-10", "Later", date(2099, 1, 1)])
    sheet.append(["999999999999", "X", "Nobody's", date(2020, 1, 1)])
    data = io.BytesIO()
    book.save(data)
    stored, errors = registers.import_obligations(operator, data.getvalue())
    assert stored == 3 and len(errors) == 1 and "Row 5" in errors[0]
    states = {row.object_code: registers.obligation_state(row) for row in world.own.obligated_objects.all()}
    assert states == {"OBJ-9": "overdue", world.own_facility.object_id: "equipped", "OBJ-10": "not_due"}
    assert registers.watch_obligations() == 1
    assert _alarms(registers.OBLIGATION_SOURCE).count() == 1
    subject = world.users[Role.SUBJECT]
    assert Mail.objects.filter(recipient=subject.email, subject__icontains="equipped").exists()


def test_the_document_store_keeps_versions_and_checksums(world, point):
    subject = world.users[Role.SUBJECT]
    scope = scope_for(subject)
    first = registers.store_document(scope, subject, point, "passport", "passport.pdf", b"%PDF-1 first")
    second = registers.store_document(scope, subject, point, "passport", "passport.pdf", b"%PDF-1 second")
    assert (first.version, second.version) == (1, 2) and first.sha256 != second.sha256
    assert registers.read_document(second) == b"%PDF-1 second" and second.uploaded_by == subject
    stranger = world.users[Role.STATE_BODY]
    other_point = MeteringPoint.objects.get(device=world.other_device)
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied: not this point's subject
        registers.store_document(scope_for(stranger), stranger, other_point, "passport", "x.pdf", b"x")
    with pytest.raises(WorkflowError):
        registers.store_document(scope, subject, point, "passport", "empty.pdf", b"")


def test_a_point_past_its_verification_is_flagged_on_its_values_page(world, point, client_for):
    subject = world.users[Role.SUBJECT]
    day = today()
    registers.record_verification(scope_for(subject), subject, point, verified_on=day - timedelta(days=400),
                                  valid_until=day - timedelta(days=1), certificate_no="VC-9")  # fmt: skip
    page = client_for(Role.SUBJECT).get(f"/cabinet/points/{point.pk}/")
    assert page.status_code == 200 and b'id="verification-overdue"' in page.content


def test_a_device_reporting_a_fault_starts_the_replacement_clock(world, point):
    # given an accepted record with deviceStatus = no, stored by the intake
    from dataclasses import replace

    from egsu.intake.services import _store
    from egsu.schemes.models import Failure
    from tests.cabinet.conftest import START
    from tests.monitoring.conftest import accepted

    verdict = accepted(world.own_device, "PT2H", START + timedelta(days=5))
    verdict.record = replace(verdict.record, device_ok=False, values={"volume": Decimal("1")})
    _store([verdict], source="test")
    # then a failure of that point is open, due 30 calendar days after the faulty period's Astana day
    failure = Failure.objects.get(point=point)
    assert failure.source == "device_status" and failure.replaced_on is None
    assert failure.due_on == date(2025, 6, 6) + timedelta(days=30)
    _store([verdict], source="test")  # the same fault again: still one failure
    assert Failure.objects.filter(point=point).count() == 1
