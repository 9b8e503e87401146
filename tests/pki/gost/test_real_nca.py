"""The real NCA test artefacts verify through the shared algorithm table (read in place from ../shared)."""

from __future__ import annotations

import base64

import pytest
from asn1crypto import crl, pem, x509
from lxml import etree

from egsu_core.pki import algorithms
from egsu_core.pki.gost import gost3410
from tests.conftest import shared_path

pytestmark = pytest.mark.shared

CERTS = ("shep", "nca-test-certs")
DS = "http://www.w3.org/2000/09/xmldsig#"


def _der(name: str) -> bytes:
    raw = shared_path(*CERTS, name).read_bytes()
    return pem.unarmor(raw)[2] if pem.detect(raw) else raw


def _certificate(name: str) -> x509.Certificate:
    return x509.Certificate.load(_der(name))


def _spki(certificate: x509.Certificate) -> bytes:
    return certificate["tbs_certificate"]["subject_public_key_info"].dump()


def test_gost2004_leaf_verifies_against_its_test_ca() -> None:
    # given the real CEO GOST 2004 certificate and its real issuer, when verified via the table, then it passes
    leaf = _certificate("ceo_valid_sign_2004_gost.cer")
    issuer = _certificate("nca_gost_test.crt")
    oid = leaf["signature_algorithm"]["algorithm"].dotted
    assert oid == "1.2.398.3.10.1.1.1.2"
    algorithms.signature_by_oid(oid).verify(
        _spki(issuer), leaf["signature_value"].native, leaf["tbs_certificate"].dump()
    )


@pytest.mark.parametrize(
    ("crl_name", "issuer_name", "oid"),
    [
        pytest.param("nca_gost_test.crl", "nca_gost_test.crt", "1.2.398.3.10.1.1.1.2", id="gost2004"),
        pytest.param(
            "nca_gost2022_test.crl", "nca_gost2015_test.cer", "1.2.398.3.10.1.1.2.3.2", id="gost2015-512"
        ),
    ],
)
def test_real_crls_verify_against_their_issuers(crl_name: str, issuer_name: str, oid: str) -> None:
    certificate_list = crl.CertificateList.load(_der(crl_name))
    assert certificate_list["signature_algorithm"]["algorithm"].dotted == oid
    algorithm = algorithms.signature_by_oid(oid)
    issuer_spki = _spki(_certificate(issuer_name))
    tbs = certificate_list["tbs_cert_list"].dump()
    signature = certificate_list["signature"].native
    algorithm.verify(issuer_spki, signature, tbs)
    # and a one-bit change anywhere fails
    with pytest.raises(algorithms.BadSignature):
        algorithm.verify(issuer_spki, signature, tbs[:-1] + bytes([tbs[-1] ^ 1]))
    with pytest.raises(algorithms.BadSignature):
        algorithm.verify(issuer_spki, bytes([signature[0] ^ 1]) + signature[1:], tbs)


def test_leaf_does_not_verify_against_the_wrong_issuer() -> None:
    leaf = _certificate("ceo_valid_sign_2004_gost.cer")
    with pytest.raises(algorithms.BadSignature):
        algorithms.signature_by_oid("1.2.398.3.10.1.1.1.2").verify(
            _spki(_certificate("nca_gost2015_test.cer")),
            leaf["signature_value"].native,
            leaf["tbs_certificate"].dump(),
        )


@pytest.mark.parametrize(
    ("name", "scheme", "curve_oid"),
    [
        pytest.param("nca_gost_test.crt", gost3410.GOST2004, "1.2.398.3.10.1.1.1.1.1", id="gost2004-ca"),
        pytest.param(
            "ceo_valid_sign_2004_gost.cer", gost3410.GOST2004, "1.2.398.3.10.1.1.1.1.1", id="gost2004-leaf"
        ),
        pytest.param(
            "nca_gost2015_test.cer", gost3410.GOST2015_512, "1.2.398.3.10.1.1.2.2.1", id="gost2015-ca"
        ),
    ],
)
def test_real_public_keys_parse_and_reencode_byte_for_byte(name: str, scheme, curve_oid: str) -> None:
    spki = _spki(_certificate(name))
    key = gost3410.GostPublicKey.from_spki(spki)
    assert (key.scheme, key.curve_oid) == (scheme, curve_oid)
    assert key.to_spki() == spki


def test_isun_response_digest_value_recomputes_from_its_body() -> None:
    # given the real GOST-signed ISUN response, when its Body is exclusively canonicalised and hashed
    # with the digest registered under #gost34311, then the DigestValue comes out exactly (shep-notes §2b)
    path = shared_path("shep", "examples", "isun-sendmessage-response-wss-signed-gost2004.xml")
    document = etree.parse(str(path))
    reference = document.find(f".//{{{DS}}}Reference")
    body_id = reference.get("URI").removeprefix("#")
    body = document.xpath(
        "//*[@wsu:Id=$id]",
        id=body_id,
        namespaces={
            "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
        },
    )[0]
    digest_uri = reference.find(f"{{{DS}}}DigestMethod").get("Algorithm")
    assert digest_uri == "http://www.w3.org/2001/04/xmldsig-more#gost34311"
    canonical = etree.tostring(body, method="c14n", exclusive=True)
    expected = base64.b64decode(reference.findtext(f"{{{DS}}}DigestValue"))
    assert algorithms.digest_by_uri(digest_uri).digest(canonical) == expected
    assert algorithms.digest_by_uri(digest_uri).digest(canonical + b" ") != expected
