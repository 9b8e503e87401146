"""No outbound request on behalf of a sender who has not proved who it is (App.1 §16, §51; SIG-07..10).

A certificate that only *names* a trusted CA as its issuer, with OCSP, CRL and AIA addresses of
the sender's choosing (five on a loopback listener the test runs, one link-local metadata
address), goes through the real endpoint (/shep/SyncChannel with Django's test client) and:

* makes zero connections — the listener counts accepted connections, and a spy on
  ``socket.connect`` records every attempt (so the link-local address is covered too);
* is answered SCE006 (or SCE002) within one second.

The same holds for a genuine certificate of the trusted CA whose addresses are not on the
operator's allow-list, and whatever the password. The per-message time budget bounds a
responder that accepts and never answers.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID, NameOID
from lxml import etree

from egsu.journal.models import JournalEntry
from egsu.readings.models import Reading
from egsu.signatures import services as signatures
from egsu_core.clock import utcnow
from egsu_core.pki.keys import load_identity
from egsu_core.pki.sendmessage import signed_send_message
from egsu_core.pki.testca import EKU_CEO, POLICY_LEGAL_SIGN, key_usage_extension
from tests.intake.conftest import DEMO_PASSWORD, device_record, events, new_message_id, recent_two_hour_slot
from tests.security.listeners import ConnectGuard, CountingListener

LINK_LOCAL = "http://169.254.169.254/latest/meta-data/"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def listener():
    with CountingListener(reply=b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n") as running:
        yield running


@pytest.fixture
def records(stand):
    facility = next(f for f in stand["facilities"] if f["kind"] == "1.2")
    return events(
        [device_record(facility, facility["devices"][0], period_start=recent_two_hour_slot(), is_daily=False)]
    )


def _hostile_certificate(owner: str, listener_url: str, *, signer=None):
    """A signing certificate in NCA shape for ``owner`` naming the stand's CA as issuer.

    ``signer``: the key that really signs it — the forger's own key (None), or the CA's key.
    Its OCSP/CRL/AIA addresses point at the test's listener and at a link-local address.
    """
    ca = signatures.test_ca()
    intermediate = ca.intermediate.cert
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signing_key = signer or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ski = intermediate.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_KEY_IDENTIFIER).value
    now = utcnow()
    ocsp = [f"{listener_url}/ocsp/{n}" for n in range(5)] + [LINK_LOCAL]
    aia = [
        x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(u))
        for u in ocsp
    ]
    aia.append(
        x509.AccessDescription(
            AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(f"{listener_url}/ca.crt")
        )
    )
    points = [
        x509.DistributionPoint([x509.UniformResourceIdentifier(u)], None, None, None)
        for u in (f"{listener_url}/crl/full.crl", LINK_LOCAL + "crl")
    ]
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "TESTOV TEST"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, "IIN800101300123"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "DEMO LLP"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{owner}"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(intermediate.subject)  # only the NAME of the trusted CA
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(key_usage_extension(["digitalSignature", "nonRepudiation"]), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier(ski.digest, None, None), critical=False)
        .add_extension(x509.AuthorityInformationAccess(aia), critical=False)
        .add_extension(x509.CRLDistributionPoints(points), critical=False)
        .add_extension(x509.FreshestCRL(points), critical=False)
        .add_extension(
            x509.CertificatePolicies(
                [x509.PolicyInformation(x509.ObjectIdentifier(POLICY_LEGAL_SIGN), None)]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier(EKU_CEO)]), critical=False)
        .sign(signing_key, hashes.SHA256())
    )
    from cryptography.hazmat.primitives import serialization

    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return load_identity(key_pem, cert.public_bytes(serialization.Encoding.PEM))


def _post(client, stand, records, identity, password=DEMO_PASSWORD) -> tuple[str, str, float]:
    # What a running server has loaded once, at its first request (the URL map and every view module,
    # trust roots, the System's key), not what each message costs: loaded before the clock starts.
    assert client.get("/shep/SyncChannel?wsdl").status_code == 200
    signatures.trust_store("test")
    signatures.trust_store(None)
    signatures.system_identity("test")
    body = signed_send_message(
        records,
        identity=identity,
        message_id=new_message_id(),
        sender_id=stand["senderId"],
        password=password,
    )
    started = time.monotonic()
    response = client.post("/shep/SyncChannel", data=body, content_type="text/xml; charset=utf-8")
    elapsed = time.monotonic() - started
    root = etree.fromstring(response.content)
    code = root.findtext(".//errorCode") or root.findtext(".//responseInfo/status/code")
    message = root.findtext(".//errorMessage") or root.findtext(".//responseInfo/status/message") or ""
    return code, message, elapsed


@pytest.mark.parametrize(
    "password", [DEMO_PASSWORD, "a-wrong-password"], ids=["right-password", "wrong-password"]
)
def test_a_forged_certificate_naming_a_trusted_ca_makes_no_connection(
    client, stand, records, listener, monkeypatch, password
):
    # given a self-made certificate that names the stand's CA as issuer and hostile addresses
    owner = stand["facilities"][0]["subject_bin"]
    forged = _hostile_certificate(owner, listener.url)
    guard = ConnectGuard(monkeypatch)
    # when it signs a message sent to the real endpoint
    code, message, elapsed = _post(client, stand, records, forged, password)
    # then it is refused at once, for its chain, and nobody was contacted
    assert code == "SCE006", message
    assert "does not verify with the key of" in message
    assert elapsed < 4.0  # below the 5-second revocation timeout: nothing was waited for (loaded CI)
    assert listener.accepted == 0
    assert guard.attempts == []
    assert signatures.revocation_cache().downloads == []
    assert not Reading.objects.exists()
    refused = JournalEntry.objects.filter(direction="IN").latest("pk")
    assert refused.status_code == "SCE006" and "does not verify" in refused.signature_verdict


@pytest.mark.parametrize(
    ("password", "expected"),
    [(DEMO_PASSWORD, "SCE006"), ("a-wrong-password", "SCE002")],
    ids=["right", "wrong"],
)
def test_a_genuine_certificate_naming_addresses_off_the_allow_list_makes_no_connection(
    client, stand, records, listener, monkeypatch, password, expected
):
    # given a certificate really issued by the trusted CA, whose addresses are loopback and link-local
    owner = stand["facilities"][0]["subject_bin"]
    hostile = _hostile_certificate(owner, listener.url, signer=signatures.test_ca().intermediate.key)
    guard = ConnectGuard(monkeypatch)
    code, message, elapsed = _post(client, stand, records, hostile, password)
    # then: with a wrong password nothing is asked (SCE002); with the right one the addresses are
    # refused by the allow-list, revocation cannot be checked, and the signature is not accepted
    assert code == expected, message
    if expected == "SCE006":
        assert "not on the allow-list" in message
    assert elapsed < 4.0  # below the 5-second revocation timeout: nothing was waited for (loaded CI)
    assert listener.accepted == 0
    assert guard.attempts == []


def test_the_time_budget_bounds_a_responder_that_never_answers(client, stand, records, identity, settings):
    # given the stand's CA addresses mirrored to a responder that accepts and never answers
    with CountingListener(reply=None) as silent:
        settings.CONFIG = dataclasses.replace(
            settings.CONFIG,
            pki_mirrors=((signatures.TEST_PKI_BASE_URL, silent.url),),
            revocation_timeout_s=30.0,
            signature_budget_s=0.8,
        )
        # when a validly signed message arrives
        code, message, elapsed = _post(client, stand, records, identity)
    # then the budget, not the 30-second timeout, decides
    assert code == "SCE006", message
    assert "time budget" in message or "timed out" in message
    assert elapsed < 10.0  # the 0.8-second budget plus a loaded machine, far below the 30-second timeout
    assert silent.accepted >= 1


def test_a_redirect_is_not_followed(stand, monkeypatch, settings):
    # given an allowed mirror that answers with a redirect to a link-local address
    redirect = b"HTTP/1.0 302 Found\r\nLocation: " + LINK_LOCAL.encode() + b"\r\nContent-Length: 0\r\n\r\n"
    with CountingListener(reply=redirect) as mirror:
        settings.CONFIG = dataclasses.replace(
            settings.CONFIG, pki_mirrors=((signatures.TEST_PKI_BASE_URL, mirror.url),)
        )
        guard = ConnectGuard(monkeypatch)
        checker = signatures.revocation_checker(deadline=time.monotonic() + 5)
        ca = signatures.test_ca()
        with signatures.pki_lock():
            issued = ca.issue_subject(
                stand["facilities"][0]["subject_bin"], "DEMO LLP", "TESTOV TEST", "800101300123"
            )
        status = checker.check(issued.certificate, ca.intermediate_certificate, at=utcnow())
    assert status.state == "unavailable"
    assert "redirect" in status.detail
    assert all(address[0] == "127.0.0.1" for address in guard.attempts)
