"""Signatures at the gateway: verify what arrives, sign what leaves (App.1 §16, §37, §51).

The domain work is in egsu_core.pki (no Django); this module only chooses the trust
store, the revocation checker and the System's identity from the settings, and
turns verdicts into gateway errors:

* no transport signature where one is required → SCE007;
* a signature or certificate that is wrong → SCE006;
* a certificate that is expired, not yet valid or revoked → SCE005 (SIG-06, SIG-08/09);
* a certificate of another subject than the sender's → SCE006 (SIG-01, SIG-12).

Verification runs in two halves so that the gateway can authenticate the sender in between
(egsu.intake.services): ``verify_transport`` does everything that needs no network (the XML
signature, the chain built and every signature on it verified up to a configured trust root,
validity, key usage, policy); ``complete`` then checks revocation, under the message's time
budget, only for a proven chain, and only at allowed addresses (``allowed_revocation_hosts``).

Outside production, with no trust roots configured, the stand trusts only its own
test CA under var/pki (App.1 §13: a test stand like production); its OCSP and CRL
are answered in process for the checker, and over HTTP at /test-pki/ for others.
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from lxml import etree

from egsu.signatures.receipts import DatabaseCrlStore, DatabaseReceiptStore
from egsu_core.pki import algorithms
from egsu_core.pki.certs import Certificate, load_certificate
from egsu_core.pki.keys import SigningIdentity, load_identity, load_identity_files
from egsu_core.pki.path import (
    INVALID,
    NOT_CURRENT,
    CertificatePolicy,
    Purpose,
    ValidationResult,
    build_chain,
    validate_offline,
    with_revocation,
)
from egsu_core.pki.revocation import RevocationCache, RevocationChecker, _Unavailable
from egsu_core.pki.testca import TestCA
from egsu_core.pki.trust import TrustStore
from egsu_core.pki.wsse import WSSE_SECURITY, sign_transport
from egsu_core.pki.wsse import verify_transport as verify_transport_signature
from egsu_core.pki.xmldsig import find_business_signature, verify_enveloped
from egsu_core.shep import errors
from egsu_core.shep.xmlparse import parse_document

TEST_PKI_BASE_URL = "http://egsu-test-pki.invalid"  # never resolvable: answered in process (see module doc)
# The stand's second test CA, GOST 34.310-2004 like NCA's GOST chain, for the demo's GOST subjects.
TEST_PKI_GOST_BASE_URL = "http://egsu-test-pki-gost.invalid"
TEST_CA_KEY_TYPES = {"rsa": TEST_PKI_BASE_URL, "gost2004": TEST_PKI_GOST_BASE_URL}
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
def test_ca(key_type: str = "rsa") -> TestCA | None:
    """The stand's own test CA (RSA under var/pki, GOST under var/pki/gost2004), made on first use
    when no trust roots are configured."""
    config = settings.CONFIG
    if not config.uses_test_pki:
        return None
    directory = config.test_pki_dir if key_type == "rsa" else config.test_pki_dir / key_type
    with pki_lock():
        if not (directory / "state.json").exists():
            directory.mkdir(parents=True, exist_ok=True)
            TestCA.create(directory, base_url=TEST_CA_KEY_TYPES[key_type], key_type=key_type)
        return TestCA.load(directory)


def stand_ca_for(url: str) -> TestCA | None:
    """The stand's test CA that a URL in one of its certificates belongs to."""
    for key_type, base in TEST_CA_KEY_TYPES.items():
        if url == base or url.startswith(base + "/"):
            return test_ca(key_type)
    return None


TEST = "test"
PRODUCTION = "production"


