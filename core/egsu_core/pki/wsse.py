"""The WS-Security transport signature on the SOAP Body: verify what arrives, sign what we send.

SIG-03/04/16..20, shep-notes §2a (how Kalkan, NCANode, WSS4J and zeep sign) and
§5 items 1–8 (wrapping, duplicate ids, allow-lists). The verifier is strict about
*where* things are — one Header, one wsse:Security, one ds:Signature outside the
Body, exactly one Reference and it must dereference to the Envelope's only Body —
and returns that Body: the caller parses ``TransportSignature.body`` and nothing
else, so a wrapped or decoy Body is never read.

Order of work: structure, then SignedInfo authenticated with the signer's key,
and only then the Reference dereferenced and its digest compared. Whether the
certificate is valid and trusted is decided afterwards by path validation on
``certificate_der`` (SIG-06..12); this module only proves who signed what.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509 as cx509
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
    DS_X509_ISSUER_NAME,
    DS_X509_ISSUER_SERIAL,
    DS_X509_SERIAL_NUMBER,
    RSA_SHA256_URI,
    VerifyLimits,
    authenticate,
    b64,
    certificate_key,
    compare_digest,
    decode_base64,
    element_children,
    invalid,
    local,
    parse_signed_info,
    reference_digest,
    text_only,
)
from egsu_core.shep.errors import NotSignedError
from egsu_core.shep.xmlparse import parse_document

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"

WSSE_SECURITY = f"{{{WSSE_NS}}}Security"
WSSE_STR = f"{{{WSSE_NS}}}SecurityTokenReference"
WSSE_KEY_IDENTIFIER = f"{{{WSSE_NS}}}KeyIdentifier"
WSSE_REFERENCE = f"{{{WSSE_NS}}}Reference"
WSSE_BST = f"{{{WSSE_NS}}}BinarySecurityToken"
WSU_ID = f"{{{WSU_NS}}}Id"
ID_ATTRIBUTES = (WSU_ID, "Id", "ID")
"""Where an id may sit: ``wsu:Id`` (WSS), or a plain ``Id``/``ID`` as some C# clients send (shep-notes §2a)."""

KEY_INFO_KINDS = ("KeyIdentifier", "X509Certificate", "BinarySecurityToken", "X509IssuerSerial")

CertificateLookup = Callable[[str, int], bytes | None]
"""(issuer name as written in X509IssuerName, serial number) → certificate DER, or None when unknown."""


@dataclass(frozen=True)
class TransportSignature:
    """A verified transport signature. ``body`` is the element proven signed: parse only it."""

    body: etree._Element
    certificate_der: bytes
    signature_method: str
    digest_method: str
    signature_value: bytes
    key_info_kind: str


@dataclass(frozen=True)
class BareInputs:
    """What the cryptography alone needs, for a benchmark of our overhead (issue 3)."""

    spki_der: bytes
    signature_method: str
    signed_info_c14n: bytes
    signature_value: bytes
    digest_method: str
    body_c14n: bytes
    digest_value: bytes


# ----------------------------------------------------------------------------- verification


def verify_transport(
    envelope: etree._Element,
    *,
    certificate_lookup: CertificateLookup | None = None,
    limits: VerifyLimits = VerifyLimits(),  # noqa: B008 - frozen, immutable default
) -> TransportSignature:
    """Verify the WS-Security signature of a parsed envelope; raise NotSignedError or SignatureInvalidError."""
    body, security, signature = _locate(envelope, limits)
    signed_info_el, value_el, key_info = _signature_parts(signature)
    signed_info = parse_signed_info(signed_info_el, limits)
    if len(signed_info.references) != 1:
        raise invalid("several References: exactly one, to the soap:Body, is accepted")
    reference = signed_info.references[0]
    fragment = _fragment(reference.uri)
    if len(reference.transforms) != 1 or reference.transforms[0].algorithm not in c14n.EXCLUSIVE:
        raise invalid("the Body reference must have exactly one exclusive c14n transform")
    signature_value = decode_base64(value_el, "ds:SignatureValue", limits.max_signature_bytes)
    ids = _id_index(envelope)
    certificate_der, kind = _signer_certificate(key_info, security, ids, certificate_lookup, limits)

    authenticate(signed_info, signature_value, certificate_der)  # SignedInfo first

    targets = ids.get(fragment, [])
    if not targets:
        raise invalid("Reference points at no element of the message")
    if targets[0] is not body:
        raise invalid("Reference does not point at the SOAP Body")
    body_ids = {body.get(name) for name in ID_ATTRIBUTES} - {None}
    if len(body_ids) > 1:
        raise invalid("soap:Body carries two different ids (wsu:Id and Id)")
    if next(body.iter(etree.Comment), None) is not None:
        raise invalid("a comment inside the signed soap:Body is not covered by the signature")
    digest_algorithm = reference_digest(reference)
    try:  # hashed as it is canonicalized: a 15 MB Body is never copied whole (INT-07)
        computed = c14n.digest(
            body, c14n.EXC_C14N, digest_algorithm, prefixes=reference.transforms[0].prefixes, comments=False
        )
    except c14n.CanonicalizationError as exc:
        raise invalid(f"soap:Body: {exc}") from None
    compare_digest(reference, computed, "the Body")
    return TransportSignature(
        body=body,
        certificate_der=certificate_der,
        signature_method=signed_info.signature_method,
        digest_method=reference.digest_method,
        signature_value=signature_value,
        key_info_kind=kind,
    )


