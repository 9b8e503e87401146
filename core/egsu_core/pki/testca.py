"""A test PKI shaped like the NCA's, for tests and for the test stand (App.1 §13).

``TestCA.create(directory, base_url=…)`` makes a root and an intermediate CA and
a delegated OCSP responder, and keeps everything in that directory (keys 0600,
a JSON state with the serial counter and the revocations), so that the CLI,
the demo stand and tests in other processes share one CA. Certificates carry
the NCA's DN conventions, key usages, EKU and policy OIDs (shep-notes §3) and
point at ``{base_url}/ocsp``, ``{base_url}/crl/…`` and ``{base_url}/ca.crt``,
which ``serve`` answers.

``key_type`` picks the algorithms: "rsa" (RSA-SHA256, built with ``cryptography``), or the NCA's
Kazakh GOST schemes — "gost2004" (GOST 34.310-2004 / 34.311-95) and "gost2015" (GOST 2015-512 /
Streebog-512) — whose certificates, CRLs and OCSP answers ``cryptography`` cannot sign, so they
are built with ``egsu_core.pki.gost.x509``. The API and the files are the same for every key type.

Never use this outside tests and the test stand: the keys are unencrypted.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from egsu_core.clock import utcnow
from egsu_core.pki.certs import OID_OCSP_SIGNING, Certificate
from egsu_core.pki.gost import gost3410
from egsu_core.pki.gost import x509 as gost_x509

# shep-notes §3
POLICY_CA = "1.2.398.3.3.1.1"
POLICY_LEGAL_SIGN = "1.2.398.3.3.2.1"
POLICY_LEGAL_AUTH = "1.2.398.3.3.2.2"
EKU_LEGAL_ENTITY = "1.2.398.3.3.4.1.2"
EKU_CEO = "1.2.398.3.3.4.1.2.1"
EKU_EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4"
EKU_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"

PURPOSE_KEY_USAGE = {
    "sign": ("digitalSignature", "nonRepudiation"),
    "auth": ("digitalSignature", "keyEncipherment"),
}
_KEY_USAGE_ARGS = {
    "digitalSignature": "digital_signature",
    "nonRepudiation": "content_commitment",
    "keyEncipherment": "key_encipherment",
    "dataEncipherment": "data_encipherment",
    "keyAgreement": "key_agreement",
    "keyCertSign": "key_cert_sign",
    "cRLSign": "crl_sign",
}

ROOT_NAME = "EGSU TEST ROOT CA (RSA)"
INTERMEDIATE_NAME = "EGSU TEST CA (RSA)"
RESPONDER_NAME = "EGSU TEST OCSP RESPONDER"

KEY_TYPES = ("rsa", "gost2004", "gost2015")
# NCA-like CA names per key type (shep-notes §3: "… (GOST)" and "… (GOST) 2022").
AUTHORITY_NAMES = {
    "rsa": (ROOT_NAME, INTERMEDIATE_NAME, RESPONDER_NAME),
    "gost2004": ("EGSU TEST ROOT CA (GOST)", "EGSU TEST CA (GOST)", "EGSU TEST OCSP RESPONDER (GOST)"),
    "gost2015": (
        "EGSU TEST ROOT CA (GOST) 2022",
        "EGSU TEST CA (GOST) 2022",
        "EGSU TEST OCSP RESPONDER (GOST) 2022",
    ),
}
GOST_SCHEMES = {"gost2004": gost3410.GOST2004, "gost2015": gost3410.GOST2015_512}

# RFC 5280 reason names: cryptography's spelling → asn1crypto's (GOST CRLs and OCSP answers).
_ASN1_REASONS = {
    "unspecified": "unspecified",
    "keyCompromise": "key_compromise",
    "cACompromise": "ca_compromise",
    "affiliationChanged": "affiliation_changed",
    "superseded": "superseded",
    "cessationOfOperation": "cessation_of_operation",
    "certificateHold": "certificate_hold",
    "removeFromCRL": "remove_from_crl",
    "privilegeWithdrawn": "privilege_withdrawn",
    "aACompromise": "aa_compromise",
}
_ASN1_KEY_USAGE = {
    "digitalSignature": "digital_signature",
    "nonRepudiation": "non_repudiation",
    "keyEncipherment": "key_encipherment",
    "dataEncipherment": "data_encipherment",
    "keyAgreement": "key_agreement",
    "keyCertSign": "key_cert_sign",
    "cRLSign": "crl_sign",
}


def key_usage_extension(names: Iterable[str]) -> x509.KeyUsage:
    wanted = set(names)
    unknown = wanted - set(_KEY_USAGE_ARGS)
    if unknown:
        raise ValueError(f"unknown key usage {sorted(unknown)}")
    args = {arg: name in wanted for name, arg in _KEY_USAGE_ARGS.items()}
    return x509.KeyUsage(**args, encipher_only=False, decipher_only=False)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def _key_pem(key: Any) -> bytes:
    if isinstance(key, gost3410.GostPrivateKey):
        return key.to_pem()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _load_key(pem_data: bytes, key_type: str) -> Any:
    if key_type == "rsa":
        key = serialization.load_pem_private_key(pem_data, password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key
    return gost3410.load_private_key(pem_data)


def _new_key(key_type: str, key_size: int) -> Any:
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    return gost3410.GostPrivateKey.generate(GOST_SCHEMES[key_type])


def _pem_der(data: bytes) -> bytes:
    from egsu_core.pki.certs import load_certificate

    return load_certificate(data).der


def _whole_seconds(moment: datetime) -> datetime:
    """DER times carry no fractions: what we sign is what a reader sees."""
    return moment.replace(microsecond=0)


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate the test CA issued, with its private key and where both are stored."""

    certificate: Certificate
    key: Any  # rsa.RSAPrivateKey or gost3410.GostPrivateKey
    cert_path: Path
    key_path: Path

    @property
    def serial(self) -> int:
        return self.certificate.serial

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.pem()

    @property
    def key_pem(self) -> bytes:
        """Unencrypted PKCS#8 PEM that ``egsu_core.pki.keys.load_identity`` loads (RSA or GOST)."""
        return _key_pem(self.key)

    def p12(self, password: str, *, chain: tuple[Certificate, ...] = (), iterations: int = 10_000) -> bytes:
        """The key and certificate as a password-protected PKCS#12 key store, as NCA hands them out."""
        from egsu_core.pki import pkcs12

        return pkcs12.dump(self.key, self.certificate, password, chain=chain, iterations=iterations)

    def write_p12(self, password: str, path: Path | None = None) -> Path:
        """Write the key store (with the CA chain) next to the PEM files, 0600; returns its path."""
        ca_dir = self.cert_path.parent.parent
        chain = tuple(
            Certificate.from_der(_pem_der(p.read_bytes()))
            for p in (ca_dir / "intermediate.crt", ca_dir / "root.crt")
        )
        path = path or self.key_path.with_suffix(".p12")
        _write_private(path, self.p12(password, chain=chain))
        return path


