"""Writing responses (ENV-03) and faults (ENV-04/05), and reading them back as the agent does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from egsu_core.shep import errors
from egsu_core.shep.envelope import (
    BODY,
    ENVELOPE,
    FAULT,
    SEND_MESSAGE_FAULT,
    SEND_MESSAGE_RESPONSE,
    SOAP_ENV_NS,
    TYPES_NS,
    WSU_ID,
    XSI_NS,
    SyncResponse,
    build_fault,
    build_response,
    parse_fault,
    parse_response,
)
from egsu_core.shep.errors import FormatError
from egsu_core.shep.xmlparse import parse_document
from tests.conftest import shared_path
from tests.shep.factories import SESSION_ID

WHEN = datetime(2024, 1, 18, 12, 13, 25, 583000, tzinfo=UTC)
RECEIPT = (
    '<ns2:response xmlns:ns2="http://shep.nitec.kz/"><status><code>SUCCESS</code></status></ns2:response>'
)


def response(**overrides) -> SyncResponse:
    fields = {
        "message_id": "b9e9af8a-6573-4466-b8a7-edb63e3a4a34",
        "correlation_id": "04e0ee99-407a-4b1e-a702-90230f9d7f8f",
        "response_date": WHEN,
        "status_code": "SCSS001",
        "status_message": "Message has been processed successfully",
        "session_id": SESSION_ID,
        "data_text": RECEIPT,
    }
    fields.update(overrides)
    return SyncResponse(**fields)


def info_of(data: bytes) -> etree._Element:
    return etree.fromstring(data).find(f".//{{{TYPES_NS}}}SendMessageResponse/response/responseInfo")


# ---------------------------------------------------------------- responses


def test_a_response_has_the_soap11_shape_with_a_signable_body():
    # when
    data = build_response(response())
    root = etree.fromstring(data)

    # then
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert root.tag == ENVELOPE
    body = root[0]
    assert body.tag == BODY
    assert body.get(WSU_ID).startswith("id-")
    assert len(body.get(WSU_ID)) == len("id-") + 36
    assert [el.tag for el in body] == [SEND_MESSAGE_RESPONSE]
    assert [el.tag for el in body[0][0]] == ["responseInfo", "responseData"]


def test_the_response_info_carries_every_field_in_schema_order():
    info = info_of(build_response(response()))

    assert [(el.tag, el.text) for el in info if el.tag != "status"] == [
        ("messageId", "b9e9af8a-6573-4466-b8a7-edb63e3a4a34"),
        ("correlationId", "04e0ee99-407a-4b1e-a702-90230f9d7f8f"),
        ("responseDate", "2024-01-18T18:13:25.583+06:00"),
        ("sessionId", SESSION_ID),
    ]
    assert [el.tag for el in info] == ["messageId", "correlationId", "responseDate", "status", "sessionId"]
    assert [(el.tag, el.text) for el in info.find("status")] == [
        ("code", "SCSS001"),
        ("message", "Message has been processed successfully"),
    ]


def test_the_response_date_is_written_on_the_astana_clock_with_the_offset_then_in_force():
    info = info_of(build_response(response(response_date=datetime(2024, 3, 2, 5, 0, tzinfo=UTC))))

    assert info.findtext("responseDate") == "2024-03-02T10:00:00.000+05:00"


def test_the_receipt_travels_as_an_escaped_string_in_unqualified_data():
    # given / when
    data = build_response(response())
    element = etree.fromstring(data).find(".//responseData/data")

    # then: unqualified data (not in xsi as the real ISUN answer has it), xsi:type xsd:string
    assert element.tag == "data"
    assert element.get(f"{{{XSI_NS}}}type") == "xsd:string"
    assert element.nsmap["xsd"] == "http://www.w3.org/2001/XMLSchema"
    assert len(element) == 0
    assert element.text == RECEIPT
    assert b"&lt;ns2:response" in data


def test_no_receipt_gives_an_empty_data_element():
    element = etree.fromstring(build_response(response(data_text=None))).find(".//responseData/data")

    assert element is not None
    assert element.attrib == {}
    assert element.text is None


def test_optional_fields_are_left_out_when_absent():
    info = info_of(build_response(response(correlation_id=None, session_id=None)))

    assert [el.tag for el in info] == ["messageId", "responseDate", "status"]


@pytest.mark.parametrize(
    ("given_id", "written"),
    [
        pytest.param(SESSION_ID, SESSION_ID, id="braced"),
        pytest.param(SESSION_ID.strip("{}"), SESSION_ID, id="bare-guid-gets-braces"),
        pytest.param("not-a-guid", None, id="other-text-not-echoed"),
        pytest.param("", None, id="empty"),
    ],
)
def test_the_session_id_is_written_only_as_a_braced_guid(given_id, written):
    assert info_of(build_response(response(session_id=given_id))).findtext("sessionId") == written


def test_a_long_status_message_is_cut_to_fit_both_app4_and_the_real_schema():
    info = info_of(build_response(response(status_message="Қ" * 600)))

    message = info.findtext("status/message")
    assert len(message) == 250
    assert message == "Қ" * 249 + "…"


def test_characters_xml_cannot_carry_are_replaced_not_fatal():
    info = info_of(build_response(response(status_message="bad\x00byte\x1b")))

    assert info.findtext("status/message") == "bad\ufffdbyte\ufffd"


def test_a_status_code_over_50_characters_is_a_programming_error():
    with pytest.raises(ValueError):
        build_response(response(status_code="C" * 51))


def test_a_naive_response_date_is_a_programming_error():
    with pytest.raises(ValueError):
        build_response(response(response_date=datetime(2024, 1, 1)))  # noqa: DTZ001


def test_a_response_reads_back_field_for_field():
    sent = response()

    assert parse_response(build_response(sent)) == sent


@given(
    text=st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cn")) | st.sampled_from("<&>]]>Әә")
    )
)
def test_any_receipt_text_round_trips(text):
    assert parse_response(build_response(response(data_text=text))).data_text == text


@pytest.mark.shared
def test_the_real_isun_response_is_read_despite_data_in_the_xsi_namespace():
    data = shared_path("shep", "examples", "isun-sendmessage-response-wss-signed-gost2004.xml").read_bytes()

    answer = parse_response(data)

    assert answer.message_id == "b9e9af8a-6573-4466-b8a7-edb63e3a4a34"
    assert answer.correlation_id is None
    assert answer.response_date == datetime(
        2023, 8, 14, 12, 29, 32, 263000, tzinfo=timezone(timedelta(hours=6))
    )
    assert (answer.status_code, answer.status_message) == ("Success", "ÐžÐš")
    assert answer.session_id == SESSION_ID
    assert answer.data_text.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><ns2:response')
    assert "<code>SUCCESS</code>" in answer.data_text


def test_an_xml_payload_in_response_data_is_handed_back_serialised():
    data = build_response(response(data_text=None)).replace(
        b"<data/>", b"<data><r><code>OK</code></r></data>"
    )

    assert parse_response(data).data_text == "<r><code>OK</code></r>"


def test_reading_a_fault_as_a_response_is_refused():
    fault = build_fault(errors.NoServiceError("serviceId 'X'"), when=WHEN)

    with pytest.raises(FormatError, match="soap:Body holds a soap:Fault, not a SendMessageResponse"):
        parse_response(fault)


# ---------------------------------------------------------------- faults


def fault_parts(data: bytes) -> tuple[etree._Element, etree._Element]:
    root = etree.fromstring(data)
    fault = root.find(f"{{{SOAP_ENV_NS}}}Body/{{{SOAP_ENV_NS}}}Fault")
    return fault, fault.find(f"detail/{SEND_MESSAGE_FAULT}")


@pytest.mark.parametrize(
    ("error_class", "faultcode"),
    [
        pytest.param(cls, "soap:Server" if cls is errors.InternalError else "soap:Client", id=cls.code)
        for cls in errors.ALL_ERRORS
    ],
)
def test_every_gateway_error_becomes_a_fault_with_its_app4_code(error_class, faultcode):
    # when
    data = build_fault(error_class("detail text"), when=WHEN)
    fault, info = fault_parts(data)

    # then
    assert [el.tag for el in fault] == ["faultcode", "faultstring", "detail"]
    assert fault.findtext("faultcode") == faultcode
    assert fault.find("faultcode").nsmap["soap"] == SOAP_ENV_NS  # a resolvable QName (WS-I BP 1.1)
    assert fault.findtext("faultstring") == f"{error_class.code}: {error_class.default_message}: detail text"
    assert [(el.tag, el.text) for el in info] == [
        ("errorCode", error_class.code),
        ("errorMessage", f"{error_class.default_message}: detail text"),
        ("errorDate", "2024-01-18T18:13:25.583+06:00"),
    ]


def test_a_fault_body_is_signable_and_the_envelope_is_soap11():
    root = etree.fromstring(build_fault(errors.FormatError(), when=WHEN))

    assert root.tag == ENVELOPE
    assert root[0].get(WSU_ID).startswith("id-")
    assert root[0][0].tag == FAULT


def test_the_session_id_goes_last_in_error_info():
    _, info = fault_parts(build_fault(errors.AuthenticationError(), session_id=SESSION_ID, when=WHEN))

    assert [el.tag for el in info] == ["errorCode", "errorMessage", "errorDate", "sessionId"]
    assert info.findtext("sessionId") == SESSION_ID


def test_sub_errors_become_a_chain_of_sub_error_elements():
    # given an error with a tree of sub-errors
    error = errors.FormatError(
        "2 records refused",
        sub_errors=[
            errors.FormatError("record 1", sub_errors=[errors.FormatError("field mass")]),
            errors.FormatError("record 2"),
        ],
    )

    # when
    _, info = fault_parts(build_fault(error, session_id=SESSION_ID, when=WHEN))

    # then: depth-first, one subError per level, the session id only at the top
    chain = []
    node = info.find("subError")
    while node is not None:
        assert [el.tag for el in node] in (
            ["errorCode", "errorMessage", "errorDate", "subError"],
            ["errorCode", "errorMessage", "errorDate"],
        )
        chain.append(node.findtext("errorMessage"))
        node = node.find("subError")
    assert chain == [
        "Message does not conform to the format: record 1",
        "Message does not conform to the format: field mass",
        "Message does not conform to the format: record 2",
    ]
    assert [el.tag for el in info][-1] == "sessionId"


def test_the_sub_error_chain_is_capped():
    error = errors.FormatError("many", sub_errors=[errors.FormatError(f"r{n}") for n in range(100)])

    _, info = fault_parts(build_fault(error, when=WHEN))

    assert len(info.findall(".//subError")) == 20


def test_a_long_error_message_is_cut_to_1000_characters():
    _, info = fault_parts(build_fault(errors.FormatError("x" * 5000), when=WHEN))

    assert len(info.findtext("errorMessage")) == 1000


def test_a_fault_never_carries_exception_text_or_error_data():
    # given an error raised from a Python exception that mentions a secret
    try:
        try:
            raise RuntimeError("password=hunter2 at /srv/egsu/secret.py line 3")
        except RuntimeError as exc:
            raise errors.InternalError() from exc
    except errors.InternalError as error:
        data = build_fault(error, when=WHEN)

    # then
    assert b"hunter2" not in data
    assert b"secret.py" not in data
    assert b"errorData" not in data
    assert b"Traceback" not in data


def test_a_fault_reads_back_as_code_message_and_date():
    data = build_fault(errors.NotSignedError("no wsse:Security"), when=WHEN)

    assert parse_fault(data) == ("SCE007", "Message is not signed: no wsse:Security", WHEN)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        pytest.param(
            "<faultcode>SCE004</faultcode><faultstring>Service does not exist</faultstring>",
            ("SCE004", "Service does not exist", None),
            id="code-in-faultcode-as-shep-does",
        ),
        pytest.param(
            "<faultcode>s:Client</faultcode><faultstring>SCE002: Wrong login</faultstring>",
            ("SCE002", "SCE002: Wrong login", None),
            id="code-in-faultstring",
        ),
        pytest.param(
            "<faultcode>s:Server</faultcode><faultstring>boom</faultstring>",
            ("Server", "boom", None),
            id="plain-soap-fault",
        ),
    ],
)
def test_faults_without_error_info_are_read_from_faultcode_and_faultstring(fault, expected):
    data = f'<s:Envelope xmlns:s="{SOAP_ENV_NS}"><s:Body><s:Fault>{fault}</s:Fault></s:Body></s:Envelope>'

    assert parse_fault(data.encode()) == expected


def test_reading_a_response_as_a_fault_is_refused():
    with pytest.raises(FormatError, match="expected soap:Fault"):
        parse_fault(build_response(response()))


def test_parsed_dates_are_aware():
    assert parse_document(build_response(response())) is not None
    assert parse_response(build_response(response())).response_date.tzinfo is not None
