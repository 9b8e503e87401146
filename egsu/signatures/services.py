"""Signatures at the gateway: verify what arrives, sign what leaves (App.1 §16, §37, §51).

The domain work is in egsu.pki (no Django); this module only chooses the trust
store, the revocation checker and the System's identity from the settings, and
turns verdicts into gateway errors:

* no transport signature where one is required → SCE007;
* a signature or certificate that is wrong → SCE006;
* a certificate that is expired, not yet valid or revoked → SCE005 (SIG-06, SIG-08/09);
* a certificate of another subject than the sender's → SCE006 (SIG-01, SIG-12).

Outside production, with no trust roots configured, the stand trusts only its own
test CA under var/pki (App.1 §13: a test stand like production); its OCSP and CRL
are answered in process for the checker, and over HTTP at /test-pki/ for others.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from django.conf import settings
from lxml import etree

from egsu.pki import algorithms
from egsu.pki.certs import Certificate, load_certificate
from egsu.pki.keys import SigningIdentity, load_identity
from egsu.pki.path import INVALID, NOT_CURRENT, CertificatePolicy, Purpose, ValidationResult, validate
from egsu.pki.revocation import RevocationChecker, _Unavailable
from egsu.pki.testca import TestCA
from egsu.pki.trust import TrustStore
from egsu.pki.wsse import WSSE_SECURITY, sign_transport, verify_transport
from egsu.pki.xmldsig import find_business_signature, verify_enveloped
from egsu.shep import errors
from egsu.signatures.receipts import DatabaseReceiptStore

TEST_PKI_BASE_URL = "http://egsu-test-pki.invalid"  # never resolvable: answered in process (see module doc)
_lock = threading.Lock()


# ---------------------------------------------------------------- configuration


@contextmanager
def pki_lock() -> Iterator[None]:
    """Serialise changes to var/pki across threads and processes (gunicorn workers, test workers)."""
    directory = settings.CONFIG.test_pki_dir
    directory.parent.mkdir(parents=True, exist_ok=True)
    with _lock, open(directory.parent / ".pki.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@cache
def test_ca() -> TestCA | None:
    """The stand's own test CA, created on first use when no trust roots are configured."""
    config = settings.CONFIG
    if not config.uses_test_pki:
        return None
    directory = config.test_pki_dir
    with pki_lock():
        if not (directory / "state.json").exists():
            directory.mkdir(parents=True, exist_ok=True)
            TestCA.create(directory, base_url=TEST_PKI_BASE_URL)
        return TestCA.load(directory)


@cache
def trust_store() -> TrustStore:
    config = settings.CONFIG
    if config.uses_test_pki:
        ca = test_ca()
        return TrustStore.from_paths([ca.root_path], intermediates=[ca.intermediate_path])
    return TrustStore.from_paths(config.trust_roots, intermediates=config.trust_intermediates)


class _StandRevocationChecker(RevocationChecker):
    """Answers the test CA's own URLs in process; everything else goes over the network."""

    def _fetch(self, url: str, body: bytes | None = None, content_type: str | None = None) -> bytes:
        ca = test_ca()
        if ca is None or not url.startswith(TEST_PKI_BASE_URL):
            return super()._fetch(url, body, content_type)
        self.fetched.append(url)
        path = url[len(TEST_PKI_BASE_URL) :].split("?", 1)[0]
        if path.rstrip("/") == "/ocsp" and body is not None:
            return ca.ocsp_response(body)
        if path.startswith("/crl/"):
            der = ca.published_crl(path[len("/crl/") :])
            if der is not None:
                return der
        raise _Unavailable(f"the test CA does not serve {url}")


def revocation_checker() -> RevocationChecker:
    config = settings.CONFIG
    return _StandRevocationChecker(
        receipts=DatabaseReceiptStore(),
        url_rewrites=dict(config.pki_mirrors),
        timeout=config.revocation_timeout_s,
    )


@cache
def system_identity() -> SigningIdentity:
    config = settings.CONFIG
    if config.signing_key and config.signing_cert:
        key_path, cert_path = config.signing_key, config.signing_cert
    else:
        key_path, cert_path = _test_system_identity()
    return load_identity(Path(key_path).read_bytes(), Path(cert_path).read_bytes())


def _test_system_identity() -> tuple[Path, Path]:
    ca = test_ca()
    directory = settings.CONFIG.test_pki_dir
    key_path, cert_path = directory / "system.key", directory / "system.crt"
    with pki_lock():
        if not cert_path.exists():
            issued = ca.issue_system("EGSU TEST SYSTEM")
            key_path.write_bytes(issued.key_pem)
            key_path.chmod(0o600)
            cert_path.write_bytes(issued.cert_pem)
    return key_path, cert_path


def reset_caches() -> None:
    """Forget loaded configuration (tests that change settings call this)."""
    for function in (test_ca, trust_store, system_identity):
        function.cache_clear()


# ---------------------------------------------------------------- signing what leaves


def sign_answer(body: bytes) -> bytes:
    """The System signs its answers and faults (App.1 §51, INT-42)."""
    identity = system_identity()
    return sign_transport(
        body,
        private_key=identity.private_key,
        certificate_der=identity.certificate_der,
        algorithm_uri=identity.algorithm_uri,
    )


