"""The receipt in the response ``data`` and the envelope status (ENV-03, §18 A17)."""

from __future__ import annotations

import pytest
from lxml import etree

from egsu_core.isun.receipt import Receipt, ReceiptRecord, build_receipt, message_status, parse_receipt
from egsu_core.isun.verdicts import RecordStatus, Verdict
from tests.conftest import shared_path
from tests.isun.conftest import REAL_RESPONSE

REQUEST = "04e0ee99-407a-4b1e-a702-90230f9d7f8f"


def accepted(position: int, status: RecordStatus = RecordStatus.ACCEPTED, warnings=()) -> Verdict:
    return Verdict(
        position=position, object_id="407001", device_id="1", status=status, warnings=list(warnings)
    )


def rejected(position: int, reason: str = "volume 'abc' is not a decimal number") -> Verdict:
    return Verdict(
        position=position,
        object_id="407004",
        device_id=None,
        status=RecordStatus.REJECTED,
        code="VALUE_INVALID",
        reason=reason,
    )


@pytest.mark.parametrize(
    ("verdicts", "code", "en", "ru", "kz", "envelope"),
    [
        (
            [accepted(1), accepted(2, RecordStatus.DUPLICATE)],
            "SUCCESS",
            "Message has been processed successfully: 2 of 2 records stored (1 already stored before)",
            "Сообщение успешно обработано: принято записей — 2 из 2 (ранее уже принято — 1)",
            "Хабарлама сәтті өңделді: қабылданған жазбалар — 2, барлығы — 2 (бұрын қабылданғандары — 1)",
            ("SCSS001", "Message has been processed successfully"),
        ),
        (
            [accepted(1), rejected(2), accepted(3, RecordStatus.REVISED)],
            "PARTIAL",
            "Processed in part: 1 of 3 records rejected",
            "Обработано частично: отклонено записей — 1 из 3",
            "Ішінара өңделді: қабылданбаған жазбалар — 1, барлығы — 3",
            ("SCSS002", "Processed in part: 1 of 3 records rejected"),
        ),
        (
            [rejected(1), rejected(2)],
            "REJECTED",
            "No record accepted: 2 of 2 records rejected",
            "Ни одна запись не принята: отклонено записей — 2 из 2",
            "Бірде-бір жазба қабылданбады: қабылданбаған жазбалар — 2, барлығы — 2",
            (
                "SCBR001",
                "No record accepted: 2 of 2 records rejected; "
                "record 1: VALUE_INVALID volume 'abc' is not a decimal number",
            ),
        ),
    ],
    ids=["success", "partial", "rejected"],
)
def test_status_codes_and_messages(verdicts, code, en, ru, kz, envelope):
    # when
    receipt = parse_receipt(build_receipt(REQUEST, verdicts))
    # then
    assert (receipt.code, receipt.message_en, receipt.message_ru, receipt.message_kz) == (code, en, ru, kz)
    assert message_status(verdicts) == envelope


def test_envelope_message_fits_the_status_field():
    code, message = message_status([rejected(1, reason="x" * 400)])
    assert code == "SCBR001"
    assert len(message) == 250 and message.endswith("…")


def test_records_round_trip():
    # given
    verdicts = [
        accepted(1, warnings=["isDaily is absent: read as the daily record of 2024-01-11 (Astana day)"]),
        rejected(2),
    ]
    # when
    receipt = parse_receipt(build_receipt(REQUEST, verdicts))
    # then
    assert receipt.request_number == REQUEST
    assert receipt.records == (
        ReceiptRecord(
            position=1,
            object_id="407001",
            device_id="1",
            status="ACCEPTED",
            code="",
            reason="",
            warnings=("isDaily is absent: read as the daily record of 2024-01-11 (Astana day)",),
        ),
        ReceiptRecord(
            position=2,
            object_id="407004",
            device_id=None,
            status="REJECTED",
            code="VALUE_INVALID",
            reason="volume 'abc' is not a decimal number",
        ),
    )


def test_receipt_keeps_the_real_shape():
    # when
    text = build_receipt(REQUEST, [rejected(1)])
    # then
    assert text.startswith(
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><ns2:response '
        'xmlns:ns2="http://shep.nitec.kz/"><requestNumber>04e0ee99-'
    )
    root = etree.fromstring(text.encode())
    assert [child.tag for child in root] == ["requestNumber", "status", "records"]
    assert [child.tag for child in root.find("status")] == ["code", "messageRu", "messageKz", "messageEn"]
    record = root.find("records/record")
    assert dict(record.attrib) == {
        "position": "1",
        "id": "407004",
        "status": "REJECTED",
        "code": "VALUE_INVALID",
    }


def test_characters_xml_cannot_carry_are_replaced():
    verdict = rejected(1, reason="volume '\x01\ud800' is not a decimal number")
    receipt = parse_receipt(build_receipt(REQUEST, [verdict]))
    assert receipt.records[0].reason == "volume '\ufffd\ufffd' is not a decimal number"


@pytest.mark.shared
def test_the_real_service_receipt_is_read():
    # given the receipt the real ISUN service escaped into its response data
    tree = etree.parse(str(shared_path(*REAL_RESPONSE)))
    text = tree.xpath("//*[local-name()='data']")[0].text
    # when
    receipt = parse_receipt(text)
    # then
    assert receipt == Receipt(
        request_number="10fdc2fa-e9ba-4169-907d-71a272bd78c5",
        code="SUCCESS",
        message_ru="OK",
        message_kz="OK",
        message_en=None,
        records=(),
    )


@pytest.mark.parametrize(
    "text",
    [
        "not xml",
        '<response xmlns="urn:other"><requestNumber>1</requestNumber></response>',
        '<ns2:response xmlns:ns2="http://shep.nitec.kz/"><requestNumber>1</requestNumber></ns2:response>',
        '<!DOCTYPE r [<!ENTITY e "x">]><ns2:response xmlns:ns2="http://shep.nitec.kz/">&e;</ns2:response>',
    ],
    ids=["not-xml", "wrong-root", "no-status", "doctype"],
)
def test_what_is_not_a_receipt(text):
    with pytest.raises(ValueError):
        parse_receipt(text)