def _locate(envelope: etree._Element, limits: VerifyLimits):
    """The Envelope's single Body, its single wsse:Security and the single ds:Signature in it."""
    qname = etree.QName(envelope)
    if qname.localname != "Envelope" or qname.namespace not in (SOAP11_NS, SOAP12_NS):
        raise invalid("the message is not a SOAP envelope")
    header_tag, body_tag = f"{{{qname.namespace}}}Header", f"{{{qname.namespace}}}Body"
    bodies = list(envelope.iter(body_tag))
    if len(bodies) != 1:
        raise invalid(
            "the envelope holds more than one soap:Body" if bodies else "the envelope has no soap:Body"
        )
    body = bodies[0]
    if body.getparent() is not envelope:
        raise invalid("soap:Body is not a direct child of soap:Envelope")
    securities = list(envelope.iter(WSSE_SECURITY))
    signatures = [s for s in envelope.iter(DS_SIGNATURE) if not _inside(s, body)]
    # A ds:Signature inside the Body is payload (a business-data signature) covered by the Body digest.
    if not securities and not signatures:
        raise NotSignedError("the message has no wsse:Security header")
    if len(securities) > 1:
        raise invalid("more than one wsse:Security header")
    security = securities[0] if securities else None
    if security is not None:
        header = security.getparent()
        if header is None or header.tag != header_tag or header.getparent() is not envelope:
            raise invalid("wsse:Security is not a direct child of soap:Header")
        if sum(1 for child in envelope if child.tag == header_tag) > 1:
            raise invalid("the envelope holds more than one soap:Header")
    if len(signatures) > limits.max_signatures:
        raise invalid("more than one ds:Signature in the message")
    if not signatures:
        raise NotSignedError("wsse:Security holds no ds:Signature")
    signature = signatures[0]
    if security is None or signature.getparent() is not security:
        raise invalid("ds:Signature is outside wsse:Security")
    return body, security, signature


def _inside(element: etree._Element, ancestor: etree._Element) -> bool:
    return any(parent is ancestor for parent in element.iterancestors())


def _signature_parts(signature: etree._Element):
    children = element_children(signature)
    tags = [child.tag for child in children]
    if tags[:2] != [DS_SIGNED_INFO, DS_SIGNATURE_VALUE]:
        raise invalid("ds:Signature must start with SignedInfo and SignatureValue")
    if DS_OBJECT in tags:
        raise invalid("ds:Object is not expected in a transport signature")
    if tags[2:] != [DS_KEY_INFO]:
        raise invalid("ds:Signature must carry exactly one KeyInfo after SignatureValue")
    return children[0], children[1], children[2]


def _fragment(uri: str | None) -> str:
    if not uri:
        raise invalid("Reference URI must be '#<id of soap:Body>', not the whole document")
    if not uri.startswith("#"):
        raise invalid("external Reference URIs are not allowed")
    fragment = uri[1:]
    if not fragment or fragment.startswith("xpointer(") or any(ch in fragment for ch in " ()/#"):
        raise invalid("Reference URI must be a plain '#id' (no XPointer)")
    return fragment


