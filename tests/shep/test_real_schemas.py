"""What we write validates against the REAL published SyncChannel schemas, read in place (shep-notes §1)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from egsu_core.shep import errors
from egsu_core.shep.envelope import (
    SEND_MESSAGE,
    SEND_MESSAGE_FAULT,
    SEND_MESSAGE_RESPONSE,
    SyncResponse,
    build_fault,
    build_response,
)
from tests.shep.factories import SESSION_ID, request_bytes

pytestmark = pytest.mark.shared

WHEN = datetime(2024, 1, 18, 12, 13, 25, tzinfo=UTC)


def operation(data: bytes, tag: str) -> etree._Element:
    element = etree.fromstring(data).find(f".//{tag}")
    assert element is not None, f"no {tag} in the envelope"
    return element


def assert_valid(schema: etree.XMLSchema, element: etree._Element) -> None:
    assert schema.validate(element), str(schema.error_log.last_error)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({}, id="minimal"),
        pytest.param(
            {
                "correlation_id": "c-1",
                "route_id": "r-1",
                "session_id": SESSION_ID,
                "properties": [("batch", "1")],
                "password": None,
            },
            id="every-optional-field",
        ),
    ],
)
def test_our_requests_validate(real_schema, fields):
    assert_valid(real_schema, operation(request_bytes(**fields), SEND_MESSAGE))


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({}, id="receipt-and-session"),
        pytest.param({"correlation_id": None, "session_id": None, "data_text": None}, id="minimal"),
        pytest.param({"status_message": "Ұ" * 900}, id="long-status-message-truncated"),
        pytest.param({"session_id": "not a guid"}, id="non-guid-session-not-echoed"),
    ],
)
def test_our_responses_validate(real_schema, fields):
    values = {
        "message_id": "r-1",
        "correlation_id": "m-1",
        "response_date": WHEN,
        "status_code": "SCSS001",
        "status_message": "Message has been processed successfully",
        "session_id": SESSION_ID,
        "data_text": "<receipt>ok &amp; fine</receipt>",
    }
    values.update(fields)

    assert_valid(real_schema, operation(build_response(SyncResponse(**values)), SEND_MESSAGE_RESPONSE))


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(errors.FormatError("x" * 3000), id="long-message"),
        pytest.param(errors.InternalError(), id="server"),
        pytest.param(
            errors.FormatError(
                "outer",
                sub_errors=[
                    errors.FormatError("a", sub_errors=[errors.NoRightError()]),
                    errors.FormatError("b"),
                ],
            ),
            id="sub-errors",
        ),
    ],
)
def test_our_fault_details_validate(real_schema, error):
    assert_valid(
        real_schema, operation(build_fault(error, session_id=SESSION_ID, when=WHEN), SEND_MESSAGE_FAULT)
    )
