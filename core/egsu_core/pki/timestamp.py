"""RFC 3161 time-stamp tokens on the business-data signature (SIG-14).

The token (CMS SignedData over a TSTInfo) is checked for what it proves: its
messageImprint is our digest of the stamped bytes, and its CMS signature
verifies with the TSA certificate it carries, whose key type matches the
method and which is a time-stamping certificate. The TSA certificate's path
(trust, validity, revocation) is the caller's next step, as for any signer.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509

from egsu_core.pki import algorithms
from egsu_core.pki.signedinfo import certificate_key
from egsu_core.shep.errors import SignatureInvalidError

MAX_TOKEN_BYTES = 64 * 1024


@dataclass(frozen=True)
class TimestampToken:
    time: datetime
    tsa_certificate_der: bytes
    digest_method_oid: str


def _invalid(detail: str) -> SignatureInvalidError:
    return SignatureInvalidError(f"time-stamp token: {detail}")


def verify_timestamp_token(token_der: bytes, stamped: bytes) -> TimestampToken:
    """Check that ``token_der`` stamps exactly ``stamped`` and is signed by the TSA it names."""
    if len(token_der) > MAX_TOKEN_BYTES:
        raise _invalid(f"larger than {MAX_TOKEN_BYTES} bytes")
    try:
        content_info = cms.ContentInfo.load(token_der)
        if content_info["content_type"].native != "signed_data":
            raise _invalid("not a CMS SignedData")
        signed_data = content_info["content"]
        encapsulated = signed_data["encap_content_info"]
        if encapsulated["content_type"].native != "tst_info":
            raise _invalid("the signed content is not a TSTInfo")
        tst_bytes = encapsulated["content"].contents
        tst_info = tsp.TSTInfo.load(tst_bytes)
        imprint = tst_info["message_imprint"]
        imprint_oid = imprint["hash_algorithm"]["algorithm"].dotted
        hashed_message = imprint["hashed_message"].native
        gen_time = tst_info["gen_time"].native
        signer_infos = signed_data["signer_infos"]
        if len(signer_infos) != 1:
            raise _invalid("must have exactly one signer")
        signer = signer_infos[0]
        digest_oid = signer["digest_algorithm"]["algorithm"].dotted
        signature_oid = signer["signature_algorithm"]["algorithm"].dotted
        signature = signer["signature"].native
        signed_attrs = signer["signed_attrs"]
        attributes = {attr["type"].native: attr["values"] for attr in signed_attrs}
        certificates = [
            choice.chosen for choice in signed_data["certificates"] or [] if choice.name == "certificate"
        ]
        sid = signer["sid"]
    except SignatureInvalidError:
        raise
    except (ValueError, TypeError, KeyError):
        raise _invalid("not a well-formed RFC 3161 token") from None

    digest = _digest(imprint_oid)
    if not hmac.compare_digest(digest.digest(stamped), hashed_message or b""):
        raise _invalid("the messageImprint does not match the signature value")
    if not len(signed_attrs) or "message_digest" not in attributes:
        raise _invalid("signed attributes with a message digest are missing")
    if attributes.get("content_type") is None or attributes["content_type"][0].native != "tst_info":
        raise _invalid("the content-type attribute is not TSTInfo")
    signer_digest = _digest(digest_oid)
    if not hmac.compare_digest(signer_digest.digest(tst_bytes), attributes["message_digest"][0].native):
        raise _invalid("the message digest attribute does not match the TSTInfo")
    certificate = _signer_certificate(certificates, sid)
    spki = certificate["tbs_certificate"]["subject_public_key_info"]
    method = _signature_method(signature_oid, digest_oid)
    if certificate_key(certificate.dump())[1] not in method.key_oids:  # GOST keys too (issue 4)
        raise _invalid("the signature method does not match the TSA key type")
    usage = certificate.extended_key_usage_value
    if usage is None or "time_stamping" not in usage.native:
        raise _invalid("the signer is not a time-stamping authority (extendedKeyUsage timeStamping)")
    signed_bytes = b"\x31" + signed_attrs.dump()[1:]  # the SET OF encoding is what was signed (RFC 5652 §5.4)
    try:
        method.verify(spki.dump(), signature, signed_bytes)
    except (algorithms.BadSignature, ValueError):
        raise _invalid("the TSA signature does not verify") from None
    return TimestampToken(gen_time, certificate.dump(), imprint_oid)


def _digest(oid: str) -> algorithms.DigestAlgorithm:
    try:
        return algorithms.digest_by_oid(oid)
    except algorithms.UnsupportedAlgorithm:
        raise _invalid(f"digest algorithm {oid} is not supported") from None


def _signature_method(signature_oid: str, digest_oid: str) -> algorithms.SignatureAlgorithm:
    """CMS may name the key algorithm (rsaEncryption) instead of the scheme: pair it with the digest."""
    try:
        return algorithms.signature_by_oid(signature_oid)
    except algorithms.UnsupportedAlgorithm:
        for method in algorithms.supported():
            if signature_oid in method.key_oids and method.digest.oid == digest_oid:
                return method
    raise _invalid(f"signature algorithm {signature_oid} is not supported")


def _signer_certificate(certificates: list[asn1_x509.Certificate], sid: cms.SignerIdentifier):
    for certificate in certificates:
        if sid.name == "issuer_and_serial_number":
            chosen = sid.chosen
            if (
                certificate.issuer == chosen["issuer"]
                and certificate.serial_number == chosen["serial_number"].native
            ):
                return certificate
        elif certificate.key_identifier == sid.chosen.native:
            return certificate
    raise _invalid("the TSA certificate is not in the token")
