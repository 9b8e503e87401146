"""The GOST entries of the shared algorithm table: exact URIs and OIDs (shep-notes §2a, §3)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from egsu_core.pki import algorithms
from egsu_core.pki.gost import gost3410
from egsu_core.pki.gost.gost3411_94 import gost3411_94
from egsu_core.pki.gost.streebog import streebog256, streebog512

PKIGOVKZ = "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:"


@pytest.mark.parametrize(
    ("uri", "oid", "key_oid", "digest_uri", "digest_oid"),
    [
        pytest.param(
            "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311",
            "1.2.398.3.10.1.1.1.2",
            "1.2.398.3.10.1.1.1.1",
            "http://www.w3.org/2001/04/xmldsig-more#gost34311",
            "1.2.398.3.10.1.3.1",
            id="gost2004",
        ),
        pytest.param(
            PKIGOVKZ + "gostr34102015-gostr34112015-512",
            "1.2.398.3.10.1.1.2.3.2",
            "1.2.398.3.10.1.1.2.2",
            PKIGOVKZ + "gostr34112015-512",
            "1.2.398.3.10.1.3.3",
            id="gost2015-512",
        ),
        pytest.param(
            PKIGOVKZ + "gostr34102015-gostr34112015-256",
            "1.2.398.3.10.1.1.2.3.1",
            "1.2.398.3.10.1.1.2.1",
            PKIGOVKZ + "gostr34112015-256",
            "1.2.398.3.10.1.3.2",
            id="gost2015-256",
        ),
    ],
)
def test_uris_and_oids(uri: str, oid: str, key_oid: str, digest_uri: str, digest_oid: str) -> None:
    by_uri = algorithms.signature_by_uri(uri)
    assert algorithms.signature_by_oid(oid) is by_uri
    assert by_uri.key_oids == frozenset({key_oid})
    assert by_uri.digest is algorithms.digest_by_uri(digest_uri) is algorithms.digest_by_oid(digest_oid)
    assert by_uri in algorithms.supported()


@pytest.mark.parametrize(
    ("uri", "function"),
    [
        pytest.param("http://www.w3.org/2001/04/xmldsig-more#gost34311", gost3411_94, id="gost34311"),
        pytest.param(PKIGOVKZ + "gostr34112015-512", streebog512, id="streebog512"),
        pytest.param(PKIGOVKZ + "gostr34112015-256", streebog256, id="streebog256"),
    ],
)
def test_registered_digests_are_ours(uri: str, function) -> None:
    assert algorithms.digest_by_uri(uri).digest(b"abc") == function(b"abc")


def test_legacy_arc_is_not_accepted() -> None:
    with pytest.raises(algorithms.UnsupportedAlgorithm):
        algorithms.signature_by_oid("1.3.6.1.4.1.6801.1.2.2")


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


def test_table_sign_and_verify_round_trip() -> None:
    algorithm = algorithms.signature_by_uri("http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311")
    key = gost3410.GostPrivateKey.generate(gost3410.GOST2004)
    algorithm.verify(key.public_key().to_spki(), algorithm.sign(key, b"SignedInfo"), b"SignedInfo")


def test_key_type_must_match_the_method(rsa_key) -> None:
    # shep-notes §5: an RSA key with a GOST method, or a GOST key with RSA, is refused
    gost = algorithms.signature_by_oid("1.2.398.3.10.1.1.1.2")
    rsa_spki = rsa_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(algorithms.UnsupportedAlgorithm):
        gost.verify(rsa_spki, bytes(64), b"data")
    gost_key = gost3410.GostPrivateKey.generate(gost3410.GOST2004)
    with pytest.raises(algorithms.BadSignature):
        algorithms.RSA_SHA256.verify(gost_key.public_key().to_spki(), gost_key.sign(b"data"), b"data")
    with pytest.raises(algorithms.UnsupportedAlgorithm):
        gost.sign(rsa_key, b"data")
    with pytest.raises(algorithms.UnsupportedAlgorithm):
        algorithms.signature_by_oid("1.2.398.3.10.1.1.2.3.2").sign(gost_key, b"data")
