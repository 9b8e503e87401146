"""Reading SendMessage requests (ENV-02, App.4 Table 1 §1.1, shep-notes §1 and §4)."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from egsu_core.shep.envelope import (
    BODY,
    ENVELOPE,
    HEADER,
    SEND_MESSAGE,
    SOAP12_ENV_NS,
    SOAP_ENV_NS,
    TYPES_NS,
    WSSE_NS,
    XSI_NS,
    build_request,
    parse_request,
)
from egsu_core.shep.errors import FormatError
from egsu_core.shep.xmlparse import parse_document
from tests.conftest import shared_path
from tests.shep.factories import (
    ISUN_DATA_TYPE,
    SESSION_ID,
    event,
    request_tree,
    wrap_in_envelope,
)

# hypothesis takes naive bounds and attaches the zone itself
EARLIEST = datetime(2000, 1, 1)  # noqa: DTZ001
LATEST = datetime(2100, 1, 1)  # noqa: DTZ001

REAL_REQUEST = ("shep", "examples", "isun-sendmessage-request-unsigned.redacted.xml")


def parse(root: etree._Element):
    """Serialise and re-parse, as the endpoint does, so tests see exactly what the wire carries."""
    return parse_request(parse_document(etree.tostring(root)))


def info(root: etree._Element) -> etree._Element:
    return root.find(".//requestInfo")


def remove(root: etree._Element, path: str) -> None:
    element = root.find(path)
    element.getparent().remove(element)


def set_text(root: etree._Element, path: str, text: str) -> None:
    root.find(path).text = text


# ---------------------------------------------------------------- the real client payload


@pytest.mark.shared
def test_the_real_isun_client_payload_parses():
    # given the bare SendMessage an ISUN client signs, wrapped as Kalkan SignWSSE does
    bare = etree.parse(str(shared_path(*REAL_REQUEST))).getroot()
    data = wrap_in_envelope(bare)

    # when
    request = parse_request(parse_document(data))

    # then
    assert request.message_id == "04e0ee99-407a-4b1e-a702-90230f9d7f8f"
    assert request.service_id == "ISUN_Service2"
    assert request.message_date == datetime(
        2024, 1, 18, 18, 13, 25, 583000, tzinfo=timezone(timedelta(hours=6))
    )
    assert request.message_date.utcoffset() == timedelta(hours=6)
    assert request.sender_id == "REDACTED"
    assert request.password == "REDACTED"
    assert request.correlation_id is None
    assert request.route_id is None
    assert request.session_id is None
    assert request.properties == ()
    assert request.header is None
    assert request.must_understand == ()
    assert [child.tag for child in request.data] == ["events"] * 9
    assert request.data.get(f"{{{XSI_NS}}}type") == "cs:Request"
    assert request.data.find("events/id").text == "407001"


# ---------------------------------------------------------------- what we accept


def test_every_field_is_read():
    # given
    root = request_tree(
        correlation_id="chain-1",
        route_id="route-7",
        session_id=SESSION_ID,
        properties=[("batch", "1/3"), ("kind", "daily")],
    )

    # when
    request = parse(root)

    # then
    assert request.message_id == "04e0ee99-407a-4b1e-a702-90230f9d7f8f"
    assert request.correlation_id == "chain-1"
    assert request.service_id == "ISUN_Service2"
    assert request.message_date == datetime(2024, 1, 18, 12, 13, 25, 583000, tzinfo=UTC)
    assert request.route_id == "route-7"
    assert request.session_id == SESSION_ID
    assert request.sender_id == "subject-system"
    assert request.password == "s3cret-Пароль"
    assert request.properties == (("batch", "1/3"), ("kind", "daily"))
    assert [e.findtext("id") for e in request.data] == ["407001", "407004"]
    assert request.envelope.tag == ENVELOPE
    assert request.body.tag == BODY
    assert request.body[0].tag == SEND_MESSAGE


def test_child_order_inside_request_info_does_not_matter():
    root = request_tree(correlation_id="c", properties=[("k", "v")])
    expected = parse(root)
    group = info(root)
    group[:] = list(reversed(group))  # properties, sender, messageDate, serviceId, correlationId, messageId

    request = parse(root)

    assert (request.message_id, request.correlation_id, request.service_id, request.message_date) == (
        expected.message_id,
        expected.correlation_id,
        expected.service_id,
        expected.message_date,
    )
    assert request.properties == (("k", "v"),)


def test_request_data_may_come_before_request_info():
    root = request_tree()
    request = root.find(".//request")
    request[:] = list(reversed(request))

    assert parse(root).message_id == "04e0ee99-407a-4b1e-a702-90230f9d7f8f"


def test_white_space_around_values_is_stripped_but_not_around_the_password():
    root = request_tree()
    set_text(root, ".//messageId", "\n   m-1 \t")
    set_text(root, ".//serviceId", " ISUN_Service2\n")
    set_text(root, ".//messageDate", "\n 2024-01-18T18:13:25.583+06:00 ")
    set_text(root, ".//senderId", "  s-1  ")
    set_text(root, ".//password", " pw ")

    request = parse(root)

    assert (request.message_id, request.service_id, request.sender_id) == ("m-1", "ISUN_Service2", "s-1")
    assert request.message_date == datetime(2024, 1, 18, 12, 13, 25, 583000, tzinfo=UTC)
    assert request.password == " pw "


def test_a_message_date_without_offset_is_astana_time():
    root = request_tree()
    set_text(root, ".//messageDate", "2024-01-18T18:13:25")

    assert parse(root).message_date == datetime(2024, 1, 18, 12, 13, 25, tzinfo=UTC)


def test_a_missing_password_reads_as_empty_so_authentication_rejects_it():
    # App.4 says mandatory, the real schema 0..1: SCE002 later, not SCE001 here
    assert parse(request_tree(password=None)).password == ""


def test_empty_optional_fields_read_as_none():
    root = request_tree(correlation_id="", route_id="  ", session_id="")

    request = parse(root)

    assert (request.correlation_id, request.route_id, request.session_id) == (None, None, None)


def test_the_app4_spelling_data_with_capital_d_is_accepted():
    # ENV-06: App.4 prints "Data" for the request, the schemas "data"
    root = request_tree()
    root.find(".//requestData/data").tag = "Data"

    assert [e.findtext("id") for e in parse(root).data] == ["407001", "407004"]


def test_xsi_type_with_an_undeclared_prefix_on_data_is_tolerated():
    data = etree.tostring(request_tree()).replace(
        b"<data>", b'<data xmlns:xsi="' + XSI_NS.encode() + b'" xsi:type="nowhere:Request">'
    )

    request = parse_request(parse_document(data))

    assert request.data.get(f"{{{XSI_NS}}}type") == "nowhere:Request"


def test_comments_do_not_count_as_content():
    data = etree.tostring(request_tree()).replace(b"<messageId>", b"<!-- id --><messageId>m<!-- x -->")

    assert parse_request(parse_document(data)).message_id.startswith("m")


@pytest.mark.parametrize("prefix", ["soap", "soapenv", "SOAP-ENV", "S"])
def test_any_envelope_prefix_is_fine(prefix):
    bare = request_tree()[0][0]

    assert parse_request(parse_document(wrap_in_envelope(bare, prefix=prefix))).service_id == "ISUN_Service2"


def test_header_blocks_marked_must_understand_are_listed_not_rejected():
    # given a header with a wsse:Security block (mustUnderstand="1") and an optional one
    root = request_tree()
    header = etree.Element(HEADER)
    security = etree.SubElement(header, f"{{{WSSE_NS}}}Security")
    security.set(f"{{{SOAP_ENV_NS}}}mustUnderstand", "1")
    optional = etree.SubElement(header, "{urn:example}Trace")
    optional.set(f"{{{SOAP_ENV_NS}}}mustUnderstand", "0")
    extra = etree.SubElement(header, "{urn:example}Routing")
    extra.set(f"{{{SOAP_ENV_NS}}}mustUnderstand", "true")
    root.insert(0, header)

    # when
    request = parse(root)

    # then
    assert request.must_understand == (f"{{{WSSE_NS}}}Security", "{urn:example}Routing")
    assert request.header is not None
    assert request.header.tag == HEADER


def test_the_password_never_shows_in_repr():
    request = parse(request_tree(password="top-secret-pw"))

    assert "top-secret-pw" not in repr(request)
    assert "password" not in repr(request)


def test_a_request_is_immutable():
    request = parse(request_tree())

    with pytest.raises(dataclasses.FrozenInstanceError):
        request.message_id = "other"  # type: ignore[misc]


# ---------------------------------------------------------------- what we refuse


def envelope_with(*children: etree._Element, tag: str = ENVELOPE) -> etree._Element:
    root = etree.Element(tag)
    root.extend(children)
    return root


def body_with(*children: etree._Element) -> etree._Element:
    body = etree.Element(BODY)
    body.extend(children)
    return body


def send_message() -> etree._Element:
    return copy.deepcopy(request_tree().find(f".//{{{TYPES_NS}}}SendMessage"))


def _duplicate(root: etree._Element, path: str) -> None:
    element = root.find(path)
    element.addnext(copy.deepcopy(element))


def _append(root: etree._Element, path: str, child: etree._Element) -> None:
    root.find(path).append(child)


def _qualify(root: etree._Element, path: str) -> None:
    root.find(path).tag = f"{{{TYPES_NS}}}{root.find(path).tag}"


FIELD_CASES = [
    pytest.param(lambda r: remove(r, ".//request"), "SendMessage/request is missing", id="no-request"),
    pytest.param(
        lambda r: remove(r, ".//requestInfo"), "request/requestInfo is missing", id="no-requestInfo"
    ),
    pytest.param(
        lambda r: remove(r, ".//requestData"), "request/requestData is missing", id="no-requestData"
    ),
    pytest.param(lambda r: remove(r, ".//messageId"), "requestInfo/messageId is missing", id="no-messageId"),
    pytest.param(lambda r: remove(r, ".//serviceId"), "requestInfo/serviceId is missing", id="no-serviceId"),
    pytest.param(
        lambda r: remove(r, ".//messageDate"), "requestInfo/messageDate is missing", id="no-messageDate"
    ),
    pytest.param(lambda r: remove(r, ".//sender"), "requestInfo/sender is missing", id="no-sender"),
    pytest.param(
        lambda r: remove(r, ".//senderId"), "requestInfo/sender/senderId is missing", id="no-senderId"
    ),
    pytest.param(lambda r: remove(r, ".//requestData/data"), "requestData/data is missing", id="no-data"),
    pytest.param(
        lambda r: set_text(r, ".//messageId", " "), "requestInfo/messageId is empty", id="empty-messageId"
    ),
    pytest.param(
        lambda r: set_text(r, ".//serviceId", ""), "requestInfo/serviceId is empty", id="empty-serviceId"
    ),
    pytest.param(
        lambda r: set_text(r, ".//senderId", ""), "requestInfo/sender/senderId is empty", id="empty-senderId"
    ),
    pytest.param(
        lambda r: set_text(r, ".//messageDate", ""),
        "requestInfo/messageDate is empty",
        id="empty-messageDate",
    ),
    pytest.param(
        lambda r: set_text(r, ".//messageId", "m" * 101),
        "requestInfo/messageId: 101 characters, at most 100 allowed",
        id="long-messageId",
    ),
    pytest.param(
        lambda r: _append(r, ".//requestInfo", _text_element("correlationId", "c" * 101)),
        "requestInfo/correlationId: 101 characters, at most 100 allowed",
        id="long-correlationId",
    ),
    pytest.param(
        lambda r: set_text(r, ".//serviceId", "s" * 51),
        "requestInfo/serviceId: 51 characters, at most 50 allowed",
        id="long-serviceId",
    ),
    pytest.param(
        lambda r: _append(r, ".//requestInfo", _text_element("routeId", "r" * 51)),
        "requestInfo/routeId: 51 characters, at most 50 allowed",
        id="long-routeId",
    ),
    pytest.param(
        lambda r: _append(r, ".//requestInfo", _text_element("sessionId", "s" * 51)),
        "requestInfo/sessionId: 51 characters, at most 50 allowed",
        id="long-sessionId",
    ),
    pytest.param(
        lambda r: set_text(r, ".//senderId", "Ә" * 51),
        "requestInfo/sender/senderId: 51 characters, at most 50 allowed",
        id="long-senderId",
    ),
    pytest.param(
        lambda r: set_text(r, ".//password", "p" * 101),
        "requestInfo/sender/password: 101 characters, at most 100 allowed",
        id="long-password",
    ),
    pytest.param(
        lambda r: set_text(r, ".//messageDate", "2024-01-18T18:13:25.583" + " " * 30 + "+06:00"),
        "requestInfo/messageDate: 59 characters, at most 50 allowed",
        id="long-messageDate",
    ),
    pytest.param(
        lambda r: set_text(r, ".//messageDate", "2024-13-01"),
        "requestInfo/messageDate: '2024-13-01' is not an xsd:dateTime",
        id="bad-date",
    ),
    pytest.param(
        lambda r: set_text(r, ".//messageDate", "2024-02-30T10:00:00"),
        "requestInfo/messageDate: '2024-02-30T10:00:00' is not an xsd:dateTime",
        id="impossible-date",
    ),
    pytest.param(
        lambda r: _append(r, ".//requestInfo", _property("k" * 31, "v")),
        "requestInfo/properties[1]/key: 31 characters, at most 30 allowed",
        id="long-property-key",
    ),
    pytest.param(
        lambda r: _append(r, ".//requestInfo", _property("k", "v" * 501)),
        "requestInfo/properties[1]/value: 501 characters, at most 500 allowed",
        id="long-property-value",
    ),
    pytest.param(
        lambda r: _append(r, ".//requestInfo", _property(None, "v")),
        "requestInfo/properties[1]/key is missing",
        id="property-without-key",
    ),
    pytest.param(
        lambda r: _duplicate(r, ".//messageId"), "requestInfo/messageId: appears 2 times", id="two-messageIds"
    ),
    pytest.param(
        lambda r: _duplicate(r, ".//requestData/data"), "requestData/data: appears 2 times", id="two-data"
    ),
    pytest.param(
        lambda r: _duplicate(r, ".//request"), "SendMessage/request: appears 2 times", id="two-requests"
    ),
    pytest.param(
        lambda r: _append(r, ".//requestData", etree.Element("Data")),
        "requestData: holds both data and Data",
        id="data-and-Data",
    ),
    pytest.param(
        lambda r: _append(r, ".//requestInfo", etree.Element("surprise")),
        "requestInfo: unexpected element <surprise>",
        id="unknown-element",
    ),
    pytest.param(
        lambda r: _append(r, ".//messageId", etree.Element("b")),
        "requestInfo/messageId: must hold text, found element <b>",
        id="element-in-text-field",
    ),
    pytest.param(
        lambda r: _qualify(r, ".//request"),
        "SendMessage/request: must be unqualified",
        id="qualified-request",
    ),
    pytest.param(
        lambda r: _qualify(r, ".//messageId"),
        "requestInfo/messageId: must be unqualified",
        id="qualified-messageId",
    ),
    pytest.param(
        lambda r: set_text(r, ".//requestInfo", "stray"),
        "requestInfo: unexpected text content",
        id="text-in-requestInfo",
    ),
    pytest.param(
        lambda r: r.find(".//request").set(f"{{{XSI_NS}}}nil", "true"),
        "SendMessage/request is nil",
        id="nil-request",
    ),
]


def _text_element(tag: str, text: str) -> etree._Element:
    element = etree.Element(tag)
    element.text = text
    return element


def _property(key: str | None, value: str) -> etree._Element:
    prop = etree.Element("properties")
    if key is not None:
        prop.append(_text_element("key", key))
    prop.append(_text_element("value", value))
    return prop


@pytest.mark.parametrize(("mutate", "detail"), FIELD_CASES)
def test_a_broken_request_is_refused_with_the_element_named(mutate, detail):
    # given a valid request, broken in one place
    root = request_tree(password="never-echo-me")
    mutate(root)

    # when
    with pytest.raises(FormatError) as caught:
        parse(root)

    # then
    assert caught.value.code == "SCE001"
    assert detail in caught.value.detail
    assert "never-echo-me" not in caught.value.message


def test_an_over_long_password_is_not_echoed():
    root = request_tree()
    set_text(root, ".//password", "secret" * 20)

    with pytest.raises(FormatError) as caught:
        parse(root)

    assert "secret" not in caught.value.message


ENVELOPE_CASES = [
    pytest.param(
        lambda: etree.Element("foo"),
        "root element is <foo>, expected a SOAP 1.1 soap:Envelope",
        id="wrong-root",
    ),
    pytest.param(
        lambda: send_message(),
        "root element is <{http://bip.bee.kz/SyncChannel/v10/Types}SendMessage>, expected a SOAP 1.1 soap:Envelope",
        id="bare-SendMessage",
    ),
    pytest.param(
        lambda: envelope_with(etree.Element(f"{{{SOAP12_ENV_NS}}}Body"), tag=f"{{{SOAP12_ENV_NS}}}Envelope"),
        "SOAP 1.2 envelope received: the SyncChannel requires SOAP 1.1",
        id="soap-1.2",
    ),
    pytest.param(lambda: envelope_with(), "soap:Body is missing", id="no-body"),
    pytest.param(lambda: envelope_with(body_with()), "soap:Body is empty", id="empty-body"),
    pytest.param(
        lambda: envelope_with(body_with(send_message()), body_with(send_message())),
        "soap:Envelope holds more than one soap:Body",
        id="two-bodies",
    ),
    pytest.param(
        lambda: envelope_with(body_with(send_message(), send_message())),
        "soap:Body must hold exactly one element, found 2",
        id="body-with-two-children",
    ),
    pytest.param(
        lambda: envelope_with(body_with(send_message()), etree.Element(HEADER)),
        "soap:Header must come before soap:Body",
        id="header-after-body",
    ),
    pytest.param(
        lambda: envelope_with(etree.Element(HEADER), etree.Element(HEADER), body_with(send_message())),
        "soap:Envelope holds more than one soap:Header",
        id="two-headers",
    ),
    pytest.param(
        lambda: envelope_with(body_with(send_message()), etree.Element("{urn:x}Trailer")),
        "after soap:Body is not allowed",
        id="element-after-body",
    ),
    pytest.param(
        lambda: envelope_with(etree.Element("{urn:x}Wrapper"), body_with(send_message())),
        "unexpected <{urn:x}Wrapper> in soap:Envelope",
        id="element-before-body",
    ),
    pytest.param(
        lambda: envelope_with(body_with(etree.Element(f"{{{TYPES_NS}}}SendMessageResponse"))),
        "soap:Body holds <{http://bip.bee.kz/SyncChannel/v10/Types}SendMessageResponse>, expected SendMessage",
        id="wrong-operation",
    ),
    pytest.param(
        lambda: envelope_with(body_with(etree.Element(f"{{{TYPES_NS.lower()}}}SendMessage"))),
        "expected SendMessage in namespace http://bip.bee.kz/SyncChannel/v10/Types",
        id="wrong-namespace",
    ),
    pytest.param(
        lambda: envelope_with(body_with(etree.Element("SendMessage"))),
        "soap:Body holds <SendMessage>, expected SendMessage",
        id="unqualified-SendMessage",
    ),
]


@pytest.mark.parametrize(("make", "detail"), ENVELOPE_CASES)
def test_a_broken_envelope_is_refused(make, detail):
    with pytest.raises(FormatError) as caught:
        parse(make())

    assert detail in caught.value.detail


def test_soap_smuggled_as_text_in_the_body_is_refused():
    inner = etree.tostring(send_message()).decode()
    data = f'<s:Envelope xmlns:s="{SOAP_ENV_NS}"><s:Body><![CDATA[{inner}]]></s:Body></s:Envelope>'.encode()

    with pytest.raises(FormatError, match="soap:Body: unexpected text content"):
        parse_request(parse_document(data))


# ---------------------------------------------------------------- round trip and fuzzing

KAZAKH = "ӘәҒғҚқҢңӨөҰұҮүҺһІіЁё"
# Any XML 1.0 character except controls and surrogates; Kazakh letters and markup characters weighted in.
_chars = st.one_of(
    st.characters(blacklist_categories=("Cs", "Cc", "Cn")),
    st.sampled_from(KAZAKH + "<&>\"' ]]>"),
)


def texts(max_size: int, min_size: int = 1):
    return (
        st.text(alphabet=_chars, min_size=min_size, max_size=max_size)
        .map(lambda s: s.strip(" "))
        .filter(lambda s: len(s) >= min_size)
    )


@settings(max_examples=150, deadline=None)
@given(
    message_id=texts(100),
    correlation_id=st.none() | texts(100),
    service_id=texts(50),
    route_id=st.none() | texts(50),
    session_id=st.none() | texts(50),
    sender_id=texts(50),
    password=st.none() | st.text(alphabet=_chars, max_size=100),
    properties=st.lists(st.tuples(texts(30, 0), texts(500, 0)), max_size=3),
    message_date=st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=st.just(UTC)),
)
def test_build_then_parse_round_trips_every_valid_field(
    message_id,
    correlation_id,
    service_id,
    route_id,
    session_id,
    sender_id,
    password,
    properties,
    message_date,
):
    # given
    message_date = message_date.replace(microsecond=message_date.microsecond // 1000 * 1000)
    data = build_request(
        message_id=message_id,
        correlation_id=correlation_id,
        service_id=service_id,
        message_date=message_date,
        route_id=route_id,
        session_id=session_id,
        sender_id=sender_id,
        password=password,
        properties=properties,
        payload=event(),
    )

    # when
    request = parse_request(parse_document(data))

    # then
    assert request.message_id == message_id
    assert request.correlation_id == correlation_id
    assert request.service_id == service_id
    assert request.message_date == message_date
    assert request.route_id == route_id
    assert request.session_id == session_id
    assert request.sender_id == sender_id
    assert request.password == (password or "")
    assert request.properties == tuple(properties)
    assert request.data[0].findtext("id") == "407001"


_VOCABULARY = [
    "request",
    "requestInfo",
    "requestData",
    "data",
    "Data",
    "messageId",
    "serviceId",
    "messageDate",
    "sender",
    "senderId",
    "password",
    "properties",
    "key",
    "value",
    "sessionId",
    "x",
    f"{{{SOAP_ENV_NS}}}Body",
    f"{{{SOAP_ENV_NS}}}Header",
    f"{{{TYPES_NS}}}SendMessage",
]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_structurally_mangled_requests_raise_nothing_but_format_error(data):
    # given a valid request with a few random structural edits
    root = request_tree(properties=[("k", "v")], data_type=ISUN_DATA_TYPE)
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        elements = list(root.iter())
        target = data.draw(st.sampled_from(elements), label="target")
        action = data.draw(st.sampled_from(["drop", "copy", "rename", "text", "child"]), label="action")
        parent = target.getparent()
        if action == "drop" and parent is not None:
            parent.remove(target)
        elif action == "copy" and parent is not None:
            target.addnext(copy.deepcopy(target))
        elif action == "rename":
            target.tag = data.draw(st.sampled_from(_VOCABULARY), label="tag")
        elif action == "text":
            target.text = data.draw(st.text(alphabet=_chars, max_size=120), label="text")
        else:
            etree.SubElement(target, data.draw(st.sampled_from(_VOCABULARY), label="child"))

    # when / then
    try:
        parse(root)
    except FormatError:
        pass