@cache
def trust_store(contour: str | None = None) -> TrustStore:
    """The roots a connected system of ``contour`` may chain to; None: every configured root.

    Test systems accept only the test roots (EGSU_TEST_TRUST_ROOTS, or the stand's own test CA when
    no roots at all are configured); production systems only EGSU_TRUST_ROOTS (App.1 §13, INT-17:
    the test stand is like production, but apart from it). None serves an unknown sender, whose
    answer is SCE002 anyway, and the tools.
    """
    config = settings.CONFIG
    if contour is None:
        stores = [trust_store(TEST), trust_store(PRODUCTION)]
        return TrustStore(
            [c for store in stores for c in store.anchors],
            [c for store in stores for c in store.intermediates],
        )
    if contour == TEST:
        if config.uses_test_pki:
            cas = [test_ca(key_type) for key_type in TEST_CA_KEY_TYPES]
            return TrustStore.from_paths(
                [ca.root_path for ca in cas], intermediates=[ca.intermediate_path for ca in cas]
            )
        return TrustStore.from_paths(config.test_trust_roots, intermediates=config.test_trust_intermediates)
    if contour != PRODUCTION:
        raise ValueError(f"unknown contour {contour!r}")
    return TrustStore.from_paths(config.trust_roots, intermediates=config.trust_intermediates)


def _contour(system) -> str | None:
    return system.contour if system is not None else None


class _StandRevocationChecker(RevocationChecker):
    """Answers the test CA's own URLs in process (unless a mirror sends them elsewhere).

    Every check's outcome is counted for the metrics (egsu.ops.metrics, DIG-22).
    """

    def check(self, cert, issuer, *, at, document_id=None):
        from egsu.ops.metrics import count_revocation

        status = super().check(cert, issuer, at=at, document_id=document_id)
        count_revocation(status.source, status.state)
        return status

    def _fetch(self, url: str, body: bytes | None = None, content_type: str | None = None) -> bytes:
        target = self._rewrite(url)
        ca = stand_ca_for(target)
        if ca is None:
            return super()._fetch(url, body, content_type)
        self.fetched.append(target)
        path = target[len(ca.base_url) :].split("?", 1)[0]
        if path.rstrip("/") == "/ocsp" and body is not None:
            return ca.ocsp_response(body, this_update=self.clock())  # the System's clock, like NCA's own
        if path.startswith("/crl/"):
            der = ca.published_crl(path[len("/crl/") :])
            if der is not None:
                return der
        raise _Unavailable(f"the test CA does not serve {url}")


@cache
def revocation_cache() -> RevocationCache:
    """One per process, shared by every message; CRLs also kept in the database (SIG-09)."""
    return RevocationCache(store=DatabaseCrlStore())


def allowed_revocation_hosts() -> frozenset[str]:
    """The NCA hosts (EGSU_PKI_ALLOWED_HOSTS) and, on the embedded stand, its own test CA."""
    config = settings.CONFIG
    hosts = set(config.pki_allowed_hosts)
    if config.uses_test_pki:
        hosts.update(urlsplit(base).hostname or "" for base in TEST_CA_KEY_TYPES.values())
    return frozenset(hosts)


def revocation_checker(*, deadline: float | None = None) -> RevocationChecker:
    """A checker for one message (its time budget), over the process-wide cache."""
    config = settings.CONFIG
    return _StandRevocationChecker(
        receipts=DatabaseReceiptStore(),
        url_rewrites=dict(config.pki_mirrors),
        allowed_hosts=allowed_revocation_hosts(),
        timeout=config.revocation_timeout_s,
        deadline=deadline,
        ocsp_retry_after=config.ocsp_retry_after_s,
        require_nonce=config.ocsp_require_nonce,
        cache=revocation_cache(),
        clock=_system_clock,
    )


def _system_clock() -> datetime:
    """Revocation answers are judged current by the System's clock, not this server's (egsu.ops.timekeeping)."""
    from egsu.ops.timekeeping import system_time
    from egsu_core.clock import utcnow

    return system_time(utcnow())


def message_deadline() -> float:
    """When the revocation checks of a message that starts now must have finished (EGSU_SIGNATURE_BUDGET_S)."""
    return time.monotonic() + settings.CONFIG.signature_budget_s


