"""Test and production kept apart (App.1 §13, INT-17; SIG-07, SIG-10, SIG-12).

Two certification authorities: the stand's own test CA (the test roots, EGSU_TEST_TRUST_ROOTS) and a
second CA standing in for the NCA (the production roots, EGSU_TRUST_ROOTS). Both are served over
loopback HTTP and mirrored (EGSU_PKI_MIRRORS), so revocation is really checked. A test system
accepts only certificates of the test roots and is answered with the test signing key; a production
system only the production roots and the production key. Per-system policy OIDs and extended key
usages (admin, workbook) are checked at intake.
"""

from __future__ import annotations

import dataclasses

import pytest
from lxml import etree

from egsu.intake import services
from egsu.journal.models import JournalEntry
from egsu.registry.models import ConnectedSystem, Contour
from egsu.signatures import services as signatures
from egsu_core.pki.certs import load_certificate
from egsu_core.pki.keys import load_identity
from egsu_core.pki.sendmessage import signed_send_message
from egsu_core.pki.testca import TestCA
from egsu_core.pki.wsse import verify_transport
from egsu_core.shep.xmlparse import parse_document
from tests.intake.conftest import DEMO_PASSWORD, device_record, events, new_message_id, recent_two_hour_slot

pytestmark = pytest.mark.django_db(transaction=True)
PRODUCTION_BASE = "http://egsu-production-ca.invalid"


@dataclasses.dataclass
class Contours:
    test_ca: TestCA
    production_ca: TestCA
    test_system_cert: bytes
    production_system_cert: bytes


@pytest.fixture
def contours(stand, settings, tmp_path):
    test_ca = signatures.test_ca()
    with signatures.pki_lock():
        test_ca.crl()
        test_ca.crl(delta=True)
    test_key, test_cert = signatures._test_system_identity()
    production_ca = TestCA.create(tmp_path / "nca", base_url=PRODUCTION_BASE, root_key_size=2048)
    production_ca.crl()
    production_ca.crl(delta=True)
    production_system = production_ca.issue_system("EGSU PRODUCTION SYSTEM")
    servers = [test_ca.serve(), production_ca.serve()]
    settings.CONFIG = dataclasses.replace(
        settings.CONFIG,
        trust_roots=(production_ca.chain_path,),
        test_trust_roots=(test_ca.chain_path,),
        signing_key=production_system.key_path,
        signing_cert=production_system.cert_path,
        test_signing_key=test_key,
        test_signing_cert=test_cert,
        pki_mirrors=((signatures.TEST_PKI_BASE_URL, servers[0].url), (PRODUCTION_BASE, servers[1].url)),
    )
    signatures.reset_caches()
    yield Contours(test_ca, production_ca, test_cert.read_bytes(), production_system.cert_path.read_bytes())
    for server in servers:
        server.stop()
    signatures.reset_caches()


def _identity(ca: TestCA, owner: str, **options):
    issued = ca.issue_subject(owner, "DEMO LLP", "TESTOV TEST", "800101300123", **options)
    return load_identity(issued.key_pem, issued.cert_pem)


def _send(stand, identity) -> tuple[str, str, bytes]:
    facility = next(f for f in stand["facilities"] if f["kind"] == "1.2")
    records = events(
        [device_record(facility, facility["devices"][0], period_start=recent_two_hour_slot(), is_daily=False)]
    )
    body = signed_send_message(
        records,
        identity=identity,
        message_id=new_message_id(),
        sender_id=stand["senderId"],
        password=DEMO_PASSWORD,
    )
    answer = services.receive(body)
    root = etree.fromstring(answer.body)
    code = root.findtext(".//errorCode") or root.findtext(".//responseInfo/status/code")
    message = root.findtext(".//errorMessage") or root.findtext(".//responseInfo/status/message") or ""
    return code, message, answer.body


def _answer_signer(body: bytes) -> bytes:
    return load_certificate(verify_transport(parse_document(body)).certificate_der).der


def _set_contour(stand, contour: str, **fields) -> None:
    ConnectedSystem.objects.filter(sender_id=stand["senderId"]).update(contour=contour, **fields)


def test_a_test_system_accepts_the_test_root_and_is_answered_with_the_test_key(stand, contours):
    owner = stand["facilities"][0]["subject_bin"]
    code, message, body = _send(stand, _identity(contours.test_ca, owner))
    assert code == "SCSS001", message
    assert _answer_signer(body) == load_certificate(contours.test_system_cert).der
    answer = JournalEntry.objects.filter(direction="OUT").latest("pk")
    assert answer.signature_verdict.startswith("signed by the System (test key): RSA-SHA256;")
    assert "CN=EGSU TEST SYSTEM" in answer.signature_verdict


def test_a_test_system_refuses_a_production_certificate(stand, contours):
    owner = stand["facilities"][0]["subject_bin"]
    code, message, body = _send(stand, _identity(contours.production_ca, owner))
    assert code == "SCE006"
    assert "chains to a production root, but this connected system is on the test contour" in message
    assert _answer_signer(body) == load_certificate(contours.test_system_cert).der


def test_a_production_system_accepts_only_production_roots_and_the_production_key_answers(stand, contours):
    owner = stand["facilities"][0]["subject_bin"]
    _set_contour(stand, Contour.PRODUCTION)
    code, message, _ = _send(stand, _identity(contours.test_ca, owner))
    assert code == "SCE006" and "chains to a test root" in message
    code, message, body = _send(stand, _identity(contours.production_ca, owner))
    assert code == "SCSS001", message
    assert _answer_signer(body) == load_certificate(contours.production_system_cert).der
    incoming = JournalEntry.objects.filter(direction="IN", kind="message").latest("pk")
    assert "revocation good by ocsp" in incoming.signature_verdict


def test_the_systems_extended_key_usages_are_checked(stand, contours):
    owner = stand["facilities"][0]["subject_bin"]
    # given a system that accepts only certificates of a person with the right to sign
    _set_contour(stand, Contour.TEST, allowed_eku_oids="1.2.398.3.3.4.1.2.2")
    code, message, _ = _send(stand, _identity(contours.test_ca, owner))  # the CA gives the first head's EKU
    assert code == "SCE006" and "extended key usage" in message and "1.2.398.3.3.4.1.2.2" in message
    # when the first head's EKU is allowed too, the same kind of certificate passes
    _set_contour(stand, Contour.TEST, allowed_eku_oids="1.2.398.3.3.4.1.2.2, 1.2.398.3.3.4.1.2.1")
    assert _send(stand, _identity(contours.test_ca, owner))[0] == "SCSS001"


def test_the_systems_policy_oids_are_checked(stand, contours):
    owner = stand["facilities"][0]["subject_bin"]
    _set_contour(stand, Contour.TEST, allowed_policy_oids="1.2.398.3.3.2.3")
    code, message, _ = _send(stand, _identity(contours.test_ca, owner))
    assert code == "SCE006" and "policies" in message
