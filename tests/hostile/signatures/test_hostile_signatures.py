"""Hostile SIGNED messages: each one is refused, for its own reason (shep-notes §5 items 1–8, SIG-05, SIG-16..20).

The corpus is generated once from a validly signed SendMessage: every case is a
small edit of it, some of them re-signed with the genuine key so that only the
structural rule under test can refuse them (an attacker who holds a key, or a
careless client). Each message goes the way of the endpoint: ``parse_document``
then ``verify_transport``.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Callable

import pytest
from lxml import etree

from egsu_core.pki import c14n
from egsu_core.pki.wsse import WSSE_NS, WSU_ID, verify_transport
from egsu_core.shep.errors import FormatError, NotSignedError, SignatureInvalidError
from egsu_core.shep.xmlparse import parse_document
from tests.pki.xml.keys import rsa_signer
from tests.pki.xml.messages import signed

DS = "{http://www.w3.org/2000/09/xmldsig#}"
SOAP = "{http://schemas.xmlsoap.org/soap/envelope/}"
WSSE = f"{{{WSSE_NS}}}"
NOT_BODY = "Reference does not point at the SOAP Body"
TWO_BODIES = "the envelope holds more than one soap:Body"
BAD_SIGNATURE = "the signature value does not verify: SignedInfo was changed or the key is not the signer's"


def body(root):
    return root.find(f"{SOAP}Body")


def header(root):
    return root.find(f"{SOAP}Header")


def security(root):
    return root.find(f"{SOAP}Header/{WSSE}Security")


def reference(root):
    return root.find(f".//{DS}Reference")


def resign(root: etree._Element) -> None:
    """Recompute DigestValue for whatever the Reference points at, and the SignatureValue, with the real key."""
    target_id = reference(root).get("URI")[1:]
    target = next(e for e in root.iter(etree.Element) if target_id in (e.get(WSU_ID), e.get("Id")))
    digest = c14n.canonicalize(target, c14n.EXC_C14N, comments=False)
    import hashlib

    reference(root).find(f"{DS}DigestValue").text = base64.b64encode(hashlib.sha256(digest).digest()).decode()
    signed_info = root.find(f".//{DS}SignedInfo")
    value = rsa_signer().key.sign(
        c14n.canonicalize(signed_info, c14n.EXC_C14N),
        *_pkcs1_sha256(),
    )
    root.find(f".//{DS}SignatureValue").text = base64.b64encode(value).decode()


def _pkcs1_sha256():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return padding.PKCS1v15(), hashes.SHA256()


def new_body(root) -> etree._Element:
    """An unsigned Body with the attacker's payload, in the Body's place."""
    fresh = etree.SubElement(root, f"{SOAP}Body")
    etree.SubElement(fresh, "{http://bip.bee.kz/SyncChannel/v10/Types}SendMessage").text = "attacker"
    return fresh


def move_body_into(where: Callable[[etree._Element], etree._Element]):
    def edit(root):
        signed_body = body(root)
        where(root).append(signed_body)
        new_body(root)

    return edit


def wrapper_in_header(root):
    return etree.SubElement(header(root), "{urn:attacker}Wrapper")


def decoy(root):
    signed_body = body(root)
    signed_body.tag = "{urn:attacker}Decoy"
    header(root).append(signed_body)
    new_body(root)


def second_body(root):
    root.append(copy.deepcopy(body(root)))
    del root[-1].attrib[WSU_ID]


def nested_body(root):
    signed_body = body(root)
    wrapper = etree.SubElement(root, "{urn:attacker}Wrapper")
    wrapper.append(signed_body)


def duplicate_wsu_id(root):
    etree.SubElement(header(root), "{urn:attacker}Note").set(WSU_ID, body(root).get(WSU_ID))


def id_conflict(root):
    body(root).set("Id", "another-id")


def reference_to(make_target: Callable[[etree._Element], etree._Element]):
    def edit(root):
        target = make_target(root)
        target.set(WSU_ID, "target-1")
        reference(root).set("URI", "#target-1")
        resign(root)

    return edit


def header_note(root):
    note = etree.SubElement(header(root), "{urn:attacker}Note")
    note.text = "signed decoy"
    return note


def child_of_body(root):
    return body(root)[0]


def set_uri(uri: str):
    return lambda root: reference(root).set("URI", uri)


def several_references(root):
    reference(root).addnext(copy.deepcopy(reference(root)))


def several_signatures(root):
    security(root).append(copy.deepcopy(root.find(f".//{DS}Signature")))


def signature_outside_security(root):
    header(root).append(root.find(f".//{DS}Signature"))


def signature_in_header_beside_security(root):
    header(root).append(copy.deepcopy(root.find(f".//{DS}Signature")))


def transform(algorithm: str, *, resigned: bool = False):
    def edit(root):
        root.find(f".//{DS}Transform").set("Algorithm", algorithm)
        if resigned:
            resign(root)

    return edit


def six_transforms(root):
    transforms = root.find(f".//{DS}Transforms")
    for _ in range(5):
        transforms.append(copy.deepcopy(transforms[0]))


def prefix_list(value: str, *, resigned: bool = False):
    def edit(root):
        inclusive = etree.SubElement(
            root.find(f".//{DS}Transform"), f"{{{c14n.EXC_C14N}}}InclusiveNamespaces"
        )
        inclusive.set("PrefixList", value)
        if resigned:
            resign(root)

    return edit


def text_edit(old: str, new: str):
    def edit(root):
        for element in body(root).iter(etree.Element):
            if element.text and old in element.text:
                element.text = element.text.replace(old, new)
                return
        raise AssertionError(old)

    return edit


def comment_in_text(root):
    code = body(root).find(".//code")
    code.text = "TANK"
    code.append(etree.Comment("x"))
    code[-1].tail = "-1"


def redefine_default_namespace(root):
    request = body(root).find(".//request")
    fresh = etree.Element("request", nsmap={None: "urn:attacker"})
    fresh.extend(list(request))
    request.getparent().replace(request, fresh)


def retrieval_method(root):
    key_info = root.find(f".//{DS}KeyInfo")
    key_info.clear()
    etree.SubElement(key_info, f"{DS}RetrievalMethod", URI="http://attacker.example/cert.der")


def external_token_reference(root):
    str_element = root.find(f".//{WSSE}SecurityTokenReference")
    str_element.clear()
    etree.SubElement(str_element, f"{WSSE}Reference", URI="http://attacker.example/cert.der")


def key_value_only(root):
    key_info = root.find(f".//{DS}KeyInfo")
    key_info.clear()
    etree.SubElement(etree.SubElement(key_info, f"{DS}KeyValue"), f"{DS}RSAKeyValue")


def relative_namespace(root):
    fresh = etree.SubElement(body(root)[0], "{relative}x")
    fresh.text = "1"  # cannot be signed at all; the digest is never reached


def xpath_transform_uri() -> str:
    return "http://www.w3.org/TR/1999/REC-xpath-19991116"


# name → (edit, base message kind, expected error, detail as a regular expression)
CASES: dict[str, tuple[Callable, str, type, str]] = {
    "xsw_body_moved_into_header": (
        move_body_into(header),
        "KeyIdentifier",
        SignatureInvalidError,
        TWO_BODIES,
    ),
    "xsw_body_moved_into_wrapper": (
        move_body_into(wrapper_in_header),
        "KeyIdentifier",
        SignatureInvalidError,
        TWO_BODIES,
    ),
    "xsw_body_moved_into_security": (
        move_body_into(security),
        "KeyIdentifier",
        SignatureInvalidError,
        TWO_BODIES,
    ),
    "xsw_signed_body_renamed_to_decoy": (decoy, "KeyIdentifier", SignatureInvalidError, NOT_BODY),
    "second_body": (second_body, "KeyIdentifier", SignatureInvalidError, TWO_BODIES),
    "body_nested_deeper": (
        nested_body,
        "KeyIdentifier",
        SignatureInvalidError,
        "soap:Body is not a direct child of soap:Envelope",
    ),
    "duplicate_wsu_id": (
        duplicate_wsu_id,
        "KeyIdentifier",
        SignatureInvalidError,
        r"duplicate id 'id-[0-9a-f-]+' in the message",
    ),
    "wsu_id_and_id_conflict": (
        id_conflict,
        "KeyIdentifier",
        SignatureInvalidError,
        re.escape("soap:Body carries two different ids (wsu:Id and Id)"),
    ),
    "id_on_header_element_resigned": (
        reference_to(header_note),
        "KeyIdentifier",
        SignatureInvalidError,
        NOT_BODY,
    ),
    "reference_to_child_of_body_resigned": (
        reference_to(child_of_body),
        "KeyIdentifier",
        SignatureInvalidError,
        NOT_BODY,
    ),
    "reference_uri_empty": (
        set_uri(""),
        "KeyIdentifier",
        SignatureInvalidError,
        "Reference URI must be '#<id of soap:Body>', not the whole document",
    ),
    "reference_uri_http": (
        set_uri("http://attacker.example/body.xml"),
        "KeyIdentifier",
        SignatureInvalidError,
        "external Reference URIs are not allowed",
    ),
    "reference_uri_file": (
        set_uri("file:///etc/passwd"),
        "KeyIdentifier",
        SignatureInvalidError,
        "external Reference URIs are not allowed",
    ),
    "reference_uri_xpointer": (
        set_uri("#xpointer(/)"),
        "KeyIdentifier",
        SignatureInvalidError,
        re.escape("Reference URI must be a plain '#id' (no XPointer)"),
    ),
    "several_references": (
        several_references,
        "KeyIdentifier",
        SignatureInvalidError,
        "several References: exactly one, to the soap:Body, is accepted",
    ),
    "several_signatures": (
        several_signatures,
        "KeyIdentifier",
        SignatureInvalidError,
        "more than one ds:Signature in the message",
    ),
    "signature_outside_security": (
        signature_outside_security,
        "KeyIdentifier",
        SignatureInvalidError,
        "ds:Signature is outside wsse:Security",
    ),
    "second_signature_beside_security": (
        signature_in_header_beside_security,
        "KeyIdentifier",
        SignatureInvalidError,
        "more than one ds:Signature in the message",
    ),
    "xpath_transform": (
        transform(xpath_transform_uri()),
        "KeyIdentifier",
        SignatureInvalidError,
        re.escape(f"transform '{xpath_transform_uri()}' is not allowed"),
    ),
    "xslt_transform": (
        transform("http://www.w3.org/TR/1999/REC-xslt-19991116"),
        "KeyIdentifier",
        SignatureInvalidError,
        "transform 'http://www.w3.org/TR/1999/REC-xslt-19991116' is not allowed",
    ),
    "base64_transform": (
        transform("http://www.w3.org/2000/09/xmldsig#base64"),
        "KeyIdentifier",
        SignatureInvalidError,
        "transform 'http://www.w3.org/2000/09/xmldsig#base64' is not allowed",
    ),
    "enveloped_transform_on_transport": (
        transform("http://www.w3.org/2000/09/xmldsig#enveloped-signature"),
        "KeyIdentifier",
        SignatureInvalidError,
        "transform 'http://www.w3.org/2000/09/xmldsig#enveloped-signature' is not allowed",
    ),
    "six_transforms": (
        six_transforms,
        "KeyIdentifier",
        SignatureInvalidError,
        "more than 5 transforms in a reference",
    ),
    "comment_inserted_in_text": (
        comment_in_text,
        "KeyIdentifier",
        SignatureInvalidError,
        "a comment inside the signed soap:Body is not covered by the signature",
    ),
    "whitespace_changed_in_body": (
        text_edit("TANK-1", "TANK-1 "),
        "KeyIdentifier",
        SignatureInvalidError,
        "digest of the Body does not match",
    ),
    "default_namespace_redefined_inside_body": (
        redefine_default_namespace,
        "KeyIdentifier",
        SignatureInvalidError,
        "digest of the Body does not match",
    ),
    "prefix_list_malformed": (
        prefix_list("soapenv bad:prefix"),
        "KeyIdentifier",
        SignatureInvalidError,
        "InclusiveNamespaces PrefixList is malformed",
    ),
    "prefix_list_added_after_signing": (
        prefix_list("soapenv xsd"),
        "KeyIdentifier",
        SignatureInvalidError,
        BAD_SIGNATURE,
    ),
    "prefix_list_too_long": (
        prefix_list(" ".join(f"p{i}" for i in range(40))),
        "KeyIdentifier",
        SignatureInvalidError,
        "InclusiveNamespaces PrefixList names more than 32 prefixes",
    ),
    "key_info_retrieval_method": (
        retrieval_method,
        "KeyIdentifier",
        SignatureInvalidError,
        "ds:RetrievalMethod in KeyInfo is not allowed",
    ),
    "key_info_external_token_reference": (
        external_token_reference,
        "KeyIdentifier",
        SignatureInvalidError,
        "SecurityTokenReference must point at a token in this message",
    ),
    "key_info_bare_key_value": (
        key_value_only,
        "KeyIdentifier",
        SignatureInvalidError,
        "KeyInfo content 'KeyValue' is not supported",
    ),
    "binary_token_moved_out_of_security": (
        lambda root: header(root).append(root.find(f".//{WSSE}BinarySecurityToken")),
        "BinarySecurityToken",
        SignatureInvalidError,
        "SecurityTokenReference does not point at a BinarySecurityToken in wsse:Security",
    ),
    "relative_namespace_uri_in_body": (
        relative_namespace,
        "KeyIdentifier",
        SignatureInvalidError,
        re.escape("soap:Body: the XML cannot be canonicalized (relative namespace URI?)"),
    ),
    "security_header_removed": (
        lambda root: header(root).remove(security(root)),
        "KeyIdentifier",
        NotSignedError,
        "the message has no wsse:Security header",
    ),
}


def build(name: str) -> bytes:
    edit, kind, _, _ = CASES[name]
    root = parse_document(signed(kind))
    edit(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.fixture(scope="session")
def corpus() -> dict[str, bytes]:
    return {name: build(name) for name in CASES}


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
def test_hostile_signed_message_is_refused(corpus, name):
    _, _, error, detail = CASES[name]
    with pytest.raises(error) as caught:
        verify_transport(parse_document(corpus[name]))
    assert caught.value.code == ("SCE007" if error is NotSignedError else "SCE006")
    assert re.fullmatch(detail, caught.value.detail), caught.value.detail


def test_the_unedited_message_is_accepted():
    """The control: every case above is refused because of its edit, not because the base is bad."""
    for kind in ("KeyIdentifier", "BinarySecurityToken"):
        verify_transport(parse_document(signed(kind)))


@pytest.mark.parametrize(
    "doctype",
    [
        b'<!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        b'<!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    ],
    ids=["xxe", "entity-expansion"],
)
def test_doctype_in_a_signed_message_fails_in_the_parser_first(doctype):
    data = signed().replace(b"?>\n", b"?>\n" + doctype + b"\n", 1)
    with pytest.raises(FormatError) as caught:
        parse_document(data)
    assert caught.value.detail == "DOCTYPE is not allowed: DTDs and entity declarations are refused"
