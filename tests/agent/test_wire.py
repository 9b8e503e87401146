"""What the agent sends: valid as sent against the real SyncChannel schemas, shaped like the real ISUN client request.

The real schemas (read in place from ../shared) type ``data`` as anyType; real clients
name ``xsi:type="cs:Request"`` on it, which those schemas do not declare (shep-notes §1).
Our core/egsu_core/isun/schema/isun-cs-request.xsd declares it, so the message is validated exactly
as it leaves the agent — xsi:type, records and business signature included.
"""

from __future__ import annotations

import copy
from datetime import date

import pytest
from lxml import etree

from egsu_agent.delivery import build_messages
from egsu_agent.schedule import local_instant
from egsu_core.isun.samples import sample_record
from egsu_core.isun.schema import SCHEMA_DIR
from egsu_core.pki.keys import load_identity
from egsu_core.shep.envelope import SEND_MESSAGE, XSI_TYPE
from tests.conftest import shared_path
from tests.shep.real_schemas import VARIANTS, compile_real_schema

pytestmark = pytest.mark.shared
START = local_instant(date(2026, 3, 10), 2)
REAL_EXAMPLE = ("shep", "examples", "isun-sendmessage-request-unsigned.redacted.xml")


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def real_schema(request, tmp_path_factory):
    return compile_real_schema(
        request.param,
        tmp_path_factory.mktemp(f"agent-xsd-{request.param}"),
        data_type=SCHEMA_DIR / "isun-cs-request.xsd",
    )


@pytest.fixture(scope="module", params=[False, True], ids=["transport-signature", "business-signature-too"])
def envelope(key_and_cert, request) -> etree._Element:
    key, cert = key_and_cert
    records = [
        sample_record("1.2", "407004", "2", period_start=START, is_daily=False),
        sample_record(
            "1.3", "407001", "1", period_start=START, is_daily=False, device_type_id=2, operation_type_id=3
        ),
    ]
    (built,) = build_messages(
        [("407004/2", records[0]), ("407001/1", records[1])],
        identity=load_identity(key.read_bytes(), cert.read_bytes()),
        sender_id="demo-isun",
        password="secret",
        service_id="ISUN_Service2",
        message_date=START,
        sign_business_data=request.param,
        max_bytes=15_000_000,
    )
    assert built.records == 2 and built.devices == ("407004/2", "407001/1")
    return etree.fromstring(built.envelope)


def test_the_send_message_validates_as_sent_against_the_real_schemas(envelope, real_schema):
    operation = envelope.find(f".//{SEND_MESSAGE}")
    assert operation.find(".//requestData/data").get(XSI_TYPE) == "cs:Request"
    assert real_schema.validate(operation), str(real_schema.error_log.last_error)


def test_the_schema_really_checks_the_records_under_xsi_type(envelope, real_schema):
    # the guard for the test itself: with cs:Request declared, a wrong record field is caught
    operation = copy.deepcopy(envelope.find(f".//{SEND_MESSAGE}"))
    etree.SubElement(operation.find(".//requestData/data/events"), "tankLevle").text = "1"
    assert not real_schema.validate(operation)
    assert "tankLevle" in str(real_schema.error_log.last_error)


def test_the_payload_has_the_shape_of_the_real_client_request(envelope):
    real = etree.parse(str(shared_path(*REAL_EXAMPLE))).getroot()
    ours_data, real_data = envelope.find(".//requestData/data"), real.find(".//requestData/data")

    def xsi_type(data):
        prefix, local = data.get(XSI_TYPE).split(":")
        return etree.QName(data.nsmap[prefix], local)

    assert xsi_type(ours_data) == xsi_type(real_data)  # {http://message.persistence.interactive.nat}Request
    signature = "{http://www.w3.org/2000/09/xmldsig#}Signature"  # the business signature, when configured
    assert (
        {child.tag for child in ours_data} - {signature} == {child.tag for child in real_data} == {"events"}
    )
    for data in (ours_data, real_data):
        for event in data.iterchildren("events"):
            assert all(etree.QName(f).namespace is None and len(f) == 0 and f.text for f in event)
    ours_fields = {f.tag for event in ours_data.iterchildren("events") for f in event}
    real_fields = {f.tag for event in real_data for f in event}
    shared = {
        "datetime",
        "operationTypeId",
        "productTypeId",
        "deviceTypeId",
        "deviceNameId",
        "pipelineId",
        "tankLevel",
        "volume",
        "massflowbegin",
        "massflowend",
        "mass",
    }
    assert shared <= ours_fields & real_fields
    # FMT-03/08 additions the real client lacks, as the order prints them
    assert ours_fields - real_fields == {"ID", "regdatetime", "deviceId", "isDaily", "deviceStatus"}


def test_the_body_is_signed_with_ws_security(envelope):
    from egsu_core.pki.wsse import verify_transport

    verified = verify_transport(envelope)
    assert verified.body is envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
