"""The gateway end to end with every algorithm (issue 4): RSA-SHA256, GOST 34.310-2004, GOST 2015-512.

The stand trusts its RSA test CA and two GOST test CAs (one per NCA scheme) at once, as a
production trust store holds NCA's RSA and GOST chains side by side (SIG-10). The GOST CAs'
OCSP and CRL URLs are answered in process, like the stand's own. Every failure case of
``test_signatures_gateway.py`` is repeated with GOST keys: right code (App.4 SCE005–SCE007),
a useful message, nothing stored. The System signing its answers with GOST (App.1 §51) and
a signer named by ``X509IssuerSerial`` (shep-notes §2b) are covered too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from lxml import etree

from egsu.intake import services
from egsu.journal.models import JournalEntry
from egsu.readings.models import Reading
from egsu.registry.models import ConnectedSystem
from egsu.signatures import services as signatures
from egsu_core.clock import utcnow
from egsu_core.pki.certs import load_certificate
from egsu_core.pki.gost import gost3410
from egsu_core.pki.gost.x509 import signature_algorithm_for
from egsu_core.pki.keys import SigningIdentity, load_identity
from egsu_core.pki.path import validate
from egsu_core.pki.revocation import _Unavailable
from egsu_core.pki.sendmessage import signed_send_message
from egsu_core.pki.testca import IssuedCertificate, TestCA, respond
from egsu_core.pki.trust import TrustStore
from egsu_core.pki.wsse import sign_transport, verify_transport
from tests.intake.conftest import DEMO_PASSWORD, device_record, events, new_message_id, recent_two_hour_slot

GOST_TYPES = ("gost2004", "gost2015")
SCHEMES = {"gost2004": gost3410.GOST2004, "gost2015": gost3410.GOST2015_512}
ALGORITHM_NAMES = {"rsa": "RSA-SHA256", "gost2004": "GOST 34.310-2004", "gost2015": "GOST 2015-512"}
HEAD = ("DEMO LLP", "TESTOV TEST", "800101300123")  # organisation, head's name, head's IIN

by_scheme = pytest.mark.parametrize("key_type", GOST_TYPES)


@dataclass
class GostAuthority:
    """One GOST test CA of the stand, with a subject key reused for every certificate it issues."""

    ca: TestCA
    key: gost3410.GostPrivateKey

    @property
    def base_url(self) -> str:
        return self.ca.base_url


@dataclass
class Pki:
    """What the stand trusts and answers for during one test."""

    rsa: TestCA
    gost: dict[str, GostAuthority]
    trust: TrustStore
    ocsp_up: bool = True


@pytest.fixture(scope="module")
def gost_authorities(tmp_path_factory) -> dict[str, GostAuthority]:
    """Two GOST CAs per module: key generation and GOST signing are pure Python."""
    made = {}
    for key_type in GOST_TYPES:
        ca = TestCA.create(
            tmp_path_factory.mktemp(key_type) / "ca",
            base_url=f"http://egsu-{key_type}-test-pki.invalid",
            key_type=key_type,
        )
        made[key_type] = GostAuthority(ca, gost3410.GostPrivateKey.generate(SCHEMES[key_type]))
    return made


@pytest.fixture
def pki(stand, gost_authorities, monkeypatch) -> Pki:
    """The stand's trust store holds the RSA and both GOST chains; GOST OCSP/CRL answered in process."""
    rsa_ca = signatures.test_ca()
    cas = [rsa_ca, *(authority.ca for authority in gost_authorities.values())]
    trust = TrustStore([ca.root_certificate for ca in cas], [ca.intermediate_certificate for ca in cas])
    state = Pki(rsa_ca, gost_authorities, trust)
    monkeypatch.setattr(signatures, "trust_store", lambda contour=None: state.trust)
    real_fetch = signatures._StandRevocationChecker._fetch

    def fetch(self, url, body=None, content_type=None):
        authority = next((a for a in gost_authorities.values() if url.startswith(a.base_url + "/")), None)
        if "/ocsp" in url and not state.ocsp_up:
            raise _Unavailable("OCSP responder unreachable (test)")
        if authority is None:
            return real_fetch(self, url, body, content_type)
        self.fetched.append(url)
        method = "POST" if body is not None else "GET"
        status, payload, _ = respond(authority.ca, method, url[len(authority.base_url) :], body)
        if status != 200:
            raise _Unavailable(f"HTTP {status} from {url}")
        return payload

    monkeypatch.setattr(signatures._StandRevocationChecker, "_fetch", fetch)
    # the GOST test CAs are trusted here, so the operator allows their hosts too
    stand_hosts = signatures.allowed_revocation_hosts()
    gost_hosts = {urlsplit(a.base_url).hostname for a in gost_authorities.values()}
    monkeypatch.setattr(signatures, "allowed_revocation_hosts", lambda: stand_hosts | gost_hosts)
    return state


