"""Small factories for envelope tests: a valid request by default, each field overridable."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from egsu_core.shep.envelope import BODY, ENVELOPE, SOAP_ENV_NS, build_request
from egsu_core.shep.xmlparse import parse_document

SESSION_ID = "{5a7540fd-3b13-4acc-848d-5bf33c94ef4b}"
ISUN_DATA_TYPE = ("http://message.persistence.interactive.nat", "Request")


def event(device_id: str = "407001", mass: str = "80.46875") -> etree._Element:
    """One ISUN ``events`` record as clients send it (unqualified elements)."""
    element = etree.Element("events")
    for tag, text in (("id", device_id), ("datetime", "2024-01-11T13:00:00.000+00:00"), ("mass", mass)):
        etree.SubElement(element, tag).text = text
    return element


def request_fields(**overrides) -> dict:
    fields = {
        "message_id": "04e0ee99-407a-4b1e-a702-90230f9d7f8f",
        "service_id": "ISUN_Service2",
        "sender_id": "subject-system",
        "password": "s3cret-Пароль",
        "message_date": datetime(2024, 1, 18, 12, 13, 25, 583000, tzinfo=UTC),
        "payload": [event("407001"), event("407004", "75.66756")],
    }
    fields.update(overrides)
    return fields


def request_bytes(**overrides) -> bytes:
    return build_request(**request_fields(**overrides))


def request_tree(**overrides) -> etree._Element:
    return parse_document(request_bytes(**overrides))


def wrap_in_envelope(element: etree._Element, *, prefix: str = "soapenv") -> bytes:
    """Put a bare SendMessage into a SOAP 1.1 Envelope/Body, as Kalkan SignWSSE does for ISUN clients."""
    envelope = etree.Element(ENVELOPE, nsmap={prefix: SOAP_ENV_NS})
    etree.SubElement(envelope, BODY).append(element)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
