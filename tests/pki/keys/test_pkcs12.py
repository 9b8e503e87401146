"""PKCS#12 key stores (egsu_core.pki.pkcs12, egsu_core.pki.keys.load_identity): the REAL NCA test key stores read
in place from ../shared/shep/nca-test-keys (password in its SOURCES.md), RC2 against RFC 2268 §5, our
own key stores read back and by openssl (an independent tool)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from egsu_core.pki import pkcs12, rc2
from egsu_core.pki.gost import gost3410
from egsu_core.pki.keys import load_identity
from egsu_core.pki.testca import TestCA
from tests.conftest import shared_path

NCA_PASSWORD = "Qwerty12"  # the NCA test kit's published password (shared/shep/SOURCES.md)
STORES = {
    "gost": "GOSTKNCA_f8a422238209b6e753116431b69b09178f14e9d7.p12",
    "rsa": "RSA256_8426360556902ce4ac33977836f873e1dc190976.p12",
    "auth": "AUTH_RSA256_6b361b864c679601b652fe387f61fcd9303c0327.p12",
}


def nca_store(kind: str):
    return shared_path("shep", "nca-test-keys", STORES[kind])


@pytest.mark.parametrize(
    ("key", "bits", "plain", "cipher"),
    [
        ("0000000000000000", 63, "0000000000000000", "ebb773f993278eff"),
        ("ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"),
        ("3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"),
        ("88", 64, "0000000000000000", "61a8a244adacccf0"),
        ("88bca90e90875a", 64, "0000000000000000", "6ccf4308974c267f"),
        ("88bca90e90875a7f0f79c384627bafb2", 64, "0000000000000000", "1a807d272bbe5db1"),
        ("88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"),
    ],
)
def test_rc2_matches_rfc_2268(key, bits, plain, cipher):
    subkeys = rc2.expand_key(bytes.fromhex(key), bits)
    assert rc2.encrypt_block(subkeys, bytes.fromhex(plain)).hex() == cipher
    assert rc2.decrypt_block(subkeys, bytes.fromhex(cipher)).hex() == plain


@pytest.mark.shared
@pytest.mark.parametrize(
    ("kind", "key_type", "bin_", "iin"),
    [
        ("gost", gost3410.GostPrivateKey, "123456789021", None),
        ("rsa", rsa.RSAPrivateKey, None, "123456789011"),
        ("auth", rsa.RSAPrivateKey, None, "123456789011"),
    ],
)
def test_the_real_nca_key_stores_are_read(kind, key_type, bin_, iin):
    store = pkcs12.load(nca_store(kind).read_bytes(), NCA_PASSWORD)
    assert isinstance(store.private_key, key_type)
    assert store.certificate.subject_bin == bin_
    if iin:
        assert store.certificate.subject_iin == iin
    # the key really is the certificate's: what it signs verifies with the certificate's key
    identity = load_identity(nca_store(kind).read_bytes(), password=NCA_PASSWORD)
    from egsu_core.pki import algorithms

    method = algorithms.signature_by_uri(identity.algorithm_uri)
    method.verify(store.certificate.spki_der, method.sign(identity.private_key, b"probe"), b"probe")


@pytest.mark.shared
def test_a_wrong_password_is_refused_without_echoing_it():
    with pytest.raises(pkcs12.KeyStoreError, match="wrong password") as error:
        pkcs12.load(nca_store("gost").read_bytes(), "Qwerty13")
    assert "Qwerty13" not in str(error.value)


@pytest.mark.shared
def test_openssl_agrees_on_the_rsa_store_certificate(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: the independent check cannot run")
    out = subprocess.run(
        ["openssl", "pkcs12", "-in", str(nca_store("rsa")), "-passin", "pass:" + NCA_PASSWORD, "-nokeys",
         "-clcerts", "-legacy"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    from egsu_core.pki.certs import load_certificate

    assert (
        load_certificate(out).der == pkcs12.load(nca_store("rsa").read_bytes(), NCA_PASSWORD).certificate.der
    )


@pytest.fixture(scope="module", params=["rsa", "gost2004", "gost2015"])
def issued(request, tmp_path_factory):
    ca = TestCA.create(
        tmp_path_factory.mktemp(request.param) / "ca", base_url="http://pki.test", key_type=request.param,
        root_key_size=2048,
    )  # fmt: skip
    return ca, ca.issue_subject("123456789021", "TEST LLP", "TESTOV TEST", "123456789011")


def test_our_key_stores_round_trip(issued, tmp_path):
    ca, cert = issued
    path = cert.write_p12("store-password-1")
    store = pkcs12.load(path.read_bytes(), "store-password-1")
    assert store.certificate.der == cert.certificate.der
    assert [c.der for c in store.chain] == [ca.intermediate_certificate.der, ca.root_certificate.der]
    assert type(store.private_key) is type(cert.key)
    with pytest.raises(pkcs12.KeyStoreError, match="wrong password"):
        pkcs12.load(path.read_bytes(), "store-password-2")


def test_openssl_reads_our_key_stores(issued):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: the independent check cannot run")
    ca, cert = issued
    path = cert.write_p12("store-password-1")
    result = subprocess.run(
        ["openssl", "pkcs12", "-in", str(path), "-passin", "pass:store-password-1", "-nokeys", "-clcerts"],
        capture_output=True,
    )
    assert result.returncode == 0, result.stderr.decode()
    from egsu_core.pki.certs import load_certificate

    assert load_certificate(result.stdout).der == cert.certificate.der
    if ca.key_type == "rsa":  # openssl knows RSA keys: the key it decrypts is ours
        key = subprocess.run(
            ["openssl", "pkcs12", "-in", str(path), "-passin", "pass:store-password-1", "-nocerts", "-nodes"],
            capture_output=True, check=True,
        ).stdout  # fmt: skip
        assert load_identity(key, cert.cert_pem).certificate_der == cert.certificate.der
