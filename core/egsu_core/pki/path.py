"""Certification path validation by the NCA rules (App.1 §16, SIG-05..SIG-15).

In three visible stages: (1) ``build_chain`` from the leaf through the intermediates to a
root the operator configured; (2) ``chain_signature_problems``: every signature on that chain
verified with the next certificate's key, and the offline checks (``validate_offline``); (3)
``with_revocation``: OCSP/CRL, which uses the addresses a certificate names only when stages 1
and 2 proved the chain. A certificate that merely *names* a trusted CA as its issuer never
makes us send a request anywhere (no network call on behalf of a stranger).

``validate`` runs every check, even after one has failed, and returns each
with a verdict and a sentence a person can act on. Any failed check makes the
path invalid (SIG-15). The status tells the gateway which code to answer:
"not_current" (SCE005) when the only failures are expiry, a validity period
not yet begun, or revocation; "invalid" (SCE006) for everything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType

from egsu_core.pki.algorithms import BadSignature, UnsupportedAlgorithm, signature_by_oid
from egsu_core.pki.certs import Certificate, RevocationList
from egsu_core.pki.revocation import GOOD, REVOKED, UNAVAILABLE, RevocationChecker, RevocationStatus
from egsu_core.pki.trust import TrustStore

VALID = "valid"
INVALID = "invalid"
NOT_CURRENT = "not_current"

# shep-notes §3: Treasury-Client (K2) / notary certificates that integrators are told to exclude.
EKU_TREASURY_CLIENT = "1.2.398.5.19.1.2.2.1"


class Purpose(StrEnum):
    SIGN = "sign"
    AUTH = "auth"


SIG11_KEY_USAGE = MappingProxyType(
    {
        Purpose.SIGN: frozenset({"digitalSignature", "nonRepudiation"}),  # SIG-11
        Purpose.AUTH: frozenset({"digitalSignature", "keyEncipherment"}),  # SIG-11
    }
)


@dataclass(frozen=True)
class CertificatePolicy:
    """What a connected system accepts (SIG-11, SIG-12); strict by default."""

    key_usage: Mapping[Purpose, frozenset[str]] = field(default_factory=lambda: SIG11_KEY_USAGE, hash=False)
    allowed_policies: frozenset[str] | None = None  # None: any certificate policy
    required_eku: frozenset[str] = frozenset()
    allowed_eku: frozenset[str] | None = None  # SIG-12 per system: at least one of these; None: any
    forbidden_eku: frozenset[str] = frozenset({EKU_TREASURY_CLIENT})
    allowed_signature_algorithms: frozenset[str] | None = (
        None  # names in the algorithm table; None: the table
    )
    check_revocation: bool = True
    revocation_soft_fail: bool = False
    max_chain_length: int = 6  # certificates, the leaf and the anchor included


DEFAULT_POLICY = CertificatePolicy()


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    not_current: bool = False  # a failure that means "no longer / not yet valid" rather than "invalid"


@dataclass(frozen=True)
class ValidationResult:
    subject: Certificate | RevocationList  # what was validated
    checks: tuple[Check, ...]
    chain: tuple[Certificate, ...]  # leaf first, the trusted anchor last (when one was reached)
    at: datetime
    revocation: RevocationStatus | None = None
    chain_verified: bool = False  # stage 2 passed: anchored, and every signature on the chain verifies
    pending: bool = False  # revocation (stage 3) not yet checked: see with_revocation

    @property
    def valid(self) -> bool:
        """Every check passed; a result whose revocation is still pending is not valid yet."""
        return not self.pending and all(check.ok for check in self.checks)

    @property
    def offline_ok(self) -> bool:
        """Every check made so far passed (stages 1 and 2 and the offline checks)."""
        return all(check.ok for check in self.checks)

    @property
    def status(self) -> str:
        failures = self.failures
        if not failures:
            return VALID
        if all(check.not_current for check in failures):
            return NOT_CURRENT
        return INVALID

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.ok)

    @property
    def reason(self) -> str:
        """One sentence for a fault message: the first failure, or empty when valid."""
        failures = self.failures
        return f"{failures[0].name}: {failures[0].detail}" if failures else ""

    @property
    def checked_at(self) -> datetime:
        """When the decision counts as made: a reused OCSP receipt's date, otherwise ``at`` (SIG-08)."""
        if self.revocation is not None and self.revocation.source == "receipt":
            return self.revocation.checked_at
        return self.at

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    @property
    def certificate(self) -> Certificate | None:
        return self.subject if isinstance(self.subject, Certificate) else None