@dataclass(frozen=True)
class _Authority:
    cert: x509.Certificate  # cryptography parses GOST certificates, it only cannot sign them
    key: Any

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def certificate(self) -> Certificate:
        return Certificate.from_der(self.der)

    @property
    def issued(self) -> gost_x509.Issued:
        """The same certificate and key as the asn1crypto builders of egsu_core.pki.gost.x509 take them."""
        return gost_x509.Issued(asn1_x509.Certificate.load(self.der), self.key)


def _asn1_name(name: x509.Name) -> asn1_x509.Name:
    return asn1_x509.Name.load(name.public_bytes())


def _gost_certificate(
    *,
    subject: x509.Name,
    subject_key: Any,
    issuer: _Authority | None,
    issuer_key: Any,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    key_usage: Iterable[str],
    is_ca: bool = False,
    eku: Iterable[str] = (),
    policies: Iterable[str] = (),
    ocsp_url: str | None = None,
    ca_issuers_url: str | None = None,
    crl_url: str | None = None,
    delta_crl_url: str | None = None,
    extra_extensions: Iterable[dict] = (),
) -> x509.Certificate:
    """A certificate signed with the issuer's GOST key, in the NCA's encoding (shep-notes §3)."""
    wanted = set(key_usage)
    unknown = wanted - set(_ASN1_KEY_USAGE)
    if unknown:
        raise ValueError(f"unknown key usage {sorted(unknown)}")
    built = gost_x509.build_certificate(
        subject=_asn1_name(subject),
        subject_spki=gost_x509.public_key_info(subject_key),
        issuer=issuer.issued if issuer is not None else None,
        issuer_key=issuer_key,
        not_before=not_before,
        not_after=not_after,
        ca=is_ca,
        key_usage={_ASN1_KEY_USAGE[name] for name in wanted},
        extended_key_usage=list(eku),
        policies=list(policies),
        ca_issuers_url=ca_issuers_url,
        ocsp_url=ocsp_url,
        crl_url=crl_url,
        delta_crl_url=delta_crl_url,
        serial_number=serial,
        extra_extensions=list(extra_extensions),
    )
    return x509.load_der_x509_certificate(built.dump())


