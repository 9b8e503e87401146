"""Interoperability with tools nobody here wrote: the xmlsec1 CLI and zeep's WS-Security plugins (issue 3)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from egsu_core.pki.wsse import verify_transport
from egsu_core.pki.xmldsig import sign_enveloped, verify_enveloped
from egsu_core.shep.errors import SignatureInvalidError
from egsu_core.shep.xmlparse import parse_document
from tests.pki.xml.keys import rsa_signer
from tests.pki.xml.messages import signed

XMLSEC1 = shutil.which("xmlsec1")
needs_xmlsec1 = pytest.mark.skipif(XMLSEC1 is None, reason="the xmlsec1 command-line tool is not installed")
BODY_ID_ATTR = ["--id-attr:Id", "http://schemas.xmlsoap.org/soap/envelope/:Body"]

TRANSPORT_TEMPLATE = b"""<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">
  <soap:Header>
    <wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" soap:mustUnderstand="1">
      <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:SignedInfo>
          <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
          <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
          <ds:Reference URI="#id-body-1">
            <ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>
            <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
            <ds:DigestValue/>
          </ds:Reference>
        </ds:SignedInfo>
        <ds:SignatureValue/>
        <ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>
      </ds:Signature>
    </wsse:Security>
  </soap:Header>
  <soap:Body wsu:Id="id-body-1">
    <ns2:SendMessage xmlns:ns2="http://bip.bee.kz/SyncChannel/v10/Types">
      <request><requestData><data><record><code>TANK-1</code></record></data></requestData></request>
    </ns2:SendMessage>
  </soap:Body>
