"""The ShEP SyncChannel v10 envelope: read SendMessage requests, write responses and faults.

SOAP 1.1, document/literal, WS-I Basic Profile 1.1 (INT-02..04, ENV-01..13).
Only the operation elements are namespace-qualified; everything under them is
unqualified, as the real schemas and real traffic have it (shep-notes §1). We
are strict about the envelope's shape and App.4 sizes, and lenient where real
clients are sloppy: element order inside a group, white space around values,
``xsi:type`` on ``data``. Every refusal is a ``FormatError`` naming the element.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from egsu_core.clock import format_astana, utcnow
from egsu_core.shep.errors import FormatError, GatewayError
from egsu_core.shep.xmlparse import parse_document
from egsu_core.shep.xsdtime import parse_xsd_datetime

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV_NS = "http://www.w3.org/2003/05/soap-envelope"
TYPES_NS = "http://bip.bee.kz/SyncChannel/v10/Types"
COMMON_NS = "http://bip.bee.kz/common/v10/Types"
INTERFACES_NS = "http://bip.bee.kz/SyncChannel/v10/Interfaces"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSD_NS = "http://www.w3.org/2001/XMLSchema"

ENVELOPE = f"{{{SOAP_ENV_NS}}}Envelope"
HEADER = f"{{{SOAP_ENV_NS}}}Header"
BODY = f"{{{SOAP_ENV_NS}}}Body"
FAULT = f"{{{SOAP_ENV_NS}}}Fault"
MUST_UNDERSTAND = f"{{{SOAP_ENV_NS}}}mustUnderstand"
SEND_MESSAGE = f"{{{TYPES_NS}}}SendMessage"
SEND_MESSAGE_RESPONSE = f"{{{TYPES_NS}}}SendMessageResponse"
SEND_MESSAGE_FAULT = f"{{{TYPES_NS}}}SendMessageFault1_SendMessageFault"
WSU_ID = f"{{{WSU_NS}}}Id"
XSI_TYPE = f"{{{XSI_NS}}}type"
XSI_NIL = f"{{{XSI_NS}}}nil"

# App.4 Table 1 sizes (ENV-02..04).
MESSAGE_ID_MAX = 100
CORRELATION_ID_MAX = 100
SERVICE_ID_MAX = 50
MESSAGE_DATE_MAX = 50
ROUTE_ID_MAX = 50
SESSION_ID_MAX = 50
SENDER_ID_MAX = 50
PASSWORD_MAX = 100
PROPERTY_KEY_MAX = 30  # common:Property in the real schema
PROPERTY_VALUE_MAX = 500
STATUS_CODE_MAX = 50
STATUS_MESSAGE_MAX = 250
"""App.4 allows 500, but the real StatusInfo schema caps it at 250: we send what both accept."""
ERROR_MESSAGE_MAX = 1000
SUB_ERRORS_MAX = 20
"""Longest subError chain we write; more detail would only grow the fault."""

CLIENT_FAULT_CODES = frozenset({"SCE001", "SCE002", "SCE003", "SCE004", "SCE005", "SCE006", "SCE007"})

_XML_SPACE = " \t\r\n"
_GUID = re.compile(r"\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?")
_INVALID_XML_CHARS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_GATEWAY_CODE = re.compile(r"SC[A-Z]*\d+")


@dataclass(frozen=True)
class SyncRequest:
    """A SendMessage request as read from the wire; ``data`` and the envelope stay lxml elements."""

    message_id: str
    correlation_id: str | None
    service_id: str
    message_date: datetime
    route_id: str | None
    session_id: str | None
    sender_id: str
    password: str | None = field(repr=False)  # cleartext on the wire: never log or echo it (shep-notes §5.11)
    properties: tuple[tuple[str, str], ...]
    data: etree._Element | None
    envelope: etree._Element
    body: etree._Element
    header: etree._Element | None
    must_understand: tuple[str, ...] = ()
    """Clark names of header blocks marked soap:mustUnderstand="1"; the signature layer handles wsse:Security."""


@dataclass
class SyncResponse:
    """What we answer to a processed request (ENV-03)."""

    message_id: str
    correlation_id: str | None
    response_date: datetime
    status_code: str
    status_message: str
    session_id: str | None = None
    data_text: str | None = None
    """The receipt as a string, sent escaped inside ``data`` with xsi:type xsd:string like ISUN does."""


# ---------------------------------------------------------------- reading requests


def parse_request(root: etree._Element) -> SyncRequest:
    """Read a SOAP 1.1 SendMessage envelope; raise FormatError naming what is wrong."""
    header, body = _split_envelope(root)
    operation = _body_child(body)
    if operation.tag != SEND_MESSAGE:
        raise FormatError(
            f"soap:Body holds {_describe(operation)}, expected SendMessage in namespace {TYPES_NS}"
        )
    _no_text(operation, "SendMessage")
    request = _single(operation, "request", "SendMessage")
    if request.get(XSI_NIL, "").strip(_XML_SPACE) in ("true", "1"):
        raise FormatError("SendMessage/request is nil")
    _no_text(request, "request")
    parts = _fields(request, "request", {"requestInfo", "requestData"})
    info_el = _one(parts, "requestInfo", "request")
    data_parent = _one(parts, "requestData", "request")

    _no_text(info_el, "requestInfo")
    info = _fields(
        info_el,
        "requestInfo",
        {
            "messageId",
            "correlationId",
            "serviceId",
            "messageDate",
            "routeId",
            "sender",
            "properties",
            "sessionId",
        },
        repeatable={"properties"},
    )
    message_id = _required(info, "messageId", "requestInfo", MESSAGE_ID_MAX)
    correlation_id = _optional(info, "correlationId", "requestInfo", CORRELATION_ID_MAX)
    service_id = _required(info, "serviceId", "requestInfo", SERVICE_ID_MAX)
    message_date = _date(
        _required(info, "messageDate", "requestInfo", MESSAGE_DATE_MAX), "requestInfo/messageDate"
    )
    route_id = _optional(info, "routeId", "requestInfo", ROUTE_ID_MAX)
    session_id = _optional(info, "sessionId", "requestInfo", SESSION_ID_MAX)

    sender_el = _one(info, "sender", "requestInfo")
    _no_text(sender_el, "requestInfo/sender")
    sender = _fields(sender_el, "requestInfo/sender", {"senderId", "password"})
    sender_id = _required(sender, "senderId", "requestInfo/sender", SENDER_ID_MAX)
    # App.4 marks the password mandatory, the real schema 0..1: a missing one reads as empty,
    # so authentication refuses it (SCE002) rather than the format check.
    password = _optional(sender, "password", "requestInfo/sender", PASSWORD_MAX, strip=False) or ""

    properties = tuple(_property(el, n) for n, el in enumerate(info.get("properties", []), start=1))

    _no_text(data_parent, "requestData")
    # ENV-06: App.4 prints the request element as "Data", the schemas as "data"; take either.
    payload = _fields(data_parent, "requestData", {"data", "Data"})
    if "data" in payload and "Data" in payload:
        raise FormatError("requestData: holds both data and Data, expected one")
    data = _one(payload, "data", "requestData") if "Data" not in payload else payload["Data"][0]

    return SyncRequest(
        message_id=message_id,
        correlation_id=correlation_id,
        service_id=service_id,
        message_date=message_date,
        route_id=route_id,
        session_id=session_id,
        sender_id=sender_id,
        password=password,
        properties=properties,
        data=data,
        envelope=root,
        body=body,
        header=header,
        must_understand=_must_understand(header),
    )


def _split_envelope(root: etree._Element) -> tuple[etree._Element | None, etree._Element]:
    """Check the SOAP 1.1 Envelope shape (WS-I BP 1.1) and return its Header and Body."""
    if not isinstance(root.tag, str):
        raise FormatError("the document root is not an element")
    if root.tag == f"{{{SOAP12_ENV_NS}}}Envelope":
        raise FormatError(f"SOAP 1.2 envelope received: the SyncChannel requires SOAP 1.1 ({SOAP_ENV_NS})")
    if root.tag != ENVELOPE:
        raise FormatError(f"root element is {_describe(root)}, expected a SOAP 1.1 soap:Envelope")
    _no_text(root, "soap:Envelope")
    header = body = None
    for child in _elements(root):
        if child.tag == HEADER:
            if header is not None:
                raise FormatError("soap:Envelope holds more than one soap:Header")
            if body is not None:
                raise FormatError("soap:Header must come before soap:Body")
            header = child
        elif child.tag == BODY:
            if body is not None:
                raise FormatError("soap:Envelope holds more than one soap:Body")
            body = child
        elif body is not None:  # WS-I BP 1.1 R1011
            raise FormatError(f"{_describe(child)} after soap:Body is not allowed")
        else:
            raise FormatError(f"unexpected {_describe(child)} in soap:Envelope")
    if body is None:
        raise FormatError("soap:Body is missing")
    return header, body


def _body_child(body: etree._Element) -> etree._Element:
    _no_text(body, "soap:Body")
    children = _elements(body)
    if not children:
        raise FormatError("soap:Body is empty")
    if len(children) > 1:
        raise FormatError(f"soap:Body must hold exactly one element, found {len(children)}")
    return children[0]


def _must_understand(header: etree._Element | None) -> tuple[str, ...]:
    if header is None:
        return ()
    return tuple(
        child.tag
        for child in _elements(header)
        if child.get(MUST_UNDERSTAND, "").strip(_XML_SPACE) in ("1", "true")
    )


def _property(element: etree._Element, number: int) -> tuple[str, str]:
    path = f"requestInfo/properties[{number}]"
    _no_text(element, path)
    parts = _fields(element, path, {"key", "value"})
    for tag in ("key", "value"):
        if tag not in parts:
            raise FormatError(f"{path}/{tag} is missing")
    key = _text(parts["key"][0], f"{path}/key", PROPERTY_KEY_MAX)
    value = _text(parts["value"][0], f"{path}/value", PROPERTY_VALUE_MAX)
    return key, value


def _date(text: str, path: str) -> datetime:
    try:
        return parse_xsd_datetime(text)
    except ValueError:
        raise FormatError(f"{path}: {text[:60]!r} is not an xsd:dateTime") from None


# ---------------------------------------------------------------- small readers


def _elements(parent: etree._Element) -> list[etree._Element]:
    """Element children only: comments and processing instructions are not content."""
    return [child for child in parent if isinstance(child.tag, str)]


def _describe(element: etree._Element) -> str:
    """An element's name for an error message; the namespace in full, since prefixes are arbitrary."""
    return f"<{str(element.tag)[:160]}>"


