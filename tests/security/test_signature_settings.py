"""The signature settings (egsu/conf.py, README "Security") at the gateway, through receive():

* EGSU_ALLOW_SHA1 — SHA-1 refused with a clear SCE006 reason when off (the production default);
* EGSU_REQUIRE_BUSINESS_TIMESTAMP — a business signature without a trusted timestamp refused;
* records outside the signed element refused with a reason, never silently ignored;
* an answer whose signing fails: SCE909 fault, an alarm (audit log + ERROR log), never an unsigned
  answer (HTTP 503 without SOAP when even the fault cannot be signed);
* the journal's signature verdict for a refused-but-signed request and for the answers sent;
* production refuses to start without a working signing key (a real process).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from egsu.access.models import AuditEvent
from egsu.intake import services
from egsu.journal.models import JournalEntry
from egsu.readings.models import Reading
from egsu.registry.models import ConnectedSystem
from egsu.signatures import services as signatures
from egsu_core.pki import algorithms, pkcs12
from egsu_core.pki.certs import load_certificate
from egsu_core.pki.sendmessage import signed_send_message
from egsu_core.pki.wsse import sign_transport
from egsu_core.pki.xmldsig import sign_enveloped
from egsu_core.shep.envelope import build_request
from egsu_core.shep.xmlparse import parse_document
from tests.intake.conftest import DEMO_PASSWORD, device_record, events, new_message_id, recent_two_hour_slot

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def records(stand):
    facility = next(f for f in stand["facilities"] if f["kind"] == "1.2")
    return events(
        [
            device_record(
                facility, facility["devices"][0], period_start=recent_two_hour_slot(hours), is_daily=False
            )
            for hours in (4, 6)
        ]
    )


def _outcome(answer) -> tuple[str, str]:
    root = etree.fromstring(answer.body)
    code = root.findtext(".//errorCode") or root.findtext(".//responseInfo/status/code")
    return code, root.findtext(".//errorMessage") or root.findtext(".//responseInfo/status/message") or ""


def _signed(stand, records, identity, *, password=DEMO_PASSWORD, algorithm_uri=None, **options) -> bytes:
    if algorithm_uri is None:
        return signed_send_message(
            records, identity=identity, message_id=new_message_id(), sender_id=stand["senderId"], password=password,
            **options,
        )  # fmt: skip
    body = build_request(
        message_id=new_message_id(), service_id="ISUN_Service2", sender_id=stand["senderId"], password=password,
        payload=records,
    )  # fmt: skip
    return sign_transport(
        body,
        private_key=identity.private_key,
        certificate_der=identity.certificate_der,
        algorithm_uri=algorithm_uri,
    )


def test_sha1_is_refused_when_not_allowed(stand, records, identity, settings):
    settings.CONFIG = dataclasses.replace(settings.CONFIG, allow_sha1=False)
    code, message = _outcome(
        services.receive(_signed(stand, records, identity, algorithm_uri=algorithms.RSA_SHA1.xml_uri))
    )
    assert code == "SCE006"
    assert "SHA-1 (RSA-SHA1, SHA-1) is not accepted on this system (EGSU_ALLOW_SHA1 is off)" in message


def test_sha1_is_accepted_where_allowed(stand, records, identity, settings):
    settings.CONFIG = dataclasses.replace(settings.CONFIG, allow_sha1=True)
    body = _signed(stand, records, identity, algorithm_uri=algorithms.RSA_SHA1.xml_uri)
    assert _outcome(services.receive(body))[0] == "SCSS001"


def test_a_business_signature_without_a_timestamp_is_refused_when_required(
    stand, records, identity, settings
):
    ConnectedSystem.objects.update(require_business_signature=True)
    settings.CONFIG = dataclasses.replace(settings.CONFIG, require_business_timestamp=True)
    code, message = _outcome(services.receive(_signed(stand, records, identity, sign_business_data=True)))
    assert code == "SCE006" and "no trusted timestamp" in message and "SIG-14" in message


def test_records_beside_the_signed_element_are_refused_with_a_reason(stand, records, identity):
    # given a business signature over the first record only, a second record left beside it in data
    ConnectedSystem.objects.update(require_business_signature=True)
    body = build_request(
        message_id=new_message_id(), service_id="ISUN_Service2", sender_id=stand["senderId"], password=DEMO_PASSWORD,
        payload=records,
    )  # fmt: skip
    root = parse_document(body)
    first = root.find(".//requestData/data")[0]
    signed = sign_enveloped(
        first, private_key=identity.private_key, certificate_der=identity.certificate_der,
        algorithm_uri=identity.algorithm_uri,
    )  # fmt: skip
    first.getparent().replace(first, signed)
    body = sign_transport(
        etree.tostring(root), private_key=identity.private_key, certificate_der=identity.certificate_der,
        algorithm_uri=identity.algorithm_uri,
    )  # fmt: skip
    code, message = _outcome(services.receive(body))
    # then nothing is stored and the answer names what was not signed
    assert code == "SCE006"
    assert (
        "covers only <events>" in message
        and "1 more element(s) outside it (<events> at position 2)" in message
    )
    assert not Reading.objects.exists()


def test_an_answer_that_cannot_be_signed_becomes_a_signed_sce909_and_an_alarm(
    stand, records, identity, monkeypatch, caplog
):
    real = signatures.sign_answer

    def fails_for_responses(body, contour=None):
        if b"SendMessageResponse" in body:
            raise RuntimeError("HSM unreachable (test)")
        return real(body, contour)

    monkeypatch.setattr(signatures, "sign_answer", fails_for_responses)
    with caplog.at_level(logging.ERROR, logger="egsu.intake"):
        answer = services.receive(_signed(stand, records, identity))
    code, message = _outcome(answer)
    assert answer.http_status == 500 and code == "SCE909" and "could not be signed" in message
    assert b"Security" in answer.body  # the fault itself is signed
    assert any("ALARM: the System could not sign an answer" in r.getMessage() for r in caplog.records)
    alarm = AuditEvent.objects.get(event="signature.answer_not_signed")
    assert "HSM unreachable" in alarm.summary
    sent = JournalEntry.objects.filter(direction="OUT").latest("pk")
    assert sent.status_code == "SCE909" and sent.signature_verdict.startswith("signed by the System")


def test_when_even_the_fault_cannot_be_signed_nothing_unsigned_is_sent(
    client, stand, records, identity, monkeypatch
):
    def broken(body, contour=None):
        raise RuntimeError("the key file is gone (test)")

    monkeypatch.setattr(signatures, "sign_answer", broken)
    response = client.post(
        "/shep/SyncChannel", data=_signed(stand, records, identity), content_type="text/xml"
    )
    assert response.status_code == 503 and response.content == b"" and response["Retry-After"] == "60"


def test_a_refused_but_signed_request_and_its_answer_carry_verdicts(stand, records, identity):
    code, _ = _outcome(services.receive(_signed(stand, records, identity, password="a-wrong-password")))
    assert code == "SCE002"
    refused = JournalEntry.objects.get(direction="IN")
    assert "transport: RSA-SHA256 and chain verified offline" in refused.signature_verdict
    assert "revocation not checked (sender not authenticated)" in refused.signature_verdict
    assert refused.signature_verdict.endswith("not continued: SCE002")
    answer = JournalEntry.objects.get(direction="OUT")
    assert answer.signature_verdict.startswith("signed by the System (test key): RSA-SHA256")


def test_every_sent_answer_carries_its_verdict(stand, records, identity):
    assert _outcome(services.receive(_signed(stand, records, identity)))[0] == "SCSS001"
    incoming = JournalEntry.objects.get(direction="IN")
    assert incoming.signature_verdict.startswith("transport: valid RSA-SHA256")
    assert "business data: not signed" in incoming.signature_verdict
    assert JournalEntry.objects.get(direction="OUT").signature_verdict.startswith("signed by the System")


def _start_production(tmp_path, key_store: Path, password: str) -> subprocess.CompletedProcess:
    ca = signatures.test_ca()
    password_file = tmp_path / "password"
    password_file.write_text(password)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("EGSU_")},
        "EGSU_ENV": "production",
        "EGSU_SECRET_KEY": "x" * 50,
        "EGSU_VAR_DIR": str(tmp_path / "var"),
        "EGSU_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "EGSU_TRUST_ROOTS": str(ca.chain_path),
        "EGSU_SIGNING_KEY": str(key_store),
        "EGSU_SIGNING_PASSWORD_FILE": str(password_file),
        "EGSU_EMAIL_URL": "console://",
        "DJANGO_SETTINGS_MODULE": "egsu.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "core"), str(ROOT / "agent")]),
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip


def test_production_refuses_to_start_without_a_working_signing_key(stand, tmp_path):
    ca = signatures.test_ca()
    with signatures.pki_lock():
        issued = ca.issue_system("EGSU PRODUCTION SYSTEM")
    store = tmp_path / "system.p12"
    store.write_bytes(
        pkcs12.dump(issued.key, load_certificate(issued.cert_pem), "right-password", iterations=2048)
    )
    wrong = _start_production(tmp_path, store, "wrong-password")
    assert wrong.returncode != 0
    assert "production signing key does not work" in wrong.stderr and "wrong password" in wrong.stderr
    assert "right-password" not in wrong.stderr
    right = _start_production(tmp_path, store, "right-password")
    assert right.returncode == 0, right.stderr
    assert right.stdout.strip() == "started"
