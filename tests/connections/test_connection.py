"""A connection application goes through review and test access to a testing act generated from a real
exchange with the test stand, signed by both sides, then to production (SBR-05..14, INT-17, INT-21)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import date, timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import PermissionDenied
from lxml import etree

from egsu.access.roles import Role
from egsu.access.scope import scope_for
from egsu.connections import services
from egsu.connections.models import Status
from egsu.intake.services import receive
from egsu.registry.models import ConnectedSystem
from egsu.schemes import signing
from egsu.schemes.services import identity_from_key_store
from egsu.signatures import services as signatures
from egsu_core.clock import utcnow
from egsu_core.isun.samples import records_element, sample_record
from egsu_core.pki.keys import load_identity
from egsu_core.pki.sendmessage import signed_send_message

TEST_PASSWORD, PRODUCTION_PASSWORD = "test-Password-123", "production-Password-456"
VALUES = {"grounds": "Subsoil Code, Article 144", "phone": "+7 701 000 00 00", "email": "it@munai.kz",
          "is_name": "Munai ASU", "login": "munai-asu", "test_ip": "203.0.113.10", "test_port": "8443"}  # fmt: skip


def _issue(bin_: str, person: str):
    ca = signatures.test_ca()
    with signatures.pki_lock():
        issued = ca.issue_subject(bin_, "Test organisation", person, "900101300123",
                                  not_before=utcnow() - timedelta(hours=6))  # fmt: skip
    return issued


def _send(identity, password: str) -> str:
    from tests.intake.conftest import recent_two_hour_slot

    record = sample_record("1.2", "A100", "1", period_start=recent_two_hour_slot(), is_daily=False,
                           device_type_id=1, product_type_id=1)  # fmt: skip
    body = signed_send_message(list(records_element([record])), identity=identity, message_id=str(uuid.uuid4()),
                               sender_id="munai-asu", password=password, sign_business_data=True)  # fmt: skip
    root = etree.fromstring(receive(body).body)
    return root.findtext(".//errorCode") or root.findtext(".//responseInfo/status/code")


def test_an_application_to_a_signed_testing_act_and_production(world, tmp_path):
    subject, operator = world.users[Role.SUBJECT], world.users[Role.OPERATOR]
    head = _issue(world.own.bin, "Subjectov Aidar")
    staff = _issue("000740000888", "Operatorova Aliya")
    subject_key = identity_from_key_store(head.p12("Key-1"), "Key-1")
    operator_key = identity_from_key_store(staff.p12("Key-2"), "Key-2")
    app = services.file(scope_for(subject), subject, world.own, VALUES, test_password=TEST_PASSWORD,
                        production_password=PRODUCTION_PASSWORD, certificate=head.cert_pem, identity=subject_key)  # fmt: skip
    assert app.status == Status.FILED and TEST_PASSWORD not in str(app.fields)
    app = services.grant_test_access(scope_for(operator), operator, app)
    system = ConnectedSystem.objects.get(sender_id="munai-asu")
    assert system.contour == "test"

    # the subject's system talks to the test stand: the production password does not work there
    signer = load_identity(head.key_pem, head.cert_pem)
    assert _send(signer, PRODUCTION_PASSWORD) == "SCE002"
    code = _send(signer, TEST_PASSWORD)
    assert code == "SCSS001"

    app = services.draw_act(scope_for(operator), operator, app, operator_key, live_on=date(2027, 1, 4))
    seen = services.exchange(app)
    assert seen.messages == 2 and "SCE002" in seen.codes and code in seen.codes
    app = services.sign_act(scope_for(subject), subject, app, subject_key)
    assert app.status == Status.ACT_SIGNED
    data = bytes(app.act_pdf)
    by_operator = signing.verify_document(data)
    by_subject = signing.verify_document(data, name=services.SUBJECT_SIGNATURE)
    assert by_operator.fields["action"] == "act_operator" and by_subject.fields["action"] == "act_subject"
    assert by_operator.signed_length == by_subject.signed_length  # both sign the same act bytes
    act = tmp_path / "act.pdf"
    act.write_bytes(data)
    ca = signatures.test_ca()
    checked = subprocess.run(
        [sys.executable, "-m", "egsu.cli", "pki", "verify-document", str(act), "--trust", str(ca.root_path),
         "--intermediate", str(ca.intermediate_path), "--no-revocation"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Operatorova" in checked.stdout and "Subjectov" in checked.stdout

    app = services.go_live(scope_for(operator), operator, app, date(2027, 1, 4))
    system.refresh_from_db()
    assert system.contour == "production" and check_password(PRODUCTION_PASSWORD, system.password_hash)
    assert not check_password(TEST_PASSWORD, system.password_hash)
    with pytest.raises(PermissionDenied):  # only the operator switches
        services.go_live(scope_for(subject), subject, app, date(2027, 1, 4))


def test_the_pages(world, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    head = _issue(world.own.bin, "Subjectov Aidar")
    subject = client_for(Role.SUBJECT)
    assert subject.get("/cabinet/connections/new/").status_code == 200
    form = {**VALUES, "subject": world.own.pk, "test_password": TEST_PASSWORD,
            "production_password": PRODUCTION_PASSWORD, "password": "Key-1",
            "certificate": SimpleUploadedFile("t.cer", head.cert_pem),
            "key_store": SimpleUploadedFile("k.p12", head.p12("Key-1"))}  # fmt: skip
    page = subject.post("/cabinet/connections/new/", form, follow=True)
    assert page.status_code == 200 and 'id="app-status"' in page.content.decode()
    app = services.applications(scope_for(world.users[Role.OPERATOR])).get()
    operator = client_for(Role.OPERATOR)
    operator.post(f"/cabinet/connections/{app.pk}/step/test_access/")
    app.refresh_from_db()
    assert app.status == Status.TESTING
    assert "munai-asu" in operator.get("/cabinet/connections/").content.decode()
    assert client_for(Role.STATE_BODY).get(f"/cabinet/connections/{app.pk}/").status_code in (403, 404)
