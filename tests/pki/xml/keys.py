"""Test keys and certificates for the XML signature tests: made once per process with cryptography."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime(2025, 1, 15, 12, 0, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class Signer:
    key: object
    certificate: x509.Certificate

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def _certificate(key, common_name: str, serial: int, *, tsa: bool = False) -> x509.Certificate:
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, common_name), x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ")]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=3650))
    )
    if tsa:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return builder.sign(key, hashes.SHA256())


@cache
def rsa_signer(label: str = "subject") -> Signer:
    """An RSA-2048 self-signed signer; ``label`` gives distinct keys (the signer, an impostor, a TSA)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    serial = {"subject": 1001, "impostor": 1002, "tsa": 1003}.get(label, 1999)
    return Signer(key, _certificate(key, f"EGSU test {label}", serial, tsa=label == "tsa"))


@cache
def ec_signer() -> Signer:
    key = ec.generate_private_key(ec.SECP256R1())
    return Signer(key, _certificate(key, "EGSU test EC", 2001))