@cache
def system_identity(contour: str | None = None) -> SigningIdentity:
    """The System's own signing identity for answers to a system of ``contour`` (App.1 §51).

    Production (and None: a sender we do not know): EGSU_SIGNING_KEY/CERT. Test: EGSU_TEST_SIGNING_KEY/CERT,
    else, on a stand without its own production key, the test CA's "EGSU TEST SYSTEM" certificate;
    a production server without a test key answers test systems with the production key.
    """
    config = settings.CONFIG
    if contour == TEST and config.test_signing_key:
        return load_identity_files(
            config.test_signing_key, config.test_signing_cert, config.test_signing_password
        )
    if config.signing_key:
        return load_identity_files(config.signing_key, config.signing_cert, config.signing_password)
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
    for function in (test_ca, trust_store, system_identity, revocation_cache):
        function.cache_clear()


# ---------------------------------------------------------------- signing what leaves


def sign_answer(body: bytes, contour: str | None = None) -> bytes:
    """The System signs its answers and faults (App.1 §51, INT-42), with the key of the system's contour."""
    identity = system_identity(contour)
    return sign_transport(
        body,
        private_key=identity.private_key,
        certificate_der=identity.certificate_der,
        algorithm_uri=identity.algorithm_uri,
    )


def answer_verdict(contour: str | None = None) -> str:
    """The journal's verdict for an answer we signed (INT-36): which key, which certificate."""
    identity = system_identity(contour)
    cert = load_certificate(identity.certificate_der)
    method = algorithms.signature_by_uri(identity.algorithm_uri).name
    return f"signed by the System ({contour or PRODUCTION} key): {method}; {cert.subject}; serial {cert.serial:x}"


def check_signing_identity(contour: str | None = None) -> str:
    """Sign a probe with the System's key and verify it: production refuses to start otherwise (App.1 §51)."""
    from egsu_core.clock import utcnow
    from egsu_core.shep.envelope import build_fault

    probe = sign_answer(build_fault(errors.InternalError("signing self-test"), when=utcnow()), contour)
    verify_transport_signature(parse_document(probe))
    return answer_verdict(contour)


# ---------------------------------------------------------------- verifying what arrives


@dataclass(frozen=True)
class SignatureCheck:
    """What a verified (or absent but allowed) signature tells the rest of the pipeline."""

    verdict: str  # one line for the journal
    certificate: Certificate | None = None
    algorithm: str = ""
    element: etree._Element | None = None  # the element proven signed: parse only it
    result: ValidationResult | None = None  # pending revocation until ``complete``
    what: str = ""
    suffix: str = ""  # e.g. the business signature's timestamp, appended to the verdict

    @property
    def pending(self) -> bool:
        return self.result is not None and self.result.pending


def _name_key(name: str) -> str:
    return ",".join(part.strip().upper() for part in name.split(","))


def _issuer_serial_lookup(contour: str | None):
    def lookup(issuer: str, serial: int) -> bytes | None:
        """X509IssuerSerial names a certificate we must already hold (shep-notes §2b)."""
        for cert in trust_store(contour).all():
            if cert.serial == serial and _name_key(cert.issuer) == _name_key(issuer):
                return cert.der
        return None

    return lookup


SHA1_NAMES = frozenset({"RSA-SHA1", "SHA-1"})


def _allowed_algorithms() -> frozenset[str] | None:
    """The algorithm table, less SHA-1 unless EGSU_ALLOW_SHA1 (refused in production by default)."""
    if settings.CONFIG.allow_sha1:
        return None
    return frozenset(a.name for a in algorithms.supported()) - SHA1_NAMES


def _policy(system) -> CertificatePolicy:
    """SIG-12 per connected system: its policy OIDs and extended key usages (admin, workbook)."""
    allowed = _allowed_algorithms()
    if system is None:
        return CertificatePolicy(allowed_policies=None, allowed_signature_algorithms=allowed)
    return CertificatePolicy(
        allowed_policies=system.allowed_policies,
        allowed_eku=system.allowed_ekus,
        allowed_signature_algorithms=allowed,
    )