# ---------------------------------------------------------------- verifying what arrives


@dataclass(frozen=True)
class SignatureCheck:
    """What a verified (or absent but allowed) signature tells the rest of the pipeline."""

    verdict: str  # one line for the journal
    certificate: Certificate | None = None
    algorithm: str = ""
    element: etree._Element | None = None  # the element proven signed: parse only it


def _name_key(name: str) -> str:
    return ",".join(part.strip().upper() for part in name.split(","))


def _lookup_issuer_serial(issuer: str, serial: int) -> bytes | None:
    """X509IssuerSerial names a certificate we must already hold (shep-notes §2b)."""
    for cert in trust_store().all():
        if cert.serial == serial and _name_key(cert.issuer) == _name_key(issuer):
            return cert.der
    return None


def _policy(system) -> CertificatePolicy:
    return CertificatePolicy(allowed_policies=system.allowed_policies if system is not None else None)


def _raise_for(result: ValidationResult, what: str) -> None:
    if result.valid:
        return
    reason = f"{what} certificate: {result.reason}"
    if result.status == NOT_CURRENT:
        raise errors.SignatureNotCurrentError(reason)
    assert result.status == INVALID
    raise errors.SignatureInvalidError(reason)


def _describe(what: str, method_uri: str, cert: Certificate, result: ValidationResult) -> str:
    method = algorithms.signature_by_uri(method_uri).name
    revocation = result.revocation
    checked = (
        f"revocation {revocation.state} by {revocation.source} as of {result.checked_at:%Y-%m-%dT%H:%M:%SZ}"
        if revocation
        else "revocation not checked"
    )
    return (
        f"{what}: valid {method}; {cert.subject}; serial {cert.serial:x}; BIN {cert.subject_bin}; {checked}"
    )


def check_transport(request, system, *, at: datetime, document_id: str) -> SignatureCheck:
    """The WS-Security signature on the Body (SIG-03/04, SIG-05..15, SIG-16..20)."""
    header = request.header
    present = header is not None and header.find(WSSE_SECURITY) is not None
    required = system.require_transport_signature if system is not None else True
    if not present:
        if required:
            raise errors.NotSignedError("the message carries no WS-Security transport signature")
        return SignatureCheck("transport: not signed (not required for this system)")
    signed = verify_transport(request.envelope, certificate_lookup=_lookup_issuer_serial)
    if signed.body is not request.body:
        raise errors.SignatureInvalidError("the signed element is not the Body that was read")
    cert = load_certificate(signed.certificate_der)
    result = validate(
        cert,
        trust=trust_store(),
        at=at,
        purpose=Purpose.SIGN,
        policy=_policy(system),
        revocation=revocation_checker(),
        document_id=document_id,
    )
    _raise_for(result, "transport signature")
    return SignatureCheck(
        _describe("transport", signed.signature_method, cert, result),
        certificate=cert,
        algorithm=signed.signature_method,
        element=signed.body,
    )


def bind_to_subject(check: SignatureCheck, system, what: str) -> None:
    """SIG-01/SIG-03: the signer's certificate must be the sending subject's (its BIN)."""
    if check.certificate is None:
        return
    expected = system.subject.bin
    if check.certificate.subject_bin != expected:
        found = check.certificate.subject_bin or "no BIN"
        raise errors.SignatureInvalidError(
            f"{what} certificate belongs to {found}, not to the sender's subject BIN {expected}"
        )


def check_business(request, system, *, at: datetime, document_id: str) -> SignatureCheck:
    """The business-data signature inside `data` (SIG-03, SIG-14): always verified when present."""
    data = request.data
    root = find_business_signature(data) if data is not None else None
    if root is None:
        if system.require_business_signature:
            raise errors.NotSignedError("business-data signature: the data carries no signature")
        return SignatureCheck("business data: not signed (not required for this system)")
    if not (root is data or root.getparent() is data or root.getparent() is None):
        raise errors.SignatureInvalidError("business-data signature: it must cover the whole payload in data")
    signed = verify_enveloped(root)
    cert = load_certificate(signed.certificate_der)
    when = signed.timestamp_time or at  # SIG-14: the certificate is judged as of the trusted timestamp
    result = validate(
        cert,
        trust=trust_store(),
        at=when,
        purpose=Purpose.SIGN,
        policy=_policy(system),
        revocation=revocation_checker(),
        document_id=document_id + ":business",
    )
    _raise_for(result, "business-data signature")
    if signed.tsa_certificate_der is not None:
        tsa = validate(
            load_certificate(signed.tsa_certificate_der),
            trust=trust_store(),
            at=when,
            purpose=Purpose.SIGN,
            policy=CertificatePolicy(key_usage={Purpose.SIGN: frozenset({"digitalSignature"})}),
            revocation=revocation_checker(),
        )
        _raise_for(tsa, "time-stamp authority")
    check = SignatureCheck(
        _describe("business data", signed.signature_method, cert, result)
        + (f"; timestamp {signed.timestamp_time:%Y-%m-%dT%H:%M:%SZ}" if signed.timestamp_time else ""),
        certificate=cert,
        algorithm=signed.signature_method,
        element=signed.element,
    )
    bind_to_subject(check, system, "business-data signature")
    return check
