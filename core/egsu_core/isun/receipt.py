"""The answer to an ISUN SendMessage: the receipt in response ``data`` and the envelope status.

The receipt keeps the shape the real ISUN_Service2 returns (an XML text,
escaped into ``data``: ``<ns2:response xmlns:ns2="http://shep.nitec.kz/">``
with ``requestNumber`` and ``status/code``, ``messageRu``, ``messageKz``) and
extends it with ``messageEn`` and one ``<record>`` per record of the request:

    <record position="3" id="407005" device="2" status="REJECTED" code="VALUE_INVALID">
      volume 'abc' is not a decimal number<warning>…</warning></record>

``status/code`` is SUCCESS when no record was rejected (accepted, duplicate
or revised records all count as stored), PARTIAL when some were rejected,
REJECTED when none was stored.

Envelope-level business codes (ENV-03, decision on §18 A17; status/message of
responseInfo, at most 250 characters):
- ``SCSS001`` "Message has been processed successfully": nothing rejected
  (the success code public ShEP services use);
- ``SCSS002`` "Processed in part: N of M records rejected";
- ``SCBR001`` "No record accepted: …": every record rejected, with the first reason.
Gateway errors (SCE…) are not business statuses; they travel as faults.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from egsu_core.isun.verdicts import RecordStatus, Verdict

RECEIPT_NS = "http://shep.nitec.kz/"
SUCCESS = "SUCCESS"
PARTIAL = "PARTIAL"
REJECTED = "REJECTED"

MESSAGE_OK = "SCSS001"
MESSAGE_PARTIAL = "SCSS002"
MESSAGE_REJECTED = "SCBR001"
STATUS_MESSAGE_LIMIT = 250  # StatusInfo/message in the SyncChannel schema

_NOT_XML_CHAR = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class ReceiptRecord:
    position: int
    object_id: str | None
    device_id: str | None
    status: str
    code: str
    reason: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Receipt:
    request_number: str
    code: str
    message_ru: str
    message_kz: str
    message_en: str | None
    records: tuple[ReceiptRecord, ...] = ()


def _counts(verdicts: Sequence[Verdict]) -> tuple[int, int]:
    """(rejected, total)."""
    rejected = sum(1 for verdict in verdicts if verdict.status is RecordStatus.REJECTED)
    return rejected, len(verdicts)


def receipt_code(verdicts: Sequence[Verdict]) -> str:
    rejected, total = _counts(verdicts)
    if rejected == 0:
        return SUCCESS
    return REJECTED if rejected == total else PARTIAL


def _messages(verdicts: Sequence[Verdict]) -> tuple[str, str, str]:
    """(ru, kz, en) texts of the receipt status, with counts."""
    rejected, total = _counts(verdicts)
    stored = total - rejected
    statuses = Counter(verdict.status for verdict in verdicts)
    repeats = statuses[RecordStatus.DUPLICATE]
    if rejected == 0:
        en = f"Message has been processed successfully: {stored} of {total} records stored"
        ru = f"Сообщение успешно обработано: принято записей — {stored} из {total}"
        kz = f"Хабарлама сәтті өңделді: қабылданған жазбалар — {stored}, барлығы — {total}"
        if repeats:
            en += f" ({repeats} already stored before)"
            ru += f" (ранее уже принято — {repeats})"
            kz += f" (бұрын қабылданғандары — {repeats})"
        return ru, kz, en
    if rejected < total:
        return (
            f"Обработано частично: отклонено записей — {rejected} из {total}",
            f"Ішінара өңделді: қабылданбаған жазбалар — {rejected}, барлығы — {total}",
            f"Processed in part: {rejected} of {total} records rejected",
        )
    return (
        f"Ни одна запись не принята: отклонено записей — {rejected} из {total}",
        f"Бірде-бір жазба қабылданбады: қабылданбаған жазбалар — {rejected}, барлығы — {total}",
        f"No record accepted: {rejected} of {total} records rejected",
    )


def message_status(verdicts: Sequence[Verdict]) -> tuple[str, str]:
    """The envelope status (code, message) for responseInfo/status (ENV-03)."""
    rejected, total = _counts(verdicts)
    if rejected == 0:
        return MESSAGE_OK, "Message has been processed successfully"
    if rejected < total:
        return MESSAGE_PARTIAL, f"Processed in part: {rejected} of {total} records rejected"
    first = verdicts[0]
    message = (
        f"No record accepted: {rejected} of {total} records rejected; "
        f"record {first.position}: {first.code} {first.reason}"
    )
    if len(message) > STATUS_MESSAGE_LIMIT:
        message = message[: STATUS_MESSAGE_LIMIT - 1] + "…"
    return MESSAGE_REJECTED, message


def _clean(text: str) -> str:
    """Text made safe for XML 1.0: characters it cannot carry become U+FFFD."""
    return _NOT_XML_CHAR.sub("\ufffd", text)


def build_receipt(request_number: str, verdicts: Sequence[Verdict]) -> str:
    """The receipt XML text (with declaration), to be placed escaped in the response ``data``."""
    root = etree.Element(etree.QName(RECEIPT_NS, "response"), nsmap={"ns2": RECEIPT_NS})
    etree.SubElement(root, "requestNumber").text = _clean(request_number)
    status = etree.SubElement(root, "status")
    etree.SubElement(status, "code").text = receipt_code(verdicts)
    ru, kz, en = _messages(verdicts)
    etree.SubElement(status, "messageRu").text = ru
    etree.SubElement(status, "messageKz").text = kz
    etree.SubElement(status, "messageEn").text = en
    records = etree.SubElement(root, "records")
    for verdict in verdicts:
        record = etree.SubElement(records, "record", position=str(verdict.position))
        if verdict.object_id is not None:
            record.set("id", _clean(verdict.object_id))
        if verdict.device_id is not None:
            record.set("device", _clean(verdict.device_id))
        record.set("status", str(verdict.status))
        if verdict.code:
            record.set("code", verdict.code)
        record.text = _clean(verdict.reason) if verdict.reason else None
        for warning in verdict.warnings:
            etree.SubElement(record, "warning").text = _clean(warning)
    body = etree.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + body


def _child_text(parent: etree._Element, name: str) -> str | None:
    child = parent.find(name)
    return None if child is None else (child.text or "")


def parse_receipt(text: str) -> Receipt:
    """Read a receipt (ours, or the real service's shorter one); ValueError when it is not one."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        tree = etree.ElementTree(etree.fromstring(text.strip().encode("utf-8"), parser))
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"receipt is not well-formed XML: {exc.msg}") from exc
    if tree.docinfo.doctype:
        raise ValueError("receipt carries a document type declaration")
    root = tree.getroot()
    if root.tag != etree.QName(RECEIPT_NS, "response").text:
        raise ValueError(f"receipt root is {root.tag}, expected {{{RECEIPT_NS}}}response")
    status = root.find("status")
    request_number = _child_text(root, "requestNumber")
    code = None if status is None else _child_text(status, "code")
    if request_number is None or status is None or code is None:
        raise ValueError("receipt lacks requestNumber or status/code")
    records = tuple(
        ReceiptRecord(
            position=int(element.get("position", "0")),
            object_id=element.get("id"),
            device_id=element.get("device"),
            status=element.get("status", ""),
            code=element.get("code", ""),
            reason=(element.text or "").strip(),
            warnings=tuple(warning.text or "" for warning in element.findall("warning")),
        )
        for element in root.findall("records/record")
    )
    return Receipt(
        request_number=request_number.strip(),
        code=code.strip(),
        message_ru=_child_text(status, "messageRu") or "",
        message_kz=_child_text(status, "messageKz") or "",
        message_en=_child_text(status, "messageEn"),
        records=records,
    )