def subject_bin(cert: Certificate) -> str | None:
    """The BIN of the legal entity in ``OU=BIN…`` (or serialNumber=BIN…), for binding to the sender."""
    return cert.subject_bin


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


def _name(cert: Certificate) -> str:
    return f"'{cert.common_name}'"


def _validity(cert: Certificate, at: datetime, role: str) -> str | None:
    if at < cert.not_before:
        return f"the {role} certificate {_name(cert)} is not yet valid: its validity begins {_fmt(cert.not_before)}"
    if at > cert.not_after:
        return f"the {role} certificate {_name(cert)} expired on {_fmt(cert.not_after)}"
    return None


def _signed_by(cert: Certificate, issuer: Certificate) -> bool:
    """Does the issuer's key verify the signature on ``cert``? Remembered per pair of DER encodings.

    The answer is a fact about two byte strings (the certificate, signature included, and the
    issuer's public key), true at any time; every message of a sender brings the same chain, so
    each pair is verified once per process (a pure-Python GOST verification costs milliseconds).
    Nothing else is remembered: validity, key usage, policy and revocation are judged for every
    message (SIG-06, SIG-08, SIG-11).
    """
    return _verifies(cert.der, cert.signature_oid, cert.signature, cert.tbs_der, issuer.spki_der)


@lru_cache(maxsize=4096)
def _verifies(
    _cert_der: bytes, signature_oid: str, signature: bytes, tbs_der: bytes, spki_der: bytes
) -> bool:
    try:
        signature_by_oid(signature_oid).verify(spki_der, signature, tbs_der)
    except (BadSignature, UnsupportedAlgorithm, ValueError):
        return False
    return True


def _build_chain(
    cert: Certificate, trust: TrustStore, intermediates: tuple[Certificate, ...], max_length: int
) -> tuple[list[Certificate], str | None]:
    """Leaf → … → anchor, preferring issuers whose signature verifies; or the partial chain and why not."""
    best: list[Certificate] = [cert]
    best_reason = ""

    def walk(chain: list[Certificate]) -> list[Certificate] | None:
        nonlocal best, best_reason
        tip = chain[-1]
        if trust.is_anchor(tip):
            return chain
        if len(chain) >= max_length:
            if len(chain) >= len(best):
                best, best_reason = chain, f"the chain is longer than {max_length} certificates"
            return None
        if tip.is_self_issued and _signed_by(tip, tip):
            candidates = []  # a self-signed root ends the chain; another CA with its name is no issuer
        else:
            candidates = [
                c for c in trust.issuers_of(tip, intermediates) if all(c.der != x.der for x in chain)
            ]
            candidates.sort(key=lambda c: (not _signed_by(tip, c), not trust.is_anchor(c)))
        if not candidates:
            if len(chain) >= len(best):
                if tip.is_self_issued:
                    reason = f"the root {_name(tip)} is not a trusted root (unknown CA); ask the operator"
                else:
                    reason = (
                        f"the issuer certificate '{tip.issuer}' of {_name(tip)} was not found: the intermediate "
                        "certificate is missing or the CA is unknown; add it to the trust store or send it along"
                    )
                best, best_reason = chain, reason
            return None
        for candidate in candidates:
            found = walk([*chain, candidate])
            if found is not None:
                return found
        return None

    found = walk([cert])
    if found is not None:
        return found, None
    return best, best_reason


@dataclass(frozen=True)
class ChainBuild:
    """Stage 1: the chain as built from names and key identifiers, and why it is incomplete."""

    chain: tuple[Certificate, ...]  # leaf first; the anchor last when one was reached
    problem: str | None  # None: an anchor of the trust store was reached

    @property
    def anchored(self) -> bool:
        return self.problem is None


def build_chain(
    cert: Certificate,
    trust: TrustStore,
    intermediates: Iterable[Certificate] = (),
    max_length: int = DEFAULT_POLICY.max_chain_length,
) -> ChainBuild:
    """Stage 1 (SIG-07, SIG-10): leaf → intermediates → a configured trust root, offline."""
    chain, problem = _build_chain(cert, trust, tuple(intermediates), max_length)
    return ChainBuild(tuple(chain), problem)


