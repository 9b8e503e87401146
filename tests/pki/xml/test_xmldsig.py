"""Business-data signature inside ``data`` (SIG-03, SIG-14, shep-notes §2c and §5.10)."""

from __future__ import annotations

import base64
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from egsu_core.pki import c14n
from egsu_core.pki.xmldsig import find_business_signature, sign_enveloped, verify_enveloped
from egsu_core.shep.errors import NotSignedError, SignatureInvalidError
from egsu_core.shep.xmlparse import parse_document
from tests.pki.xml.keys import rsa_signer
from tests.pki.xml.tokens import GEN_TIME, make_token

DS = "{http://www.w3.org/2000/09/xmldsig#}"
ISUN = "urn:example:isun"
BUSINESS = b'<report xmlns="urn:example:isun" xmlns:u="urn:example:units"><record u:unit="m3"><code>TANK-1</code><volume>1250.5</volume></record></report>'
ENVELOPE = """<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
<soapenv:Body><ns2:SendMessage xmlns:ns2="http://bip.bee.kz/SyncChannel/v10/Types"><request><requestData>
<data xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:cs="http://message.persistence.interactive.nat" xsi:type="cs:Request">{payload}</data>
</requestData></request></ns2:SendMessage></soapenv:Body></soapenv:Envelope>"""


def sign(root: etree._Element, **kwargs) -> etree._Element:
    return sign_enveloped(root, private_key=rsa_signer().key, certificate_der=rsa_signer().der, **kwargs)


def in_envelope(payload: str) -> etree._Element:
    """The whole envelope serialized and parsed again, as the server receives it; returns ``data``."""
    root = parse_document(ENVELOPE.format(payload=payload).encode("utf-8"))
    return root.find(".//data")


def signed_text(**kwargs) -> str:
    return etree.tostring(sign(etree.fromstring(BUSINESS), **kwargs), encoding="unicode")


def rejected(root: etree._Element) -> SignatureInvalidError:
    with pytest.raises(SignatureInvalidError) as caught:
        verify_enveloped(root)
    assert caught.value.code == "SCE006"
    return caught.value


CANONICALIZATIONS = [c14n.C14N, c14n.C14N_WITH_COMMENTS, c14n.EXC_C14N, c14n.EXC_C14N_WITH_COMMENTS]


@pytest.mark.parametrize("transform", CANONICALIZATIONS, ids=["c14n", "c14n-comments", "exc", "exc-comments"])
@pytest.mark.parametrize("canonicalization", [c14n.C14N, c14n.EXC_C14N], ids=["si-c14n", "si-exc"])
def test_round_trip_for_each_canonicalization(canonicalization, transform):
    signed = sign(etree.fromstring(BUSINESS), canonicalization=canonicalization, transform=transform)
    result = verify_enveloped(signed)
    assert result.certificate_der == rsa_signer().der
    assert result.element.find(f".//{{{ISUN}}}code").text == "TANK-1"
    assert result.element.find(f"{DS}Signature") is None  # what was signed: without the signature
    assert result.timestamp_time is None


def test_signature_is_the_last_child_as_ncanode_makes_it():
    signed = sign(etree.fromstring(BUSINESS))
    assert signed[-1].tag == f"{DS}Signature"
    assert signed[-1].find(f"{DS}SignedInfo/{DS}Reference").get("URI") == ""
    assert [t.get("Algorithm") for t in signed.iter(f"{DS}Transform")] == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        c14n.C14N_WITH_COMMENTS,
    ]


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda text: text, id="element-children"),
        pytest.param(lambda text: escape(text), id="escaped-string"),
        pytest.param(lambda text: f"<![CDATA[{text}]]>", id="cdata"),
        pytest.param(
            lambda text: escape('<?xml version="1.0" encoding="UTF-8"?>' + text),
            id="escaped-with-declaration",
        ),
    ],
)
def test_signed_standalone_then_placed_in_data_verifies(wrap):
    # given a payload signed as its own document, then put into data (which declares xsi and cs)
    data = in_envelope(wrap(signed_text()))
    # when the business root is found and verified
    business = find_business_signature(data)
    result = verify_enveloped(business)
    # then inherited namespaces of the envelope did not get into the digest
    assert etree.QName(result.element).localname == "report"
    assert result.element.nsmap == {None: ISUN, "u": "urn:example:units"}


def test_signed_with_the_namespaces_it_inherits_in_data_verifies():
    # given a payload signed in place inside data, so inclusive c14n covered xsi, cs, xsd and soapenv
    data = in_envelope(BUSINESS.decode())
    signed = sign(data[0])
    data.replace(data[0], signed)
    data = parse_document(etree.tostring(data.getroottree())).find(".//data")
    # when verified, then the in-context reading matches
    result = verify_enveloped(find_business_signature(data))
    assert result.element.find(f".//{{{ISUN}}}volume").text == "1250.5"


