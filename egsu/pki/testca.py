"""A test PKI shaped like the NCA's, for tests and for the test stand (App.1 §13).

``TestCA.create(directory, base_url=…)`` makes a root and an intermediate CA and
a delegated OCSP responder, and keeps everything in that directory (keys 0600,
a JSON state with the serial counter and the revocations), so that the CLI,
the demo stand and tests in other processes share one CA. Certificates carry
the NCA's DN conventions, key usages, EKU and policy OIDs (shep-notes §3) and
point at ``{base_url}/ocsp``, ``{base_url}/crl/…`` and ``{base_url}/ca.crt``,
which ``serve`` answers.

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
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from egsu.clock import utcnow
from egsu.pki.certs import Certificate

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


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate the test CA issued, with its private key and where both are stored."""

    certificate: Certificate
    key: rsa.RSAPrivateKey
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
        return _key_pem(self.key)


@dataclass(frozen=True)
class _Authority:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def certificate(self) -> Certificate:
        return Certificate.from_der(self.cert.public_bytes(serialization.Encoding.DER))


class TestCA:
    """Root → intermediate → subjects, plus an OCSP responder and CRLs, persisted in one directory."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._lock = threading.RLock()
        state = self._read_state()
        self.base_url: str = state["base_url"]
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
        """Make a new CA in ``directory`` (which must not hold one already)."""
        if key_type != "rsa":
            raise ValueError(f"key type {key_type!r} is not supported by the test CA (only 'rsa')")
        directory = Path(directory)
        if (directory / "state.json").exists():
            raise FileExistsError(f"{directory} already holds a test CA")
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "issued").mkdir(exist_ok=True)
        (directory / "crl").mkdir(exist_ok=True)
        base_url = base_url.rstrip("/")
        now = now or utcnow()
        start, end = now - timedelta(days=1), now + timedelta(days=3650)

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
        for label, cert, key in (("root", root, root_key), ("intermediate", intermediate, ca_key),
                                 ("ocsp", responder, responder_key)):  # fmt: skip
            (directory / f"{label}.crt").write_bytes(_cert_pem(cert))
            _write_private(directory / f"{label}.key", _key_pem(key))
        (directory / "chain.pem").write_bytes(_cert_pem(intermediate) + _cert_pem(root))
        state = {"base_url": base_url, "next_serial": 0x1000, "crl_number": 0, "base_crl": None,
                 "issued": {}, "revoked": {}}  # fmt: skip
        (directory / "state.json").write_text(json.dumps(state, indent=2))
        return cls(directory)

    @classmethod
    def load(cls, directory: str | Path) -> TestCA:
        return cls(directory)

    def _load_authority(self, label: str) -> _Authority:
        cert = x509.load_pem_x509_certificate((self.directory / f"{label}.crt").read_bytes())
        key = serialization.load_pem_private_key(
            (self.directory / f"{label}.key").read_bytes(), password=None
        )
        assert isinstance(key, rsa.RSAPrivateKey)
        return _Authority(cert, key)

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
        key: rsa.RSAPrivateKey | None = None,
        key_size: int = 2048,
        issuer: str = "intermediate",
        with_urls: bool = True,
        is_ca: bool = False,
    ) -> IssuedCertificate:
        """Any end-entity certificate; ``issue_subject``/``issue_system`` fill in the NCA shape."""
        authority = {"intermediate": self.intermediate, "root": self.root}[issuer]
        key = key or rsa.generate_private_key(public_exponent=65537, key_size=key_size)
        now = utcnow()
        not_before = not_before or now - timedelta(hours=1)
        not_after = not_after or now + timedelta(days=365)
        with self._lock:
            state = self._read_state()
            serial = state["next_serial"]
            state["next_serial"] = serial + 1
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
                builder = builder.add_extension(
                    x509.BasicConstraints(ca=True, path_length=None), critical=True
                )
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
                                x509.AccessDescription(
                                    aia.OCSP, x509.UniformResourceIdentifier(f"{base}/ocsp")
                                ),
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
            cert = builder.sign(authority.key, hashes.SHA256())
            state["issued"][f"{serial:x}"] = {"subject": subject.rfc4514_string(), "issuer": issuer}
            self._write_state(state)
        cert_path = self.directory / "issued" / f"{serial:x}.crt"
        key_path = self.directory / "issued" / f"{serial:x}.key"
        cert_path.write_bytes(_cert_pem(cert))
        _write_private(key_path, _key_pem(key))
        return IssuedCertificate(
            Certificate.from_der(cert.public_bytes(serialization.Encoding.DER)), key, cert_path, key_path
        )

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
            since = None
            if delta:
                builder = builder.add_extension(
                    x509.DeltaCRLIndicator(state["base_crl"]["number"]), critical=True
                )
                since = datetime.fromisoformat(state["base_crl"]["issued"])
            else:
                state["base_crl"] = {"number": number, "issued": now.isoformat()}
            for serial, entry in state["revoked"].items():
                if since is not None and datetime.fromisoformat(entry["recorded"]) < since:
                    continue
                revoked = (
                    x509.RevokedCertificateBuilder()
                    .serial_number(int(serial, 16))
                    .revocation_date(datetime.fromisoformat(entry["at"]))
                    .add_extension(x509.CRLReason(x509.ReasonFlags(entry["reason"])), critical=False)
                    .build()
                )
                builder = builder.add_revoked_certificate(revoked)
            der = builder.sign(self.intermediate.key, hashes.SHA256()).public_bytes(
                serialization.Encoding.DER
            )
            self._write_state(state)
            if publish:
                name = "intermediate-delta.crl" if delta else "intermediate.crl"
                (self.directory / "crl").mkdir(exist_ok=True)
                (self.directory / "crl" / name).write_bytes(der)
        return der

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
        signer: tuple[x509.Certificate, rsa.RSAPrivateKey] | None = None,
        echo_nonce: bool = True,
        nonce: bytes | None = None,
    ) -> bytes:
        """An RFC 6960 answer signed by the delegated responder (or ``signer``, to test refusals)."""
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
        try:
            requested = request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            requested = None
        echoed = nonce if nonce is not None else requested
        if echo_nonce and echoed is not None:
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