def _no_text(element: etree._Element, path: str) -> None:
    """Structural elements hold elements only; text there (e.g. SOAP smuggled in CDATA) is refused."""
    pieces = [element.text, *(child.tail for child in element)]
    if any(piece and piece.strip(_XML_SPACE) for piece in pieces):
        raise FormatError(f"{path}: unexpected text content")


def _fields(
    parent: etree._Element,
    path: str,
    allowed: set[str],
    *,
    repeatable: frozenset[str] | set[str] = frozenset(),
) -> dict[str, list[etree._Element]]:
    """Group the unqualified children of a group element by name, in whatever order they came."""
    found: dict[str, list[etree._Element]] = {}
    for child in _elements(parent):
        if child.tag not in allowed:
            local = etree.QName(child).localname
            if local in allowed:
                raise FormatError(
                    f"{path}/{local}: must be unqualified (no namespace), got {_describe(child)}"
                )
            raise FormatError(f"{path}: unexpected element {_describe(child)}")
        found.setdefault(child.tag, []).append(child)
    for tag, elements in found.items():
        if len(elements) > 1 and tag not in repeatable:
            raise FormatError(f"{path}/{tag}: appears {len(elements)} times, at most once allowed")
    return found


def _one(found: dict[str, list[etree._Element]], tag: str, path: str) -> etree._Element:
    if tag not in found:
        raise FormatError(f"{path}/{tag} is missing")
    return found[tag][0]


