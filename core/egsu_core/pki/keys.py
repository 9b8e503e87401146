"""Loading a signing key, RSA or Kazakh GOST, with the XML signature method that goes with it.

Two forms, one function (``load_identity``): a password-protected PKCS#12 key store as NCA issues
them (egsu_core.pki.pkcs12), or an unencrypted PEM key (PKCS#8 or traditional) with its certificate
(the test stand's files).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm as CryptographyUnsupported
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from egsu_core.pki import algorithms, pkcs12
from egsu_core.pki.certs import load_certificate


@dataclass(frozen=True)
class SigningIdentity:
    private_key: object = field(repr=False)
    certificate_der: bytes
    algorithm_uri: str
    chain_der: tuple[bytes, ...] = ()  # other certificates a key store carried (its CA chain)


def load_identity(
    key_data: bytes, certificate: bytes | None = None, *, password: str | None = None
) -> SigningIdentity:
    """A signing identity from a PKCS#12 key store (``password`` needed) or a PEM key and its certificate.

    ``certificate`` (PEM or DER) is required with a PEM key; with a key store it is optional and,
    when given, must be the key store's own certificate.
    """
    if pkcs12.is_pkcs12(key_data):
        if password is None:
            raise pkcs12.KeyStoreError("the key store is password-protected: give its password")
        store = pkcs12.load(key_data, password)
        if certificate is not None and load_certificate(certificate).der != store.certificate.der:
            raise pkcs12.KeyStoreError("the certificate given is not the key store's own")
        return SigningIdentity(
            store.private_key,
            store.certificate.der,
            _algorithm_uri(store.private_key),
            tuple(c.der for c in store.chain),
        )
    if certificate is None:
        raise ValueError("a PEM key needs its certificate")
    cert = load_certificate(certificate)
    try:
        key = serialization.load_pem_private_key(key_data, password=password.encode() if password else None)
    except (ValueError, TypeError, algorithms.UnsupportedAlgorithm, CryptographyUnsupported) as rsa_error:
        try:
            from egsu_core.pki.gost.gost3410 import load_private_key
        except ImportError:  # pragma: no cover - GOST support is part of the package
            raise rsa_error from None
        key = load_private_key(key_data)
        return SigningIdentity(key, cert.der, _algorithm_uri(key))
    if not isinstance(key, rsa.RSAPrivateKey):
        raise algorithms.UnsupportedAlgorithm("only RSA and Kazakh GOST signing keys are supported")
    return SigningIdentity(key, cert.der, algorithms.RSA_SHA256.xml_uri)


def load_identity_files(
    key_path: str | Path, cert_path: str | Path | None = None, password: str | None = None
) -> SigningIdentity:
    """``load_identity`` from files: a ``.p12``/``.pfx`` key store, or a PEM key with its certificate."""
    return load_identity(
        Path(key_path).read_bytes(), Path(cert_path).read_bytes() if cert_path else None, password=password
    )


def _algorithm_uri(private_key: object) -> str:
    from egsu_core.pki.gost.x509 import signature_algorithm_for

    return signature_algorithm_for(private_key).xml_uri