def _refuse_sha1(what: str, signature_method: str, digest_methods: tuple[str, ...]) -> None:
    """SHA-1 in an XML signature is refused unless EGSU_ALLOW_SHA1 (production default: refused)."""
    if settings.CONFIG.allow_sha1:
        return
    names = [algorithms.signature_by_uri(signature_method).name]
    names += [algorithms.digest_by_uri(uri).name for uri in digest_methods]
    if any(name in SHA1_NAMES for name in names):
        raise errors.SignatureInvalidError(
            f"{what}: SHA-1 ({', '.join(sorted(set(names) & SHA1_NAMES))}) is not accepted on this system "
            "(EGSU_ALLOW_SHA1 is off); sign with RSA-SHA256 or GOST"
        )


def _other_contour_hint(cert: Certificate, result: ValidationResult, contour: str | None) -> str:
    """When the chain fails only because the root belongs to the other contour, say so."""
    if contour is None or result.check("chain").ok:
        return ""
    other = PRODUCTION if contour == TEST else TEST
    if build_chain(cert, trust_store(other)).anchored:
        return (
            f" (the certificate chains to a {other} root, but this connected system is on the {contour} "
            f"contour, which accepts only {contour} roots)"
        )
    return ""


def _raise_for(result: ValidationResult, what: str, hint: str = "") -> None:
    if result.offline_ok:
        return
    reason = f"{what} certificate: {result.reason}{hint}"
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


def verify_transport(request, system, *, at: datetime) -> SignatureCheck:
    """The WS-Security signature on the Body, everything but revocation (SIG-03/04, SIG-05..07, SIG-10..20).

    No network: the XML signature, the chain to a configured root with every signature on it,
    validity, key usage, policy. ``system`` is the one the message claims; nothing is trusted yet.
    """
    header = request.header
    present = header is not None and header.find(WSSE_SECURITY) is not None
    required = system.require_transport_signature if system is not None else True
    if not present:
        if required:
            raise errors.NotSignedError("the message carries no WS-Security transport signature")
        return SignatureCheck("transport: not signed (not required for this system)")
    contour = _contour(system)
    signed = verify_transport_signature(request.envelope, certificate_lookup=_issuer_serial_lookup(contour))
    if signed.body is not request.body:
        raise errors.SignatureInvalidError("the signed element is not the Body that was read")
    _refuse_sha1("transport signature", signed.signature_method, (signed.digest_method,))
    cert = load_certificate(signed.certificate_der)
    result = validate_offline(
        cert, trust=trust_store(contour), at=at, purpose=Purpose.SIGN, policy=_policy(system)
    )
    _raise_for(result, "transport signature", _other_contour_hint(cert, result, contour))
    return SignatureCheck(
        "",
        certificate=cert,
        algorithm=signed.signature_method,
        element=signed.body,
        result=result,
        what="transport",
    )


def offline_verdict(check: SignatureCheck) -> str:
    """The journal's verdict for a signature verified offline whose revocation was not (yet) checked."""
    cert = check.certificate
    method = algorithms.signature_by_uri(check.algorithm).name
    return (
        f"{check.what}: {method} and chain verified offline; {cert.subject}; serial {cert.serial:x}; "
        f"BIN {cert.subject_bin}; revocation not checked (sender not authenticated)"
    )


def complete(
    check: SignatureCheck, system, *, document_id: str, deadline: float | None = None, what: str = ""
) -> SignatureCheck:
    """Stage 3 for an authenticated sender: revocation of a proven chain (SIG-08, SIG-09)."""
    if not check.pending:
        return check
    result = with_revocation(
        check.result,
        trust=trust_store(_contour(system)),
        policy=_policy(system),
        revocation=revocation_checker(deadline=deadline),
        document_id=document_id,
    )
    _raise_for(result, what or f"{check.what} signature")
    label = {"transport": "transport", "business": "business data"}.get(check.what, check.what)
    return SignatureCheck(
        _describe(label, check.algorithm, check.certificate, result) + check.suffix,
        certificate=check.certificate,
        algorithm=check.algorithm,
        element=check.element,
        result=result,
        what=check.what,
    )


