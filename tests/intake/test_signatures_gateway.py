"""Signatures at the gateway (issue 3): one test per failure, each with its code, a useful message,
and nothing stored. App.1 §16 (SIG-05..15), §37 (SIG-03), App.4 SCE005–SCE007.

The certificates come from the stand's own test CA (var/pki of the test run), the same one
`make demo` uses; OCSP and CRLs are answered by it in process.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree

from egsu.intake import services
from egsu.journal.models import JournalEntry
from egsu.readings.models import Reading
from egsu.registry.models import ConnectedSystem
from egsu.signatures import services as signatures
from egsu_core.clock import utcnow
from egsu_core.pki.keys import load_identity
from egsu_core.pki.revocation import _Unavailable
from egsu_core.pki.sendmessage import signed_send_message
from egsu_core.pki.testca import TestCA
from egsu_core.pki.trust import TrustStore
from tests.intake.conftest import DEMO_PASSWORD, device_record, events, new_message_id, recent_two_hour_slot


@pytest.fixture
def owner(stand):
    return stand["facilities"][0]["subject_bin"]


@pytest.fixture
def records(stand):
    facility = next(f for f in stand["facilities"] if f["kind"] == "1.2")
    return events(
        [device_record(facility, facility["devices"][0], period_start=recent_two_hour_slot(), is_daily=False)]
    )


def _issue(owner: str, **options):
    """A certificate of the stand's test CA for the owner's head, shaped as the NCA issues them."""
    ca = signatures.test_ca()
    with signatures.pki_lock():
        issued = ca.issue_subject(owner, "DEMO LLP", "TESTOV TEST", "800101300123", **options)
    return issued, load_identity(issued.key_pem, issued.cert_pem)


def _send(stand, records, identity, **options) -> tuple[str, str]:
    body = signed_send_message(
        records,
        identity=identity,
        message_id=new_message_id(),
        sender_id=stand["senderId"],
        password=DEMO_PASSWORD,
        **options,
    )
    return _outcome(services.receive(body))


def _outcome(answer) -> tuple[str, str]:
    root = etree.fromstring(answer.body)
    code = root.findtext(".//errorCode") or root.findtext(".//responseInfo/status/code")
    message = root.findtext(".//errorMessage") or root.findtext(".//responseInfo/status/message")
    return code, message


def _nothing_stored():
    assert not Reading.objects.exists()
    refused = JournalEntry.objects.filter(direction="IN").latest("pk")
    assert refused.kind == "refused" and refused.status_code.startswith("SCE00")
    assert refused.signature_verdict  # the verdict is journalled with the message


def test_a_valid_signature_is_accepted_and_its_verdict_journalled(stand, records, identity):
    code, _ = _send(stand, records, identity)

    assert code == "SCSS001"
    entry = JournalEntry.objects.get(direction="IN", kind="message")
    assert entry.signature_verdict.startswith("transport: valid RSA-SHA256;")
    assert "revocation good by ocsp" in entry.signature_verdict
    answer = JournalEntry.objects.get(direction="OUT")
    assert b"wsse:Security" in services.journal.raw_bytes(
        answer
    ) or b"Security" in services.journal.raw_bytes(answer)


def test_unsigned_is_sce007(stand, records):
    from egsu_core.shep.envelope import build_request

    body = build_request(
        message_id=new_message_id(),
        service_id="ISUN_Service2",
        sender_id=stand["senderId"],
        password=DEMO_PASSWORD,
        payload=records,
    )

    code, message = _outcome(services.receive(body))

    assert code == "SCE007" and "no WS-Security transport signature" in message
    _nothing_stored()


def test_tampered_body_is_sce006(stand, records, identity):
    body = signed_send_message(
        records,
        identity=identity,
        message_id=new_message_id(),
        sender_id=stand["senderId"],
        password=DEMO_PASSWORD,
    )
    tampered = body.replace(b"<volume>", b"<volume>9", 1)
    assert tampered != body

    code, message = _outcome(services.receive(tampered))

    assert code == "SCE006" and "digest" in message.lower()
    _nothing_stored()


def test_tampered_business_payload_is_sce006(stand, records, identity, owner):
    ConnectedSystem.objects.filter(sender_id=stand["senderId"]).update(require_business_signature=True)
    body = signed_send_message(
        records,
        identity=identity,
        message_id=new_message_id(),
        sender_id=stand["senderId"],
        password=DEMO_PASSWORD,
        sign_business_data=True,
    )
    # change the payload and re-sign only the transport, as a forger holding a transport key would
    root = etree.fromstring(body)
    volume = root.find(".//events/volume")
    volume.text = "9" + volume.text
    header = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Header")
    header.getparent().remove(header)
    from egsu_core.pki.wsse import sign_transport

    resigned = sign_transport(
        etree.tostring(root),
        private_key=identity.private_key,
        certificate_der=identity.certificate_der,
        algorithm_uri=identity.algorithm_uri,
    )

    code, message = _outcome(services.receive(resigned))

    assert code == "SCE006" and message.startswith("Incorrect transport signature: business-data signature")
    _nothing_stored()


def test_a_signed_business_payload_is_what_gets_stored(stand, records, identity):
    ConnectedSystem.objects.filter(sender_id=stand["senderId"]).update(require_business_signature=True)

    code, _ = _send(stand, records, identity, sign_business_data=True)

    assert code == "SCSS001"
    assert "business data: valid RSA-SHA256" in JournalEntry.objects.get(direction="IN").signature_verdict
    assert Reading.objects.exists()


def test_business_signature_required_but_missing_is_sce007(stand, records, identity):
    ConnectedSystem.objects.filter(sender_id=stand["senderId"]).update(require_business_signature=True)

    code, message = _send(stand, records, identity)

    assert code == "SCE007" and "business-data signature" in message
    _nothing_stored()


def test_wrong_reference_is_sce006(stand, records, identity):
    body = signed_send_message(
        records,
        identity=identity,
        message_id=new_message_id(),
        sender_id=stand["senderId"],
        password=DEMO_PASSWORD,
    )
    root = etree.fromstring(body)
    reference = root.find(".//{http://www.w3.org/2000/09/xmldsig#}Reference")
    reference.set("URI", "#somewhere-else")

    code, message = _outcome(services.receive(etree.tostring(root)))

    # SignedInfo is authenticated before any reference is followed, so the edit breaks the signature value
    assert code == "SCE006" and "SignedInfo was changed" in message
    _nothing_stored()


@pytest.mark.parametrize(
    ("window", "words"),
    [
        pytest.param((-400, -30), "expired", id="expired"),
        pytest.param((30, 400), "not valid before", id="not-yet-valid"),
    ],
)
def test_a_certificate_outside_its_validity_is_sce005(stand, records, owner, window, words):
    now = utcnow()
    _, identity = _issue(
        owner, not_before=now + timedelta(days=window[0]), not_after=now + timedelta(days=window[1])
    )

    code, message = _send(stand, records, identity)

    assert code == "SCE005"
    assert "validity" in message
    _nothing_stored()


def test_revoked_by_ocsp_is_sce005(stand, records, owner):
    issued, identity = _issue(owner)
    signatures.test_ca().revoke(issued.serial)

    code, message = _send(stand, records, identity)

    assert code == "SCE005" and "revoked" in message and "ocsp" in message.lower()
    _nothing_stored()


def test_revoked_by_crl_while_ocsp_is_down_is_sce005(stand, records, owner, monkeypatch):
    issued, identity = _issue(owner)
    ca = signatures.test_ca()
    ca.revoke(issued.serial)
    with signatures.pki_lock():
        ca.crl()
        ca.crl(delta=True)
    real_fetch = signatures._StandRevocationChecker._fetch

    def ocsp_down(self, url, body=None, content_type=None):
        if "/ocsp" in url:
            raise _Unavailable("OCSP responder unreachable (test)")
        return real_fetch(self, url, body, content_type)

    monkeypatch.setattr(signatures._StandRevocationChecker, "_fetch", ocsp_down)

    code, message = _send(stand, records, identity)

    assert code == "SCE005" and "revoked" in message and "crl" in message.lower()
    _nothing_stored()


def test_unknown_ca_is_sce006(stand, records, owner, tmp_path):
    stranger = TestCA.create(tmp_path / "rogue", base_url="http://rogue.invalid", root_key_size=2048)
    issued = stranger.issue_subject(owner, "DEMO LLP", "TESTOV TEST", "800101300123")
    identity = load_identity(issued.key_pem, issued.cert_pem)

    code, message = _send(stand, records, identity)

    assert code == "SCE006" and "chain" in message
    _nothing_stored()


def test_missing_intermediate_is_sce006(stand, records, identity, monkeypatch):
    ca = signatures.test_ca()
    only_root = TrustStore.from_paths([ca.root_path])
    monkeypatch.setattr(signatures, "trust_store", lambda contour=None: only_root)

    code, message = _send(stand, records, identity)

    assert code == "SCE006" and "chain" in message
    _nothing_stored()


def test_wrong_key_usage_is_sce006(stand, records, owner):
    _, identity = _issue(owner, purpose="auth")  # digitalSignature + keyEncipherment, no nonRepudiation

    code, message = _send(stand, records, identity)

    assert code == "SCE006" and "key usage" in message and "nonRepudiation" in message
    _nothing_stored()


def test_disallowed_policy_is_sce006(stand, records, owner):
    _, identity = _issue(owner, policies=["1.2.398.3.3.2.3"])  # an individual's signing policy

    code, message = _send(stand, records, identity)

    assert code == "SCE006" and "policy" in message
    _nothing_stored()


def test_a_policy_the_system_allows_is_accepted(stand, records, owner):
    ConnectedSystem.objects.filter(sender_id=stand["senderId"]).update(allowed_policy_oids="1.2.398.3.3.2.3")
    _, identity = _issue(owner, policies=["1.2.398.3.3.2.3"])

    code, _ = _send(stand, records, identity)

    assert code == "SCSS001"


def test_certificate_of_another_subject_is_sce006(stand, records, owner):
    other = next(s for s in stand["subjects"] if s["bin"] != owner)
    identity = load_identity(open(other["sign_key"], "rb").read(), open(other["sign_cert"], "rb").read())

    code, message = _send(stand, records, identity)

    assert code == "SCE006" and f"not to the sender's subject BIN {owner}" in message
    _nothing_stored()


def test_a_replayed_signed_message_is_answered_once_and_counted_once(stand, records, identity):
    body = signed_send_message(
        records,
        identity=identity,
        message_id=new_message_id(),
        sender_id=stand["senderId"],
        password=DEMO_PASSWORD,
    )
    first = services.receive(body)
    rows = Reading.objects.count()

    again = services.receive(body)

    assert again.body == first.body and Reading.objects.count() == rows
