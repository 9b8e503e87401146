"""Signed workflow steps and the signed decision PDF (OGM-04..06), with the gateway's signing code.

Plain Python. A step is a small XML statement (who does what to which scheme version, with the
content's digest) carrying an enveloped XML signature made by the acting user's NCA key
(egsu_core.pki.xmldsig: RSA or GOST). The decision PDF carries the reviewer's signed statement as an
attached file ``signature.xml`` added by an incremental update, so the signed bytes — the
document as rendered — stay the file's unchanged prefix; the statement names their length and
SHA-256 (the same byte-range idea as PDF signatures, without tying it to one algorithm family).
``egsu pki verify-document`` checks both forms.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from lxml import etree

from egsu_core.pki.keys import SigningIdentity
from egsu_core.pki.xmldsig import EnvelopedSignature, sign_enveloped, verify_enveloped

NS = "urn:egsu:schemes:1"
ATTACHMENT = "signature.xml"


class DocumentSignatureError(ValueError):
    """The document's signature is missing, malformed, or does not cover the document."""


def statement(kind: str, fields: dict[str, str]) -> etree._Element:
    """A step statement: <kind xmlns=urn:egsu:schemes:1><name>value</name>…</kind>, in the given order."""
    root = etree.Element(f"{{{NS}}}{kind}", nsmap={None: NS})
    for name, value in fields.items():
        etree.SubElement(root, f"{{{NS}}}{name}").text = value
    return root


def sign(identity: SigningIdentity, root: etree._Element) -> bytes:
    signed = sign_enveloped(
        root,
        private_key=identity.private_key,
        certificate_der=identity.certificate_der,
        algorithm_uri=identity.algorithm_uri,
    )
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def verify(signed_xml: bytes) -> tuple[EnvelopedSignature, dict[str, str]]:
    """The signature (verified: value and digest; not the certificate's chain) and the statement's fields."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    root = etree.fromstring(signed_xml, parser)
    result = verify_enveloped(root)
    fields = {
        etree.QName(child).localname: (child.text or "")
        for child in result.element
        if isinstance(child.tag, str) and etree.QName(child).namespace == NS
    }
    fields["kind"] = etree.QName(result.element).localname
    return result, fields


def document_fields(pdf: bytes) -> dict[str, str]:
    return {"documentLength": str(len(pdf)), "documentSha256": hashlib.sha256(pdf).hexdigest()}


def attach(
    pdf: bytes, signed_xml: bytes, *, name: str = ATTACHMENT, more: dict[str, bytes] | None = None
) -> bytes:
    """The PDF with the signed statement(s) attached by one incremental update (the PDF stays a prefix).

    Several signatures over the same document (a two-party act) go into one update from the unsigned
    bytes: `more` names the others.
    """
    from pypdf import PdfWriter

    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    writer.add_attachment(name, signed_xml)
    for other, data in (more or {}).items():
        writer.add_attachment(other, data)
    out = io.BytesIO()
    writer.write(out)
    signed = out.getvalue()
    if not signed.startswith(pdf):  # pragma: no cover - a pypdf change would break verification
        raise DocumentSignatureError("the incremental update rewrote the signed bytes")
    return signed


def signature_names(data: bytes) -> list[str]:
    """The signed statements a PDF carries (signature.xml first, then any signature-*.xml)."""
    from pypdf import PdfReader

    names = [
        n for n in PdfReader(io.BytesIO(data)).attachments if n.startswith("signature") and n.endswith(".xml")
    ]
    return sorted(names, key=lambda n: (n != ATTACHMENT, n))


def attachment(data: bytes, name: str = ATTACHMENT) -> bytes:
    from pypdf import PdfReader

    return PdfReader(io.BytesIO(data)).attachments[name][0]


@dataclass(frozen=True)
class DocumentVerdict:
    signature: EnvelopedSignature
    fields: dict[str, str]
    signed_length: int
    total_length: int


def verify_document(data: bytes, *, name: str = ATTACHMENT) -> DocumentVerdict:
    """Verify a signed decision PDF: the statement's signature, and that it covers the document's bytes."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        attachments = PdfReader(io.BytesIO(data)).attachments
        signed_xml = attachments[name][0]
    except (PdfReadError, KeyError, IndexError, ValueError) as exc:
        raise DocumentSignatureError(f"the PDF carries no {name}: {exc}") from exc
    result, fields = verify(signed_xml)
    try:
        length = int(fields["documentLength"])
        digest = fields["documentSha256"]
    except (KeyError, ValueError) as exc:
        raise DocumentSignatureError("the signed statement names no document") from exc
    if not 0 < length < len(data) or hashlib.sha256(data[:length]).hexdigest() != digest:
        raise DocumentSignatureError("the signed statement does not match the document's bytes")
    return DocumentVerdict(result, fields, length, len(data))