@pytest.fixture
def owner(stand) -> str:
    return stand["facilities"][0]["subject_bin"]


@pytest.fixture
def records(stand):
    facility = next(f for f in stand["facilities"] if f["kind"] == "1.2")
    return events(
        [device_record(facility, facility["devices"][0], period_start=recent_two_hour_slot(), is_daily=False)]
    )


def _identity(issued: IssuedCertificate) -> SigningIdentity:
    """The identity from the PEM files, as the stand, `egsu sign` and the agent load it."""
    identity = load_identity(issued.key_pem, issued.cert_pem)
    assert identity.algorithm_uri == signature_algorithm_for(issued.key).xml_uri
    return identity


def _issue(pki: Pki, key_type: str, bin_: str, **options) -> tuple[IssuedCertificate, SigningIdentity]:
    authority = pki.gost[key_type]
    options.setdefault("key", authority.key)
    issued = authority.ca.issue_subject(bin_, *HEAD, **options)
    return issued, _identity(issued)


def _message(stand, records, identity, **options) -> bytes:
    return signed_send_message(
        records,
        identity=identity,
        message_id=new_message_id(),
        sender_id=stand["senderId"],
        password=DEMO_PASSWORD,
        **options,
    )


def _outcome(answer) -> tuple[str, str]:
    root = etree.fromstring(answer.body)
    code = root.findtext(".//errorCode") or root.findtext(".//responseInfo/status/code")
    message = root.findtext(".//errorMessage") or root.findtext(".//responseInfo/status/message")
    return code, message


def _send(stand, records, identity, **options) -> tuple[str, str]:
    return _outcome(services.receive(_message(stand, records, identity, **options)))


def _nothing_stored() -> None:
    assert not Reading.objects.exists()
    refused = JournalEntry.objects.filter(direction="IN").latest("pk")
    assert refused.kind == "refused" and refused.status_code.startswith("SCE00")
    assert refused.signature_verdict


def _require_business_signature(stand) -> None:
    ConnectedSystem.objects.filter(sender_id=stand["senderId"]).update(require_business_signature=True)


# ---------------------------------------------------------------- accepted, with each algorithm


@pytest.mark.parametrize("key_type", ["rsa", *GOST_TYPES])
def test_each_algorithm_is_accepted_and_named_in_the_journal(stand, pki, records, identity, owner, key_type):
    # given a sender's head certificate of each algorithm, all CAs trusted side by side
    if key_type != "rsa":
        _, identity = _issue(pki, key_type, owner)

    # when a signed SendMessage arrives
    code, message = _send(stand, records, identity)

    # then it is accepted, stored, and the journal names the algorithm and the OCSP verdict
    assert code == "SCSS001", message
    assert Reading.objects.exists()
    verdict = JournalEntry.objects.get(direction="IN", kind="message").signature_verdict
    assert verdict.startswith(f"transport: valid {ALGORITHM_NAMES[key_type]};")
    assert f"BIN {owner}" in verdict and "revocation good by ocsp" in verdict


@by_scheme
def test_a_gost_business_signature_is_verified_and_stored(stand, pki, records, owner, key_type):
    _require_business_signature(stand)
    _, identity = _issue(pki, key_type, owner)

    code, _ = _send(stand, records, identity, sign_business_data=True)

    assert code == "SCSS001"
    verdict = JournalEntry.objects.get(direction="IN").signature_verdict
    assert f"business data: valid {ALGORITHM_NAMES[key_type]}" in verdict
    assert Reading.objects.exists()


