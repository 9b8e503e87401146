"""X.509 certificates and CRLs as small frozen records, read once from DER or PEM.

Everything path validation and revocation need is extracted here, so that the
rest of the package never touches ``cryptography`` extension classes. Public keys
are kept as SubjectPublicKeyInfo DER (read with asn1crypto) because
``cryptography`` cannot load GOST keys, although it parses GOST certificates.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID, CRLEntryExtensionOID, ExtensionOID, NameOID

PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.DOTALL)
PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----(.+?)-----END X509 CRL-----", re.DOTALL)

# RFC 5280 names of the KeyUsage bits, in the spelling the order and NCA use (SIG-11).
KEY_USAGE_BITS = (
    ("digital_signature", "digitalSignature"),
    ("content_commitment", "nonRepudiation"),
    ("key_encipherment", "keyEncipherment"),
    ("data_encipherment", "dataEncipherment"),
    ("key_agreement", "keyAgreement"),
    ("key_cert_sign", "keyCertSign"),
    ("crl_sign", "cRLSign"),
)

OID_OCSP_SIGNING = "1.3.6.1.5.5.7.3.9"
_BIN = re.compile(r"BIN([0-9]{12})")
_IIN = re.compile(r"IIN([0-9]{12})")


class CertificateError(ValueError):
    """The bytes are not a certificate or CRL we can read."""


def _pem_blocks(data: bytes, pattern: re.Pattern[bytes]) -> list[bytes]:
    import base64

    return [base64.b64decode(b"".join(block.split())) for block in pattern.findall(data)]


def _names_of(general_names) -> tuple[str, ...]:
    return tuple(n.value for n in general_names if isinstance(n, x509.UniformResourceIdentifier))


def _dp_urls(extension_value) -> tuple[str, ...]:
    urls: list[str] = []
    for point in extension_value:
        if point.full_name:
            urls.extend(_names_of(point.full_name))
    return tuple(urls)


def _extension(cert_or_crl, oid):
    # NCA names exceed X.520 length bounds (shep-notes §3); cryptography warns about it on access.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            return cert_or_crl.extensions.get_extension_for_oid(oid).value
        except x509.ExtensionNotFound:
            return None


def _quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return call()


@dataclass(frozen=True)
class Certificate:
    """One X.509 certificate with the facts path validation reads."""

    der: bytes
    crypto: x509.Certificate
    subject: str
    issuer: str
    subject_der: bytes
    issuer_der: bytes
    serial: int
    not_before: datetime
    not_after: datetime
    key_usage: frozenset[str] | None  # None: the extension is absent
    extended_key_usage: frozenset[str] | None  # OIDs; None: the extension is absent
    policies: frozenset[str]
    ocsp_urls: tuple[str, ...]
    ca_issuers_urls: tuple[str, ...]
    crl_urls: tuple[str, ...]
    delta_crl_urls: tuple[str, ...]
    subject_key_id: bytes | None
    authority_key_id: bytes | None
    spki_der: bytes
    public_key_bits: bytes  # the subjectPublicKey BIT STRING value (OCSP issuerKeyHash input)
    signature_oid: str
    signature: bytes
    tbs_der: bytes
    is_ca: bool
    path_length: int | None
    subject_bin: str | None
    subject_iin: str | None

    @classmethod
    def from_der(cls, der: bytes) -> Certificate:
        """The certificate of these DER bytes; parsed once per process for the same bytes (immutable)."""
        if cls is Certificate:
            return _parsed(bytes(der))
        return cls._parse(der)

    @classmethod
    def _parse(cls, der: bytes) -> Certificate:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # NCA names exceed X.520 upper bounds
                crypto = x509.load_der_x509_certificate(der)
                subject = crypto.subject.rfc4514_string()
                issuer = crypto.issuer.rfc4514_string()
            tbs = asn1_x509.Certificate.load(der)["tbs_certificate"]
            spki = tbs["subject_public_key_info"]
            spki_der = spki.dump()
            # Generic parse: asn1crypto refuses to interpret GOST keys, but the BIT STRING is all we need.
            key_bits = bytes(asn1_core.load(spki_der)[1].contents[1:])  # drop the unused-bits octet
        except (ValueError, TypeError) as exc:
            raise CertificateError(f"not an X.509 certificate: {exc}") from exc

        usage = _extension(crypto, ExtensionOID.KEY_USAGE)
        key_usage = None
        if usage is not None:
            bits = set()
            for attr, name in KEY_USAGE_BITS:
                if getattr(usage, attr):
                    bits.add(name)
            if usage.key_agreement:
                if usage.encipher_only:
                    bits.add("encipherOnly")
                if usage.decipher_only:
                    bits.add("decipherOnly")
            key_usage = frozenset(bits)
        eku = _extension(crypto, ExtensionOID.EXTENDED_KEY_USAGE)
        policies = _extension(crypto, ExtensionOID.CERTIFICATE_POLICIES)
        aia = _extension(crypto, ExtensionOID.AUTHORITY_INFORMATION_ACCESS) or []
        cdp = _extension(crypto, ExtensionOID.CRL_DISTRIBUTION_POINTS)
        freshest = _extension(crypto, ExtensionOID.FRESHEST_CRL)
        ski = _extension(crypto, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
        aki = _extension(crypto, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
        basic = _extension(crypto, ExtensionOID.BASIC_CONSTRAINTS)
        return cls(
            der=der,
            crypto=crypto,
            subject=subject,
            issuer=issuer,
            subject_der=crypto.subject.public_bytes(),
            issuer_der=crypto.issuer.public_bytes(),
            serial=crypto.serial_number,
            not_before=crypto.not_valid_before_utc,
            not_after=crypto.not_valid_after_utc,
            key_usage=key_usage,
            extended_key_usage=None if eku is None else frozenset(o.dotted_string for o in eku),
            policies=frozenset(p.policy_identifier.dotted_string for p in policies or ()),
            ocsp_urls=tuple(
                a.access_location.value
                for a in aia
                if a.access_method == AuthorityInformationAccessOID.OCSP
                and isinstance(a.access_location, x509.UniformResourceIdentifier)
            ),
            ca_issuers_urls=tuple(
                a.access_location.value
                for a in aia
                if a.access_method == AuthorityInformationAccessOID.CA_ISSUERS
                and isinstance(a.access_location, x509.UniformResourceIdentifier)
            ),
            crl_urls=_dp_urls(cdp) if cdp is not None else (),
            delta_crl_urls=_dp_urls(freshest) if freshest is not None else (),
            subject_key_id=None if ski is None else ski.digest,
            authority_key_id=None if aki is None else aki.key_identifier,
            spki_der=spki_der,
            public_key_bits=key_bits,
            signature_oid=crypto.signature_algorithm_oid.dotted_string,
            signature=crypto.signature,
            tbs_der=crypto.tbs_certificate_bytes,
            is_ca=bool(basic is not None and basic.ca),
            path_length=None if basic is None else basic.path_length,
            subject_bin=_subject_bin(crypto.subject),
            subject_iin=_subject_iin(crypto.subject),
        )

    @property
    def is_self_issued(self) -> bool:
        return self.subject_der == self.issuer_der

    @property
    def common_name(self) -> str:
        values = _attribute_values(self.crypto.subject, NameOID.COMMON_NAME)
        return values[0] if values else self.subject

    def valid_at(self, moment: datetime) -> bool:
        return self.not_before <= moment <= self.not_after

    def pem(self) -> bytes:
        import base64

        body = base64.encodebytes(self.der).replace(b"\n", b"")
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"

    def __repr__(self) -> str:
        return f"Certificate(subject={self.subject!r}, serial={self.serial:x})"


@lru_cache(maxsize=512)
def _parsed(der: bytes) -> Certificate:
    """Every message brings the same few certificates (its signer's, the OCSP responder's, ours)."""
    return Certificate._parse(der)


def _attribute_values(name: x509.Name, oid) -> list[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(oid)]


def _subject_bin(name: x509.Name) -> str | None:
    """NCA puts the organisation's BIN in ``OU=BIN…``; some issuers put it in serialNumber (2.5.4.5)."""
    for value in [
        *_attribute_values(name, NameOID.ORGANIZATIONAL_UNIT_NAME),
        *_attribute_values(name, NameOID.SERIAL_NUMBER),
    ]:
        match = _BIN.fullmatch(value.strip())
        if match:
            return match.group(1)
    return None


