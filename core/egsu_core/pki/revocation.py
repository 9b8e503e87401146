"""Is a certificate revoked? OCSP first, CRL and delta CRL when OCSP is unreachable.

SIG-08: the NCA's OCSP receipt is asked first, and a receipt obtained for a
document is kept and reused when that document is verified again (the check
then counts as of the receipt's producedAt). SIG-09: only when OCSP cannot be
reached do we read the CRL and the delta CRL at the distribution points named
in the certificate itself. An OCSP answer that arrives but does not verify
(foreign signer, wrong nonce, stale) is a failure, not a reason to fall back:
someone is answering for the NCA, and that must be looked at.

Every signature (OCSP response, delegated responder certificate, CRL) is
verified through the algorithm table, so GOST answers need no change here.

What we ask, and of whom, is bounded (no request on a stranger's behalf):

* ``check`` refuses, without any request, a certificate whose signature does not verify
  with the issuer's key (path validation only calls it for a proven chain anyway);
* only hosts on ``allowed_hosts`` are asked (the NCA's OCSP/CRL hosts by default), or the
  operator's mirrors (``url_rewrites``); never a redirect;
* ``deadline`` bounds the time one message may spend on revocation;
* CRLs are kept in one ``RevocationCache`` per process, keyed by issuer and used until their
  nextUpdate, optionally backed by a ``CrlStore`` (the database) so that a restart or another
  server does not download them again; an OCSP responder that did not answer is not asked
  again for ``ocsp_retry_after`` (SIG-09: the CRL decides meanwhile).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import threading
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from egsu_core.clock import utcnow
from egsu_core.pki.algorithms import BadSignature, UnsupportedAlgorithm, signature_by_oid
from egsu_core.pki.certs import OID_OCSP_SIGNING, Certificate, CertificateError, RevocationList, load_crl

GOOD = "good"
REVOKED = "revoked"
UNKNOWN = "unknown"
UNAVAILABLE = "unavailable"

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024

# shep-notes §3: where the NCA's OCSP responders and CRLs live (production and test).
NCA_HOSTS = frozenset(
    {"ocsp.pki.gov.kz", "crl.pki.gov.kz", "pki.gov.kz", "crl.root.gov.kz", "root.gov.kz", "test.pki.gov.kz"}
)


@dataclass(frozen=True)
class OcspReceipt:
    """An OCSP response kept as evidence (SIG-08)."""

    issuer_key_hash: bytes  # SHA-256 of the issuer's public key bits
    serial: int
    response_der: bytes
    produced_at: datetime


@dataclass(frozen=True)
class RevocationStatus:
    state: str  # good | revoked | unknown | unavailable
    source: str  # ocsp | crl | crl+delta | receipt | none
    checked_at: datetime
    detail: str
    revoked_at: datetime | None = None
    reason: str | None = None
    receipt: OcspReceipt | None = None

    @property
    def ok(self) -> bool:
        return self.state == GOOD


class ReceiptStore(Protocol):
    """Where OCSP receipts are kept; the lead backs this with the database."""

    def for_document(self, document_id: str, issuer_key_hash: bytes, serial: int) -> OcspReceipt | None: ...

    def latest(self, issuer_key_hash: bytes, serial: int) -> OcspReceipt | None: ...

    def save(self, receipt: OcspReceipt, document_id: str | None = None) -> None: ...


class MemoryReceiptStore:
    """The default receipt store: a process-local dictionary."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_document: dict[tuple[str, bytes, int], OcspReceipt] = {}
        self._latest: dict[tuple[bytes, int], OcspReceipt] = {}

    def for_document(self, document_id: str, issuer_key_hash: bytes, serial: int) -> OcspReceipt | None:
        with self._lock:
            return self._by_document.get((document_id, issuer_key_hash, serial))

    def latest(self, issuer_key_hash: bytes, serial: int) -> OcspReceipt | None:
        with self._lock:
            return self._latest.get((issuer_key_hash, serial))

    def save(self, receipt: OcspReceipt, document_id: str | None = None) -> None:
        with self._lock:
            key = (receipt.issuer_key_hash, receipt.serial)
            current = self._latest.get(key)
            if current is None or current.produced_at <= receipt.produced_at:
                self._latest[key] = receipt
            if document_id is not None:
                self._by_document.setdefault((document_id, *key), receipt)