</soap:Envelope>
"""

ENVELOPED_TEMPLATE = b"""<?xml version="1.0" encoding="UTF-8"?>
<report xmlns="urn:example:isun"><record><code>TANK-1</code><!-- a note --><volume>1250.5</volume></record>
<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>
<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>
<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
<ds:Reference URI=""><ds:Transforms>
<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
<ds:Transform Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"/></ds:Transforms>
<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>
</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>
</ds:Signature></report>
"""


@pytest.fixture(scope="module")
def pem_files(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("xmlsec1")
    key, cert = folder / "key.pem", folder / "cert.pem"
    key.write_bytes(rsa_signer().key_pem)
    cert.write_bytes(rsa_signer().cert_pem)
    return key, cert


def xmlsec1(*args: str, tmp_path: Path, document: bytes) -> subprocess.CompletedProcess:
    source = tmp_path / "in.xml"
    source.write_bytes(document)
    return subprocess.run(
        [XMLSEC1, *args, str(source)], capture_output=True, text=True, timeout=30, check=False
    )


@needs_xmlsec1
def test_message_signed_by_xmlsec1_is_accepted(pem_files, tmp_path):
    # given a SOAP message signed by the Debian xmlsec1 CLI from our template
    key, cert = pem_files
    output = tmp_path / "out.xml"
    done = xmlsec1(
        "--sign", "--privkey-pem", f"{key},{cert}", *BODY_ID_ATTR, "--output", str(output),
        tmp_path=tmp_path, document=TRANSPORT_TEMPLATE,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # when we verify it
    root = parse_document(output.read_bytes())
    result = verify_transport(root)
    # then it is accepted, and the body is the envelope's Body
    assert result.body is root[1]
    assert result.key_info_kind == "X509Certificate"
    assert result.certificate_der == rsa_signer().der


@needs_xmlsec1
@pytest.mark.parametrize("kind", ["KeyIdentifier", "X509Certificate", "BinarySecurityToken"])
def test_our_transport_signature_verifies_with_xmlsec1(pem_files, tmp_path, kind):
    _, cert = pem_files
    done = xmlsec1("--verify", "--trusted-pem", str(cert), "--pubkey-cert-pem", str(cert), *BODY_ID_ATTR,
                   tmp_path=tmp_path, document=signed(kind))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "SignedInfo References (ok/all): 1/1" in done.stdout + done.stderr


@needs_xmlsec1
def test_xmlsec1_refuses_our_signature_once_the_body_changes(pem_files, tmp_path):
    """The negative control: the interop test above is not vacuous."""
    _, cert = pem_files
    tampered = signed().replace(b"<volume>1250.5</volume>", b"<volume>9250.5</volume>")
    done = xmlsec1(
        "--verify", "--pubkey-cert-pem", str(cert), *BODY_ID_ATTR, tmp_path=tmp_path, document=tampered
    )
    assert done.returncode != 0


@needs_xmlsec1
def test_our_business_signature_verifies_with_xmlsec1(pem_files, tmp_path):
    _, cert = pem_files
    business = etree.fromstring(
        b'<report xmlns="urn:example:isun"><record><code>TANK-1</code></record></report>'
    )
    signed_root = sign_enveloped(business, private_key=rsa_signer().key, certificate_der=rsa_signer().der)
    done = xmlsec1(
        "--verify", "--trusted-pem", str(cert), tmp_path=tmp_path, document=etree.tostring(signed_root)
    )
    assert done.returncode == 0, done.stderr


@needs_xmlsec1
def test_business_signature_made_by_xmlsec1_is_accepted(pem_files, tmp_path):
    key, cert = pem_files
    output = tmp_path / "out.xml"
    done = xmlsec1("--sign", "--privkey-pem", f"{key},{cert}", "--output", str(output),
                   tmp_path=tmp_path, document=ENVELOPED_TEMPLATE)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = verify_enveloped(parse_document(output.read_bytes()))
    assert result.certificate_der == rsa_signer().der
    # the comment is dropped by URI="" dereferencing, so what we return has none
    assert etree.tostring(result.element.find("{urn:example:isun}record"), with_tail=False) == (
        b'<record xmlns="urn:example:isun"><code>TANK-1</code><volume>1250.5</volume></record>'
    )


# ----------------------------------------------------------------------------- zeep


@pytest.fixture(scope="module")
def zeep_envelope():
    pytest.importorskip("xmlsec")
    import zeep

    from egsu_core.shep.contract import wsdl_path

    client = zeep.Client(wsdl_path())
    return client.create_message(
        client.service,
        "SendMessage",
        request={
            "requestInfo": {
                "messageId": "5b1b1ee4-0d7c-4fb8-9a51-1f1f2c6f4a10",
                "serviceId": "ISUN_Service2",
                "messageDate": "2025-01-15T12:00:00+05:00",
                "sender": {"senderId": "isun-client", "password": "secret"},
            },
            "requestData": {"data": "payload"},
        },
    )


def _zeep_signed(envelope, plugin_name: str, pem_files, *, timestamp: bool = False) -> bytes:
    from zeep.wsse import signature
    from zeep.wsse.utils import WSU, get_security_header

    key, cert = pem_files
    envelope = etree.fromstring(etree.tostring(envelope))
    if timestamp:
        stamp = WSU.Timestamp(WSU.Created("2025-01-15T07:00:00Z"), WSU.Expires("2025-01-15T07:05:00Z"))
        get_security_header(envelope).append(stamp)
    plugin = getattr(signature, plugin_name)(str(key), str(cert))
    envelope, _ = plugin.apply(envelope, {})
    return etree.tostring(envelope)


@pytest.mark.parametrize(
    ("plugin_name", "kind"),
    [("Signature", "X509Certificate"), ("BinarySignature", "BinarySecurityToken")],
    ids=["Signature", "BinarySignature"],
)
def test_zeep_wsse_signature_plugins_are_accepted(zeep_envelope, pem_files, plugin_name, kind):
    # given a SendMessage envelope zeep built from our WSDL and signed with its own plugin (python-xmlsec)
    root = parse_document(_zeep_signed(zeep_envelope, plugin_name, pem_files))
    # when we verify it, then the Body zeep signed is what we get back
    result = verify_transport(root)
    assert result.body is root.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    assert result.key_info_kind == kind
    assert result.body.find(".//messageId").text == "5b1b1ee4-0d7c-4fb8-9a51-1f1f2c6f4a10"


def test_zeep_signature_that_also_signs_a_timestamp_is_refused(zeep_envelope, pem_files):
    """Decision: exactly one Reference, to the Body (shep-notes §5.3); no ShEP client sends a Timestamp."""
    root = parse_document(_zeep_signed(zeep_envelope, "Signature", pem_files, timestamp=True))
    with pytest.raises(SignatureInvalidError) as caught:
        verify_transport(root)
    assert caught.value.detail == "several References: exactly one, to the soap:Body, is accepted"
