"""Loading a signing key, RSA or Kazakh GOST, with the XML signature method that goes with it."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm as CryptographyUnsupported
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from egsu.pki import algorithms
from egsu.pki.certs import load_certificate


@dataclass(frozen=True)
class SigningIdentity:
    private_key: object
    certificate_der: bytes
    algorithm_uri: str


def load_identity(key_pem: bytes, certificate: bytes) -> SigningIdentity:
    """A private key (PEM, unencrypted PKCS#8 or traditional) and its certificate (PEM or DER)."""
    cert = load_certificate(certificate)
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError, algorithms.UnsupportedAlgorithm, CryptographyUnsupported) as rsa_error:
        try:
            from egsu.pki.gost.gost3410 import load_private_key
            from egsu.pki.gost.x509 import signature_algorithm_for
        except ImportError:  # pragma: no cover - GOST support is part of the package
            raise rsa_error from None
        key = load_private_key(key_pem)
        return SigningIdentity(key, cert.der, signature_algorithm_for(key).xml_uri)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise algorithms.UnsupportedAlgorithm("only RSA and Kazakh GOST signing keys are supported")
    return SigningIdentity(key, cert.der, algorithms.RSA_SHA256.xml_uri)