class TestCA:
    """Root → intermediate → subjects, plus an OCSP responder and CRLs, persisted in one directory."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._lock = threading.RLock()
        state = self._read_state()
        self.base_url: str = state["base_url"]
        self.key_type: str = state.get("key_type", "rsa")
        self.root = self._load_authority("root")
        self.intermediate = self._load_authority("intermediate")
        self.responder = self._load_authority("ocsp")

    # ------------------------------------------------------------------ creation and storage

    @classmethod
    def create(
        cls,
        directory: str | Path,
        *,
        base_url: str,
        key_type: str = "rsa",
        root_key_size: int = 3072,
        ca_key_size: int = 2048,
        now: datetime | None = None,
    ) -> TestCA:
        """Make a new CA in ``directory`` (which must not hold one already).

        ``key_type``: "rsa", "gost2004" (GOST 34.310-2004) or "gost2015" (GOST 2015-512); the key
        sizes apply to RSA only.
        """
        if key_type not in KEY_TYPES:
            raise ValueError(
                f"key type {key_type!r} is not supported by the test CA ({', '.join(KEY_TYPES)})"
            )
        directory = Path(directory)
        if (directory / "state.json").exists():
            raise FileExistsError(f"{directory} already holds a test CA")
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "issued").mkdir(exist_ok=True)
        (directory / "crl").mkdir(exist_ok=True)
        base_url = base_url.rstrip("/")
        now = now or utcnow()
        start, end = now - timedelta(days=1), now + timedelta(days=3650)
        if key_type == "rsa":
            authorities = cls._rsa_authorities(base_url, start, end, root_key_size, ca_key_size)
        else:
            authorities = cls._gost_authorities(
                key_type, base_url, _whole_seconds(start), _whole_seconds(end)
            )
        for label, cert, key in authorities:
            (directory / f"{label}.crt").write_bytes(_cert_pem(cert))
            _write_private(directory / f"{label}.key", _key_pem(key))
        intermediate, root = authorities[1][1], authorities[0][1]
        (directory / "chain.pem").write_bytes(_cert_pem(intermediate) + _cert_pem(root))
        state = {"base_url": base_url, "key_type": key_type, "next_serial": 0x1000, "crl_number": 0,
                 "base_crl": None, "issued": {}, "revoked": {}}  # fmt: skip
        (directory / "state.json").write_text(json.dumps(state, indent=2))
        return cls(directory)

    @staticmethod
    def _rsa_authorities(
        base_url: str, start: datetime, end: datetime, root_key_size: int, ca_key_size: int
    ) -> list[tuple[str, x509.Certificate, Any]]:
        root_key = rsa.generate_private_key(public_exponent=65537, key_size=root_key_size)
        root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ROOT_NAME),
                               x509.NameAttribute(NameOID.ORGANIZATION_NAME, "EGSU test stand"),
                               x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ")])  # fmt: skip
        root = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(key_usage_extension(["keyCertSign", "cRLSign"]), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=ca_key_size)
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, INTERMEDIATE_NAME),
                             x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ")])  # fmt: skip
        intermediate = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(root_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end - timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(key_usage_extension(["keyCertSign", "cRLSign"]), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
            )
            .add_extension(
                x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(POLICY_CA), None)]),
                critical=False,
            )  # fmt: skip
            .add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
                            x509.UniformResourceIdentifier(f"{base_url}/root.crt"),
                        )
                    ]  # fmt: skip
                ),
                critical=False,
            )
            .sign(root_key, hashes.SHA256())
        )
        responder_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        responder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COMMON_NAME, "EGSU TEST OCSP RESPONDER"),
                        x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
                    ]
                )
            )  # fmt: skip
            .issuer_name(ca_name)
            .public_key(responder_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end - timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage_extension(["digitalSignature"]), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
            .add_extension(x509.OCSPNoCheck(), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        return [
            ("root", root, root_key),
            ("intermediate", intermediate, ca_key),
            ("ocsp", responder, responder_key),
        ]

    @staticmethod
    def _gost_authorities(
        key_type: str, base_url: str, start: datetime, end: datetime
    ) -> list[tuple[str, x509.Certificate, Any]]:
        """Root, intermediate and delegated OCSP responder, all GOST, shaped like the RSA ones."""
        root_cn, ca_cn, responder_cn = AUTHORITY_NAMES[key_type]
        root_key, ca_key, responder_key = (_new_key(key_type, 0) for _ in range(3))
        root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, root_cn),
                               x509.NameAttribute(NameOID.ORGANIZATION_NAME, "EGSU test stand"),
                               x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ")])  # fmt: skip
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_cn),
                             x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ")])  # fmt: skip
        responder_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, responder_cn),
                                    x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ")])  # fmt: skip
        ca_usage = ["keyCertSign", "cRLSign"]
        root = _gost_certificate(
            subject=root_name, subject_key=root_key, issuer=None, issuer_key=root_key,
            serial=x509.random_serial_number(), not_before=start, not_after=end, key_usage=ca_usage, is_ca=True,
        )  # fmt: skip
        root_authority = _Authority(root, root_key)
        intermediate = _gost_certificate(
            subject=ca_name, subject_key=ca_key, issuer=root_authority, issuer_key=root_key,
            serial=x509.random_serial_number(), not_before=start, not_after=end - timedelta(days=1),
            key_usage=ca_usage, is_ca=True, policies=[POLICY_CA], ca_issuers_url=f"{base_url}/root.crt",
        )  # fmt: skip
        responder = _gost_certificate(
            subject=responder_name, subject_key=responder_key, issuer=_Authority(intermediate, ca_key),
            issuer_key=ca_key, serial=x509.random_serial_number(), not_before=start,
            not_after=end - timedelta(days=2), key_usage=["digitalSignature"], eku=[OID_OCSP_SIGNING],
            extra_extensions=[{"extn_id": "ocsp_no_check", "critical": False, "extn_value": asn1_core.Null()}],
        )  # fmt: skip
        return [
            ("root", root, root_key),
            ("intermediate", intermediate, ca_key),
            ("ocsp", responder, responder_key),
        ]

    @classmethod
    def load(cls, directory: str | Path) -> TestCA:
        return cls(directory)

    def _load_authority(self, label: str) -> _Authority:
        cert = x509.load_pem_x509_certificate((self.directory / f"{label}.crt").read_bytes())
        return _Authority(cert, _load_key((self.directory / f"{label}.key").read_bytes(), self.key_type))

    def _read_state(self) -> dict:
        return json.loads((self.directory / "state.json").read_text())

    def _write_state(self, state: dict) -> None:
        tmp = self.directory / "state.json.tmp"
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.directory / "state.json")

    @property
    def root_certificate(self) -> Certificate:
        return self.root.certificate

    @property
    def intermediate_certificate(self) -> Certificate:
        return self.intermediate.certificate

    @property
    def responder_certificate(self) -> Certificate:
        return self.responder.certificate

    @property
    def root_path(self) -> Path:
        return self.directory / "root.crt"

    @property
    def intermediate_path(self) -> Path:
        return self.directory / "intermediate.crt"

    @property
    def chain_path(self) -> Path:
        """Intermediate and root in one PEM file: the stand's ``trust_roots``."""
        return self.directory / "chain.pem"

    # ------------------------------------------------------------------ issuing

    def issue(
        self,
        subject: x509.Name,
        *,
        key_usage: Iterable[str],
        eku: Iterable[str] = (),
        policies: Iterable[str] = (),
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        key: Any = None,
        key_size: int = 2048,
        issuer: str = "intermediate",
        with_urls: bool = True,
        is_ca: bool = False,
    ) -> IssuedCertificate:
        """Any end-entity certificate; ``issue_subject``/``issue_system`` fill in the NCA shape.

        ``key``: the subject's private key (a new one of the CA's key type when None; reuse one to
        save time in tests — GOST keys are pure Python). ``key_size`` applies to new RSA keys.
        """
        authority = {"intermediate": self.intermediate, "root": self.root}[issuer]
        key = key or _new_key(self.key_type, key_size)
        now = utcnow()
        not_before = not_before or now - timedelta(hours=1)
        not_after = not_after or now + timedelta(days=365)
        with self._lock:
            state = self._read_state()
            serial = state["next_serial"]
            state["next_serial"] = serial + 1
            if self.key_type != "rsa":
                base = self.base_url
                cert = _gost_certificate(
                    subject=subject, subject_key=key, issuer=authority, issuer_key=authority.key, serial=serial,
                    not_before=_whole_seconds(not_before), not_after=_whole_seconds(not_after),
                    key_usage=key_usage, is_ca=is_ca, eku=eku, policies=policies,
                    ocsp_url=f"{base}/ocsp" if with_urls else None,
                    ca_issuers_url=f"{base}/ca.crt" if with_urls else None,
                    crl_url=f"{base}/crl/intermediate.crl" if with_urls else None,
                    delta_crl_url=f"{base}/crl/intermediate-delta.crl" if with_urls else None,
                )  # fmt: skip
            else:
                cert = self._rsa_certificate(
                    subject, key, authority, serial, not_before, not_after, key_usage, eku, policies,
                    with_urls, is_ca,
                )  # fmt: skip
            state["issued"][f"{serial:x}"] = {"subject": subject.rfc4514_string(), "issuer": issuer}
            self._write_state(state)
        cert_path = self.directory / "issued" / f"{serial:x}.crt"
        key_path = self.directory / "issued" / f"{serial:x}.key"
        cert_path.write_bytes(_cert_pem(cert))
        _write_private(key_path, _key_pem(key))
        return IssuedCertificate(
            Certificate.from_der(cert.public_bytes(serialization.Encoding.DER)), key, cert_path, key_path
        )

    def _rsa_certificate(
        self,
        subject: x509.Name,
        key: rsa.RSAPrivateKey,
        authority: _Authority,
        serial: int,
        not_before: datetime,
        not_after: datetime,
        key_usage: Iterable[str],
        eku: Iterable[str],
        policies: Iterable[str],
        with_urls: bool,
        is_ca: bool,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(authority.cert.subject)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(key_usage_extension(key_usage), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()),
                critical=False,
            )
        )
        if is_ca:
            builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        eku = list(eku)
        if eku:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([x509.ObjectIdentifier(o) for o in eku]), critical=False
            )
        policies = list(policies)
        if policies:
            builder = builder.add_extension(
                x509.CertificatePolicies(
                    [x509.PolicyInformation(x509.ObjectIdentifier(p), None) for p in policies]
                ),
                critical=False,
            )
        if with_urls:
            base = self.base_url
            aia = x509.oid.AuthorityInformationAccessOID
            builder = (
                builder.add_extension(
                    x509.AuthorityInformationAccess(
                        [
                            x509.AccessDescription(aia.OCSP, x509.UniformResourceIdentifier(f"{base}/ocsp")),
                            x509.AccessDescription(
                                aia.CA_ISSUERS, x509.UniformResourceIdentifier(f"{base}/ca.crt")
                            ),
                        ]
                    ),
                    critical=False,
                )
                .add_extension(_points(f"{base}/crl/intermediate.crl"), critical=False)
                .add_extension(
                    x509.FreshestCRL(list(_points(f"{base}/crl/intermediate-delta.crl"))), critical=False
                )
            )
        return builder.sign(authority.key, hashes.SHA256())

    def issue_subject(
        self,
        bin: str,
        org_name: str,
        person_name: str,
        iin: str,
        purpose: str = "sign",
        *,
        key_usage: Iterable[str] | None = None,
        eku: Iterable[str] | None = None,
        policies: Iterable[str] | None = None,
        **options,
    ) -> IssuedCertificate:
        """A legal entity's certificate for its first head, as NCA issues them (shep-notes §3)."""
        if purpose not in PURPOSE_KEY_USAGE:
            raise ValueError(f"purpose must be 'sign' or 'auth', not {purpose!r}")
        words = person_name.split()
        surname = words[0] if words else person_name
        given = " ".join(words[2:]) if len(words) > 2 else " ".join(words[1:]) or surname
        common = " ".join(words[:2]) if words else person_name
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common),
                x509.NameAttribute(NameOID.SURNAME, surname),
                x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{iin}"),
                x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, org_name),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{bin}"),
                x509.NameAttribute(NameOID.GIVEN_NAME, given),
            ]
        )
        default_eku = [EKU_CEO, EKU_EMAIL_PROTECTION if purpose == "sign" else EKU_CLIENT_AUTH]
        default_policy = [POLICY_LEGAL_SIGN if purpose == "sign" else POLICY_LEGAL_AUTH]
        return self.issue(
            subject,
            key_usage=PURPOSE_KEY_USAGE[purpose] if key_usage is None else key_usage,
            eku=default_eku if eku is None else eku,
            policies=default_policy if policies is None else policies,
            **options,
        )

    def issue_system(self, name: str, *, bin: str | None = None, **options) -> IssuedCertificate:
        """The System's own signing certificate (App.1 §51: it signs its answers)."""
        attributes = [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
        ]
        if bin:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{bin}"))
        options.setdefault("key_usage", PURPOSE_KEY_USAGE["sign"])
        options.setdefault("eku", [EKU_LEGAL_ENTITY, EKU_EMAIL_PROTECTION])
        options.setdefault("policies", [POLICY_LEGAL_SIGN])
        return self.issue(x509.Name(attributes), **options)

    # ------------------------------------------------------------------ revocation

    def revoke(self, serial: int, reason: str = "keyCompromise", at: datetime | None = None) -> None:
        """Mark a certificate revoked as of ``at``; CRLs and OCSP answers show it from now on."""
        x509.ReasonFlags(reason)  # validates the name
        at = at or utcnow()
        with self._lock:
            state = self._read_state()
            state["revoked"][f"{serial:x}"] = {
                "reason": reason,
                "at": at.isoformat(),
                "recorded": utcnow().isoformat(),
            }
            self._write_state(state)

    def revoked(self) -> dict[int, tuple[datetime, str]]:
        state = self._read_state()
        return {
            int(serial, 16): (datetime.fromisoformat(entry["at"]), entry["reason"])
            for serial, entry in state["revoked"].items()
        }

    def crl(
        self,
        delta: bool = False,
        *,
        this_update: datetime | None = None,
        next_update: datetime | None = None,
        publish: bool = True,
    ) -> bytes:
        """A new full CRL, or a delta CRL over the last full one; DER; published under ``crl/``."""
        now = utcnow()
        this_update = this_update or now
        next_update = next_update or this_update + timedelta(days=1)
        with self._lock:
            state = self._read_state()
            if delta and state["base_crl"] is None:
                self.crl(this_update=this_update, next_update=next_update, publish=publish)
                state = self._read_state()
            number = state["crl_number"] + 1
            state["crl_number"] = number
            since = None
            delta_base = None
            if delta:
                delta_base = state["base_crl"]["number"]
                since = datetime.fromisoformat(state["base_crl"]["issued"])
            else:
                state["base_crl"] = {"number": number, "issued": now.isoformat()}
            entries = [
                (int(serial, 16), datetime.fromisoformat(entry["at"]), entry["reason"])
                for serial, entry in state["revoked"].items()
                if since is None or datetime.fromisoformat(entry["recorded"]) >= since
            ]
            if self.key_type == "rsa":
                der = self._rsa_crl(this_update, next_update, number, delta_base, entries)
            else:
                der = gost_x509.issue_crl(
                    self.intermediate.issued,
                    this_update=_whole_seconds(this_update),
                    next_update=_whole_seconds(next_update),
                    revoked=[
                        gost_x509.Revocation(serial, _whole_seconds(at), _ASN1_REASONS[reason])
                        for serial, at, reason in entries
                    ],
                    number=number,
                    delta_base=delta_base,
                ).dump()
            self._write_state(state)
            if publish:
                name = "intermediate-delta.crl" if delta else "intermediate.crl"
                (self.directory / "crl").mkdir(exist_ok=True)
                (self.directory / "crl" / name).write_bytes(der)
        return der

    def _rsa_crl(
        self,
        this_update: datetime,
        next_update: datetime,
        number: int,
        delta_base: int | None,
        entries: list[tuple[int, datetime, str]],
    ) -> bytes:
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.intermediate.cert.subject)
            .last_update(this_update)
            .next_update(next_update)
            .add_extension(x509.CRLNumber(number), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.intermediate.key.public_key()),
                critical=False,
            )
        )
        if delta_base is not None:
            builder = builder.add_extension(x509.DeltaCRLIndicator(delta_base), critical=True)
        for serial, at, reason in entries:
            revoked = (
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(at)
                .add_extension(x509.CRLReason(x509.ReasonFlags(reason)), critical=False)
                .build()
            )
            builder = builder.add_revoked_certificate(revoked)
        return builder.sign(self.intermediate.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def published_crl(self, name: str) -> bytes | None:
        """A CRL as last published; the full one is made on first demand."""
        if name not in ("intermediate.crl", "intermediate-delta.crl"):
            return None
        path = self.directory / "crl" / name
        if not path.exists():
            return self.crl(delta=name == "intermediate-delta.crl")
        return path.read_bytes()

    # ------------------------------------------------------------------ OCSP

    def ocsp_response(
        self,
        request_der: bytes,
        *,
        this_update: datetime | None = None,
        next_update: datetime | None = None,
        signer: tuple[x509.Certificate, Any] | None = None,
        echo_nonce: bool = True,
        nonce: bytes | None = None,
    ) -> bytes:
        """An RFC 6960 answer signed by the delegated responder (or ``signer``, to test refusals).

        The request's CertID may use SHA-256 (NCANode, our RevocationChecker) or SHA-1; the answer
        repeats it. A GOST CA answers with a GOST signature (``egsu_core.pki.gost.x509``).
        """
        try:
            request = ocsp.load_der_ocsp_request(request_der)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST
            ).public_bytes(serialization.Encoding.DER)
        algorithm = request.hash_algorithm
        issuer = self.intermediate.certificate
        if request.issuer_key_hash != _digest(algorithm, issuer.public_key_bits) or (
            request.issuer_name_hash != _digest(algorithm, issuer.subject_der)
        ):
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.UNAUTHORIZED
            ).public_bytes(serialization.Encoding.DER)
        state = self._read_state()
        key = f"{request.serial_number:x}"
        revocation_time = revocation_reason = None
        if key in state["revoked"]:
            status = ocsp.OCSPCertStatus.REVOKED
            revocation_time = datetime.fromisoformat(state["revoked"][key]["at"])
            revocation_reason = x509.ReasonFlags(state["revoked"][key]["reason"])
        elif key in state["issued"]:
            status = ocsp.OCSPCertStatus.GOOD
        else:
            status = ocsp.OCSPCertStatus.UNKNOWN
        now = utcnow()
        this_update = this_update or now
        next_update = next_update or this_update + timedelta(hours=1)
        responder_cert, responder_key = signer or (self.responder.cert, self.responder.key)
        try:
            requested = request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            requested = None
        echoed = nonce if nonce is not None else requested
        if not echo_nonce:
            echoed = None
        if self.key_type != "rsa" or not isinstance(responder_key, rsa.RSAPrivateKey):
            return gost_x509.issue_ocsp_response(
                issuer=self.intermediate.issued,
                responder=gost_x509.Issued(
                    asn1_x509.Certificate.load(responder_cert.public_bytes(serialization.Encoding.DER)),
                    responder_key,
                ),
                serial_number=request.serial_number,
                produced_at=_whole_seconds(now),
                revoked_at=None if revocation_time is None else _whole_seconds(revocation_time),
                revocation_reason=None
                if revocation_reason is None
                else _ASN1_REASONS[revocation_reason.value],
                nonce=echoed,
                hash_algorithm=algorithm.name,
                unknown=status == ocsp.OCSPCertStatus.UNKNOWN,
                this_update=_whole_seconds(this_update),
                next_update=_whole_seconds(next_update),
            ).dump()
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                request.issuer_name_hash,
                request.issuer_key_hash,
                request.serial_number,
                algorithm,
                status,
                this_update,
                next_update,
                revocation_time,
                revocation_reason,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, responder_cert)
            .certificates([responder_cert])
        )
        if echoed is not None:
            builder = builder.add_extension(x509.OCSPNonce(echoed), critical=False)
        return builder.sign(responder_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    # ------------------------------------------------------------------ HTTP

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> TestCAServer:
        """Start answering OCSP, CRL and CA-certificate requests in a background thread."""
        server = TestCAServer(self, host, port)
        server.start()
        return server


def _points(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]
    )


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(data)
    return h.finalize()


