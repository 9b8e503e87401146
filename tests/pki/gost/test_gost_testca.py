"""The GOST test PKI (issue 4): the same API and files as the RSA one, every signature GOST.

Certificates are validated through ``egsu_core.pki.path.validate`` with a real ``RevocationChecker``
talking HTTP to ``ca.serve()`` (SIG-05..SIG-10): good, revoked by OCSP (SIG-08), revoked by
CRL + delta CRL while OCSP is down (SIG-09). One CA and one subject key per scheme and module:
GOST arithmetic is pure Python.
"""

from __future__ import annotations

import hashlib
import stat
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from egsu_core.clock import utcnow
from egsu_core.pki import algorithms
from egsu_core.pki.certs import Certificate, load_crl
from egsu_core.pki.gost import gost3410
from egsu_core.pki.keys import load_identity
from egsu_core.pki.path import NOT_CURRENT, validate, validate_crl
from egsu_core.pki.revocation import RevocationChecker
from egsu_core.pki.testca import TestCA, respond
from egsu_core.pki.trust import TrustStore

BASE_URL = "http://gost-pki.test"  # what the certificates name; the checker rewrites it to the live server
BIN = "123456789021"
IIN = "123456789011"

SCHEMES = {
    "gost2004": (gost3410.GOST2004, "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311"),
    "gost2015": (
        gost3410.GOST2015_512,
        "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512",
    ),
}