def _subject_iin(name: x509.Name) -> str | None:
    for value in _attribute_values(name, NameOID.SERIAL_NUMBER):
        match = _IIN.fullmatch(value.strip())
        if match:
            return match.group(1)
    return None


def load_certificates(data: bytes) -> list[Certificate]:
    """All certificates in a PEM bundle, or the one DER certificate."""
    if b"-----BEGIN" in data:
        blocks = _pem_blocks(data, PEM_CERTIFICATE)
        if not blocks:
            raise CertificateError("the PEM data holds no CERTIFICATE block")
        return [Certificate.from_der(block) for block in blocks]
    return [Certificate.from_der(data)]


def load_certificate(data: bytes) -> Certificate:
    """Exactly one certificate (the first of a bundle)."""
    return load_certificates(data)[0]


@dataclass(frozen=True)
class RevokedEntry:
    serial: int
    revoked_at: datetime
    reason: str | None  # cryptography ReasonFlags value, e.g. "keyCompromise", "removeFromCRL"


@dataclass(frozen=True)
class RevocationList:
    """One CRL (full or delta) with the facts revocation checking reads."""

    der: bytes
    crypto: x509.CertificateRevocationList
    issuer: str
    issuer_der: bytes
    this_update: datetime
    next_update: datetime | None
    number: int | None
    delta_base: int | None  # deltaCRLIndicator: the base CRL number; None for a full CRL
    authority_key_id: bytes | None
    signature_oid: str
    signature: bytes
    tbs_der: bytes
    delta_crl_urls: tuple[str, ...]

    @classmethod
    def from_der(cls, der: bytes) -> RevocationList:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                crypto = x509.load_der_x509_crl(der)
                issuer = crypto.issuer.rfc4514_string()
        except ValueError as exc:
            raise CertificateError(f"not an X.509 CRL: {exc}") from exc
        number = _extension(crypto, ExtensionOID.CRL_NUMBER)
        delta = _extension(crypto, ExtensionOID.DELTA_CRL_INDICATOR)
        aki = _extension(crypto, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
        freshest = _extension(crypto, ExtensionOID.FRESHEST_CRL)
        return cls(
            der=der,
            crypto=crypto,
            issuer=issuer,
            issuer_der=_quiet(crypto.issuer.public_bytes),
            this_update=crypto.last_update_utc,
            next_update=crypto.next_update_utc,
            number=None if number is None else number.crl_number,
            delta_base=None if delta is None else delta.crl_number,
            authority_key_id=None if aki is None else aki.key_identifier,
            signature_oid=crypto.signature_algorithm_oid.dotted_string,
            signature=crypto.signature,
            tbs_der=crypto.tbs_certlist_bytes,
            delta_crl_urls=_dp_urls(freshest) if freshest is not None else (),
        )

    @property
    def is_delta(self) -> bool:
        return self.delta_base is not None

    def entry(self, serial: int) -> RevokedEntry | None:
        revoked = self.crypto.get_revoked_certificate_by_serial_number(serial)
        if revoked is None:
            return None
        reason = None
        try:
            reason = revoked.extensions.get_extension_for_oid(
                CRLEntryExtensionOID.CRL_REASON
            ).value.reason.value
        except x509.ExtensionNotFound:
            pass
        return RevokedEntry(serial, revoked.revocation_date_utc, reason)

    def __repr__(self) -> str:
        kind = "delta CRL" if self.is_delta else "CRL"
        return f"RevocationList({kind} of {self.issuer!r}, number={self.number})"


def load_crl(data: bytes) -> RevocationList:
    """A CRL from DER or PEM."""
    if b"-----BEGIN" in data:
        blocks = _pem_blocks(data, PEM_CRL)
        if not blocks:
            raise CertificateError("the PEM data holds no X509 CRL block")
        data = blocks[0]
    return RevocationList.from_der(data)


def subject_bin(cert: Certificate) -> str | None:
    """The 12-digit BIN of the organisation the certificate was issued to, if any."""
    return cert.subject_bin