def respond(
    ca: TestCA, method: str, path: str, body: bytes | None, *, ocsp: Callable[[bytes], bytes] | None = None
) -> tuple[int, bytes, str]:
    """Answer one request to the test CA's endpoints: (HTTP status, body, content type).

    ``/ocsp`` (POST, or GET with base64), ``/crl/<name>.crl``, ``/ca.crt``, ``/root.crt``,
    ``/chain.pem``; shared by the standalone server and the System's /test-pki/ pages.
    """
    ocsp = ocsp or ca.ocsp_response
    path = path.split("?", 1)[0]
    if method == "POST":
        if path.rstrip("/") != "/ocsp":
            return 404, b"not found", "text/plain"
        return 200, ocsp(body or b""), "application/ocsp-response"
    if path.startswith("/ocsp/"):
        try:
            request_der = base64.b64decode(unquote(path[len("/ocsp/") :]), validate=True)
        except ValueError:
            return 400, b"bad base64", "text/plain"
        return 200, ocsp(request_der), "application/ocsp-response"
    if path.startswith("/crl/"):
        der = ca.published_crl(path[len("/crl/") :])
        if der is None:
            return 404, b"no such CRL", "text/plain"
        return 200, der, "application/pkix-crl"
    if path == "/ca.crt":
        return 200, ca.intermediate.cert.public_bytes(serialization.Encoding.DER), "application/pkix-cert"
    if path == "/root.crt":
        return 200, ca.root.cert.public_bytes(serialization.Encoding.DER), "application/pkix-cert"
    if path == "/chain.pem":
        return 200, ca.chain_path.read_bytes(), "application/x-pem-file"
    return 404, b"not found", "text/plain"


