"""Our published SyncChannel contract (App.5, INT-04): the WSDL, its XSDs, and schema checks.

The files in ``core/egsu_core/shep/wsdl/`` are our own, written from App.4/App.5. The WSDL
is served with the real endpoint address and absolute schema locations filled in;
the XSDs are served as they are (``SyncChannel.xsd`` imports ``common.xsd`` by a
relative location, which resolves next to it).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import xmlschema
from lxml import etree

from egsu_core.shep.envelope import TYPES_NS
from egsu_core.shep.errors import FormatError
from egsu_core.shep.xmlparse import parse_document

WSDL_NAME = "SyncChannel.wsdl"
SCHEMA_NAMES = ("SyncChannel.xsd", "common.xsd")

_WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
_WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
_XSD_NS = "http://www.w3.org/2001/XMLSchema"
_DATA_PARENTS = ("requestData", "responseData")


@cache
def _resource(name: str) -> bytes:
    return resources.files("egsu_core.shep.wsdl").joinpath(name).read_bytes()


def wsdl_bytes(endpoint_url: str, schema_base_url: str) -> bytes:
    """The WSDL as served at ``?wsdl``: our endpoint address, schemas under ``schema_base_url``."""
    root = parse_document(_resource(WSDL_NAME))
    for address in root.iter(f"{{{_WSDL_SOAP_NS}}}address"):
        address.set("location", endpoint_url)
    base = schema_base_url.rstrip("/")
    for schema_import in root.iter(f"{{{_XSD_NS}}}import"):
        if schema_import.get("namespace") == TYPES_NS:
            schema_import.set("schemaLocation", f"{base}/SyncChannel.xsd")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def schema_bytes(name: str) -> bytes | None:
    """One of our XSDs by file name (``SyncChannel.xsd``, ``common.xsd``, or without ``.xsd``); else None."""
    file_name = name if name.endswith(".xsd") else f"{name}.xsd"
    if file_name not in SCHEMA_NAMES:
        return None
    return _resource(file_name)


def wsdl_path() -> str:
    """Filesystem path of the packaged WSDL (its XSDs sit beside it), for tools such as zeep."""
    return str(resources.files("egsu_core.shep.wsdl").joinpath(WSDL_NAME))


@cache
def request_schema() -> xmlschema.XMLSchema:
    """Our XSD compiled once; validates SendMessage, SendMessageResponse and the fault detail."""
    return xmlschema.XMLSchema(str(resources.files("egsu_core.shep.wsdl").joinpath("SyncChannel.xsd")))


def validate_message_element(element: etree._Element) -> None:
    """Validate an operation element against our XSD with ``data`` lax; raise FormatError on the first fault.

    ``data`` is xsd:anyType, but real clients put an ``xsi:type`` on it that no schema
    defines (``cs:Request``), so its content and attributes are left out of the check.
    Order matters here, as in any xsd:sequence; ``parse_request`` is the lenient reader.
    """
    skeleton = _skeleton(element, inside_data_parent=False)
    error = next(request_schema().iter_errors(skeleton), None)
    if error is not None:
        where = error.path or element.tag
        raise FormatError(f"{where}: {error.reason or 'does not match the SyncChannel schema'}"[:500])


def _skeleton(element: etree._Element, *, inside_data_parent: bool) -> etree._Element:
    """A copy of the envelope structure that leaves ``data`` empty, so a 15 MB payload is not copied."""
    clone = etree.Element(element.tag, nsmap=element.nsmap)
    if inside_data_parent and element.tag == "data":
        return clone
    for name, value in element.attrib.items():
        clone.set(name, value)
    clone.text = element.text
    for child in element:
        if not isinstance(child.tag, str):
            continue
        child_clone = _skeleton(child, inside_data_parent=element.tag in _DATA_PARENTS)
        child_clone.tail = child.tail
        clone.append(child_clone)
    return clone


__all__ = [
    "SCHEMA_NAMES",
    "request_schema",
    "schema_bytes",
    "validate_message_element",
    "wsdl_bytes",
    "wsdl_path",
]