def _single(parent: etree._Element, tag: str, path: str) -> etree._Element:
    return _one(_fields(parent, path, {tag}), tag, path)


def _text(element: etree._Element, path: str, limit: int | None, *, strip: bool = True) -> str:
    if _elements(element):
        raise FormatError(f"{path}: must hold text, found element {_describe(_elements(element)[0])}")
    value = "".join(element.itertext())
    if strip:
        value = value.strip(_XML_SPACE)
    if limit is not None and len(value) > limit:
        raise FormatError(f"{path}: {len(value)} characters, at most {limit} allowed")
    return value


def _required(found: dict[str, list[etree._Element]], tag: str, path: str, limit: int | None) -> str:
    value = _text(_one(found, tag, path), f"{path}/{tag}", limit)
    if not value:
        raise FormatError(f"{path}/{tag} is empty")
    return value


def _optional(
    found: dict[str, list[etree._Element]], tag: str, path: str, limit: int | None, *, strip: bool = True
) -> str | None:
    if tag not in found:
        return None
    return _text(found[tag][0], f"{path}/{tag}", limit, strip=strip) or None


# ---------------------------------------------------------------- writing


def build_request(
    *,
    message_id: str,
    service_id: str,
    sender_id: str,
    password: str | None = None,
    message_date: datetime | None = None,
    correlation_id: str | None = None,
    route_id: str | None = None,
    session_id: str | None = None,
    properties: Iterable[tuple[str, str]] = (),
    payload: etree._Element | Iterable[etree._Element] | None = None,
    data_type: tuple[str, str] | None = None,
    body_id: str | None = None,
) -> bytes:
    """A SendMessage envelope as a subject's system sends it (for the agent, tests and benchmarks).

    ``payload`` (one element or several, copied) goes inside ``requestData/data``;
    ``data_type`` = (namespace, local name) adds ``xsi:type`` on ``data`` the way ISUN
    clients do (``cs:Request``). The Body carries ``wsu:Id`` for the transport signature.
    """
    root, body = _new_envelope(body_id)
    operation = etree.SubElement(body, SEND_MESSAGE, nsmap={"tns": TYPES_NS})
    request = etree.SubElement(operation, "request")
    info = etree.SubElement(request, "requestInfo")
    _add(info, "messageId", message_id)
    if correlation_id is not None:
        _add(info, "correlationId", correlation_id)
    _add(info, "serviceId", service_id)
    _add(info, "messageDate", format_astana(message_date or utcnow()))
    if route_id is not None:
        _add(info, "routeId", route_id)
    sender = etree.SubElement(info, "sender")
    _add(sender, "senderId", sender_id)
    if password is not None:
        _add(sender, "password", password)
    for key, value in properties:
        prop = etree.SubElement(info, "properties")
        _add(prop, "key", key)
        _add(prop, "value", value)
    if session_id is not None:
        _add(info, "sessionId", session_id)
    data_parent = etree.SubElement(request, "requestData")
    if data_type is None:
        data = etree.SubElement(data_parent, "data")
    else:
        namespace, local = data_type
        data = etree.SubElement(data_parent, "data", nsmap={"xsi": XSI_NS, "cs": namespace})
        data.set(XSI_TYPE, f"cs:{local}")
    if isinstance(payload, etree._Element):
        payload = [payload]
    for element in payload or ():
        data.append(copy.deepcopy(element))
    return _serialize(root)