@pytest.fixture(scope="module", params=sorted(SCHEMES), ids=sorted(SCHEMES))
def key_type(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def scheme(key_type) -> gost3410.GostScheme:
    return SCHEMES[key_type][0]


@pytest.fixture(scope="module")
def ca(key_type, tmp_path_factory) -> TestCA:
    return TestCA.create(tmp_path_factory.mktemp(key_type) / "ca", base_url=BASE_URL, key_type=key_type)


@pytest.fixture(scope="module")
def leaf_key(scheme) -> gost3410.GostPrivateKey:
    return gost3410.GostPrivateKey.generate(scheme)


@pytest.fixture(scope="module")
def _server(ca):
    server = ca.serve()
    yield server
    server.stop()


@pytest.fixture
def server(_server):
    yield _server
    _server.ocsp_available = True


@pytest.fixture
def trust(ca) -> TrustStore:
    return TrustStore([ca.root_certificate], [ca.intermediate_certificate])


@pytest.fixture
def checker(server) -> RevocationChecker:
    return RevocationChecker(url_rewrites={BASE_URL: server.url}, timeout=2)


@pytest.fixture
def issue(ca, leaf_key):
    def make(purpose: str = "sign", **options):
        options.setdefault("key", leaf_key)
        return ca.issue_subject(BIN, "ТОО «Тест»", "ТЕСТОВ ТЕСТ ТЕСТОВИЧ", IIN, purpose, **options)

    return make


def _ocsp_request(cert: Certificate, issuer: Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    def digest(data: bytes) -> bytes:
        h = hashes.Hash(algorithm)
        h.update(data)
        return h.finalize()

    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(
            digest(cert.issuer_der), digest(issuer.public_key_bits), cert.serial, algorithm
        )
        .add_extension(x509.OCSPNonce(b"n" * 16), critical=False)
        .build()
    )
    return request.public_bytes(serialization.Encoding.DER)


# ---------------------------------------------------------------- shape and files


def test_every_certificate_is_gost_signed_along_the_chain(ca, scheme):
    # given a new GOST test CA; then root, intermediate and responder carry the scheme's signature and key OIDs
    root, intermediate, responder = ca.root_certificate, ca.intermediate_certificate, ca.responder_certificate
    for cert in (root, intermediate, responder):
        assert cert.signature_oid == scheme.signature_oid
        assert gost3410.GostPublicKey.from_spki(cert.spki_der).scheme is scheme
    for child, parent in ((root, root), (intermediate, root), (responder, intermediate)):
        algorithms.signature_by_oid(child.signature_oid).verify(
            parent.spki_der, child.signature, child.tbs_der
        )
    assert root.is_self_issued and root.is_ca and intermediate.is_ca and not responder.is_ca
    assert intermediate.policies == {"1.2.398.3.3.1.1"}
    assert responder.extended_key_usage == {"1.3.6.1.5.5.7.3.9"}
    assert "GOST" in intermediate.common_name


def test_files_and_state_are_those_of_the_rsa_ca(ca, key_type):
    # given a GOST CA directory; then it has the RSA CA's files, keys private, and reloads as the same CA
    names = {p.name for p in ca.directory.iterdir()}
    assert {"root.crt", "root.key", "intermediate.crt", "intermediate.key", "ocsp.crt", "ocsp.key",
            "chain.pem", "state.json", "issued", "crl"} <= names  # fmt: skip
    for label in ("root", "intermediate", "ocsp"):
        assert stat.S_IMODE((ca.directory / f"{label}.key").stat().st_mode) == 0o600
    assert ca.chain_path.read_bytes() == ca.intermediate_path.read_bytes() + ca.root_path.read_bytes()
    reloaded = TestCA.load(ca.directory)
    assert reloaded.key_type == key_type
    assert reloaded.intermediate.key.d == ca.intermediate.key.d
    assert reloaded.intermediate_certificate.der == ca.intermediate_certificate.der


def test_an_issued_key_pem_is_the_gost_pkcs8_of_its_key(issue, scheme):
    # given a subject certificate; then its key file holds our GOST PKCS#8 PEM of the certified key
    issued = issue()

    loaded = gost3410.load_private_key(issued.key_pem)

    assert issued.key_path.read_bytes() == issued.key_pem
    assert issued.key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert loaded.scheme is scheme and loaded.d == issued.key.d
    assert loaded.public_key().to_spki() == issued.certificate.spki_der
    assert issued.certificate.subject_bin == BIN and issued.certificate.subject_iin == IIN


def test_an_issued_key_pem_loads_as_a_signing_identity(issue, scheme, key_type):
    # given a subject certificate; when its key PEM is loaded; then the identity signs with the scheme's URI
    issued = issue()

    identity = load_identity(issued.key_pem, issued.cert_pem)

    assert identity.algorithm_uri == SCHEMES[key_type][1]
    assert identity.certificate_der == issued.certificate.der
    assert isinstance(identity.private_key, gost3410.GostPrivateKey)
    assert identity.private_key.scheme is scheme


def test_a_new_key_is_generated_when_none_is_given(ca, scheme):
    issued = ca.issue_system("EGSU TEST SYSTEM", bin="990101300123")

    assert isinstance(issued.key, gost3410.GostPrivateKey) and issued.key.scheme is scheme
    assert (
        gost3410.GostPublicKey.from_spki(issued.certificate.spki_der).point == issued.key.public_key().point
    )


def test_an_unknown_key_type_is_refused(tmp_path):
    with pytest.raises(ValueError, match="gost2004"):
        TestCA.create(tmp_path / "ca", base_url=BASE_URL, key_type="gost1994")


def test_respond_serves_the_gost_ca_certificates(ca):
    status, body, content_type = respond(ca, "GET", "/ca.crt", None)

    assert (status, content_type) == (200, "application/pkix-cert")
    assert body == ca.intermediate_certificate.der
    assert respond(ca, "GET", "/root.crt", None)[1] == ca.root_certificate.der


# ---------------------------------------------------------------- path validation with revocation


def test_a_good_certificate_validates_by_ocsp(issue, trust, checker, ca):
    # given a fresh subject certificate; when validated with OCSP over HTTP; then every check passes
    issued = issue()

    result = validate(issued.certificate, trust=trust, at=utcnow(), revocation=checker)

    assert result.valid, result.reason
    assert [c.common_name for c in result.chain] == [
        issued.certificate.common_name,
        ca.intermediate_certificate.common_name,
        ca.root_certificate.common_name,
    ]
    assert (result.revocation.state, result.revocation.source) == ("good", "ocsp")


def test_revoked_by_ocsp_is_not_current(issue, trust, checker, ca):
    issued = issue()
    ca.revoke(issued.serial)

    result = validate(issued.certificate, trust=trust, at=utcnow(), revocation=checker)

    assert result.status == NOT_CURRENT
    assert (result.revocation.state, result.revocation.source) == ("revoked", "ocsp")
    assert result.revocation.reason == "keyCompromise"
    assert "revoked" in result.reason


def test_revoked_by_delta_crl_while_ocsp_is_down(issue, trust, server, ca):
    # given a base CRL, then a revocation published only in the delta CRL, and OCSP switched off
    issued = issue()
    ca.crl()
    ca.revoke(issued.serial, "superseded")
    ca.crl(delta=True)
    server.ocsp_available = False
    checker = RevocationChecker(url_rewrites={BASE_URL: server.url}, timeout=2)

    # when the certificate is validated
    result = validate(issued.certificate, trust=trust, at=utcnow(), revocation=checker)

    # then the CRL + delta CRL (GOST-signed) found it
    assert result.status == NOT_CURRENT
    assert (result.revocation.state, result.revocation.source) == ("revoked", "crl+delta")
    assert result.revocation.reason == "superseded"
    assert "OCSP unreachable" in result.revocation.detail
    base = load_crl(ca.published_crl("intermediate.crl"))
    assert base.entry(issued.serial) is None  # only the delta knows


def test_a_good_certificate_validates_by_crl_while_ocsp_is_down(issue, trust, server, ca):
    issued = issue()
    ca.crl()
    ca.crl(delta=True)
    server.ocsp_available = False
    checker = RevocationChecker(url_rewrites={BASE_URL: server.url}, timeout=2)

    result = validate(issued.certificate, trust=trust, at=utcnow(), revocation=checker)

    assert result.valid, result.reason
    assert (result.revocation.state, result.revocation.source) == ("good", "crl+delta")


# ---------------------------------------------------------------- CRLs


@pytest.mark.parametrize("delta", [False, True], ids=["full", "delta"])
def test_crls_validate_against_the_trust_store(ca, trust, scheme, delta):
    # given a CRL of the GOST CA; when validated as of now; then it is genuine and current
    crl = load_crl(ca.crl(delta=delta))

    result = validate_crl(crl, trust=trust, at=utcnow())

    assert result.valid, result.reason
    assert crl.signature_oid == scheme.signature_oid
    assert crl.is_delta is delta
    assert [c.common_name for c in result.chain] == [
        ca.intermediate_certificate.common_name,
        ca.root_certificate.common_name,
    ]


def test_a_crl_after_its_next_update_is_stale(ca, trust):
    crl = load_crl(ca.crl())

    result = validate_crl(crl, trust=trust, at=utcnow() + timedelta(days=2))

    assert result.status == NOT_CURRENT and "stale" in result.reason


def test_a_crl_of_another_gost_ca_does_not_validate(ca, trust, key_type, tmp_path):
    stranger = TestCA.create(tmp_path / "other", base_url=BASE_URL, key_type=key_type)

    result = validate_crl(load_crl(stranger.crl()), trust=trust, at=utcnow())

    assert not result.valid and "not in the trust store" in result.reason


# ---------------------------------------------------------------- the OCSP responder itself


@pytest.mark.parametrize(
    "algorithm", [pytest.param(hashes.SHA256(), id="sha256"), pytest.param(hashes.SHA1(), id="sha1")]
)
def test_ocsp_requests_with_either_certid_hash_are_answered(ca, issue, scheme, algorithm):
    # given a request whose CertID uses SHA-256 (NCANode, our checker) or SHA-1 (older clients)
    issued = issue()
    request = _ocsp_request(issued.certificate, ca.intermediate_certificate, algorithm)

    # when the CA answers
    response = ocsp.load_der_ocsp_response(ca.ocsp_response(request))

    # then the answer repeats that CertID, says good, echoes the nonce and is GOST-signed by the responder
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    single = next(iter(response.responses))
    assert single.hash_algorithm.name == algorithm.name
    assert single.serial_number == issued.serial
    assert single.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"n" * 16
    assert response.signature_algorithm_oid.dotted_string == scheme.signature_oid
    (embedded,) = response.certificates
    responder = Certificate.from_der(embedded.public_bytes(serialization.Encoding.DER))
    assert responder.der == ca.responder_certificate.der
    assert response.responder_key_hash == hashlib.sha1(responder.public_key_bits).digest()  # noqa: S324
    table = algorithms.signature_by_oid(scheme.signature_oid)
    table.verify(responder.spki_der, response.signature, response.tbs_response_bytes)
    # the responder certificate is GOST-signed by the intermediate
    table.verify(ca.intermediate_certificate.spki_der, responder.signature, responder.tbs_der)


def test_an_ocsp_request_for_an_unknown_serial_is_answered_unknown(ca, issue):
    issued = issue()
    request = _ocsp_request(issued.certificate, ca.intermediate_certificate, hashes.SHA256())
    serial = issued.serial
    forged = request.replace(serial.to_bytes(2, "big"), (0x7FFF).to_bytes(2, "big"))
    assert serial < 0x7FFF and forged != request

    response = ocsp.load_der_ocsp_response(ca.ocsp_response(forged))

    assert next(iter(response.responses)).certificate_status == ocsp.OCSPCertStatus.UNKNOWN


def test_an_ocsp_request_for_another_issuer_is_unauthorized(ca, issue):
    issued = issue()
    request = _ocsp_request(issued.certificate, ca.root_certificate, hashes.SHA256())  # wrong issuer key

    response = ocsp.load_der_ocsp_response(ca.ocsp_response(request))

    assert response.response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_a_malformed_ocsp_request_is_answered_malformed(ca):
    response = ocsp.load_der_ocsp_response(ca.ocsp_response(b"\x30\x03junk"))

    assert response.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
