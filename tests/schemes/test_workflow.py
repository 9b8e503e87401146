"""The agreement workflow end to end (OGM-04..06): submit, refuse with reasons, resubmit, approve; every
step signed and verified; the decision PDF verified by `egsu pki verify-document`; OGM-02 in the gate."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core import mail as _unused  # noqa: F401
from django.core.exceptions import PermissionDenied

from egsu.access import scope as gate
from egsu.access.roles import Role
from egsu.access.scope import scope_for
from egsu.alarms.models import Alarm
from egsu.mail.models import Mail
from egsu.points.models import MeteringPoint
from egsu.schemes import services, signing
from egsu.schemes.models import VersionStatus
from egsu.signatures import services as signature_services
from tests.schemes.conftest import identity


def test_a_scheme_goes_through_refusal_and_resubmission_to_approval(world, keys, drafted, tmp_path):
    subject, reviewer = world.users[Role.SUBJECT], world.users[Role.AUTHORITY]
    s_scope, r_scope = scope_for(subject), scope_for(reviewer)
    other_point = MeteringPoint.objects.get(device=world.other_device)
    assert other_point not in gate.points(s_scope)  # another company's device: not seen before approval

    # submitted (signed by the subject's head, RSA): the deadline is 30 working days from receipt
    v1 = services.submit(s_scope, subject, drafted, identity(keys[Role.SUBJECT]))
    assert v1.status == VersionStatus.SUBMITTED
    assert v1.deadline == services.review_deadline(v1.received_on)
    assert Mail.objects.filter(recipient=reviewer.email).exists()

    # the reviewer (GOST) takes it and refuses: reasons are mandatory
    v1 = services.take(r_scope, reviewer, v1, identity(keys[Role.AUTHORITY]))
    assert v1.status == VersionStatus.UNDER_REVIEW
    with pytest.raises(services.WorkflowError):
        services.refuse(r_scope, reviewer, v1, identity(keys[Role.AUTHORITY]), "  ")
    v1 = services.refuse(
        r_scope, reviewer, v1, identity(keys[Role.AUTHORITY]), "The flare gas flow is missing."
    )
    assert v1.status == VersionStatus.REFUSED and v1.decision_pdf

    # resubmitted as version 2, approved
    v2 = services.new_version(s_scope, subject, v1)
    assert v2.number == 2 and v2.status == VersionStatus.DRAFT
    v2 = services.submit(s_scope, subject, v2, identity(keys[Role.SUBJECT]))
    v2 = services.approve(r_scope, reviewer, v2, identity(keys[Role.AUTHORITY]))
    assert v2.status == VersionStatus.APPROVED
    assert services.approved_version(world.own_facility) == v2
    assert [s.action for s in v2.steps.all()] == ["submit", "approve"]
    assert all(s.verdict == "valid" for s in v1.steps.all()) and v1.steps.count() == 3
    assert v2.steps.get(action="approve").algorithm.startswith("GOST")

    # OGM-02: the approved scheme lets the subject see the delivery point's device; the owner still sees it
    assert other_point in gate.points(s_scope)
    assert other_point in gate.points(r_scope)
    assert not Alarm.objects.filter(source=services.DEADLINE_SOURCE, state="open").exists()

    # the decision PDF carries the reviewer's signature over its own bytes; the command accepts it
    pdf = tmp_path / "decision.pdf"
    pdf.write_bytes(bytes(v2.decision_pdf))
    verdict = signing.verify_document(pdf.read_bytes())
    assert (
        verdict.fields["decision"] == "approve" and verdict.fields["objectId"] == world.own_facility.object_id
    )
    ca = signature_services.test_ca("gost2004")
    result = subprocess.run(
        [sys.executable, "-m", "egsu.cli", "pki", "verify-document", str(pdf), "--trust", str(ca.root_path),
         "--intermediate", str(ca.intermediate_path), "--no-revocation"],
        capture_output=True, text=True, timeout=120, env={"COLUMNS": "200", **__import__("os").environ},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VALID" in result.stdout and "Reviewerova" in result.stdout

    # a changed byte in the signed part is refused
    tampered = bytearray(pdf.read_bytes())
    tampered[200] ^= 1
    with pytest.raises((signing.DocumentSignatureError, Exception)):
        signing.verify_document(bytes(tampered))


def test_the_subject_signs_with_its_own_certificate_only(world, keys, drafted):
    subject = world.users[Role.SUBJECT]
    with pytest.raises(services.WorkflowError, match="not the subject"):
        services.submit(scope_for(subject), subject, drafted, identity(keys[Role.AUTHORITY]))


def test_an_incomplete_scheme_is_not_submitted(world, keys, approved_types):
    subject = world.users[Role.SUBJECT]
    scope = scope_for(subject)
    version = services.create_scheme(scope, subject, world.own_facility)
    version = services.save_draft(scope, subject, version, "W1; well; W\nF1; flare; F", "W1; F1; gas; output")
    assert [p.text for p in services.problems(version)] == ["this flow has no metering point"]
    with pytest.raises(services.WorkflowError):
        services.submit(scope, subject, version, identity(keys[Role.SUBJECT]))


def test_only_the_authorized_body_decides(world, keys, drafted):
    subject = world.users[Role.SUBJECT]
    version = services.submit(scope_for(subject), subject, drafted, identity(keys[Role.SUBJECT]))
    operator = world.users[Role.OPERATOR]
    with pytest.raises(PermissionDenied):
        services.approve(scope_for(operator), operator, version, identity(keys[Role.AUTHORITY]))


def test_reminders_and_an_alarm_before_and_at_the_review_deadline(world, keys, drafted):
    subject, reviewer = world.users[Role.SUBJECT], world.users[Role.AUTHORITY]
    version = services.submit(scope_for(subject), subject, drafted, identity(keys[Role.SUBJECT]))
    deadline = version.deadline
    alarm = Alarm.objects.filter(source=services.DEADLINE_SOURCE, key=f"version:{version.pk}")
    # ten working days before: nothing yet
    assert services.watch_deadlines(services.calendar_kz.add_working_days(deadline, -10)) == 0
    assert not alarm.exists()
    # three working days before: a warning and a reminder to the reviewers
    assert services.watch_deadlines(services.calendar_kz.add_working_days(deadline, -3)) == 1
    assert alarm.get().severity == "warning"
    assert Mail.objects.filter(recipient=reviewer.email, subject__startswith="Reminder").count() == 1
    # on the deadline: critical, and a message saying so
    services.watch_deadlines(deadline)
    assert alarm.get().severity == "critical"
    assert (
        Mail.objects.filter(recipient=reviewer.email, subject__startswith="Today is the deadline").count()
        == 1
    )
    # the decision closes the alarm
    services.approve(scope_for(reviewer), reviewer, version, identity(keys[Role.AUTHORITY]))
    assert alarm.get().state == "closed"


def test_arrivals_follow_the_approved_version_from_its_approval_day_only(world, keys, drafted):
    from datetime import date, timedelta

    from tests.registry.factories import make_device

    spare = make_device(
        world.own_facility, "9", device_type_id=1, product_type_id=1, installed_at=date(2025, 1, 1)
    )
    spare_point = MeteringPoint.objects.get(device=spare)
    assert spare_point.owes_until is None  # no approved scheme yet: the registry decides
    subject, reviewer = world.users[Role.SUBJECT], world.users[Role.AUTHORITY]
    s_scope, r_scope = scope_for(subject), scope_for(reviewer)
    v1 = services.submit(s_scope, subject, drafted, identity(keys[Role.SUBJECT]))
    spare_point.refresh_from_db()
    assert spare_point.owes_until is None  # submitted is not approved: ignored
    services.approve(r_scope, reviewer, v1, identity(keys[Role.AUTHORITY]))
    spare_point.refresh_from_db()
    own = MeteringPoint.objects.get(device=world.own_device)
    # not on the approved scheme: owed until the day before the approval; the scheme's device still owed
    assert spare_point.owes_until == services.today() - timedelta(days=1)
    assert own.owes_until is None
    # a newer version naming the spare device, submitted but not approved, changes nothing
    v2 = services.new_version(s_scope, subject, v1)
    flows = f"{services.graph.Scheme.from_json(v1.content).flows_text()}\nW1; U1; gas; input; A100/9"
    v2 = services.save_draft(
        s_scope, subject, v2, services.graph.Scheme.from_json(v1.content).nodes_text(), flows
    )
    from egsu.schemes.models import Metrology

    Metrology.objects.create(point=spare_point, type_register_no="KZ.02.03.12345-2020")
    services.submit(s_scope, subject, v2, identity(keys[Role.SUBJECT]))
    spare_point.refresh_from_db()
    assert spare_point.owes_until == services.today() - timedelta(days=1)
    assert services.approved_version(world.own_facility) == v1
