"""The parts of an XML signature that transport and business signatures share (SIG-05, SIG-16..21).

Reading ``ds:SignedInfo`` strictly, authenticating it with the signer's key
*before* anything it points at is trusted (W3C XMLDSig best practices), and
checking a reference digest. Every algorithm comes from ``egsu_core.pki.algorithms``;
nothing here branches on one. Every refusal is a ``SignatureInvalidError``
(SCE006) with a short detail that is safe to send back.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass, field

from asn1crypto import core, x509
from lxml import etree

from egsu_core.pki import algorithms, c14n
from egsu_core.shep.errors import SignatureInvalidError

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
DS_SIGNATURE = f"{{{DS_NS}}}Signature"
DS_SIGNED_INFO = f"{{{DS_NS}}}SignedInfo"
DS_CANONICALIZATION_METHOD = f"{{{DS_NS}}}CanonicalizationMethod"
DS_SIGNATURE_METHOD = f"{{{DS_NS}}}SignatureMethod"
DS_REFERENCE = f"{{{DS_NS}}}Reference"
DS_TRANSFORMS = f"{{{DS_NS}}}Transforms"
DS_TRANSFORM = f"{{{DS_NS}}}Transform"
DS_DIGEST_METHOD = f"{{{DS_NS}}}DigestMethod"
DS_DIGEST_VALUE = f"{{{DS_NS}}}DigestValue"
DS_SIGNATURE_VALUE = f"{{{DS_NS}}}SignatureValue"
DS_KEY_INFO = f"{{{DS_NS}}}KeyInfo"
DS_X509_DATA = f"{{{DS_NS}}}X509Data"
DS_X509_CERTIFICATE = f"{{{DS_NS}}}X509Certificate"
DS_X509_ISSUER_SERIAL = f"{{{DS_NS}}}X509IssuerSerial"
DS_X509_ISSUER_NAME = f"{{{DS_NS}}}X509IssuerName"
DS_X509_SERIAL_NUMBER = f"{{{DS_NS}}}X509SerialNumber"
DS_RETRIEVAL_METHOD = f"{{{DS_NS}}}RetrievalMethod"
DS_OBJECT = f"{{{DS_NS}}}Object"

ENVELOPED_SIGNATURE = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
RSA_SHA256_URI = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"

_TRANSPORT_TRANSFORMS = frozenset({c14n.EXC_C14N})
_BUSINESS_TRANSFORMS = frozenset({ENVELOPED_SIGNATURE, *c14n.CANONICALIZATIONS})


@dataclass(frozen=True)
class VerifyLimits:
    """What a verifier accepts; the defaults are Santuario's/JDK's secure validation (shep-notes §5).

    ``VerifyLimits()`` is the transport profile (SIG-18: exclusive c14n only);
    ``VerifyLimits.business()`` the business-data profile (shep-notes §2c).
    """

    max_references: int = 30
    max_transforms: int = 5
    max_signatures: int = 1
    max_certificate_bytes: int = 32 * 1024
    max_signature_bytes: int = 4 * 1024
    signed_info_canonicalizations: frozenset[str] = field(
        default_factory=lambda: frozenset({c14n.EXC_C14N, c14n.EXC_C14N_WITH_COMMENTS})
    )
    transforms: frozenset[str] = _TRANSPORT_TRANSFORMS

    @classmethod
    def business(cls) -> VerifyLimits:
        return cls(signed_info_canonicalizations=c14n.CANONICALIZATIONS, transforms=_BUSINESS_TRANSFORMS)


@dataclass(frozen=True)
class Transform:
    algorithm: str
    prefixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reference:
    uri: str | None
    transforms: tuple[Transform, ...]
    digest_method: str
    digest_value: bytes


@dataclass(frozen=True)
class SignedInfo:
    element: etree._Element
    canonicalization: str
    prefixes: tuple[str, ...]
    signature_method: str
    references: tuple[Reference, ...]


def invalid(detail: str) -> SignatureInvalidError:
    return SignatureInvalidError(detail)


def element_children(parent: etree._Element) -> list[etree._Element]:
    """Element children only: comments and PIs inside signature markup carry no meaning."""
    return [child for child in parent if isinstance(child.tag, str)]


def local(tag: str) -> str:
    return etree.QName(tag).localname


def text_only(element: etree._Element, what: str) -> str:
    """The text of a leaf element; a child (even a comment) could hide part of the value."""
    if len(element):
        raise invalid(f"{what} must hold text only")
    return element.text or ""


def decode_base64(element: etree._Element, what: str, max_bytes: int) -> bytes:
    """Strict base64 (SIG-20): XML white space allowed between characters, nothing else."""
    text = "".join(text_only(element, what).split())
    if not text:
        raise invalid(f"{what} is empty")
    if len(text) > (max_bytes * 4) // 3 + 4:
        raise invalid(f"{what} is larger than {max_bytes} bytes")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(f"{what} is not valid base64") from None


def algorithm_of(element: etree._Element, what: str) -> str:
    uri = element.get("Algorithm")
    if not uri:
        raise invalid(f"{what} has no Algorithm")
    return uri


def parse_signed_info(signed_info: etree._Element, limits: VerifyLimits) -> SignedInfo:
    """Read SignedInfo strictly: c14n method, signature method, then 1..max_references references."""
    children = element_children(signed_info)
    if (
        len(children) < 3
        or children[0].tag != DS_CANONICALIZATION_METHOD
        or children[1].tag != DS_SIGNATURE_METHOD
    ):
        raise invalid("ds:SignedInfo must hold CanonicalizationMethod, SignatureMethod and a Reference")
    canonicalization = algorithm_of(children[0], "ds:CanonicalizationMethod")
    if canonicalization not in limits.signed_info_canonicalizations:
        raise invalid(f"canonicalization method {canonicalization[:200]!r} is not allowed")
    try:
        prefixes = c14n.prefix_list(children[0])
    except c14n.CanonicalizationError as exc:
        raise invalid(str(exc)) from None
    signature_method = algorithm_of(children[1], "ds:SignatureMethod")
    if element_children(children[1]):
        raise invalid("ds:SignatureMethod must be empty (no HMACOutputLength or other parameters)")
    references = children[2:]
    if len(references) > limits.max_references:
        raise invalid(f"more than {limits.max_references} references")
    if any(reference.tag != DS_REFERENCE for reference in references):
        raise invalid("unexpected element in ds:SignedInfo")
    return SignedInfo(
        signed_info,
        canonicalization,
        prefixes,
        signature_method,
        tuple(_parse_reference(reference, limits) for reference in references),
    )


def _parse_reference(reference: etree._Element, limits: VerifyLimits) -> Reference:
    children = element_children(reference)
    transforms: list[Transform] = []
    if children and children[0].tag == DS_TRANSFORMS:
        for transform in element_children(children.pop(0)):
            if transform.tag != DS_TRANSFORM:
                raise invalid("unexpected element in ds:Transforms")
            if len(transforms) >= limits.max_transforms:
                raise invalid(f"more than {limits.max_transforms} transforms in a reference")
            uri = algorithm_of(transform, "ds:Transform")
            if uri not in limits.transforms:
                raise invalid(f"transform {uri[:200]!r} is not allowed")
            if uri == ENVELOPED_SIGNATURE and element_children(transform):
                raise invalid("the enveloped-signature transform takes no parameters")
            try:
                prefixes = c14n.prefix_list(transform) if uri in c14n.CANONICALIZATIONS else ()
            except c14n.CanonicalizationError as exc:
                raise invalid(str(exc)) from None
            transforms.append(Transform(uri, prefixes))
    if len(children) != 2 or children[0].tag != DS_DIGEST_METHOD or children[1].tag != DS_DIGEST_VALUE:
        raise invalid("ds:Reference must hold Transforms, DigestMethod and DigestValue")
    digest_method = algorithm_of(children[0], "ds:DigestMethod")
    digest_value = decode_base64(children[1], "ds:DigestValue", 128)
    return Reference(reference.get("URI"), tuple(transforms), digest_method, digest_value)


def certificate_key(certificate_der: bytes) -> tuple[bytes, str]:
    """SubjectPublicKeyInfo DER and its algorithm OID, from a DER certificate."""
    try:
        certificate = x509.Certificate.load(certificate_der)
        spki_der = certificate["tbs_certificate"]["subject_public_key_info"].dump()
        # Read the key's OID generically: asn1crypto's PublicKeyInfo rejects the GOST OIDs (issue 4).
        algorithm = _GenericKeyInfo.load(spki_der)["algorithm"]["algorithm"].dotted
        return spki_der, algorithm
    except (ValueError, TypeError, KeyError):
        raise invalid("the signer's certificate is not a valid X.509 certificate") from None


class _AnyAlgorithm(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


class _GenericKeyInfo(core.Sequence):
    _fields = [("algorithm", _AnyAlgorithm), ("public_key", core.BitString)]


def authenticate(
    signed_info: SignedInfo, signature_value: bytes, certificate_der: bytes
) -> algorithms.SignatureAlgorithm:
    """Verify SignatureValue over the canonical SignedInfo with the certificate's key."""
    try:
        method = algorithms.signature_by_uri(signed_info.signature_method)
    except algorithms.UnsupportedAlgorithm:
        raise invalid(f"signature method {signed_info.signature_method[:200]!r} is not supported") from None
    spki_der, key_oid = certificate_key(certificate_der)
    if key_oid not in method.key_oids:  # algorithm confusion (HMAC with a public key, RSA vs GOST)
        raise invalid(f"signature method {method.name} does not match the certificate's key type ({key_oid})")
    try:
        data = c14n.canonicalize(
            signed_info.element, signed_info.canonicalization, prefixes=signed_info.prefixes
        )
    except c14n.CanonicalizationError as exc:
        raise invalid(f"ds:SignedInfo: {exc}") from None
    try:
        method.verify(spki_der, signature_value, data)
    except (algorithms.BadSignature, ValueError):
        raise invalid(
            "the signature value does not verify: SignedInfo was changed or the key is not the signer's"
        ) from None
    return method


def check_digest(reference: Reference, data: bytes, what: str) -> None:
    compare_digest(reference, reference_digest(reference).digest(data), what)


def reference_digest(reference: Reference) -> algorithms.DigestAlgorithm:
    """The Reference's DigestMethod from the allow-list, or SignatureInvalidError."""
    try:
        return algorithms.digest_by_uri(reference.digest_method)
    except algorithms.UnsupportedAlgorithm:
        raise invalid(f"digest method {reference.digest_method[:200]!r} is not supported") from None


def compare_digest(reference: Reference, computed: bytes, what: str) -> None:
    """The digest computed over what the Reference points at must be its DigestValue."""
    if not hmac.compare_digest(computed, reference.digest_value):
        raise invalid(f"digest of {what} does not match")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