def chain_signature_problems(chain: tuple[Certificate, ...]) -> list[str]:
    """Stage 2: every issuer signature on the chain, each with the key of the next certificate."""
    return [
        f"the signature on {_name(child)} does not verify with the key of {_name(parent)} "
        "(the certificate was altered or issued by someone else)"
        for child, parent in zip(chain, chain[1:], strict=False)
        if not _signed_by(child, parent)
    ]


def validate(
    cert: Certificate,
    *,
    trust: TrustStore,
    at: datetime,
    purpose: Purpose | str = Purpose.SIGN,
    policy: CertificatePolicy = DEFAULT_POLICY,
    revocation: RevocationChecker | None = None,
    intermediates: Iterable[Certificate] = (),
    document_id: str | None = None,
) -> ValidationResult:
    """Every App.1 §16 check of ``cert`` as of ``at``; ``document_id`` enables OCSP receipt reuse (SIG-08).

    The stages run in order: build the chain, verify every signature on it up to a configured
    trust root and the offline checks (``validate_offline``), and only then revocation
    (``with_revocation``), which uses no address at all unless stage 2 proved the chain.
    """
    offline = validate_offline(
        cert, trust=trust, at=at, purpose=purpose, policy=policy, intermediates=intermediates
    )
    return with_revocation(
        offline, trust=trust, policy=policy, revocation=revocation, document_id=document_id
    )