_ID_VALUES = etree.XPath(
    "descendant-or-self::*/@wsu:Id | descendant-or-self::*/@Id | descendant-or-self::*/@ID",
    namespaces={"wsu": WSU_NS},
)
"""Every attribute of ID_ATTRIBUTES in the document, found by libxml2 (not element by element in Python)."""


def _id_index(root: etree._Element) -> dict[str, list[etree._Element]]:
    """Every id in the message, by a full tree search; an id on two elements is refused (shep-notes §5.2)."""
    index: dict[str, list[etree._Element]] = {}
    for value in _ID_VALUES(root):
        element = value.getparent()
        holders = index.setdefault(str(value), [])
        if any(holder is element for holder in holders):
            continue  # wsu:Id and Id of one element with the same value: one id
        holders.append(element)
        if len(holders) > 1:
            raise invalid(f"duplicate id {value[:64]!r} in the message")
    return index


def _signer_certificate(
    key_info: etree._Element,
    security: etree._Element,
    ids: dict[str, list[etree._Element]],
    lookup: CertificateLookup | None,
    limits: VerifyLimits,
) -> tuple[bytes, str]:
    children = element_children(key_info)
    if any(child.tag == DS_RETRIEVAL_METHOD for child in key_info.iter()):
        raise invalid("ds:RetrievalMethod in KeyInfo is not allowed")
    if len(children) != 1:
        raise invalid("KeyInfo must hold exactly one X509Data or SecurityTokenReference")
    child = children[0]
    if child.tag == DS_X509_DATA:
        return _from_x509_data(child, lookup, limits)
    if child.tag != WSSE_STR:
        raise invalid(f"KeyInfo content {local(child.tag)[:64]!r} is not supported")
    parts = element_children(child)
    if len(parts) != 1:
        raise invalid("SecurityTokenReference must hold exactly one key reference")
    part = parts[0]
    if part.tag == DS_X509_DATA:
        return _from_x509_data(part, lookup, limits)
    if part.tag == WSSE_KEY_IDENTIFIER:
        if part.get("ValueType") != X509V3:
            raise invalid("KeyIdentifier must hold the whole X509v3 certificate")
        if part.get("EncodingType", BASE64_BINARY) != BASE64_BINARY:
            raise invalid("KeyIdentifier EncodingType must be Base64Binary")
        return decode_base64(part, "wsse:KeyIdentifier", limits.max_certificate_bytes), "KeyIdentifier"
    if part.tag == WSSE_REFERENCE:
        uri = part.get("URI") or ""
        if not uri.startswith("#") or len(uri) < 2:
            raise invalid("SecurityTokenReference must point at a token in this message")
        tokens = ids.get(uri[1:], [])
        token = tokens[0] if tokens else None
        if token is None or token.tag != WSSE_BST or token.getparent() is not security:
            raise invalid("SecurityTokenReference does not point at a BinarySecurityToken in wsse:Security")
        if token.get("ValueType") != X509V3 or token.get("EncodingType", BASE64_BINARY) != BASE64_BINARY:
            raise invalid("BinarySecurityToken must be a base64 X509v3 certificate")
        return decode_base64(
            token, "wsse:BinarySecurityToken", limits.max_certificate_bytes
        ), "BinarySecurityToken"
    raise invalid(f"SecurityTokenReference content {local(part.tag)[:64]!r} is not supported")


def _from_x509_data(
    x509_data: etree._Element, lookup: CertificateLookup | None, limits: VerifyLimits
) -> tuple[bytes, str]:
    certificates = [c for c in element_children(x509_data) if c.tag == DS_X509_CERTIFICATE]
    issuer_serials = [c for c in element_children(x509_data) if c.tag == DS_X509_ISSUER_SERIAL]
    if len(certificates) > 1 or len(issuer_serials) > 1:
        raise invalid("X509Data must name exactly one certificate")
    issuer_serial = _issuer_serial(issuer_serials[0]) if issuer_serials else None
    if certificates:
        der = decode_base64(certificates[0], "ds:X509Certificate", limits.max_certificate_bytes)
        if issuer_serial is not None and _serial(der) != issuer_serial[1]:
            raise invalid("X509IssuerSerial does not match the X509Certificate")
        return der, "X509Certificate"
    if issuer_serial is None:
        raise invalid("X509Data holds no certificate")
    if lookup is None:
        raise invalid(
            "X509IssuerSerial names the signer's certificate but no certificate lookup is configured"
        )
    der = lookup(*issuer_serial)
    if der is None:
        raise invalid("the certificate named by X509IssuerSerial is not known")
    return der, "X509IssuerSerial"


