"""Path validation by App.1 §16: one test per failure, each with its status and an actionable reason."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest

from egsu_core.clock import utcnow
from egsu_core.pki.certs import Certificate
from egsu_core.pki.path import INVALID, NOT_CURRENT, VALID, CertificatePolicy, Purpose, validate
from egsu_core.pki.revocation import RevocationChecker
from egsu_core.pki.testca import EKU_CEO, EKU_EMAIL_PROTECTION, POLICY_LEGAL_AUTH, POLICY_LEGAL_SIGN
from egsu_core.pki.trust import TrustStore

from .conftest import BASE_URL, BIN


def test_a_well_formed_signing_certificate_is_valid(issue, trust, checker):
    # given a legal entity's signing certificate from the test CA
    cert = issue().certificate
    # when it is validated for signing now
    result = validate(cert, trust=trust, at=utcnow(), purpose=Purpose.SIGN, revocation=checker)
    # then every check passes and the chain reaches the root
    assert [c.name for c in result.failures] == []
    assert result.valid is True
    assert result.status == VALID
    assert [c.common_name for c in result.chain] == [
        "ТЕСТОВ ТЕСТ",
        "EGSU TEST CA (RSA)",
        "EGSU TEST ROOT CA (RSA)",
    ]
    assert result.revocation is not None and result.revocation.source == "ocsp"
    assert [c.name for c in result.checks] == [
        "validity", "chain", "issuer signature", "signature algorithm", "CA certificates",
        "chain validity", "revocation", "key usage", "policy", "extended key usage",
    ]  # fmt: skip


def test_the_certificate_names_its_subject_bin_and_iin(issue):
    cert = issue().certificate
    assert (cert.subject_bin, cert.subject_iin) == (BIN, "123456789011")
    assert cert.ocsp_urls == (f"{BASE_URL}/ocsp",)
    assert cert.crl_urls == (f"{BASE_URL}/crl/intermediate.crl",)
    assert cert.delta_crl_urls == (f"{BASE_URL}/crl/intermediate-delta.crl",)
    assert cert.ca_issuers_urls == (f"{BASE_URL}/ca.crt",)


def _tampered(cert: Certificate) -> Certificate:
    der = cert.der.replace(f"BIN{BIN}".encode(), b"BIN999999999999")
    assert der != cert.der
    return Certificate.from_der(der)


NOW = utcnow()

CASES = [
    pytest.param(
        {"not_before": NOW - timedelta(days=400), "not_after": NOW - timedelta(days=1)},
        {}, "sign", NOT_CURRENT, "validity", "expired on", id="expired",
    ),
    pytest.param(
        {"not_before": NOW + timedelta(days=1), "not_after": NOW + timedelta(days=30)},
        {}, "sign", NOT_CURRENT, "validity", "not yet valid", id="not-yet-valid",
    ),
    pytest.param(
        {"key_usage": ["digitalSignature"]}, {}, "sign", INVALID, "key usage", "missing: nonRepudiation",
        id="wrong-key-usage-sign",
    ),
    pytest.param(
        {}, {}, "auth", INVALID, "key usage", "missing: keyEncipherment", id="sign-certificate-used-for-auth",
    ),
    pytest.param(
        {"policies": [POLICY_LEGAL_AUTH]}, {"allowed_policies": frozenset({POLICY_LEGAL_SIGN})}, "sign", INVALID,
        "policy", "are not among those this system accepts", id="disallowed-policy",
    ),
    pytest.param(
        {"eku": [EKU_CEO, "1.2.398.5.19.1.2.2.1"]}, {}, "sign", INVALID, "extended key usage",
        "forbidden extended key usage 1.2.398.5.19.1.2.2.1", id="forbidden-eku",
    ),
    pytest.param(
        {"eku": [EKU_EMAIL_PROTECTION]}, {"required_eku": frozenset({EKU_CEO})}, "sign", INVALID,
        "extended key usage", f"missing required extended key usage {EKU_CEO}", id="missing-required-eku",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("options", "policy", "purpose", "status", "check", "reason"), CASES)
def test_each_failure_has_its_status_and_reason(
    issue, trust, checker, options, policy, purpose, status, check, reason
):
    # given a certificate with one defect
    cert = issue(**options).certificate
    # when it is validated
    result = validate(
        cert,
        trust=trust,
        at=utcnow(),
        purpose=purpose,
        policy=CertificatePolicy(**policy),
        revocation=checker,
    )
    # then exactly that check fails, with a reason a person can act on
    assert result.valid is False
    assert result.status == status
    assert [c.name for c in result.failures] == [check]
    assert reason in result.check(check).detail


def test_a_tampered_certificate_fails_the_issuer_signature(issue, trust, checker):
    cert = _tampered(issue().certificate)
    result = validate(cert, trust=trust, at=utcnow(), purpose="sign", revocation=checker)
    assert result.status == INVALID
    assert "issuer signature" in [c.name for c in result.failures]
    assert "does not verify with the key of 'EGSU TEST CA (RSA)'" in result.check("issuer signature").detail


def test_a_missing_intermediate_is_named(ca, issue, checker):
    # given a trust store with the root only and no intermediate sent along
    trust = TrustStore([ca.root_certificate])
    result = validate(issue().certificate, trust=trust, at=utcnow(), purpose="sign", revocation=checker)
    assert result.status == INVALID
    assert "the intermediate certificate is missing" in result.check("chain").detail
    assert "CN=EGSU TEST CA (RSA)" in result.check("chain").detail


def test_the_intermediate_may_come_with_the_document(ca, issue, checker):
    trust = TrustStore([ca.root_certificate])
    result = validate(
        issue().certificate, trust=trust, at=utcnow(), purpose="sign", revocation=checker,
        intermediates=[ca.intermediate_certificate],
    )  # fmt: skip
    assert result.status == VALID


def test_a_certificate_of_an_unknown_ca_is_invalid(other_ca, leaf_key, trust, checker):
    cert = other_ca.issue_subject(BIN, "X", "A B", "123456789011", key=leaf_key).certificate
    # even when its own intermediate is sent along, its root is not trusted
    result = validate(
        cert, trust=trust, at=utcnow(), purpose="sign", revocation=checker,
        intermediates=[other_ca.intermediate_certificate, other_ca.root_certificate],
    )  # fmt: skip
    assert result.status == INVALID
    assert result.check("chain").detail == (
        "the root 'EGSU TEST ROOT CA (RSA)' is not a trusted root (unknown CA); ask the operator"
    )


def test_an_expired_certificate_that_is_also_forged_is_invalid_not_just_expired(issue, trust, checker):
    cert = _tampered(
        issue(not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=1)).certificate
    )
    result = validate(cert, trust=trust, at=utcnow(), purpose="sign", revocation=checker)
    assert result.status == INVALID


def test_an_archived_document_is_checked_as_of_its_date(issue, trust, checker):
    # given a certificate that expired an hour ago, checked as of a moment inside its validity
    cert = issue(not_before=NOW - timedelta(hours=12), not_after=NOW - timedelta(hours=1)).certificate
    now = validate(cert, trust=trust, at=utcnow(), purpose="sign", revocation=checker)
    then = validate(cert, trust=trust, at=NOW - timedelta(hours=2), purpose="sign", revocation=checker)
    assert (now.status, then.status) == (NOT_CURRENT, VALID)


def test_revocation_is_required_unless_the_policy_waives_it(issue, trust):
    cert = issue().certificate
    missing = validate(cert, trust=trust, at=utcnow(), purpose="sign", revocation=None)
    waived = validate(
        cert, trust=trust, at=utcnow(), purpose="sign", revocation=None,
        policy=CertificatePolicy(check_revocation=False),
    )  # fmt: skip
    assert (missing.status, missing.check("revocation").detail) == (
        INVALID, "not checked: no revocation checker is configured",
    )  # fmt: skip
    assert waived.status == VALID


def test_revoked_via_ocsp_is_not_current(ca, issue, trust, checker):
    issued = issue()
    ca.revoke(issued.serial, "keyCompromise", utcnow() - timedelta(minutes=1))
    result = validate(issued.certificate, trust=trust, at=utcnow(), purpose="sign", revocation=checker)
    assert result.status == NOT_CURRENT
    assert result.revocation.source == "ocsp"
    assert "the certificate is revoked: OCSP of" in result.check("revocation").detail
    assert "(keyCompromise)" in result.check("revocation").detail


@pytest.mark.parametrize("outage", ["http-503", "connection-refused"])
def test_revoked_via_crl_while_ocsp_is_down(ca, issue, trust, server, outage):
    # given a revoked certificate, a published CRL and delta CRL, and no OCSP
    issued = issue()
    ca.crl()
    ca.revoke(issued.serial, "superseded", utcnow() - timedelta(minutes=1))
    ca.crl(delta=True)  # the revocation is only in the delta CRL
    rewrites = {BASE_URL: server.url}
    if outage == "http-503":
        server.ocsp_available = False
    else:
        rewrites[f"{BASE_URL}/ocsp"] = "http://127.0.0.1:9"  # discard port: nothing listens
    checker = RevocationChecker(url_rewrites=rewrites, timeout=2)
    # when it is validated
    result = validate(issued.certificate, trust=trust, at=utcnow(), purpose="sign", revocation=checker)
    # then the CRL fallback found it
    assert result.status == NOT_CURRENT
    assert result.revocation.source == "crl+delta"
    assert result.revocation.reason == "superseded"
    assert "OCSP unreachable" in result.check("revocation").detail


def test_when_neither_ocsp_nor_crl_answers_the_path_is_invalid_unless_soft_fail(issue, trust):
    cert = issue().certificate
    checker = RevocationChecker(url_rewrites={BASE_URL: "http://127.0.0.1:9"}, timeout=2)
    hard = validate(cert, trust=trust, at=utcnow(), purpose="sign", revocation=checker)
    soft = validate(
        cert, trust=trust, at=utcnow(), purpose="sign", revocation=checker,
        policy=CertificatePolicy(revocation_soft_fail=True),
    )  # fmt: skip
    assert hard.status == INVALID
    assert hard.check("revocation").detail.startswith(
        "revocation could not be checked: OCSP http://pki.test/ocsp"
    )
    assert soft.status == VALID
    assert "accepted by soft-fail policy" in soft.check("revocation").detail


def test_an_ocsp_answer_from_an_unauthorised_responder_is_refused(
    ca, other_ca, issue, trust, server, checker
):
    server.ocsp_handler = partial(ca.ocsp_response, signer=(other_ca.responder.cert, other_ca.responder.key))
    result = validate(issue().certificate, trust=trust, at=utcnow(), purpose="sign", revocation=checker)
    assert result.status == INVALID
    assert "signed by an unauthorised responder" in result.check("revocation").detail


def test_an_ocsp_answer_signed_by_a_certificate_without_ocsp_signing_is_refused(
    ca, issue, trust, server, checker
):
    # given a responder certificate issued by the right CA but without id-kp-OCSPSigning
    rogue = issue()
    server.ocsp_handler = partial(ca.ocsp_response, signer=(rogue.certificate.crypto, rogue.key))
    result = validate(issue().certificate, trust=trust, at=utcnow(), purpose="sign", revocation=checker)
    assert result.status == INVALID
    assert "no id-kp-OCSPSigning" in result.check("revocation").detail


def test_a_stale_ocsp_answer_is_refused(ca, issue, trust, server, checker):
    server.ocsp_handler = partial(
        ca.ocsp_response, this_update=utcnow() - timedelta(days=2), next_update=utcnow() - timedelta(days=1)
    )
    result = validate(issue().certificate, trust=trust, at=utcnow(), purpose="sign", revocation=checker)
    assert result.status == INVALID
    assert "the response is stale: nextUpdate" in result.check("revocation").detail


def test_an_ocsp_answer_with_another_nonce_is_refused(ca, issue, trust, server, checker):
    server.ocsp_handler = partial(ca.ocsp_response, nonce=b"\x00" * 16)
    result = validate(issue().certificate, trust=trust, at=utcnow(), purpose="sign", revocation=checker)
    assert result.status == INVALID
    assert "nonce in the response does not match" in result.check("revocation").detail


def test_an_ocsp_answer_without_the_nonce_is_refused(ca, issue, trust, server, checker):
    server.ocsp_handler = partial(ca.ocsp_response, echo_nonce=False)
    result = validate(issue().certificate, trust=trust, at=utcnow(), purpose="sign", revocation=checker)
    assert "did not echo our nonce" in result.check("revocation").detail


def test_a_stale_crl_is_refused(ca, issue, trust, server):
    server.ocsp_available = False
    ca.crl(this_update=utcnow() - timedelta(days=3), next_update=utcnow() - timedelta(days=2))
    ca.crl(delta=True)
    checker = RevocationChecker(url_rewrites={BASE_URL: server.url})
    result = validate(issue().certificate, trust=trust, at=utcnow(), purpose="sign", revocation=checker)
    ca.crl()  # republish a current CRL for the tests that follow
    assert result.status == INVALID
    assert "the CRL is stale: nextUpdate" in result.check("revocation").detail


def test_the_ocsp_receipt_of_a_document_is_reused(ca, issue, trust, server, checker):
    # given a document verified once (an OCSP receipt is obtained)
    issued = issue()
    first = validate(
        issued.certificate, trust=trust, at=utcnow(), purpose="sign", revocation=checker, document_id="doc-1"
    )
    produced = first.revocation.receipt.produced_at
    asked = (len(server.requests), len(checker.fetched))
    # when the certificate is revoked later and the same document is verified again
    ca.revoke(issued.serial, "keyCompromise", utcnow())
    again = validate(
        issued.certificate, trust=trust, at=utcnow(), purpose="sign", revocation=checker, document_id="doc-1"
    )
    # then the stored receipt decides, as of its date, and nothing was fetched
    assert (len(server.requests), len(checker.fetched)) == asked
    assert again.status == VALID
    assert again.revocation.source == "receipt"
    assert again.checked_at == produced
    # and another document gets a fresh answer
    other = validate(
        issued.certificate, trust=trust, at=utcnow(), purpose="sign", revocation=checker, document_id="doc-2"
    )
    assert other.status == NOT_CURRENT


def test_without_a_required_nonce_an_answer_without_one_is_accepted_but_a_wrong_one_is_not(
    ca, issue, trust, server
):
    # EGSU_OCSP_REQUIRE_NONCE off (the default, as NCANode treats NCA's responder): a nonce is always
    # sent; an answer that does not echo it is accepted, one that echoes another is refused
    checker = RevocationChecker(url_rewrites={BASE_URL: server.url}, require_nonce=False)
    server.ocsp_handler = partial(ca.ocsp_response, echo_nonce=False)
    assert validate(issue().certificate, trust=trust, at=utcnow(), purpose="sign", revocation=checker).valid
    server.ocsp_handler = partial(ca.ocsp_response, nonce=b"\x00" * 16)
    result = validate(issue().certificate, trust=trust, at=utcnow(), purpose="sign", revocation=checker)
    assert "nonce in the response does not match" in result.check("revocation").detail