def build_response(resp: SyncResponse) -> bytes:
    """Our answer to a processed request, with a signable Body (ENV-03)."""
    if len(resp.status_code) > STATUS_CODE_MAX:
        raise ValueError(f"status code longer than {STATUS_CODE_MAX} characters")
    root, body = _new_envelope(None)
    operation = etree.SubElement(body, SEND_MESSAGE_RESPONSE, nsmap={"tns": TYPES_NS})
    response = etree.SubElement(operation, "response")
    info = etree.SubElement(response, "responseInfo")
    _add(info, "messageId", resp.message_id)
    if resp.correlation_id:
        _add(info, "correlationId", resp.correlation_id)
    _add(info, "responseDate", format_astana(resp.response_date))
    status = etree.SubElement(info, "status")
    _add(status, "code", resp.status_code)
    _add(status, "message", _truncate(_xml_safe(resp.status_message), STATUS_MESSAGE_MAX))
    session_id = _guid(resp.session_id)
    if session_id:
        _add(info, "sessionId", session_id)
    data_parent = etree.SubElement(response, "responseData")
    if resp.data_text is None:
        etree.SubElement(data_parent, "data")
    else:
        # Unqualified data (the real ISUN response wrongly puts it in the xsi namespace).
        data = etree.SubElement(data_parent, "data", nsmap={"xsi": XSI_NS, "xsd": XSD_NS})
        data.set(XSI_TYPE, "xsd:string")
        data.text = _xml_safe(resp.data_text)
    return _serialize(root)