def check_transport(
    request, system, *, at: datetime, document_id: str, deadline: float | None = None
) -> SignatureCheck:
    """The whole transport check in one call (tools and benchmarks; the gateway splits it)."""
    return complete(
        verify_transport(request, system, at=at), system, document_id=document_id, deadline=deadline
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


def _refuse_unsigned_siblings(data: etree._Element, signed_root: etree._Element) -> None:
    """Records beside the signed element in ``data`` are not covered: refused with a reason, never ignored."""
    children = [child for child in data if isinstance(child.tag, str)]
    others = [
        (position, child) for position, child in enumerate(children, start=1) if child is not signed_root
    ]
    text = (data.text or "").strip() or any((child.tail or "").strip() for child in data)
    if not others and not text:
        return
    named = ", ".join(
        f"<{etree.QName(child).localname}> at position {position}" for position, child in others[:5]
    )
    more = f" and {len(others) - 5} more" if len(others) > 5 else ""
    raise errors.SignatureInvalidError(
        f"business-data signature: it covers only <{etree.QName(signed_root).localname}>, and data holds "
        f"{len(others)} more element(s) outside it ({named}{more}{'; and text' if text else ''}); unsigned "
        "records are not accepted: sign the whole payload or send the records separately"
    )


def check_business(
    request, system, *, at: datetime, document_id: str, deadline: float | None = None
) -> SignatureCheck:
    """The business-data signature inside `data` (SIG-03, SIG-14): always verified when present.

    Called only for an authenticated sender, so revocation follows at once.
    """
    data = request.data
    root = find_business_signature(data) if data is not None else None
    if root is None:
        if system.require_business_signature:
            raise errors.NotSignedError("business-data signature: the data carries no signature")
        return SignatureCheck("business data: not signed (not required for this system)")
    if not (root is data or root.getparent() is data or root.getparent() is None):
        raise errors.SignatureInvalidError("business-data signature: it must cover the whole payload in data")
    if root.getparent() is data:
        _refuse_unsigned_siblings(data, root)
    signed = verify_enveloped(root)
    _refuse_sha1("business-data signature", signed.signature_method, (signed.digest_method,))
    if settings.CONFIG.require_business_timestamp and signed.timestamp_time is None:
        raise errors.SignatureInvalidError(
            "business-data signature: it carries no trusted timestamp, which this system requires "
            "(SIG-14; EGSU_REQUIRE_BUSINESS_TIMESTAMP)"
        )
    cert = load_certificate(signed.certificate_der)
    when = signed.timestamp_time or at  # SIG-14: the certificate is judged as of the trusted timestamp
    contour = _contour(system)
    result = validate_offline(
        cert, trust=trust_store(contour), at=when, purpose=Purpose.SIGN, policy=_policy(system)
    )
    _raise_for(result, "business-data signature", _other_contour_hint(cert, result, contour))
    pending = SignatureCheck(
        "",
        certificate=cert,
        algorithm=signed.signature_method,
        element=signed.element,
        result=result,
        what="business",
        suffix=f"; timestamp {signed.timestamp_time:%Y-%m-%dT%H:%M:%SZ}" if signed.timestamp_time else "",
    )
    bind_to_subject(pending, system, "business-data signature")
    check = complete(
        pending,
        system,
        document_id=document_id + ":business",
        deadline=deadline,
        what="business-data signature",
    )
    if signed.tsa_certificate_der is not None:
        tsa_policy = CertificatePolicy(key_usage={Purpose.SIGN: frozenset({"digitalSignature"})})
        tsa = validate_offline(
            load_certificate(signed.tsa_certificate_der),
            trust=trust_store(contour),
            at=when,
            policy=tsa_policy,
        )
        _raise_for(tsa, "time-stamp authority")
        tsa = with_revocation(
            tsa,
            trust=trust_store(contour),
            policy=tsa_policy,
            revocation=revocation_checker(deadline=deadline),
        )
        _raise_for(tsa, "time-stamp authority")
    return check
