"""Our own WSDL and XSD (App.5, ENV-08..12): they load in zeep and xmlschema and accept real traffic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import xmlschema
import zeep
from lxml import etree
from zeep.transports import Transport

from egsu_core.shep import errors
from egsu_core.shep.contract import (
    SCHEMA_NAMES,
    request_schema,
    schema_bytes,
    validate_message_element,
    wsdl_bytes,
    wsdl_path,
)
from egsu_core.shep.envelope import (
    SEND_MESSAGE,
    SEND_MESSAGE_FAULT,
    SEND_MESSAGE_RESPONSE,
    TYPES_NS,
    SyncResponse,
    build_fault,
    build_response,
    parse_request,
)
from egsu_core.shep.errors import FormatError
from tests.conftest import shared_path
from tests.shep.factories import ISUN_DATA_TYPE, SESSION_ID, request_bytes

WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
INTERFACES = "http://bip.bee.kz/SyncChannel/v10/Interfaces"
BASE = "https://egsu.example.kz/shep/SyncChannel"
WHEN = datetime(2024, 1, 18, 12, 13, 25, tzinfo=UTC)


class ServedContract(Transport):
    """A zeep transport that answers from wsdl_bytes/schema_bytes, as the endpoint would."""

    def load(self, url):
        if url == f"{BASE}?wsdl":
            return wsdl_bytes(BASE, BASE)
        prefix, _, name = url.rpartition("/")
        data = schema_bytes(name) if prefix == BASE else None
        if data is None:
            raise OSError(f"not served: {url}")
        return data


def served_client() -> zeep.Client:
    return zeep.Client(wsdl=f"{BASE}?wsdl", transport=ServedContract())


# ---------------------------------------------------------------- the WSDL


def test_the_wsdl_states_the_app5_contract():
    root = etree.fromstring(wsdl_bytes(BASE, BASE))
    ns = {"wsdl": WSDL, "soap": WSDL_SOAP, "xsd": "http://www.w3.org/2001/XMLSchema"}

    assert root.get("targetNamespace") == INTERFACES
    parts = {m.get("name"): (m[0].get("name"), m[0].get("element")) for m in root.findall("wsdl:message", ns)}
    assert parts == {  # ENV-09
        "SendMessageRequestMsg": ("SendMessageParameters", "tns:SendMessage"),
        "SendMessageResponseMsg": ("SendMessageResult", "tns:SendMessageResponse"),
        "SendMessage_sendMessageFaultMsg": ("sendMessageFault", "tns:SendMessageFault1_SendMessageFault"),
    }
    operation = root.find("wsdl:portType[@name='ISyncChannel']/wsdl:operation", ns)  # ENV-08
    assert operation.get("name") == "SendMessage"
    assert [
        (el.tag.split("}")[1], el.get("name")) for el in operation if el.tag != f"{{{WSDL}}}documentation"
    ] == [("input", "SendMessageRequest"), ("output", "SendMessageResponse"), ("fault", "sendMessageFault")]
    binding = root.find("wsdl:binding[@name='SyncChannelHttpBinding']", ns)  # ENV-11
    assert binding.find("soap:binding", ns).attrib == {
        "style": "document",
        "transport": "http://schemas.xmlsoap.org/soap/http",
    }
    assert binding.find("wsdl:operation/soap:operation", ns).get("soapAction") == ""
    assert {el.get("use") for el in binding.iter(f"{{{WSDL_SOAP}}}body", f"{{{WSDL_SOAP}}}fault")} == {
        "literal"
    }
    port = root.find("wsdl:service[@name='ISyncChannelHttpService']/wsdl:port", ns)  # ENV-12
    assert port.get("name") == "SyncChannelHttpPort"
    assert port.find("soap:address", ns).get("location") == BASE
    assert root.find("wsdl:types/xsd:schema/xsd:import", ns).attrib == {
        "namespace": TYPES_NS,
        "schemaLocation": f"{BASE}/SyncChannel.xsd",
    }


def test_the_schema_base_url_may_end_with_a_slash():
    root = etree.fromstring(wsdl_bytes("http://h/ep", "http://h/schemas/"))

    assert (
        root.find(".//{http://www.w3.org/2001/XMLSchema}import").get("schemaLocation")
        == "http://h/schemas/SyncChannel.xsd"
    )


def test_the_wsdl_loads_in_zeep_from_the_package_files():
    client = zeep.Client(wsdl=wsdl_path())

    assert list(client.wsdl.services) == ["ISyncChannelHttpService"]
    assert list(client.service._operations) == ["SendMessage"]


def test_the_served_wsdl_and_schemas_load_in_zeep_and_build_requests_we_read():
    # given a zeep client that fetched ?wsdl and both XSDs the way the endpoint serves them
    client = served_client()
    assert client.service._binding_options["address"] == BASE

    # when zeep builds a SendMessage
    message = client.create_message(
        client.service,
        "SendMessage",
        request={
            "requestInfo": {
                "messageId": "m-1",
                "serviceId": "ISUN_Service2",
                "messageDate": "2024-01-18T18:13:25.583+06:00",
                "sender": {"senderId": "s-1", "password": "pw"},
                "properties": [{"key": "k", "value": "v"}],
            },
            "requestData": {"data": "payload"},
        },
    )

    # then our reader accepts it
    request = parse_request(message)
    assert (request.message_id, request.service_id, request.sender_id) == ("m-1", "ISUN_Service2", "s-1")
    assert request.properties == (("k", "v"),)
    assert request.data.text == "payload"


def test_zeep_reads_our_response_and_our_fault():
    client = served_client()
    operation = client.service._binding._operations["SendMessage"]
    answer = build_response(
        SyncResponse(
            message_id="r-1",
            correlation_id="m-1",
            response_date=WHEN,
            status_code="SCSS001",
            status_message="OK",
            session_id=SESSION_ID,
            data_text="receipt",
        )
    )

    result = operation.output.deserialize(etree.fromstring(answer))

    assert result.responseInfo.messageId == "r-1"
    assert result.responseInfo.status.code == "SCSS001"
    assert result.responseInfo.sessionId == SESSION_ID
    assert result.responseData.data == "receipt"

    fault = etree.fromstring(build_fault(errors.NoServiceError("serviceId 'X'"), when=WHEN))
    with pytest.raises(zeep.exceptions.Fault) as caught:
        client.service._binding.process_error(fault, operation)
    assert caught.value.message == "SCE004: Service does not exist: serviceId 'X'"
    assert caught.value.code == "soap:Client"


# ---------------------------------------------------------------- the XSDs


@pytest.mark.parametrize("name", ["SyncChannel.xsd", "common.xsd", "SyncChannel", "common"])
def test_known_schema_names_are_served(name):
    data = schema_bytes(name)

    assert data is not None
    assert etree.fromstring(data).tag == "{http://www.w3.org/2001/XMLSchema}schema"


@pytest.mark.parametrize(
    "name", ["SyncChannel.wsdl", "../settings.py", "__init__.py", "Common.xsd", "", "x.xsd"]
)
def test_other_names_are_not_served(name):
    assert schema_bytes(name) is None


def test_our_schemas_have_no_element_form_default():
    for name in SCHEMA_NAMES:
        assert etree.fromstring(schema_bytes(name)).get("elementFormDefault") is None


def test_our_xsd_compiles_in_xmlschema_and_lxml():
    schema = request_schema()

    assert isinstance(schema, xmlschema.XMLSchema)
    assert sorted(schema.elements) == [
        "SendMessage",
        "SendMessageFault1_SendMessageFault",
        "SendMessageResponse",
    ]
    assert request_schema() is schema  # compiled once
    assert (
        etree.XMLSchema(etree.parse(wsdl_path().replace("SyncChannel.wsdl", "SyncChannel.xsd"))) is not None
    )


@pytest.mark.shared
def test_the_real_isun_request_validates_against_our_xsd_with_data_lax():
    bare = etree.parse(str(shared_path("shep", "examples", "isun-sendmessage-request-unsigned.redacted.xml")))

    validate_message_element(bare.getroot())


def test_our_own_messages_validate_against_our_xsd():
    validate_message_element(
        etree.fromstring(request_bytes(data_type=ISUN_DATA_TYPE)).find(f".//{SEND_MESSAGE}")
    )
    answer = build_response(
        SyncResponse(
            message_id="r",
            correlation_id=None,
            response_date=WHEN,
            status_code="SCSS001",
            status_message="OK",
            data_text="x",
        )
    )
    validate_message_element(etree.fromstring(answer).find(f".//{SEND_MESSAGE_RESPONSE}"))
    fault = build_fault(errors.FormatError("x", sub_errors=[errors.FormatError("y")]), when=WHEN)
    validate_message_element(etree.fromstring(fault).find(f".//{SEND_MESSAGE_FAULT}"))


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        pytest.param(
            b"<messageId>04e0ee99-407a-4b1e-a702-90230f9d7f8f</messageId>",
            b"",
            "messageId",
            id="missing-messageId",
        ),
        pytest.param(
            b"<serviceId>ISUN_Service2</serviceId>",
            b"<serviceId>" + b"s" * 51 + b"</serviceId>",
            "serviceId",
            id="long-serviceId",
        ),
        pytest.param(
            b"<messageDate>2024-01-18T18:13:25.583+06:00</messageDate>",
            b"<messageDate>yesterday</messageDate>",
            "messageDate",
            id="bad-date",
        ),
    ],
)
def test_schema_validation_names_the_offending_element(old, new, reason):
    data = request_bytes()
    assert old in data
    element = etree.fromstring(data.replace(old, new)).find(f".//{SEND_MESSAGE}")

    with pytest.raises(FormatError) as caught:
        validate_message_element(element)

    assert reason in caught.value.detail