def build_fault(error: GatewayError, *, session_id: str | None = None, when: datetime) -> bytes:
    """A SOAP 1.1 Fault carrying the App.4 code (ENV-04, ENV-05); never exception text or secrets."""
    root, body = _new_envelope(None)
    fault = etree.SubElement(body, FAULT)
    _add(fault, "faultcode", "soap:Client" if error.code in CLIENT_FAULT_CODES else "soap:Server")
    _add(fault, "faultstring", _truncate(_xml_safe(f"{error.code}: {error.message}"), ERROR_MESSAGE_MAX))
    detail = etree.SubElement(fault, "detail")
    info = etree.SubElement(detail, SEND_MESSAGE_FAULT, nsmap={"tns": TYPES_NS})
    chain: list[GatewayError] = []
    _flatten(error.sub_errors, chain)
    _error_info(info, error, chain, format_astana(when), _guid(session_id))
    return _serialize(root)


def _flatten(errors: list[GatewayError], out: list[GatewayError]) -> None:
    """ErrorInfo nests at most one subError, so a tree of sub-errors becomes a depth-first chain."""
    for error in errors:
        if len(out) >= SUB_ERRORS_MAX:
            return
        out.append(error)
        _flatten(error.sub_errors, out)


def _error_info(
    element: etree._Element, error: GatewayError, chain: list[GatewayError], when: str, session_id: str | None
) -> None:
    _add(element, "errorCode", error.code)
    _add(element, "errorMessage", _truncate(_xml_safe(error.message), ERROR_MESSAGE_MAX))
    _add(element, "errorDate", when)
    if chain:
        _error_info(etree.SubElement(element, "subError"), chain[0], chain[1:], when, None)
    if session_id:
        _add(element, "sessionId", session_id)


def _new_envelope(body_id: str | None) -> tuple[etree._Element, etree._Element]:
    root = etree.Element(ENVELOPE, nsmap={"soap": SOAP_ENV_NS})
    body = etree.SubElement(root, BODY, nsmap={"wsu": WSU_NS})
    body.set(WSU_ID, body_id or f"id-{uuid.uuid4()}")
    return root, body