def _issuer_serial(element: etree._Element) -> tuple[str, int]:
    parts = element_children(element)
    if [p.tag for p in parts] != [DS_X509_ISSUER_NAME, DS_X509_SERIAL_NUMBER]:
        raise invalid("X509IssuerSerial must hold X509IssuerName and X509SerialNumber")
    serial = text_only(parts[1], "ds:X509SerialNumber").strip()
    if not serial.isdigit() or len(serial) > 64:
        raise invalid("X509SerialNumber is not a decimal number")
    return text_only(parts[0], "ds:X509IssuerName").strip(), int(serial)


def _serial(certificate_der: bytes) -> int:
    certificate_key(certificate_der)  # refuses what is not a certificate, with the usual detail
    from asn1crypto import x509

    return x509.Certificate.load(certificate_der).serial_number


# ----------------------------------------------------------------------------- signing


def sign_transport(
    envelope: etree._Element | bytes,
    *,
    private_key: object,
    certificate_der: bytes,
    algorithm_uri: str = RSA_SHA256_URI,
    key_info: str = "KeyIdentifier",
) -> bytes:
    """Sign the Body as Kalkan/NCANode do (shep-notes §2a) and return the serialized envelope.

    The Body keeps an id it already has, else gets ``wsu:Id="id-<uuid>"``; a
    ``soap:Header/wsse:Security mustUnderstand="1"`` is added with one ds:Signature:
    exc-c14n, one Reference with one exc-c14n Transform, and the key as ``key_info``
    (one of ``KEY_INFO_KINDS``). The caller's element is not modified.
    """
    if key_info not in KEY_INFO_KINDS:
        raise ValueError(f"key_info must be one of {KEY_INFO_KINDS}")
    method = algorithms.signature_by_uri(algorithm_uri)
    if method.sign is None:
        raise algorithms.UnsupportedAlgorithm(f"{method.name} cannot sign here")
    root = parse_document(envelope) if isinstance(envelope, bytes | bytearray) else copy.deepcopy(envelope)
    soap_ns = etree.QName(root).namespace
    if etree.QName(root).localname != "Envelope" or soap_ns not in (SOAP11_NS, SOAP12_NS):
        raise ValueError("sign_transport signs a SOAP envelope")
    body = root.find(f"{{{soap_ns}}}Body")
    if body is None:
        raise ValueError("the envelope has no soap:Body")
    body, body_id = _ensure_body_id(root, body)
    header = root.find(f"{{{soap_ns}}}Header")
    if header is None:
        header = etree.SubElement(root, f"{{{soap_ns}}}Header")
        root.insert(0, header)
    security = etree.SubElement(header, WSSE_SECURITY, nsmap={"wsse": WSSE_NS, "wsu": WSU_NS})
    security.set(f"{{{soap_ns}}}mustUnderstand", "1" if soap_ns == SOAP11_NS else "true")
    if key_info == "BinarySecurityToken":
        token = etree.SubElement(security, WSSE_BST, EncodingType=BASE64_BINARY, ValueType=X509V3)
        token.set(WSU_ID, f"X509-{uuid.uuid4()}")
        token.text = b64(certificate_der)
    signature = etree.SubElement(security, DS_SIGNATURE, nsmap={"ds": DS_NS})
    signed_info = etree.SubElement(signature, DS_SIGNED_INFO)
    etree.SubElement(signed_info, f"{{{DS_NS}}}CanonicalizationMethod", Algorithm=c14n.EXC_C14N)
    etree.SubElement(signed_info, f"{{{DS_NS}}}SignatureMethod", Algorithm=algorithm_uri)
    reference = etree.SubElement(signed_info, f"{{{DS_NS}}}Reference", URI=f"#{body_id}")
    transforms = etree.SubElement(reference, f"{{{DS_NS}}}Transforms")
    etree.SubElement(transforms, f"{{{DS_NS}}}Transform", Algorithm=c14n.EXC_C14N)
    etree.SubElement(reference, f"{{{DS_NS}}}DigestMethod", Algorithm=method.digest.xml_uri)
    digest = c14n.digest(body, c14n.EXC_C14N, method.digest, comments=False)
    etree.SubElement(reference, f"{{{DS_NS}}}DigestValue").text = b64(digest)
    value = etree.SubElement(signature, DS_SIGNATURE_VALUE)
    _append_key_info(etree.SubElement(signature, DS_KEY_INFO), key_info, certificate_der, security)
    value.text = b64(method.sign(private_key, c14n.canonicalize(signed_info, c14n.EXC_C14N)))
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def _ensure_body_id(root: etree._Element, body: etree._Element) -> tuple[etree._Element, str]:
    for name in ID_ATTRIBUTES:
        if body.get(name):
            return body, body.get(name)
    body_id = f"id-{uuid.uuid4()}"
    if body.nsmap.get("wsu") not in (None, WSU_NS):
        body.set(WSU_ID, body_id)  # lxml picks a free prefix
        return body, body_id
    # Rebuild the Body so that it declares wsu itself, as Kalkan's output does.
    fresh = etree.Element(body.tag, attrib=dict(body.attrib), nsmap={**body.nsmap, "wsu": WSU_NS})
    fresh.text = body.text
    fresh.tail = body.tail
    fresh.extend(list(body))
    fresh.set(WSU_ID, body_id)
    root.replace(body, fresh)
    return fresh, body_id