def test_tampered_payload_is_refused():
    data = in_envelope(signed_text().replace("1250.5", "9250.5"))
    assert (
        rejected(find_business_signature(data)).detail
        == "business-data signature: digest of the business data does not match"
    )


def test_comment_is_not_signed_and_not_returned():
    # given a comment inserted into the signed text (comment-truncation class)
    data = in_envelope(signed_text().replace("TANK-1", "TANK<!--x-->-1"))
    result = verify_enveloped(find_business_signature(data))
    # then the returned element is what was signed: the text reads whole
    assert result.element.find(f".//{{{ISUN}}}code").text == "TANK-1"


def test_unsigned_payload_gives_none_and_verify_says_not_signed():
    assert find_business_signature(in_envelope(BUSINESS.decode())) is None
    assert find_business_signature(in_envelope("plain text")) is None
    with pytest.raises(NotSignedError):
        verify_enveloped(etree.fromstring(BUSINESS))


def _edit(mutate) -> etree._Element:
    signed = sign(etree.fromstring(BUSINESS))
    mutate(signed)
    return parse_document(etree.tostring(signed))


def _set(path: str, attribute: str, value: str):
    return lambda root: root.find(path).set(attribute, value)


FAILURES = {
    "reference_to_other_id": (
        _set(f".//{DS}Reference", "URI", "#other"),
        'Reference URI must be "" (the whole business document) or the id of its root',
    ),
    "reference_external": (
        _set(f".//{DS}Reference", "URI", "file:///etc/passwd"),
        'Reference URI must be "" (the whole business document) or the id of its root',
    ),
    "xpath_transform": (
        _set(f".//{DS}Transform", "Algorithm", "http://www.w3.org/TR/1999/REC-xpath-19991116"),
        "transform 'http://www.w3.org/TR/1999/REC-xpath-19991116' is not allowed",
    ),
    "signature_not_a_child_of_root": (
        lambda root: root[0].append(root[-1]),
        "ds:Signature must be a direct child of the signed root element",
    ),
    "certificate_swapped": (
        lambda root: setattr(
            root.find(f".//{DS}X509Certificate"),
            "text",
            base64.b64encode(rsa_signer("impostor").der).decode(),
        ),
        "the signature value does not verify: SignedInfo was changed or the key is not the signer's",
    ),
}


@pytest.mark.parametrize("name", sorted(FAILURES), ids=sorted(FAILURES))
def test_each_business_failure_has_its_own_detail(name):
    mutate, detail = FAILURES[name]
    assert rejected(_edit(mutate)).detail == f"business-data signature: {detail}"


def test_valid_timestamp_gives_its_time_and_tsa():
    # given a business signature with a XAdES SignatureTimeStamp over the canonical SignatureValue
    signed = sign(etree.fromstring(BUSINESS), timestamper=make_token)
    data = in_envelope(etree.tostring(signed, encoding="unicode"))
    result = verify_enveloped(find_business_signature(data))
    assert result.timestamp_time == GEN_TIME
    assert result.tsa_certificate_der == rsa_signer("tsa").der


@pytest.mark.parametrize(
    ("timestamper", "detail"),
    [
        pytest.param(
            lambda stamped: make_token(stamped, imprint=b"\0" * 32),
            "time-stamp token: the messageImprint does not match the signature value",
            id="wrong-imprint",
        ),
        pytest.param(
            lambda stamped: make_token(stamped, tsa=rsa_signer("impostor")),
            "time-stamp token: the signer is not a time-stamping authority (extendedKeyUsage timeStamping)",
            id="not-a-tsa",
        ),
        pytest.param(
            lambda stamped: b"\x30\x03\x02\x01\x01",
            "time-stamp token: not a well-formed RFC 3161 token",
            id="garbage",
        ),
    ],
)
def test_bad_timestamps_are_refused(timestamper, detail):
    signed = parse_document(etree.tostring(sign(etree.fromstring(BUSINESS), timestamper=timestamper)))
    assert rejected(signed).detail == f"business-data signature: {detail}"


def test_timestamp_signed_by_someone_else_is_refused():
    signed = sign(etree.fromstring(BUSINESS), timestamper=make_token)
    token_element = signed.find(".//{http://uri.etsi.org/01903/v1.3.2#}EncapsulatedTimeStamp")
    token = bytearray(base64.b64decode(token_element.text))
    token[-5] ^= 0x01  # inside the TSA's signature value
    token_element.text = base64.b64encode(bytes(token)).decode()
    assert (
        rejected(signed).detail
        == "business-data signature: time-stamp token: the TSA signature does not verify"
    )
