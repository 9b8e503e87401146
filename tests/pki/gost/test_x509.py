"""A GOST test PKI: certificates, CRLs and OCSP responses we issue verify through the table and parse elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import ocsp
from cryptography import x509 as cryptography_x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp as cryptography_ocsp
from cryptography.x509.oid import NameOID

from egsu_core.pki import algorithms
from egsu_core.pki.gost import gost3410
from egsu_core.pki.gost import x509 as gost_x509

T0 = datetime(2024, 3, 1, tzinfo=UTC)
SCHEMES = [
    pytest.param(gost3410.GOST2004, id="gost2004"),
    pytest.param(gost3410.GOST2015_512, id="gost2015-512"),
    pytest.param(gost3410.GOST2015_256, id="gost2015-256"),
]


def _pki(scheme: gost3410.GostScheme) -> dict[str, gost_x509.Issued]:
    root = gost_x509.issue_ca(
        "НЕГІЗГІ КО (GOST) EGSU TEST",
        gost3410.GostPrivateKey.generate(scheme),
        not_before=T0,
        not_after=T0 + timedelta(days=3650),
    )
    intermediate = gost_x509.issue_ca(
        "ҰКО (GOST) EGSU TEST",
        gost3410.GostPrivateKey.generate(scheme),
        parent=root,
        not_before=T0,
        not_after=T0 + timedelta(days=3650),
        crl_url="http://test.example/root.crl",
    )
    leaf = gost_x509.issue_leaf(
        intermediate,
        gost3410.GostPrivateKey.generate(scheme),
        common_name="ТЕСТОВ ТЕСТ",
        surname="ТЕСТОВ",
        given_name="ТЕСТОВИЧ",
        iin="123456789011",
        organization="АО «ТЕСТ»",
        bin_="123456789021",
        not_before=T0,
        not_after=T0 + timedelta(days=365),
        ca_issuers_url="http://test.example/nca.cer",
        ocsp_url="http://test.example/ocsp/",
        crl_url="http://test.example/nca.crl",
    )
    return {"root": root, "intermediate": intermediate, "leaf": leaf}


@pytest.fixture(scope="module", params=SCHEMES)
def pki(request) -> dict[str, gost_x509.Issued]:
    return _pki(request.param)


def _verify_certificate(child: gost_x509.Issued, parent: gost_x509.Issued) -> None:
    certificate = child.certificate
    algorithm = algorithms.signature_by_oid(certificate["signature_algorithm"]["algorithm"].dotted)
    algorithm.verify(
        parent.spki, certificate["signature_value"].native, certificate["tbs_certificate"].dump()
    )


def test_chain_verifies_through_the_table(pki) -> None:
    # given a root, an intermediate and a leaf, when each is checked against its issuer, then all verify
    _verify_certificate(pki["root"], pki["root"])
    _verify_certificate(pki["intermediate"], pki["root"])
    _verify_certificate(pki["leaf"], pki["intermediate"])
    # and not against the wrong issuer
    with pytest.raises(algorithms.BadSignature):
        _verify_certificate(pki["leaf"], pki["root"])


def test_cryptography_parses_the_leaf_like_an_nca_certificate(pki) -> None:
    leaf = cryptography_x509.load_der_x509_certificate(pki["leaf"].der)
    assert leaf.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "IIN123456789011"
    assert leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "BIN123456789021"
    assert leaf.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "KZ"
    assert leaf.issuer == cryptography_x509.load_der_x509_certificate(pki["intermediate"].der).subject
    key_usage = leaf.extensions.get_extension_for_class(cryptography_x509.KeyUsage)
    assert key_usage.critical is True
    assert (key_usage.value.digital_signature, key_usage.value.content_commitment) == (True, True)
    ekus = [
        oid.dotted_string
        for oid in leaf.extensions.get_extension_for_class(cryptography_x509.ExtendedKeyUsage).value
    ]
    assert ekus == ["1.3.6.1.5.5.7.3.4", gost_x509.EKU_CEO]
    policies = leaf.extensions.get_extension_for_class(cryptography_x509.CertificatePolicies).value
    assert [p.policy_identifier.dotted_string for p in policies] == [gost_x509.POLICY_LEGAL_ENTITY_SIGN]
    aia = leaf.extensions.get_extension_for_class(cryptography_x509.AuthorityInformationAccess).value
    assert [d.access_location.value for d in aia] == [
        "http://test.example/nca.cer",
        "http://test.example/ocsp/",
    ]
    cdp = leaf.extensions.get_extension_for_class(cryptography_x509.CRLDistributionPoints).value
    assert cdp[0].full_name[0].value == "http://test.example/nca.crl"
    assert leaf.extensions.get_extension_for_class(cryptography_x509.BasicConstraints).value.ca is False
    assert (
        cryptography_x509.load_der_x509_certificate(pki["intermediate"].der)
        .extensions.get_extension_for_class(cryptography_x509.BasicConstraints)
        .value.ca
        is True
    )


def test_crl_verifies_and_parses(pki) -> None:
    issuer = pki["intermediate"]
    certificate_list = gost_x509.issue_crl(
        issuer,
        this_update=T0,
        next_update=T0 + timedelta(days=1),
        revoked=[gost_x509.Revocation(pki["leaf"].serial_number, T0, "key_compromise")],
        number=7,
    )
    algorithm = algorithms.signature_by_oid(certificate_list["signature_algorithm"]["algorithm"].dotted)
    algorithm.verify(
        issuer.spki, certificate_list["signature"].native, certificate_list["tbs_cert_list"].dump()
    )
    parsed = cryptography_x509.load_der_x509_crl(certificate_list.dump())
    revoked = parsed.get_revoked_certificate_by_serial_number(pki["leaf"].serial_number)
    assert revoked is not None and revoked.revocation_date_utc == T0
    assert parsed.extensions.get_extension_for_class(cryptography_x509.CRLNumber).value.crl_number == 7


@pytest.mark.parametrize("revoked", [False, True], ids=["good", "revoked"])
def test_ocsp_response_verifies_and_parses(pki, revoked: bool) -> None:
    issuer, leaf = pki["intermediate"], pki["leaf"]
    response = gost_x509.issue_ocsp_response(
        issuer=issuer,
        responder=issuer,
        serial_number=leaf.serial_number,
        produced_at=T0,
        revoked_at=T0 if revoked else None,
        nonce=b"nonce-1234",
    )
    basic = ocsp.OCSPResponse.load(response.dump())["response_bytes"]["response"].parsed
    algorithm = algorithms.signature_by_oid(basic["signature_algorithm"]["algorithm"].dotted)
    algorithm.verify(issuer.spki, basic["signature"].native, basic["tbs_response_data"].dump())
    parsed = cryptography_ocsp.load_der_ocsp_response(response.dump())
    expected = cryptography_ocsp.OCSPCertStatus.REVOKED if revoked else cryptography_ocsp.OCSPCertStatus.GOOD
    assert (parsed.certificate_status, parsed.serial_number) == (expected, leaf.serial_number)


def test_rsa_root_can_issue_a_gost_intermediate() -> None:
    # sign_tbs goes through the table, so a mixed chain works the same way
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    root = gost_x509.issue_ca("RSA ROOT", rsa_key, not_before=T0, not_after=T0 + timedelta(days=30))
    intermediate = gost_x509.issue_ca(
        "GOST CA",
        gost3410.GostPrivateKey.generate(gost3410.GOST2004),
        parent=root,
        not_before=T0,
        not_after=T0 + timedelta(days=30),
    )
    _verify_certificate(intermediate, root)
    assert intermediate.certificate["signature_algorithm"]["algorithm"].dotted == "1.2.840.113549.1.1.11"


def test_tampered_certificate_fails() -> None:
    pki = _pki(gost3410.GOST2004)
    certificate = pki["leaf"].certificate
    tbs = bytearray(certificate["tbs_certificate"].dump())
    tbs[-5] ^= 1
    algorithm = algorithms.signature_by_oid("1.2.398.3.10.1.1.1.2")
    with pytest.raises(algorithms.BadSignature):
        algorithm.verify(pki["intermediate"].spki, certificate["signature_value"].native, bytes(tbs))


def test_unknown_purpose_is_refused() -> None:
    pki = _pki(gost3410.GOST2004)
    with pytest.raises(ValueError, match="purpose"):
        gost_x509.issue_leaf(
            pki["intermediate"],
            gost3410.GostPrivateKey.generate(gost3410.GOST2004),
            common_name="X",
            iin="123456789011",
            not_before=T0,
            not_after=T0 + timedelta(days=1),
            purpose="encrypt",
        )