def _add(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def _serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _xml_safe(text: str) -> str:
    """Replace characters XML 1.0 cannot carry, so a message never breaks the envelope."""
    return _INVALID_XML_CHARS.sub("\ufffd", text)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _guid(session_id: str | None) -> str | None:
    """ShEP session ids are braced GUIDs (common:guid); a bare GUID gets braces, anything else is not echoed."""
    if not session_id:
        return None
    match = _GUID.fullmatch(session_id.strip(_XML_SPACE))
    return f"{{{match.group(1)}}}" if match else None


# ---------------------------------------------------------------- reading answers (agent, tests)


def parse_response(data: bytes) -> SyncResponse:
    """Read a SendMessageResponse envelope, tolerating what the real ISUN answer does (``data`` in xsi)."""
    root = parse_document(data)
    _header, body = _split_envelope(root)
    operation = _body_child(body)
    if operation.tag == FAULT:
        raise FormatError("soap:Body holds a soap:Fault, not a SendMessageResponse")
    if operation.tag != SEND_MESSAGE_RESPONSE:
        raise FormatError(f"soap:Body holds {_describe(operation)}, expected SendMessageResponse")
    response = _single(operation, "response", "SendMessageResponse")
    parts = _fields(response, "response", {"responseInfo", "responseData"})
    info = _fields(
        _one(parts, "responseInfo", "response"),
        "responseInfo",
        {"messageId", "correlationId", "responseDate", "status", "sessionId"},
    )
    status = _fields(_one(info, "status", "responseInfo"), "responseInfo/status", {"code", "message"})
    data_parent = _one(parts, "responseData", "response")
    data = next((el for el in _elements(data_parent) if etree.QName(el).localname == "data"), None)
    return SyncResponse(
        message_id=_required(info, "messageId", "responseInfo", None),
        correlation_id=_optional(info, "correlationId", "responseInfo", None),
        response_date=_date(
            _required(info, "responseDate", "responseInfo", None), "responseInfo/responseDate"
        ),
        status_code=_required(status, "code", "responseInfo/status", None),
        status_message=_optional(status, "message", "responseInfo/status", None) or "",
        session_id=_optional(info, "sessionId", "responseInfo", None),
        data_text=_data_text(data),
    )


def _data_text(data: etree._Element | None) -> str | None:
    if data is None:
        return None
    children = _elements(data)
    if children:  # an XML payload rather than an escaped string: hand it back serialised
        return (data.text or "") + "".join(_standalone(child) + (child.tail or "") for child in children)
    text = "".join(data.itertext())
    if not text and not any(etree.QName(name).localname == "type" for name in data.attrib):
        return None
    return text


def _standalone(element: etree._Element) -> str:
    """Serialise an element without the envelope's namespace declarations it does not use."""
    clone = copy.deepcopy(element)
    etree.cleanup_namespaces(clone)
    return etree.tostring(clone, encoding="unicode", with_tail=False)


def parse_fault(data: bytes) -> tuple[str, str, datetime | None]:
    """Read a SOAP 1.1 Fault into (App.4 code, message, error date) from ErrorInfo, else faultcode/faultstring."""
    root = parse_document(data)
    _header, body = _split_envelope(root)
    fault = _body_child(body)
    if fault.tag != FAULT:
        raise FormatError(f"soap:Body holds {_describe(fault)}, expected soap:Fault")
    parts = {etree.QName(el).localname: el for el in _elements(fault)}
    detail = parts.get("detail")
    info = None
    if detail is not None:
        info = next(
            (
                el
                for el in _elements(detail)
                if etree.QName(el).localname == "SendMessageFault1_SendMessageFault"
            ),
            None,
        )
    if info is not None:
        fields = {
            etree.QName(el).localname: "".join(el.itertext()).strip(_XML_SPACE) for el in _elements(info)
        }
        try:
            when = parse_xsd_datetime(fields.get("errorDate", ""))
        except ValueError:
            when = None
        return fields.get("errorCode", ""), fields.get("errorMessage", ""), when
    faultcode = "".join(parts["faultcode"].itertext()).strip(_XML_SPACE) if "faultcode" in parts else ""
    faultstring = "".join(parts["faultstring"].itertext()).strip(_XML_SPACE) if "faultstring" in parts else ""
    local_code = faultcode.rpartition(":")[2]
    prefixed = _GATEWAY_CODE.match(faultstring)
    if _GATEWAY_CODE.fullmatch(local_code):
        code = local_code
    elif prefixed:
        code = prefixed.group(0)
    else:
        code = local_code
    return code, faultstring, None


__all__ = [
    "SOAP_ENV_NS",
    "SOAP12_ENV_NS",
    "TYPES_NS",
    "COMMON_NS",
    "INTERFACES_NS",
    "WSSE_NS",
    "WSU_NS",
    "DS_NS",
    "XSI_NS",
    "XSD_NS",
    "SyncRequest",
    "SyncResponse",
    "parse_request",
    "build_request",
    "build_response",
    "build_fault",
    "parse_response",
    "parse_fault",
]
