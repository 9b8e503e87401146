"""Without the compiled extension the GOST hashes fall back to pure Python, silently and correctly;
with either implementation the real NCA artefacts still verify (issue 4)."""

from __future__ import annotations

import base64
import importlib.util
import sys

import pytest
from asn1crypto import crl, pem, x509
from lxml import etree

import egsu_core.pki.gost
from egsu_core.pki import algorithms
from egsu_core.pki.gost import gost3411_94 as gost94
from egsu_core.pki.gost import streebog
from tests.conftest import shared_path

DS = "http://www.w3.org/2000/09/xmldsig#"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
CERTS = ("shep", "nca-test-certs")


def _fresh_copy_without_extension(monkeypatch, name: str):
    """Import a second copy of module `name` as if _gosthash had failed to build."""
    monkeypatch.delattr(egsu_core.pki.gost, "_gosthash", raising=False)
    monkeypatch.setitem(sys.modules, "egsu_core.pki.gost._gosthash", None)  # import now raises ImportError
    spec = importlib.util.find_spec(name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gost94_falls_back_to_python_when_the_extension_does_not_import(monkeypatch) -> None:
    # given no compiled extension, when the module is imported, then it says so and still hashes right
    module = _fresh_copy_without_extension(monkeypatch, "egsu_core.pki.gost.gost3411_94")
    assert module.IMPLEMENTATION == "python"
    assert module.GOST341194 is module.PythonGOST341194
    assert (
        module.gost3411_94(b"abc").hex() == "f3134348c44fb1b2a277729e2285ebb5cb5e0f29c975bc753b70497c06a4d51d"
    )
    with pytest.raises(RuntimeError, match="not built"):
        module.NativeGOST341194(b"abc")


def test_streebog_falls_back_to_gostcrypto_when_the_extension_does_not_import(monkeypatch) -> None:
    module = _fresh_copy_without_extension(monkeypatch, "egsu_core.pki.gost.streebog")
    assert module.IMPLEMENTATION == "python"
    assert type(module.new(512)).__module__.startswith("gostcrypto")
    assert module.streebog256(b"").hex() == "3f539a213e97c802cc229d474c6aa32a825a360b2a933a949fd925208d9ce1bb"
    with pytest.raises(RuntimeError, match="not built"):
        module.native_new(512)


# ---------------------------------------------------------------- real artefacts through both implementations


@pytest.fixture(params=["native", "python"])
def implementation(request, monkeypatch) -> str:
    """Switch the one-shot digests the signature table calls (they look _gosthash up per call)."""
    if request.param == "python":
        monkeypatch.setattr(gost94, "_gosthash", None)
        monkeypatch.setattr(streebog, "_gosthash", None)
    elif gost94._gosthash is None:
        pytest.skip("egsu_core.pki.gost._gosthash is not built (run `pip install --no-deps -e .`)")
    return request.param


def _der(name: str) -> bytes:
    raw = shared_path(*CERTS, name).read_bytes()
    return pem.unarmor(raw)[2] if pem.detect(raw) else raw


def _spki(name: str) -> bytes:
    return x509.Certificate.load(_der(name))["tbs_certificate"]["subject_public_key_info"].dump()


@pytest.mark.shared
def test_isun_response_digest_value_recomputes(implementation: str) -> None:
    # given the real GOST-signed ISUN response, when its exclusive-c14n Body is hashed with #gost34311,
    # then the DigestValue comes out exactly
    path = shared_path("shep", "examples", "isun-sendmessage-response-wss-signed-gost2004.xml")
    document = etree.parse(str(path))
    reference = document.find(f".//{{{DS}}}Reference")
    body = document.xpath("//*[@wsu:Id=$id]", id=reference.get("URI")[1:], namespaces={"wsu": WSU})[0]
    canonical = etree.tostring(body, method="c14n", exclusive=True)
    digest = algorithms.digest_by_uri(reference.find(f"{{{DS}}}DigestMethod").get("Algorithm"))
    assert digest.digest(canonical) == base64.b64decode(reference.findtext(f"{{{DS}}}DigestValue"))


@pytest.mark.shared
@pytest.mark.parametrize(
    ("issued", "issuer"),
    [
        pytest.param("ceo_valid_sign_2004_gost.cer", "nca_gost_test.crt", id="gost2004-certificate"),
        pytest.param("nca_gost_test.crl", "nca_gost_test.crt", id="gost2004-crl"),
        pytest.param("nca_gost2022_test.crl", "nca_gost2015_test.cer", id="gost2015-512-crl"),
    ],
)
def test_real_nca_signatures_verify(implementation: str, issued: str, issuer: str) -> None:
    # given a real NCA certificate or CRL and its real issuer, then its GOST signature verifies, and a
    # one-bit change in the signed part does not
    if issued.endswith(".crl"):
        signed = crl.CertificateList.load(_der(issued))
        oid, signature, tbs = (
            signed["signature_algorithm"]["algorithm"].dotted,
            signed["signature"].native,
            signed["tbs_cert_list"].dump(),
        )
    else:
        signed = x509.Certificate.load(_der(issued))
        oid, signature, tbs = (
            signed["signature_algorithm"]["algorithm"].dotted,
            signed["signature_value"].native,
            signed["tbs_certificate"].dump(),
        )
    algorithm = algorithms.signature_by_oid(oid)
    algorithm.verify(_spki(issuer), signature, tbs)
    with pytest.raises(algorithms.BadSignature):
        algorithm.verify(_spki(issuer), signature, tbs[:-1] + bytes([tbs[-1] ^ 1]))