class TestCAServer(ThreadingHTTPServer):
    """``/ocsp`` (POST, or GET with base64), ``/crl/*.crl``, ``/ca.crt``, ``/root.crt``, ``/chain.pem``."""

    __test__ = False
    daemon_threads = True

    def __init__(self, ca: TestCA, host: str, port: int):
        self.ca = ca
        self.ocsp_available = True  # tests switch OCSP off to exercise the CRL fallback (SIG-09)
        self.ocsp_handler = ca.ocsp_response  # tests swap in a misbehaving responder
        self.requests: list[str] = []
        self._thread: threading.Thread | None = None
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="test-ca", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def respond(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes, str]:
        if path.split("?", 1)[0].rstrip("/").endswith("/ocsp") and not self.ocsp_available:
            return 503, b"OCSP is switched off", "text/plain"
        return respond(self.ca, method, path, body, ocsp=self.ocsp_handler)

    def __enter__(self) -> TestCAServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    server: TestCAServer

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet in tests
        return

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        self.server.requests.append(f"POST {self.path}")
        length = int(self.headers.get("Content-Length") or 0)
        self._send(*self.server.respond("POST", self.path, self.rfile.read(min(length, 1 << 20))))

    def do_GET(self) -> None:  # noqa: N802
        self.server.requests.append(f"GET {self.path}")
        self._send(*self.server.respond("GET", self.path, None))