@by_scheme
def test_a_gost_signer_named_by_x509_issuer_serial_is_looked_up_in_the_trust_store(
    stand, pki, records, owner, key_type
):
    # given a signature whose KeyInfo names the certificate only by issuer and serial (WSS4J style)
    issued, identity = _issue(pki, key_type, owner)
    pki.trust.add_intermediate(issued.certificate)
    body = _message(stand, records, identity, key_info="X509IssuerSerial")
    assert b"X509IssuerSerial" in body and b"X509Certificate>" not in body

    # when it arrives; then the certificate is found in the trust store and the message accepted
    code, _ = _outcome(services.receive(body))

    assert code == "SCSS001"
    assert f"serial {issued.serial:x}" in JournalEntry.objects.get(direction="IN").signature_verdict


@by_scheme
def test_an_x509_issuer_serial_nobody_holds_is_sce006(stand, pki, records, owner, key_type):
    _, identity = _issue(pki, key_type, owner)  # not added to the trust store

    code, message = _send(stand, records, identity, key_info="X509IssuerSerial")

    assert code == "SCE006" and "not known" in message
    _nothing_stored()


# ---------------------------------------------------------------- the System signs its answers with GOST


@by_scheme
def test_the_system_signs_its_answers_with_gost_and_we_verify_them(
    stand, pki, records, owner, key_type, monkeypatch
):
    # given the System's own signing certificate from a GOST CA
    authority = pki.gost[key_type]
    system = authority.ca.issue_system("EGSU TEST SYSTEM", key=authority.key)
    monkeypatch.setattr(signatures, "system_identity", lambda contour=None: _identity(system))
    _, identity = _issue(pki, key_type, owner)

    # when a message is accepted and another refused
    accepted = services.receive(_message(stand, records, identity))
    refused = services.receive(_message(stand, records, identity).replace(b"<volume>", b"<volume>9", 1))

    # then both answers carry the System's GOST transport signature, which our verifier accepts
    for answer, code in ((accepted, "SCSS001"), (refused, "SCE006")):
        assert _outcome(answer)[0] == code
        signed = verify_transport(etree.fromstring(answer.body))
        assert signed.signature_method == signature_algorithm_for(authority.key).xml_uri
        assert signed.certificate_der == system.certificate.der
        result = validate(
            load_certificate(signed.certificate_der),
            trust=pki.trust,
            at=utcnow(),
            revocation=signatures.revocation_checker(),
        )
        assert result.valid, result.reason


# ---------------------------------------------------------------- every failure, with GOST keys


@by_scheme
def test_unsigned_is_sce007(stand, pki, records, key_type):
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


@by_scheme
def test_tampered_body_is_sce006(stand, pki, records, owner, key_type):
    _, identity = _issue(pki, key_type, owner)
    body = _message(stand, records, identity)
    tampered = body.replace(b"<volume>", b"<volume>9", 1)
    assert tampered != body

    code, message = _outcome(services.receive(tampered))

    assert code == "SCE006" and "digest" in message.lower()
    _nothing_stored()


@by_scheme
def test_a_forged_gost_signature_value_is_sce006(stand, pki, records, owner, key_type):
    # given a message whose GOST SignatureValue was flipped; then SignedInfo no longer authenticates
    _, identity = _issue(pki, key_type, owner)
    root = etree.fromstring(_message(stand, records, identity))
    value = root.find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureValue")
    value.text = ("B" if value.text[0] == "A" else "A") + value.text[1:]

    code, message = _outcome(services.receive(etree.tostring(root)))

    assert code == "SCE006" and "SignedInfo was changed" in message
    _nothing_stored()


@by_scheme
def test_tampered_business_payload_is_sce006(stand, pki, records, owner, key_type):
    _require_business_signature(stand)
    _, identity = _issue(pki, key_type, owner)
    root = etree.fromstring(_message(stand, records, identity, sign_business_data=True))
    # change the payload and re-sign only the transport, as a forger holding a transport key would
    volume = root.find(".//events/volume")
    volume.text = "9" + volume.text
    header = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Header")
    header.getparent().remove(header)
    resigned = sign_transport(
        etree.tostring(root),
        private_key=identity.private_key,
        certificate_der=identity.certificate_der,
        algorithm_uri=identity.algorithm_uri,
    )

    code, message = _outcome(services.receive(resigned))

    assert code == "SCE006" and message.startswith("Incorrect transport signature: business-data signature")
    _nothing_stored()


