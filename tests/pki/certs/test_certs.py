"""Reading certificates and CRLs: PEM and DER, NCA's own test files, and the BIN/IIN in subject names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from egsu_core.pki.certs import CertificateError, _subject_bin, _subject_iin, load_certificates, load_crl
from egsu_core.pki.trust import TrustStore
from tests.conftest import shared_path


def _nca(name: str) -> bytes:
    return shared_path("shep", "nca-test-certs", name).read_bytes()


def test_a_pem_bundle_and_a_der_file_read_alike(ca):
    bundle = ca.chain_path.read_bytes()
    certs = load_certificates(bundle)
    assert [c.common_name for c in certs] == ["EGSU TEST CA (RSA)", "EGSU TEST ROOT CA (RSA)"]
    assert load_certificates(certs[0].der) == [certs[0]]
    assert load_certificates(certs[0].pem())[0].der == certs[0].der


@pytest.mark.parametrize("data", [b"", b"not a certificate", b"-----BEGIN FOO-----\nAA==\n-----END FOO-----\n"],
                         ids=["empty", "text", "other-pem"])  # fmt: skip
def test_garbage_is_refused(data):
    with pytest.raises(CertificateError):
        load_certificates(data)


@pytest.mark.shared
def test_the_nca_rsa_test_certificate_is_read():
    cert = load_certificates(_nca("individual_valid_sign_2004_rsa.cer"))[0]
    assert cert.subject_iin == "123456789011"
    assert cert.subject_bin is None  # an individual's certificate
    assert cert.key_usage == frozenset({"digitalSignature", "nonRepudiation"})
    assert cert.extended_key_usage == frozenset({"1.3.6.1.5.5.7.3.4", "1.2.398.3.3.4.1.1"})
    assert cert.policies == frozenset({"1.2.398.3.3.2.3"})
    assert cert.ocsp_urls == ("http://test.pki.gov.kz/ocsp/",)
    assert cert.crl_urls == ("http://test.pki.gov.kz/crl/nca_rsa_test.crl",)
    assert cert.delta_crl_urls == ("http://test.pki.gov.kz/crl/nca_d_rsa_test.crl",)
    assert cert.ca_issuers_urls == ("http://test.pki.gov.kz/cert/nca_rsa_test.cer",)
    assert cert.authority_key_id == bytes.fromhex("A68C16337CB8E83567063E5E415755A2AF345068")
    assert (cert.not_before, cert.not_after) == (
        datetime(2022, 1, 18, 4, 38, 50, tzinfo=UTC), datetime(2023, 1, 18, 4, 38, 50, tzinfo=UTC),
    )  # fmt: skip
    assert cert.is_ca is False


@pytest.mark.shared
def test_the_nca_gost_ceo_certificate_is_read_although_cryptography_cannot_load_its_key():
    cert = load_certificates(_nca("ceo_valid_sign_2004_gost.cer"))[0]
    assert (cert.subject_bin, cert.subject_iin) == ("123456789021", "123456789011")
    assert cert.signature_oid == "1.2.398.3.10.1.1.1.2"
    assert cert.spki_der.startswith(b"\x30")
    assert len(cert.public_key_bits) == 66  # OCTET STRING(64) holding X‖Y


@pytest.mark.shared
def test_the_nca_rsa_test_crl_is_read():
    crl = load_crl(_nca("nca_rsa_test.crl"))
    assert (crl.number, crl.is_delta) == (9, False)
    entry = crl.entry(0x4B779CB5647C4DA7B07327C503EAB1656D716ED8)
    assert entry is not None and entry.reason == "keyCompromise"
    assert entry.revoked_at == datetime(2021, 3, 30, 18, 10, 21, tzinfo=UTC)
    assert crl.entry(1) is None


def test_the_trust_store_reads_files_and_directories(ca, tmp_path):
    (tmp_path / "root.pem").write_bytes(ca.root_path.read_bytes())
    (tmp_path / "notes.txt").write_text("ignored")
    store = TrustStore.from_paths([tmp_path], intermediates=[ca.intermediate_path])
    root, intermediate = ca.root_certificate, ca.intermediate_certificate
    assert store.anchors == (root,)
    assert store.intermediates == (intermediate,)
    assert store.by_subject(root.subject_der) == [root]
    assert store.by_key_id(intermediate.subject_key_id) == [intermediate]
    assert store.by_issuer_serial(root.subject_der, intermediate.serial) == intermediate
    with pytest.raises(FileNotFoundError):
        TrustStore.from_paths([tmp_path / "absent.pem"])


digits = st.text(alphabet="0123456789", min_size=12, max_size=12)


def _name(*attributes: tuple) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])


@given(bin_=digits, iin=digits)
def test_bin_and_iin_are_read_from_ou_and_serial_number(bin_, iin):
    name = _name((NameOID.SERIAL_NUMBER, f"IIN{iin}"), (NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{bin_}"))
    assert (_subject_bin(name), _subject_iin(name)) == (bin_, iin)


@given(bin_=digits)
def test_a_bin_in_serial_number_is_tolerated(bin_):
    assert _subject_bin(_name((NameOID.SERIAL_NUMBER, f"BIN{bin_}"))) == bin_


@given(text=st.text(min_size=1, max_size=20))
def test_anything_else_is_no_bin(text):
    name = _name((NameOID.ORGANIZATIONAL_UNIT_NAME, text))
    expected = text.strip()[3:] if text.strip().startswith("BIN") and len(text.strip()) == 15 else None
    result = _subject_bin(name)
    assert result is None or (result == expected and result.isdigit())