def validate_offline(
    cert: Certificate,
    *,
    trust: TrustStore,
    at: datetime,
    purpose: Purpose | str = Purpose.SIGN,
    policy: CertificatePolicy = DEFAULT_POLICY,
    intermediates: Iterable[Certificate] = (),
) -> ValidationResult:
    """Stages 1 and 2 and every check that needs no network; revocation is left pending."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: pass an aware instant")
    purpose = Purpose(purpose)
    checks: list[Check] = []

    # SIG-06: the validity period has begun and has not ended.
    problem = _validity(cert, at, "signer's")
    checks.append(
        Check("validity", problem is None, problem or f"valid from {_fmt(cert.not_before)} to {_fmt(cert.not_after)}",
              not_current=problem is not None)
    )  # fmt: skip

    # Stage 1 — SIG-07, SIG-10: a chain through every intermediate to a configured trusted root.
    built = build_chain(cert, trust, intermediates, policy.max_chain_length)
    chain = built.chain
    names = " → ".join(_name(c) for c in chain)
    checks.append(
        Check("chain", built.anchored, f"{names} (trusted)" if built.anchored else built.problem or "")
    )

    # Stage 2 — each issuer signature through the algorithm table.
    bad = chain_signature_problems(chain)
    if len(chain) < 2:
        checks.append(Check("issuer signature", False, "not checked: no issuer certificate was found"))
    else:
        checks.append(
            Check("issuer signature", not bad, "; ".join(bad) or f"{len(chain) - 1} signature(s) verified")
        )
    verified = built.anchored and len(chain) >= 2 and not bad

    # Allowed signature algorithms (names from the table).
    algorithm_problems = []
    for member in chain[:-1] if built.anchored else chain:
        try:
            name = signature_by_oid(member.signature_oid).name
        except UnsupportedAlgorithm:
            algorithm_problems.append(
                f"{_name(member)} is signed with unsupported algorithm {member.signature_oid}"
            )
            continue
        if (
            policy.allowed_signature_algorithms is not None
            and name not in policy.allowed_signature_algorithms
        ):
            algorithm_problems.append(
                f"{_name(member)} is signed with {name}, which this system does not accept"
            )
    checks.append(
        Check("signature algorithm", not algorithm_problems, "; ".join(algorithm_problems) or "allowed")
    )

    # Every CA certificate: basicConstraints CA=true and keyCertSign, path length respected.
    ca_problems = []
    for depth, issuer in enumerate(chain[1:]):
        if not issuer.is_ca:
            ca_problems.append(f"{_name(issuer)} is not a CA certificate (basicConstraints CA is not true)")
        if issuer.key_usage is not None and "keyCertSign" not in issuer.key_usage:
            ca_problems.append(f"{_name(issuer)} may not sign certificates (no keyCertSign)")
        if issuer.path_length is not None and depth > issuer.path_length:
            ca_problems.append(
                f"{_name(issuer)} allows {issuer.path_length} intermediate(s) below it, found {depth}"
            )
    if len(chain) > 1:
        checks.append(
            Check("CA certificates", not ca_problems, "; ".join(ca_problems) or "all issuers are CAs")
        )

    # Validity of every issuer in the chain.
    issuer_validity = [p for p in (_validity(c, at, "issuer") for c in chain[1:]) if p]
    if len(chain) > 1:
        checks.append(
            Check("chain validity", not issuer_validity, "; ".join(issuer_validity) or "every issuer is valid",
                  not_current=bool(issuer_validity))
        )  # fmt: skip

    # SIG-11: key usage by purpose.
    required = policy.key_usage[purpose]
    if cert.key_usage is None:
        checks.append(Check("key usage", False, f"the certificate has no KeyUsage; {purpose.value} needs "
                            + ", ".join(sorted(required))))  # fmt: skip
    else:
        missing = sorted(required - cert.key_usage)
        checks.append(
            Check(
                "key usage",
                not missing,
                f"{purpose.value} needs {', '.join(sorted(required))}; missing: {', '.join(missing)}"
                if missing
                else f"{', '.join(sorted(cert.key_usage))} (enough for {purpose.value})",
            )
        )

    # SIG-12: certificate policy OIDs.
    if policy.allowed_policies is None:
        checks.append(
            Check("policy", True, f"any policy accepted; the certificate has {_oids(cert.policies)}")
        )
    else:
        matching = cert.policies & policy.allowed_policies
        checks.append(
            Check(
                "policy",
                bool(matching),
                f"{_oids(matching)} allowed"
                if matching
                else f"the certificate's policies {_oids(cert.policies)} are not among those this system accepts "
                f"({_oids(policy.allowed_policies)})",
            )
        )

    # SIG-12 "permitted uses": extended key usage.
    eku = cert.extended_key_usage or frozenset()
    eku_problems = []
    missing_eku = policy.required_eku - eku
    if missing_eku:
        eku_problems.append(f"missing required extended key usage {_oids(missing_eku)}")
    if policy.allowed_eku is not None and not (eku & policy.allowed_eku):
        eku_problems.append(
            f"its extended key usages {_oids(eku)} include none this system accepts ({_oids(policy.allowed_eku)})"
        )
    forbidden = policy.forbidden_eku & eku
    if forbidden:
        eku_problems.append(f"carries forbidden extended key usage {_oids(forbidden)}")
    checks.append(Check("extended key usage", not eku_problems, "; ".join(eku_problems) or f"{_oids(eku)}"))

    return ValidationResult(
        cert, tuple(checks), tuple(chain), at, None, chain_verified=verified, pending=True
    )


def with_revocation(
    result: ValidationResult,
    *,
    trust: TrustStore,
    policy: CertificatePolicy = DEFAULT_POLICY,
    revocation: RevocationChecker | None = None,
    document_id: str | None = None,
) -> ValidationResult:
    """Stage 3 — SIG-08, SIG-09: revocation of the leaf, and of intermediates that name where to check.

    Only a chain proven in stage 2 (anchored, every signature verified) is ever checked: the
    addresses in a certificate nobody trusted are never used (no request on a stranger's behalf).
    """
    if not result.pending:
        return result
    chain, at = result.chain, result.at
    leaf_status = None
    if not policy.check_revocation:
        check = Check("revocation", True, "not checked: this system's policy does not require it")
    elif not result.chain_verified:
        check = Check(
            "revocation",
            False,
            "not checked: the chain does not verify up to a trusted root, so no address it names was used",
        )
    elif revocation is None:
        check = Check("revocation", False, "not checked: no revocation checker is configured")
    else:
        check, leaf_status = _revocation_check(chain, trust, revocation, at, policy, document_id)
    checks = list(result.checks)
    names = [c.name for c in checks]
    position = names.index("chain validity") + 1 if "chain validity" in names else len(checks)
    checks.insert(position, check)
    return replace(result, checks=tuple(checks), revocation=leaf_status, pending=False)


def _revocation_check(
    chain: tuple[Certificate, ...],
    trust: TrustStore,
    revocation: RevocationChecker,
    at: datetime,
    policy: CertificatePolicy,
    document_id: str | None,
) -> tuple[Check, RevocationStatus | None]:
    leaf_status = None
    details: list[str] = []
    failed_states: list[str] = []
    for index, (child, parent) in enumerate(zip(chain, chain[1:], strict=False)):
        if trust.is_anchor(child):
            break
        if index > 0 and not (child.crl_urls or child.ocsp_urls):
            continue  # an intermediate is checked only when it names where to check it
        if (
            index > 0
            and revocation.crls
            and not any(c.issuer_der == child.issuer_der for c in revocation.crls)
        ):
            details.append(f"intermediate {_name(child)}: no CRL of its issuer was given; not checked")
            continue
        status = revocation.check(child, parent, at=at, document_id=document_id if index == 0 else None)
        if index == 0:
            leaf_status = status
        label = "" if index == 0 else f"intermediate {_name(child)}: "
        if status.state == GOOD:
            details.append(label + status.detail)
        elif status.state == UNAVAILABLE and policy.revocation_soft_fail:
            details.append(label + f"could not be checked ({status.detail}); accepted by soft-fail policy")
        else:
            failed_states.append(status.state)
            prefix = {
                REVOKED: "the certificate is revoked",
                UNAVAILABLE: "revocation could not be checked",
            }.get(status.state, "revocation status is unknown")
            details.append(f"{label}{prefix}: {status.detail}")
    only_revoked = bool(failed_states) and all(state == REVOKED for state in failed_states)
    return Check("revocation", not failed_states, "; ".join(details), not_current=only_revoked), leaf_status


def _oids(oids: Iterable[str]) -> str:
    items = sorted(oids)
    return ", ".join(items) if items else "none"


def validate_crl(
    crl: RevocationList,
    *,
    trust: TrustStore,
    at: datetime,
    intermediates: Iterable[Certificate] = (),
    max_chain_length: int = DEFAULT_POLICY.max_chain_length,
) -> ValidationResult:
    """Is this CRL genuine and current at ``at``: its signature, its issuer's chain, its update window."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: pass an aware instant")
    intermediates = tuple(intermediates)
    checks: list[Check] = []
    candidates = [
        c
        for c in (*intermediates, *trust.all())
        if c.subject_der == crl.issuer_der
        and (
            crl.authority_key_id is None
            or c.subject_key_id is None
            or c.subject_key_id == crl.authority_key_id
        )
    ]
    verifying = [c for c in candidates if _crl_signed_by(crl, c)]
    issuer = (verifying or candidates or [None])[0]
    if issuer is None:
        checks.append(
            Check("issuer", False, f"the CRL issuer '{crl.issuer}' is not in the trust store or the chain")
        )
        checks.append(Check("CRL signature", False, "not checked: the issuer certificate is unknown"))
        chain: list[Certificate] = []
    else:
        checks.append(Check("issuer", True, f"issued by {_name(issuer)}"))
        problems = []
        if not verifying:
            problems.append(f"the CRL signature does not verify with the key of {_name(issuer)}")
        if issuer.key_usage is not None and "cRLSign" not in issuer.key_usage:
            problems.append(f"{_name(issuer)} may not sign CRLs (no cRLSign)")
        checks.append(Check("CRL signature", not problems, "; ".join(problems) or "verified"))
        chain, chain_problem = _build_chain(issuer, trust, intermediates, max_chain_length)
        names = " → ".join(_name(c) for c in chain)
        checks.append(
            Check(
                "chain",
                chain_problem is None,
                f"{names} (trusted)" if chain_problem is None else chain_problem,
            )
        )
        bad = [
            f"the signature on {_name(child)} does not verify with the key of {_name(parent)}"
            for child, parent in zip(chain, chain[1:], strict=False)
            if not _signed_by(child, parent)
        ]
        checks.append(Check("issuer signature", not bad, "; ".join(bad) or "verified"))
        expired = [p for p in (_validity(c, at, "issuer") for c in chain) if p]
        checks.append(
            Check("chain validity", not expired, "; ".join(expired) or "every issuer is valid", bool(expired))
        )
    window = f"thisUpdate {_fmt(crl.this_update)}, nextUpdate " + (
        _fmt(crl.next_update) if crl.next_update else "absent"
    )
    if at < crl.this_update:
        checks.append(Check("validity", False, f"the CRL was not yet issued at {_fmt(at)} ({window})", True))
    elif crl.next_update is not None and at > crl.next_update:
        checks.append(Check("validity", False, f"the CRL is stale at {_fmt(at)} ({window})", True))
    else:
        checks.append(Check("validity", True, window))
    return ValidationResult(crl, tuple(checks), tuple(chain), at)


def _crl_signed_by(crl: RevocationList, issuer: Certificate) -> bool:
    try:
        signature_by_oid(crl.signature_oid).verify(issuer.spki_der, crl.signature, crl.tbs_der)
    except (BadSignature, UnsupportedAlgorithm, ValueError):
        return False
    return True