@by_scheme
def test_wrong_reference_is_sce006(stand, pki, records, owner, key_type):
    _, identity = _issue(pki, key_type, owner)
    root = etree.fromstring(_message(stand, records, identity))
    root.find(".//{http://www.w3.org/2000/09/xmldsig#}Reference").set("URI", "#somewhere-else")

    code, message = _outcome(services.receive(etree.tostring(root)))

    assert code == "SCE006" and "SignedInfo was changed" in message
    _nothing_stored()


@by_scheme
@pytest.mark.parametrize(
    ("window", "words"),
    [
        pytest.param((-400, -30), "expired", id="expired"),
        pytest.param((30, 400), "not valid before", id="not-yet-valid"),
    ],
)
def test_a_certificate_outside_its_validity_is_sce005(stand, pki, records, owner, key_type, window, words):
    now = utcnow()
    _, identity = _issue(
        pki,
        key_type,
        owner,
        not_before=now + timedelta(days=window[0]),
        not_after=now + timedelta(days=window[1]),
    )

    code, message = _send(stand, records, identity)

    assert code == "SCE005" and "validity" in message
    _nothing_stored()


@by_scheme
def test_revoked_by_ocsp_is_sce005(stand, pki, records, owner, key_type):
    issued, identity = _issue(pki, key_type, owner)
    pki.gost[key_type].ca.revoke(issued.serial)

    code, message = _send(stand, records, identity)

    assert code == "SCE005" and "revoked" in message and "ocsp" in message.lower()
    _nothing_stored()


@by_scheme
def test_revoked_by_crl_while_ocsp_is_down_is_sce005(stand, pki, records, owner, key_type):
    issued, identity = _issue(pki, key_type, owner)
    ca = pki.gost[key_type].ca
    ca.revoke(issued.serial)
    ca.crl()
    ca.crl(delta=True)
    pki.ocsp_up = False

    code, message = _send(stand, records, identity)

    assert code == "SCE005" and "revoked" in message and "crl" in message.lower()
    _nothing_stored()


@by_scheme
def test_unknown_ca_is_sce006(stand, pki, records, owner, key_type, tmp_path):
    stranger = TestCA.create(tmp_path / "rogue", base_url="http://rogue.invalid", key_type=key_type)
    issued = stranger.issue_subject(owner, *HEAD, key=pki.gost[key_type].key)

    code, message = _send(stand, records, _identity(issued))

    assert code == "SCE006" and "chain" in message
    _nothing_stored()


@by_scheme
def test_missing_intermediate_is_sce006(stand, pki, records, owner, key_type):
    _, identity = _issue(pki, key_type, owner)
    pki.trust = TrustStore(pki.trust.anchors)  # the roots only

    code, message = _send(stand, records, identity)

    assert code == "SCE006" and "chain" in message
    _nothing_stored()


@by_scheme
def test_wrong_key_usage_is_sce006(stand, pki, records, owner, key_type):
    _, identity = _issue(pki, key_type, owner, purpose="auth")  # digitalSignature + keyEncipherment

    code, message = _send(stand, records, identity)

    assert code == "SCE006" and "key usage" in message and "nonRepudiation" in message
    _nothing_stored()


@by_scheme
def test_disallowed_policy_is_sce006(stand, pki, records, owner, key_type):
    _, identity = _issue(pki, key_type, owner, policies=["1.2.398.3.3.2.3"])  # an individual's signing policy

    code, message = _send(stand, records, identity)

    assert code == "SCE006" and "policy" in message
    _nothing_stored()


@by_scheme
def test_certificate_of_another_subject_is_sce006(stand, pki, records, owner, key_type):
    other = next(s["bin"] for s in stand["subjects"] if s["bin"] != owner)
    _, identity = _issue(pki, key_type, other)

    code, message = _send(stand, records, identity)

    assert code == "SCE006" and f"not to the sender's subject BIN {owner}" in message
    _nothing_stored()


@by_scheme
def test_a_certificate_of_the_other_gost_scheme_with_a_mismatched_key_is_sce006(
    stand, pki, records, owner, key_type
):
    # given a signature whose method names one GOST scheme but whose key is of the other (algorithm confusion)
    other_type = next(t for t in GOST_TYPES if t != key_type)
    issued, _ = _issue(pki, other_type, owner)
    liar = SigningIdentity(
        pki.gost[key_type].key,
        issued.certificate.der,
        signature_algorithm_for(pki.gost[key_type].key).xml_uri,
    )

    code, message = _send(stand, records, liar)

    assert code == "SCE006"
    _nothing_stored()
