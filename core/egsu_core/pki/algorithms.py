"""One table of the signature and digest algorithms we accept, for X.509 and XML alike.

Callers (certificate path validation, CRL and OCSP checks, XML signatures) never
branch on algorithms: they look an algorithm up here by its XML URI or its ASN.1
OID and call ``verify``/``sign``. Adding the Kazakh GOST algorithms (issue 4) is a
``register_*`` call in their own module, not a change to any caller.

An algorithm that is not registered is refused (shep-notes §5: allow-list, no MD5,
no HMAC, the key type must match the method).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm as _KeyTypeUnknownToCryptography
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


class UnsupportedAlgorithm(ValueError):
    """The algorithm is unknown or not allowed here."""


class BadSignature(ValueError):
    """The signature does not verify."""


class Hasher(Protocol):
    """An incremental hash, hashlib-like."""

    def update(self, data: bytes, /) -> object: ...

    def digest(self) -> bytes: ...


@dataclass(frozen=True)
class DigestAlgorithm:
    name: str
    xml_uri: str | None
    oid: str | None
    digest: Callable[[bytes], bytes]
    new: Callable[[], Hasher] | None = None
    """An incremental hash: large canonical data is hashed as it is written, never held whole (INT-07)."""

    def hasher(self) -> Hasher:
        """An incremental hash of this algorithm; one that buffers when the algorithm has none."""
        return self.new() if self.new is not None else _Buffered(self.digest)


class _Buffered:
    """The fallback Hasher: keeps the data and digests it at the end."""

    def __init__(self, digest: Callable[[bytes], bytes]) -> None:
        self._digest, self._parts = digest, []

    def update(self, data: bytes, /) -> None:
        self._parts.append(bytes(data))

    def digest(self) -> bytes:
        return self._digest(b"".join(self._parts))


@dataclass(frozen=True)
class SignatureAlgorithm:
    """A public-key signature scheme.

    ``verify(public_key_der, signature, data)`` takes the SubjectPublicKeyInfo in DER (so
    that keys the ``cryptography`` package cannot load, such as GOST, work the same way)
    and raises BadSignature. ``sign(private_key, data)`` takes whatever key object the
    scheme's module produces.
    """

    name: str
    xml_uri: str | None
    oid: str | None  # the X.509 signatureAlgorithm OID
    key_oids: frozenset[str]  # SubjectPublicKeyInfo algorithm OIDs this scheme verifies with
    digest: DigestAlgorithm
    verify: Callable[[bytes, bytes, bytes], None]
    sign: Callable[[object, bytes], bytes] | None = None


_DIGESTS_BY_URI: dict[str, DigestAlgorithm] = {}
_DIGESTS_BY_OID: dict[str, DigestAlgorithm] = {}
_SIGNATURES_BY_URI: dict[str, SignatureAlgorithm] = {}
_SIGNATURES_BY_OID: dict[str, SignatureAlgorithm] = {}


def register_digest(algorithm: DigestAlgorithm) -> DigestAlgorithm:
    if algorithm.xml_uri:
        _DIGESTS_BY_URI[algorithm.xml_uri] = algorithm
    if algorithm.oid:
        _DIGESTS_BY_OID[algorithm.oid] = algorithm
    return algorithm


def register_signature(algorithm: SignatureAlgorithm) -> SignatureAlgorithm:
    if algorithm.xml_uri:
        _SIGNATURES_BY_URI[algorithm.xml_uri] = algorithm
    if algorithm.oid:
        _SIGNATURES_BY_OID[algorithm.oid] = algorithm
    return algorithm


def _load_extensions() -> None:
    """Import the modules that register further algorithms (GOST), once."""
    try:
        import egsu_core.pki.gost.register  # noqa: F401
    except ModuleNotFoundError as exc:
        if exc.name and not exc.name.startswith("egsu_core.pki.gost"):
            raise


def digest_by_uri(uri: str) -> DigestAlgorithm:
    _load_extensions()
    try:
        return _DIGESTS_BY_URI[uri]
    except KeyError:
        raise UnsupportedAlgorithm(f"digest method {uri!r} is not supported") from None


def digest_by_oid(oid: str) -> DigestAlgorithm:
    _load_extensions()
    try:
        return _DIGESTS_BY_OID[oid]
    except KeyError:
        raise UnsupportedAlgorithm(f"digest algorithm {oid} is not supported") from None


def signature_by_uri(uri: str) -> SignatureAlgorithm:
    _load_extensions()
    try:
        return _SIGNATURES_BY_URI[uri]
    except KeyError:
        raise UnsupportedAlgorithm(f"signature method {uri!r} is not supported") from None


def signature_by_oid(oid: str) -> SignatureAlgorithm:
    _load_extensions()
    try:
        return _SIGNATURES_BY_OID[oid]
    except KeyError:
        raise UnsupportedAlgorithm(f"signature algorithm {oid} is not supported") from None


def supported() -> list[SignatureAlgorithm]:
    _load_extensions()
    return sorted({*_SIGNATURES_BY_URI.values(), *_SIGNATURES_BY_OID.values()}, key=lambda a: a.name)


# ---------------------------------------------------------------- the standard algorithms

RSA_KEY_OID = "1.2.840.113549.1.1.1"

SHA256 = register_digest(
    DigestAlgorithm(
        "SHA-256",
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "2.16.840.1.101.3.4.2.1",
        lambda data: hashlib.sha256(data).digest(),
        hashlib.sha256,
    )
)
SHA1 = register_digest(
    DigestAlgorithm(
        "SHA-1",
        "http://www.w3.org/2000/09/xmldsig#sha1",
        "1.3.14.3.2.26",
        # SHA-1 as a protocol identifier (key id, OCSP CertID, localKeyId), not for security
        lambda data: hashlib.sha1(data).digest(),  # nosec B324
        hashlib.sha1,
    )
)  # noqa: S324 - legacy NCA certificates (shep-notes §2a)


def _rsa_verifier(hash_algorithm: hashes.HashAlgorithm) -> Callable[[bytes, bytes, bytes], None]:
    def verify(public_key_der: bytes, signature: bytes, data: bytes) -> None:
        from cryptography.hazmat.primitives.serialization import load_der_public_key

        try:
            key = load_der_public_key(public_key_der)
        except (ValueError, _KeyTypeUnknownToCryptography) as exc:  # e.g. a GOST key (issue 4)
            raise BadSignature("the key is not an RSA key") from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise BadSignature("the key is not an RSA key")
        try:
            key.verify(signature, data, padding.PKCS1v15(), hash_algorithm)
        except InvalidSignature as exc:
            raise BadSignature("RSA signature does not verify") from exc

    return verify


def _rsa_signer(hash_algorithm: hashes.HashAlgorithm) -> Callable[[object, bytes], bytes]:
    def sign(private_key: object, data: bytes) -> bytes:
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise UnsupportedAlgorithm("RSA signing needs an RSA private key")
        return private_key.sign(data, padding.PKCS1v15(), hash_algorithm)

    return sign


RSA_SHA256 = register_signature(
    SignatureAlgorithm(
        "RSA-SHA256",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "1.2.840.113549.1.1.11",
        frozenset({RSA_KEY_OID}),
        SHA256,
        _rsa_verifier(hashes.SHA256()),
        _rsa_signer(hashes.SHA256()),
    )
)
RSA_SHA1 = register_signature(
    SignatureAlgorithm(
        "RSA-SHA1",
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        "1.2.840.113549.1.1.5",
        frozenset({RSA_KEY_OID}),
        SHA1,
        # SHA-1 where the protocol names it (old signatures, OCSP CertID); refused or allowed by settings
        _rsa_verifier(hashes.SHA1()),  # nosec B303
        # SHA-1 where the protocol names it (old signatures, OCSP CertID); refused or allowed by settings
        _rsa_signer(hashes.SHA1()),  # nosec B303
    )
)  # noqa: S303
# NCA's legacy URI for RSA-SHA1 (shep-notes §2a) names the same scheme.
_SIGNATURES_BY_URI["http://www.w3.org/2001/04/xmldsig-more#rsa-sha1"] = RSA_SHA1
_DIGESTS_BY_URI["http://www.w3.org/2001/04/xmldsig-more#sha1"] = SHA1
