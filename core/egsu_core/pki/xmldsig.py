"""The business-data signature: an enveloped ds:Signature on the payload inside ``data`` (SIG-03, SIG-14).

As NCANode and the ИС УМОСК clients make it (shep-notes §2c): the signature is
the last child of the business root, ``Reference URI=""``, transforms
[enveloped-signature, c14n] (inclusive or exclusive, with or without comments),
``KeyInfo/X509Data/X509Certificate``. ``URI=""`` means the whole document, so the
business root is evaluated as a document of its own (shep-notes §5.10). When the
payload travels as element children of ``data`` it may have been signed either
standalone or with the namespaces it inherits there: both readings are tried,
and what is returned is re-parsed from the canonical bytes that matched, so the
caller reads exactly what was signed (no comments, no signature).

An optional XAdES ``SignatureTimeStamp`` (RFC 3161 token over the canonical
``ds:SignatureValue``) is verified and its time returned (SIG-14).
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from lxml import etree

from egsu_core.pki import algorithms, c14n
from egsu_core.pki.signedinfo import (
    DS_KEY_INFO,
    DS_NS,
    DS_OBJECT,
    DS_RETRIEVAL_METHOD,
    DS_SIGNATURE,
    DS_SIGNATURE_VALUE,
    DS_SIGNED_INFO,
    DS_X509_CERTIFICATE,
    DS_X509_DATA,
    ENVELOPED_SIGNATURE,
    RSA_SHA256_URI,
    VerifyLimits,
    authenticate,
    b64,
    check_digest,
    decode_base64,
    element_children,
    invalid,
    parse_signed_info,
    text_only,
)
from egsu_core.pki.timestamp import verify_timestamp_token
from egsu_core.shep.errors import NotSignedError, SignatureInvalidError
from egsu_core.shep.xmlparse import parse_document

XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"
XADES_SIGNATURE_TIMESTAMP = f"{{{XADES_NS}}}SignatureTimeStamp"
XADES_ENCAPSULATED_TIMESTAMP = f"{{{XADES_NS}}}EncapsulatedTimeStamp"
_ID_ATTRIBUTES = (
    "Id",
    "ID",
    "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}Id",
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")

Timestamper = Callable[[bytes], bytes]
"""Canonical ``ds:SignatureValue`` bytes → an RFC 3161 TimeStampToken (DER)."""


@dataclass(frozen=True)
class EnvelopedSignature:
    """A verified business signature. ``element`` is a fresh copy of what was signed: parse only it."""

    element: etree._Element
    certificate_der: bytes
    signature_method: str
    digest_method: str
    signature_value: bytes
    timestamp_time: datetime | None = None
    tsa_certificate_der: bytes | None = None


def verify_enveloped(
    root: etree._Element,
    *,
    limits: VerifyLimits | None = None,
) -> EnvelopedSignature:
    """Verify the enveloped signature of the business root; NotSignedError when it carries none."""
    try:
        return _verify(root, limits or VerifyLimits.business())
    except SignatureInvalidError as exc:
        raise SignatureInvalidError(f"business-data signature: {exc.detail}") from None


def _verify(root: etree._Element, limits: VerifyLimits) -> EnvelopedSignature:
    signatures = list(root.iter(DS_SIGNATURE))
    if not signatures:
        raise NotSignedError("the business data carries no ds:Signature")
    if len(signatures) > limits.max_signatures:
        raise invalid("more than one ds:Signature in the business data")
    signature = signatures[0]
    if signature.getparent() is not root:
        raise invalid("ds:Signature must be a direct child of the signed root element")
    children = element_children(signature)
    tags = [child.tag for child in children]
    if tags[:3] != [DS_SIGNED_INFO, DS_SIGNATURE_VALUE, DS_KEY_INFO] or any(t != DS_OBJECT for t in tags[3:]):
        raise invalid("ds:Signature must hold SignedInfo, SignatureValue, KeyInfo and optional Objects")
    signed_info = parse_signed_info(children[0], limits)
    if len(signed_info.references) != 1:
        raise invalid("exactly one Reference (to the whole business document) is accepted")
    reference = signed_info.references[0]
    if reference.uri and not (reference.uri.startswith("#") and reference.uri[1:] in _ids(root)):
        raise invalid('Reference URI must be "" (the whole business document) or the id of its root')
    if reference.uri is None:
        raise invalid('Reference URI must be "" (the whole business document)')
    transforms = reference.transforms
    if (
        len(transforms) != 2
        or transforms[0].algorithm != ENVELOPED_SIGNATURE
        or transforms[1].algorithm not in c14n.CANONICALIZATIONS
    ):
        raise invalid("transforms must be exactly [enveloped-signature, c14n]")
    signature_value = decode_base64(children[1], "ds:SignatureValue", limits.max_signature_bytes)
    certificate_der = _certificate(children[2], limits)
    stamp = _timestamp_parts(signature)

    index = list(root).index(signature)
    failure: SignatureInvalidError | None = None
    for candidate in _documents(root):
        copied = candidate[index]
        try:  # SignedInfo first, canonicalized in this reading of the document
            authenticate(replace(signed_info, element=copied[0]), signature_value, certificate_der)
        except SignatureInvalidError as exc:
            failure = failure or exc
            continue
        stamped = c14n.canonicalize(copied[1], stamp[1]) if stamp else b""
        _remove_keeping_tail(copied)
        try:
            data = c14n.canonicalize(
                candidate, transforms[1].algorithm, prefixes=transforms[1].prefixes, comments=False
            )
        except c14n.CanonicalizationError as exc:
            raise invalid(str(exc)) from None
        try:
            check_digest(reference, data, "the business data")
        except SignatureInvalidError as exc:
            failure = exc
            continue
        timestamp = verify_timestamp_token(stamp[0], stamped) if stamp else None
        return EnvelopedSignature(
            element=parse_document(data),
            certificate_der=certificate_der,
            signature_method=signed_info.signature_method,
            digest_method=reference.digest_method,
            signature_value=signature_value,
            timestamp_time=timestamp.time if timestamp else None,
            tsa_certificate_der=timestamp.tsa_certificate_der if timestamp else None,
        )
    assert failure is not None
    raise failure


def _ids(root: etree._Element) -> set[str]:
    return {root.get(name) for name in _ID_ATTRIBUTES} - {None}


def _certificate(key_info: etree._Element, limits: VerifyLimits) -> bytes:
    if any(element.tag == DS_RETRIEVAL_METHOD for element in key_info.iter()):
        raise invalid("ds:RetrievalMethod in KeyInfo is not allowed")
    parts = element_children(key_info)
    if len(parts) != 1 or parts[0].tag != DS_X509_DATA:
        raise invalid("KeyInfo must hold exactly one X509Data")
    certificates = [c for c in element_children(parts[0]) if c.tag == DS_X509_CERTIFICATE]
    if len(certificates) != 1:
        raise invalid("X509Data must hold exactly one X509Certificate")
    return decode_base64(certificates[0], "ds:X509Certificate", limits.max_certificate_bytes)


def _documents(root: etree._Element) -> Iterator[etree._Element]:
    """The business root as its own document: first standalone, then with every inherited namespace."""
    yield copy.deepcopy(root)  # own declarations plus the inherited ones its names use
    if root.getparent() is None:
        return
    steps = []
    node = root
    while node.getparent() is not None:
        steps.append(node.getparent().index(node))
        node = node.getparent()
    copied = copy.deepcopy(node)
    for step in reversed(steps):
        copied = copied[step]
    yield copied  # canonicalized in context: inclusive c14n emits every inherited declaration


def _remove_keeping_tail(element: etree._Element) -> None:
    """The enveloped transform removes the Signature node, not the text that follows it."""
    parent = element.getparent()
    tail = element.tail
    previous = element.getprevious()
    parent.remove(element)
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


def _timestamp_parts(signature: etree._Element) -> tuple[bytes, str] | None:
    """The RFC 3161 token of a XAdES SignatureTimeStamp and the c14n it stamps the SignatureValue with."""
    stamps = list(signature.iter(XADES_SIGNATURE_TIMESTAMP))
    if not stamps:
        return None
    if len(stamps) > 1:
        raise invalid("more than one SignatureTimeStamp")
    tokens = [t for t in element_children(stamps[0]) if t.tag == XADES_ENCAPSULATED_TIMESTAMP]
    if len(tokens) != 1 or tokens[0].get("Encoding") not in (None, "http://uri.etsi.org/01903/v1.2.2#DER"):
        raise invalid("SignatureTimeStamp must hold one DER EncapsulatedTimeStamp")
    method = stamps[0].find(f"{{{DS_NS}}}CanonicalizationMethod")
    algorithm = method.get("Algorithm", "") if method is not None else c14n.C14N  # XAdES default
    if algorithm not in c14n.CANONICALIZATIONS:
        raise invalid("the time-stamp canonicalization method is not allowed")
    return decode_base64(tokens[0], "xades:EncapsulatedTimeStamp", 64 * 1024), algorithm


# ----------------------------------------------------------------------------- signing


def sign_enveloped(
    root: etree._Element,
    *,
    private_key: object,
    certificate_der: bytes,
    algorithm_uri: str = RSA_SHA256_URI,
    canonicalization: str = c14n.C14N,
    transform: str = c14n.C14N_WITH_COMMENTS,
    timestamper: Timestamper | None = None,
) -> etree._Element:
    """A signed copy of ``root`` (its own document) with the signature as its last child, NCANode style.

    ``timestamper`` adds a XAdES SignatureTimeStamp (tests use it; the System does not stamp).
    """
    method = algorithms.signature_by_uri(algorithm_uri)
    if method.sign is None:
        raise algorithms.UnsupportedAlgorithm(f"{method.name} cannot sign here")
    signed = copy.deepcopy(root)
    digest = c14n.digest(signed, transform, method.digest, comments=False)
    signature = etree.SubElement(signed, DS_SIGNATURE, nsmap={"ds": DS_NS})
    signature.set("Id", f"signature-{uuid.uuid4()}")
    signed_info = etree.SubElement(signature, DS_SIGNED_INFO)
    etree.SubElement(signed_info, f"{{{DS_NS}}}CanonicalizationMethod", Algorithm=canonicalization)
    etree.SubElement(signed_info, f"{{{DS_NS}}}SignatureMethod", Algorithm=algorithm_uri)
    reference = etree.SubElement(signed_info, f"{{{DS_NS}}}Reference", URI="")
    transforms = etree.SubElement(reference, f"{{{DS_NS}}}Transforms")
    etree.SubElement(transforms, f"{{{DS_NS}}}Transform", Algorithm=ENVELOPED_SIGNATURE)
    etree.SubElement(transforms, f"{{{DS_NS}}}Transform", Algorithm=transform)
    etree.SubElement(reference, f"{{{DS_NS}}}DigestMethod", Algorithm=method.digest.xml_uri)
    etree.SubElement(reference, f"{{{DS_NS}}}DigestValue").text = b64(digest)
    value = etree.SubElement(signature, DS_SIGNATURE_VALUE)
    value.text = b64(method.sign(private_key, c14n.canonicalize(signed_info, canonicalization)))
    x509_data = etree.SubElement(etree.SubElement(signature, DS_KEY_INFO), DS_X509_DATA)
    etree.SubElement(x509_data, DS_X509_CERTIFICATE).text = b64(certificate_der)
    if timestamper is not None:
        token = timestamper(c14n.canonicalize(value, c14n.C14N))
        obj = etree.SubElement(signature, DS_OBJECT)
        qualifying = etree.SubElement(
            obj,
            f"{{{XADES_NS}}}QualifyingProperties",
            nsmap={"xades": XADES_NS},
            Target=f"#{signature.get('Id')}",
        )
        unsigned = etree.SubElement(qualifying, f"{{{XADES_NS}}}UnsignedProperties")
        properties = etree.SubElement(unsigned, f"{{{XADES_NS}}}UnsignedSignatureProperties")
        stamp = etree.SubElement(properties, XADES_SIGNATURE_TIMESTAMP)
        etree.SubElement(stamp, f"{{{DS_NS}}}CanonicalizationMethod", Algorithm=c14n.C14N)
        etree.SubElement(stamp, XADES_ENCAPSULATED_TIMESTAMP).text = b64(token)
    return signed


# ----------------------------------------------------------------------------- finding it in data


def find_business_signature(data_element: etree._Element) -> etree._Element | None:
    """The signed business root inside ``data`` (shep-notes §2c), or None when the payload is unsigned.

    The payload is either element children of ``data`` or an escaped string/CDATA
    holding a document; the business root is the parent of its one ds:Signature.
    """
    if element_children(data_element):
        holder = data_element
    else:
        text = text_only(data_element, "data").strip() if len(data_element) == 0 else ""
        if not text.startswith("<"):
            return None
        holder = parse_document(_XML_DECLARATION.sub("", text, count=1).encode("utf-8"))
    signatures = list(holder.iter(DS_SIGNATURE))
    if not signatures:
        return None
    if len(signatures) > 1:
        raise SignatureInvalidError(
            "business-data signature: more than one ds:Signature in the business data"
        )
    return signatures[0].getparent()


__all__ = [
    "EnvelopedSignature",
    "Timestamper",
    "VerifyLimits",
    "find_business_signature",
    "sign_enveloped",
    "verify_enveloped",
]