class CrlStore(Protocol):
    """Where downloaded CRLs are kept beyond the process (the database, in the server)."""

    def load(self, issuer_key: bytes, delta: bool) -> bytes | None: ...

    def save(self, issuer_key: bytes, delta: bool, crl: RevocationList, url: str) -> None: ...


class RevocationCache:
    """One per process, shared by every message: verified CRLs by issuer, and responders known down.

    A CRL is used from here while ``now`` is inside its [thisUpdate, nextUpdate] window (a CRL
    without nextUpdate for ``crl_max_age`` after it was fetched); ``store`` (optional) keeps the
    same CRLs for other processes and the next start.
    """

    def __init__(self, store: CrlStore | None = None, crl_max_age: timedelta = timedelta(hours=24)) -> None:
        self.store = store
        self.crl_max_age = crl_max_age
        self._lock = threading.Lock()
        self._crls: dict[tuple[bytes, bool], tuple[RevocationList, datetime]] = {}
        self._down: dict[str, float] = {}  # OCSP URL → monotonic time until which it is not asked
        self._verified: OrderedDict[tuple[bytes, bytes], bool] = OrderedDict()
        self.downloads: list[str] = []  # URLs actually downloaded, for tests and benchmarks

    def crl(self, issuer_key: bytes, delta: bool, now: datetime) -> RevocationList | None:
        with self._lock:
            found = self._crls.get((issuer_key, delta))
        if found is not None and self._current(found[0], found[1], now):
            return found[0]
        return None

    def put(self, issuer_key: bytes, delta: bool, crl: RevocationList, fetched_at: datetime) -> None:
        with self._lock:
            current = self._crls.get((issuer_key, delta))
            if current is None or (current[0].number or 0) <= (crl.number or 0):
                self._crls[(issuer_key, delta)] = (crl, fetched_at)

    def _current(self, crl: RevocationList, fetched_at: datetime, now: datetime) -> bool:
        if crl.next_update is not None:
            return crl.this_update <= now + timedelta(minutes=5) and now < crl.next_update
        return now < fetched_at + self.crl_max_age

    def responder_down(self, url: str) -> bool:
        with self._lock:
            until = self._down.get(url)
        return until is not None and time.monotonic() < until

    def mark_down(self, url: str, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._down[url] = time.monotonic() + seconds

    def mark_up(self, url: str) -> None:
        with self._lock:
            self._down.pop(url, None)

    def issued_by(self, cert: Certificate, issuer: Certificate) -> bool:
        """Does ``issuer``'s key verify the signature on ``cert`` (remembered: GOST is slow)?"""
        key = (hashlib.sha256(cert.der).digest(), hashlib.sha256(issuer.spki_der).digest())
        with self._lock:
            known = self._verified.get(key)
        if known is not None:
            return known
        try:
            _verify_with_table(cert.signature_oid, issuer.spki_der, cert.signature, cert.tbs_der)
            verdict = cert.issuer_der == issuer.subject_der
        except (BadSignature, UnsupportedAlgorithm, ValueError):
            verdict = False
        with self._lock:
            self._verified[key] = verdict
            while len(self._verified) > 4096:
                self._verified.popitem(last=False)
        return verdict

    def clear(self) -> None:
        with self._lock:
            self._crls.clear()
            self._down.clear()
            self._verified.clear()
            self.downloads.clear()


class _Unavailable(Exception):
    """The source could not be reached or would not answer: try the next one."""


class _NotAllowed(_Unavailable):
    """The address is not one the operator allowed: nothing was sent."""


class _OutOfTime(_Unavailable):
    """The message's time budget is spent: nothing more is asked."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A responder that redirects could send us anywhere: a redirect is an error, never followed."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: PLR0913 - urllib's signature
        raise urllib.error.HTTPError(req.full_url, code, f"redirect to {newurl} refused", headers, fp)


_OPENER = urllib.request.build_opener(_NoRedirects)


class _Rejected(Exception):
    """An answer arrived but cannot be trusted."""


def issuer_key_hash(issuer: Certificate) -> bytes:
    return hashlib.sha256(issuer.public_key_bits).digest()


def _verify_with_table(signature_oid: str, spki_der: bytes, signature: bytes, data: bytes) -> None:
    signature_by_oid(signature_oid).verify(spki_der, signature, data)


def _same_key(a: Certificate, b: Certificate) -> bool:
    return a.der == b.der or (a.subject_der == b.subject_der and a.spki_der == b.spki_der)


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


@dataclass
class RevocationChecker:
    """Checks one certificate against its issuer's OCSP responder, or its CRLs.

    ``crls``: CRL files given by hand (``egsu pki verify --crl``); when any are
    given, nothing is fetched. ``url_rewrites`` maps URL prefixes named in
    certificates to local mirrors (air-gapped stands, tests); a rewritten address is
    allowed because the operator named it. Any other address must be on ``allowed_hosts``
    (None: any host, for tools run by hand). ``deadline`` (a ``time.monotonic()`` instant)
    bounds the whole check of one message. ``cache`` is shared by every checker of the process.
    """

    receipts: ReceiptStore = field(default_factory=MemoryReceiptStore)
    crls: Iterable[RevocationList] = ()
    url_rewrites: Mapping[str, str] = field(default_factory=dict)
    allowed_schemes: frozenset[str] = frozenset({"http", "https"})
    allowed_hosts: frozenset[str] | None = NCA_HOSTS
    timeout: float = 5.0
    deadline: float | None = None
    skew: timedelta = timedelta(minutes=5)
    ocsp_max_age: timedelta = timedelta(hours=24)  # when a response carries no nextUpdate
    ocsp_retry_after: float = 30.0  # seconds an unreachable responder is left alone (CRL meanwhile)
    require_nonce: bool = True
    clock: Callable[[], datetime] = utcnow
    cache: RevocationCache = field(default_factory=RevocationCache)
    fetched: list[str] = field(default_factory=list)  # every URL we asked, for audit and tests

    def __post_init__(self) -> None:
        self.crls = tuple(self.crls)

    # ------------------------------------------------------------------ entry point

    def check(
        self, cert: Certificate, issuer: Certificate, *, at: datetime, document_id: str | None = None
    ) -> RevocationStatus:
        """The status of ``cert`` as of ``at`` (SIG-08, SIG-09).

        ``issuer`` must be the certificate that signed ``cert``; when its key does not verify
        the signature, nothing is asked of anyone and the status is unknown.
        """
        if not self.cache.issued_by(cert, issuer):
            return RevocationStatus(
                UNKNOWN,
                "none",
                self.clock(),
                f"not checked: {cert.subject!r} is not signed by {issuer.subject!r}, so no address it names is used",
            )
        if self.crls:
            return self._check_crl(cert, issuer, at, self.crls)
        key_hash = issuer_key_hash(issuer)
        if document_id is not None:
            receipt = self.receipts.for_document(document_id, key_hash, cert.serial)
            if receipt is not None:
                return self._reuse(receipt, cert, issuer)
        notes: list[str] = []
        if cert.ocsp_urls:
            for url in cert.ocsp_urls:
                if self.cache.responder_down(url):
                    notes.append(f"OCSP {url}: did not answer a moment ago; not asked again yet")
                    continue
                try:
                    status = self._ask_ocsp(url, cert, issuer, at)
                except (_NotAllowed, _OutOfTime) as exc:
                    notes.append(f"OCSP {url}: {exc}")
                    continue
                except _Unavailable as exc:
                    self.cache.mark_down(url, self.ocsp_retry_after)
                    notes.append(f"OCSP {url}: {exc}")
                    continue
                except _Rejected as exc:
                    return RevocationStatus(
                        UNKNOWN, "ocsp", self.clock(), f"OCSP answer from {url} rejected: {exc}"
                    )
                self.cache.mark_up(url)
                if status.receipt is not None:
                    self.receipts.save(status.receipt, document_id)
                return status
        else:
            notes.append("the certificate names no OCSP responder")
        if not cert.crl_urls:
            notes.append("the certificate names no CRL distribution point")
            return RevocationStatus(UNAVAILABLE, "none", self.clock(), "; ".join(notes))
        status = self._check_crl(cert, issuer, at, None)
        if status.state == UNAVAILABLE:
            return RevocationStatus(
                UNAVAILABLE, status.source, status.checked_at, "; ".join([*notes, status.detail])
            )
        if notes:
            detail = f"{status.detail} (OCSP unreachable: {'; '.join(notes)})"
            return RevocationStatus(
                status.state, status.source, status.checked_at, detail, status.revoked_at, status.reason
            )
        return status

    # ------------------------------------------------------------------ transport

    def _rewrite(self, url: str) -> str:
        """The address to ask for ``url``: the operator's mirror, or ``url`` itself when allowed."""
        mirrored = False
        for prefix, target in sorted(self.url_rewrites.items(), key=lambda kv: -len(kv[0])):
            if url.startswith(prefix):
                url = target + url[len(prefix) :]
                mirrored = True
                break
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in self.allowed_schemes:
            raise _NotAllowed(f"scheme {scheme!r} is not allowed ({url})")
        if not mirrored and self.allowed_hosts is not None:
            host = (parts.hostname or "").lower()
            if not host_allowed(host, self.allowed_hosts):
                raise _NotAllowed(
                    f"host {host or '(none)'!r} is not on the allow-list of revocation hosts "
                    "(EGSU_PKI_ALLOWED_HOSTS, EGSU_PKI_MIRRORS); nothing was sent"
                )
        return url

    def _time_left(self) -> float:
        if self.deadline is None:
            return self.timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _OutOfTime("the time budget for this message's revocation checks is spent")
        return min(self.timeout, left)

    def _get(self, url: str, body: bytes | None = None, content_type: str | None = None) -> bytes:
        """Every request goes through here: the allow-list and the time budget, then ``_fetch``."""
        self._rewrite(url)
        self._time_left()
        return self._fetch(url, body, content_type)

    def _fetch(self, url: str, body: bytes | None = None, content_type: str | None = None) -> bytes:
        """The transport (overridden by the stand, which answers its own test CA in process)."""
        target = self._rewrite(url)
        timeout = self._time_left()
        self.fetched.append(target)
        request = urllib.request.Request(target, data=body, method="POST" if body is not None else "GET")
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with _OPENER.open(request, timeout=timeout) as reply:
                data = reply.read(MAX_DOCUMENT_BYTES + 1)
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:
                raise _Unavailable(
                    f"{target} answered a redirect (HTTP {exc.code}), which is not followed"
                ) from exc
            raise _Unavailable(f"HTTP {exc.code} from {target}") from exc
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _Unavailable(f"cannot reach {target}: {reason}") from exc
        if len(data) > MAX_DOCUMENT_BYTES:
            raise _Unavailable(f"{target} answered more than {MAX_DOCUMENT_BYTES} bytes")
        return data

    # ------------------------------------------------------------------ OCSP

    def _ask_ocsp(self, url: str, cert: Certificate, issuer: Certificate, at: datetime) -> RevocationStatus:
        last: _Unavailable | None = None
        # SHA-1 where the protocol names it (old signatures, OCSP CertID); refused or allowed by settings
        for algorithm in (hashes.SHA256(), hashes.SHA1()):  # NCANode sends SHA-256; SHA-1 for old responders  # nosec B303
            nonce = os.urandom(16)
            request = (
                ocsp.OCSPRequestBuilder()
                .add_certificate_by_hash(
                    _hash(algorithm, cert.issuer_der),
                    _hash(algorithm, issuer.public_key_bits),
                    cert.serial,
                    algorithm,
                )
                .add_extension(x509.OCSPNonce(nonce), critical=False)
                .build()
            )
            der = self._get(url, request.public_bytes(serialization.Encoding.DER), "application/ocsp-request")
            try:
                response = ocsp.load_der_ocsp_response(der)
            except ValueError as exc:
                raise _Unavailable(f"the answer is not an OCSP response: {exc}") from exc
            if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
                last = _Unavailable(f"the responder answered {response.response_status.name}")
                if response.response_status in (
                    ocsp.OCSPResponseStatus.MALFORMED_REQUEST,
                    ocsp.OCSPResponseStatus.UNAUTHORIZED,
                ):
                    continue
                raise last
            status = self._read_ocsp(der, response, cert, issuer, at, nonce=nonce, source="ocsp")
            return status
        assert last is not None
        raise last

    def _reuse(self, receipt: OcspReceipt, cert: Certificate, issuer: Certificate) -> RevocationStatus:
        """SIG-08: the stored receipt decides, as of the day it was obtained."""
        response = ocsp.load_der_ocsp_response(receipt.response_der)
        try:
            return self._read_ocsp(
                receipt.response_der,
                response,
                cert,
                issuer,
                receipt.produced_at,
                nonce=None,
                source="receipt",
            )
        except _Rejected as exc:
            return RevocationStatus(
                UNKNOWN, "receipt", receipt.produced_at, f"stored OCSP receipt rejected: {exc}"
            )

    def _read_ocsp(
        self,
        der: bytes,
        response: ocsp.OCSPResponse,
        cert: Certificate,
        issuer: Certificate,
        at: datetime,
        *,
        nonce: bytes | None,
        source: str,
    ) -> RevocationStatus:
        produced_at = response.produced_at_utc
        signer = self._ocsp_signer(response, issuer, produced_at)
        try:
            _verify_with_table(
                response.signature_algorithm_oid.dotted_string,
                signer.spki_der,
                response.signature,
                response.tbs_response_bytes,
            )
        except (BadSignature, UnsupportedAlgorithm) as exc:
            raise _Rejected(f"the response signature does not verify ({exc})") from exc
        if nonce is not None:
            try:
                echoed = response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
            except x509.ExtensionNotFound:
                echoed = None
            if echoed is None and self.require_nonce:
                raise _Rejected("the responder did not echo our nonce (possible replay)")
            if echoed is not None and echoed != nonce:
                raise _Rejected("the nonce in the response does not match our request (possible replay)")
        single = None
        for candidate in response.responses:
            algorithm = candidate.hash_algorithm
            if (
                candidate.serial_number == cert.serial
                and candidate.issuer_key_hash == _hash(algorithm, issuer.public_key_bits)
                and candidate.issuer_name_hash == _hash(algorithm, cert.issuer_der)
            ):
                single = candidate
                break
        if single is None:
            raise _Rejected(f"the response says nothing about serial {cert.serial:x}")
        now = self.clock() if source == "ocsp" else produced_at
        if single.this_update_utc > now + self.skew:
            raise _Rejected(f"thisUpdate {_fmt(single.this_update_utc)} is in the future")
        if single.next_update_utc is not None:
            if single.next_update_utc < at - self.skew:
                raise _Rejected(
                    f"the response is stale: nextUpdate {_fmt(single.next_update_utc)} is before {_fmt(at)}"
                )
        elif single.this_update_utc < at - self.ocsp_max_age:
            raise _Rejected(
                f"the response is stale: thisUpdate {_fmt(single.this_update_utc)} without nextUpdate"
            )
        checked_at = produced_at if source == "receipt" else self.clock()
        receipt = OcspReceipt(issuer_key_hash(issuer), cert.serial, der, produced_at)
        label = "stored OCSP receipt" if source == "receipt" else "OCSP"
        status = single.certificate_status
        if status == ocsp.OCSPCertStatus.GOOD:
            return RevocationStatus(
                GOOD, source, checked_at, f"{label} of {_fmt(produced_at)}: good", receipt=receipt
            )
        if status == ocsp.OCSPCertStatus.REVOKED:
            revoked_at = single.revocation_time_utc
            reason = single.revocation_reason.value if single.revocation_reason else None
            if revoked_at is not None and revoked_at > at:
                return RevocationStatus(
                    GOOD,
                    source,
                    checked_at,
                    f"{label} of {_fmt(produced_at)}: revoked only on {_fmt(revoked_at)}, after {_fmt(at)}",
                    revoked_at,
                    reason,
                    receipt,
                )
            return RevocationStatus(
                REVOKED,
                source,
                checked_at,
                f"{label} of {_fmt(produced_at)}: revoked on {_fmt(revoked_at)}"
                + (f" ({reason})" if reason else ""),
                revoked_at,
                reason,
                receipt,
            )
        return RevocationStatus(
            UNKNOWN,
            source,
            checked_at,
            f"{label} of {_fmt(produced_at)}: the responder does not know this certificate",
        )

    def _ocsp_signer(
        self, response: ocsp.OCSPResponse, issuer: Certificate, produced_at: datetime
    ) -> Certificate:
        """The issuer itself, or a responder certificate the issuer gave id-kp-OCSPSigning."""
        candidates = [issuer]
        for embedded in response.certificates:
            try:
                candidates.append(Certificate.from_der(embedded.public_bytes(serialization.Encoding.DER)))
            except CertificateError:
                continue
        key_hash = response.responder_key_hash
        name = response.responder_name
        signer = None
        for candidate in candidates:
            # SHA-1 as a protocol identifier (key id, OCSP CertID, localKeyId), not for security
            if key_hash is not None and hashlib.sha1(candidate.public_key_bits).digest() == key_hash:  # noqa: S324  # nosec B324
                signer = candidate
                break
            if name is not None and candidate.subject_der == name.public_bytes():
                signer = candidate
                break
        if signer is None:
            raise _Rejected("the responder's certificate is neither the issuer nor included in the response")
        if _same_key(signer, issuer):
            return signer
        if signer.issuer_der != issuer.subject_der:
            raise _Rejected(
                f"signed by an unauthorised responder {signer.subject!r}: not issued by {issuer.subject!r}"
            )
        if not self.cache.issued_by(signer, issuer):  # remembered per (certificate, issuer key)
            raise _Rejected(f"signed by an unauthorised responder {signer.subject!r}: not issued by the CA")
        if signer.extended_key_usage is None or OID_OCSP_SIGNING not in signer.extended_key_usage:
            raise _Rejected(f"signed by an unauthorised responder {signer.subject!r}: no id-kp-OCSPSigning")
        if not signer.valid_at(produced_at):
            raise _Rejected(
                f"the responder certificate {signer.subject!r} was not valid at {_fmt(produced_at)}"
            )
        return signer

    # ------------------------------------------------------------------ CRL

    def _download_crl(self, url: str) -> RevocationList:
        data = self._get(url)
        self.cache.downloads.append(url)
        try:
            return load_crl(data)
        except CertificateError as exc:
            raise _Unavailable(f"{url} did not return a CRL: {exc}") from exc

    def _cached_crl(
        self, urls: Iterable[str], kind: str, cert: Certificate, issuer: Certificate, at: datetime
    ) -> RevocationList:
        """The issuer's current CRL (or delta CRL): process cache, then the store, then the network."""
        delta = kind == "delta CRL"
        key = issuer_key_hash(issuer)
        now = self.clock()
        cached = self.cache.crl(key, delta, now)
        if cached is not None:
            return cached
        if self.cache.store is not None:
            stored = self.cache.store.load(key, delta)
            if stored is not None:
                try:
                    crl = load_crl(stored)
                    self._verify_crl(crl, cert, issuer, at)
                except (CertificateError, _Rejected):
                    crl = None
                if crl is not None and crl.is_delta == delta:
                    self.cache.put(key, delta, crl, now)
                    if self.cache.crl(key, delta, now) is not None:
                        return crl
        problems = []
        for url in urls:
            try:
                crl = self._download_crl(url)
            except _Unavailable as exc:
                problems.append(str(exc))
                continue
            self._verify_crl(crl, cert, issuer, at)  # only a genuine CRL of this issuer is kept
            self.cache.put(key, delta, crl, now)
            if self.cache.store is not None:
                self.cache.store.save(key, delta, crl, url)
            return crl
        raise _Unavailable(f"no {kind} could be fetched: " + "; ".join(problems))

    def _verify_crl(self, crl: RevocationList, cert: Certificate, issuer: Certificate, at: datetime) -> None:
        kind = "delta CRL" if crl.is_delta else "CRL"
        if crl.issuer_der != cert.issuer_der:
            raise _Rejected(f"the {kind} was issued by {crl.issuer!r}, not by the certificate's issuer")
        if issuer.key_usage is not None and "cRLSign" not in issuer.key_usage:
            raise _Rejected(f"the issuer {issuer.subject!r} may not sign CRLs (no cRLSign)")
        try:
            _verify_with_table(crl.signature_oid, issuer.spki_der, crl.signature, crl.tbs_der)
        except (BadSignature, UnsupportedAlgorithm) as exc:
            raise _Rejected(f"the {kind} signature does not verify ({exc})") from exc
        if crl.this_update > self.clock() + self.skew:
            raise _Rejected(f"the {kind} thisUpdate {_fmt(crl.this_update)} is in the future")
        if crl.next_update is not None and crl.next_update < at - self.skew:
            raise _Rejected(f"the {kind} is stale: nextUpdate {_fmt(crl.next_update)} is before {_fmt(at)}")

    def _check_crl(
        self, cert: Certificate, issuer: Certificate, at: datetime, given: Iterable[RevocationList] | None
    ) -> RevocationStatus:
        now = self.clock()
        try:
            if given is not None:
                bases = sorted(
                    (c for c in given if not c.is_delta and c.issuer_der == cert.issuer_der),
                    key=lambda c: c.this_update,
                )
                deltas = sorted(
                    (c for c in given if c.is_delta and c.issuer_der == cert.issuer_der),
                    key=lambda c: c.this_update,
                )
                if not bases:
                    raise _Unavailable(f"none of the CRLs given was issued by {cert.issuer!r}")
                base = bases[-1]
                delta = deltas[-1] if deltas else None
            else:
                base = self._cached_crl(cert.crl_urls, "CRL", cert, issuer, at)
                delta_urls = cert.delta_crl_urls or base.delta_crl_urls
                delta = self._cached_crl(delta_urls, "delta CRL", cert, issuer, at) if delta_urls else None
            self._verify_crl(base, cert, issuer, at)
            if base.is_delta:
                raise _Rejected("the CRL distribution point returned a delta CRL")
            if delta is not None:
                self._verify_crl(delta, cert, issuer, at)
                if not delta.is_delta:
                    raise _Rejected("the Freshest CRL point returned a full CRL, not a delta CRL")
                if (
                    base.number is not None
                    and delta.delta_base is not None
                    and delta.delta_base > base.number
                ):
                    raise _Rejected(f"the delta CRL needs base CRL {delta.delta_base}, we have {base.number}")
        except _Unavailable as exc:
            return RevocationStatus(UNAVAILABLE, "crl", now, str(exc))
        except _Rejected as exc:
            return RevocationStatus(UNKNOWN, "crl", now, str(exc))
        source = "crl+delta" if delta is not None else "crl"
        entry = None
        if delta is not None:
            entry = delta.entry(cert.serial)
        if entry is None:
            entry = base.entry(cert.serial)
        lists = f"CRL {base.number} of {_fmt(base.this_update)}" + (
            f" and delta CRL {delta.number}" if delta is not None else ""
        )
        if entry is None or entry.reason == "removeFromCRL":
            return RevocationStatus(GOOD, source, now, f"{lists}: not listed")
        if entry.revoked_at > at:
            return RevocationStatus(
                GOOD, source, now, f"{lists}: revoked only on {_fmt(entry.revoked_at)}, after {_fmt(at)}",
                entry.revoked_at, entry.reason,
            )  # fmt: skip
        reason = f" ({entry.reason})" if entry.reason else ""
        return RevocationStatus(
            REVOKED,
            source,
            now,
            f"{lists}: revoked on {_fmt(entry.revoked_at)}{reason}",
            entry.revoked_at,
            entry.reason,
        )


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """``host`` is named on the list (``.example.kz`` also allows its sub-domains).

    An IP address is allowed only when written on the list itself: a certificate naming
    127.0.0.1 or 169.254.169.254 never matches a name.
    """
    host = host.strip("[]").lower()
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        is_ip = False
    else:
        is_ip = True
    for entry in allowed:
        entry = entry.strip().lower()
        if not entry:
            continue
        if host == entry.strip("[]"):
            return True
        if not is_ip and entry.startswith(".") and host.endswith(entry):
            return True
    return False


def _hash(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    digest = hashes.Hash(algorithm)
    digest.update(data)
    return digest.finalize()