def _append_key_info(key_info: etree._Element, kind: str, certificate_der: bytes, security) -> None:
    if kind == "X509Certificate":
        data = etree.SubElement(key_info, DS_X509_DATA)
        etree.SubElement(data, DS_X509_CERTIFICATE).text = b64(certificate_der)
        return
    reference = etree.SubElement(key_info, WSSE_STR)
    if kind == "KeyIdentifier":
        identifier = etree.SubElement(
            reference, WSSE_KEY_IDENTIFIER, EncodingType=BASE64_BINARY, ValueType=X509V3
        )
        identifier.text = b64(certificate_der)
    elif kind == "BinarySecurityToken":
        token = security.find(WSSE_BST)
        etree.SubElement(reference, WSSE_REFERENCE, URI=f"#{token.get(WSU_ID)}", ValueType=X509V3)
    else:  # X509IssuerSerial
        certificate = cx509.load_der_x509_certificate(certificate_der)
        data = etree.SubElement(reference, DS_X509_DATA)
        issuer_serial = etree.SubElement(data, DS_X509_ISSUER_SERIAL)
        etree.SubElement(issuer_serial, DS_X509_ISSUER_NAME).text = certificate.issuer.rfc4514_string()
        etree.SubElement(issuer_serial, DS_X509_SERIAL_NUMBER).text = str(certificate.serial_number)


# ----------------------------------------------------------------------------- benchmark support


def bare_inputs(envelope: etree._Element, **kwargs) -> BareInputs:
    """Verify once, then hand back the canonical bytes so a benchmark can time the cryptography alone."""
    result = verify_transport(envelope, **kwargs)
    security = envelope.find(f".//{WSSE_SECURITY}")
    signature = security.find(DS_SIGNATURE)
    signed_info = parse_signed_info(signature.find(DS_SIGNED_INFO), kwargs.get("limits", VerifyLimits()))
    reference = signed_info.references[0]
    return BareInputs(
        spki_der=certificate_key(result.certificate_der)[0],
        signature_method=result.signature_method,
        signed_info_c14n=c14n.canonicalize(
            signed_info.element, signed_info.canonicalization, prefixes=signed_info.prefixes
        ),
        signature_value=result.signature_value,
        digest_method=result.digest_method,
        body_c14n=c14n.canonicalize(
            result.body, c14n.EXC_C14N, prefixes=reference.transforms[0].prefixes, comments=False
        ),
        digest_value=reference.digest_value,
    )


def bare_verify(inputs: BareInputs) -> None:
    """Only the digest and the public-key operation; raises BadSignature when either fails."""
    if algorithms.digest_by_uri(inputs.digest_method).digest(inputs.body_c14n) != inputs.digest_value:
        raise algorithms.BadSignature("digest mismatch")
    algorithms.signature_by_uri(inputs.signature_method).verify(
        inputs.spki_der, inputs.signature_value, inputs.signed_info_c14n
    )


__all__ = [
    "BareInputs",
    "CertificateLookup",
    "KEY_INFO_KINDS",
    "TransportSignature",
    "VerifyLimits",
    "bare_inputs",
    "bare_verify",
    "sign_transport",
    "verify_transport",
]
