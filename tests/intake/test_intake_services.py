"""The intake pipeline in process: journal first, faults for failures, retries after a crash.

App.1 §44/§62 (INT-36, INT-51): every message received and sent is journalled with its checksum;
design.md: a message is journalled durably before it is acknowledged; nothing counted twice.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from lxml import etree

from egsu.intake import services
from egsu.journal.models import JournalEntry
from egsu.journal.services import content_kept, raw_bytes
from egsu.readings.models import Reading
from egsu_core.clock import utcnow
from egsu_core.isun.tables import QUANTITIES
from egsu_core.shep.envelope import build_request
from tests.intake.conftest import (
    DEMO_PASSWORD,
    device_record,
    events,
    new_message_id,
    recent_two_hour_slot,
    signed,
    subject_identity,
)

HOSTILE = Path(__file__).resolve().parent.parent / "hostile" / "corpus"


def _request(stand, records, *, message_id=None, sign=True, **overrides) -> bytes:
    fields = {
        "message_id": message_id or new_message_id(),
        "service_id": "ISUN_Service2",
        "sender_id": stand["senderId"],
        "password": DEMO_PASSWORD,
        "payload": events(records),
        "data_type": ("http://message.persistence.interactive.nat", "Request"),
    }
    fields.update(overrides)
    body = build_request(**fields)
    if not sign:
        return body
    owner = stand["facilities"][0]["subject_bin"]
    return signed(body, subject_identity(stand, owner))


def _one_record(stand, kind="1.2", hours_back=4):
    facility = next(f for f in stand["facilities"] if f["kind"] == kind)
    return device_record(
        facility, facility["devices"][0], period_start=recent_two_hour_slot(hours_back), is_daily=False
    )


def _code(answer) -> str:
    root = etree.fromstring(answer.body)
    return root.findtext(".//errorCode") or root.findtext(".//responseInfo/status/code")


def test_both_directions_are_journalled_with_exact_checksums(stand):
    body = _request(stand, [_one_record(stand)])

    answer = services.receive(body, remote_addr="10.0.0.7")

    assert answer.http_status == 200
    incoming = JournalEntry.objects.get(direction="IN")
    outgoing = JournalEntry.objects.get(direction="OUT")
    assert incoming.sha256 == hashlib.sha256(body).hexdigest() and raw_bytes(incoming) == body
    assert outgoing.sha256 == hashlib.sha256(answer.body).hexdigest() and raw_bytes(outgoing) == answer.body
    assert (incoming.status_code, incoming.records_total, incoming.records_accepted) == ("SCSS001", 1, 1)
    assert outgoing.related_id == incoming.pk and outgoing.correlation_id == incoming.message_id
    assert incoming.remote_addr == "10.0.0.7"


@pytest.mark.parametrize("name", sorted(p.name for p in HOSTILE.glob("*.xml")))
def test_hostile_documents_over_http_get_sce001_and_leave_nothing_behind(endpoint, stand, name):
    body = (HOSTILE / name).read_bytes()

    answer = httpx.post(endpoint, content=body, headers={"Content-Type": "text/xml"}, timeout=10)

    assert answer.status_code == 500
    assert etree.fromstring(answer.content).findtext(".//errorCode") == "SCE001"
    assert b"root:" not in answer.content  # nothing of /etc/passwd
    assert not Reading.objects.exists()
    refused = JournalEntry.objects.get(direction="IN")
    assert refused.kind == "refused" and refused.status_code == "SCE001"
    assert not content_kept(refused)  # the hostile bytes themselves are not kept, only their checksum
    assert refused.sha256 == hashlib.sha256(body).hexdigest()


def test_a_journal_failure_is_never_acknowledged(stand, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.journal, "record_incoming", broken)

    answer = services.receive(_request(stand, [_one_record(stand)]))

    assert (answer.http_status, _code(answer)) == (500, "SCE909")
    assert b"disk full" not in answer.body
    assert not Reading.objects.exists()


def test_after_a_crash_mid_write_the_same_message_is_processed_once(stand, monkeypatch):
    body = _request(stand, [_one_record(stand)])
    real_store = services.get_store

    class Crashing:
        def write(self, rows):
            raise OSError("storage went away")

    monkeypatch.setattr(services, "get_store", lambda: Crashing())
    first = services.receive(body)
    assert (first.http_status, _code(first)) == (500, "SCE909")
    assert not Reading.objects.exists()

    monkeypatch.setattr(services, "get_store", real_store)
    second = services.receive(body)
    third = services.receive(body)

    assert (second.http_status, _code(second)) == (200, "SCSS001")
    assert third.body == second.body  # the answer that stands is sent again, byte for byte
    assert Reading.objects.count() == len([k for k in _one_record(stand) if k in QUANTITIES])
    assert Reading.objects.filter(revision__gt=1).count() == 0


def test_a_message_judged_and_stored_in_chunks_gets_one_verdict_per_record_in_order(stand, monkeypatch):
    # A 15 MB message (INT-07) is processed a chunk of records at a time; the answer is the same.
    monkeypatch.setattr(services, "RECORD_CHUNK", 2)
    records = [_one_record(stand, hours_back=4 + 2 * n) for n in range(5)]
    records.insert(2, {**records[0], "ID": "999999"})  # an unknown object, rejected in the second chunk

    answer = services.receive(_request(stand, records))

    receipt = etree.fromstring(etree.fromstring(answer.body).findtext(".//responseData/data").encode())
    verdicts = [(r.get("position"), r.get("status")) for r in receipt.iter("record")]
    assert verdicts == [(str(n), "REJECTED" if n == 3 else "ACCEPTED") for n in range(1, 7)]
    assert _code(answer) == "SCSS002"
    stored = sum(1 for record in records if record["ID"] != "999999" for k in record if k in QUANTITIES)
    assert Reading.objects.count() == stored


def test_a_reused_message_id_with_other_content_is_refused(stand):
    message_id = new_message_id()
    services.receive(_request(stand, [_one_record(stand)], message_id=message_id))

    answer = services.receive(_request(stand, [_one_record(stand, hours_back=8)], message_id=message_id))

    assert _code(answer) == "SCE001"
    assert b"already used for a different message" in answer.body


def test_a_message_date_beyond_the_skew_is_refused(stand):
    future = utcnow() + timedelta(hours=1)

    answer = services.receive(_request(stand, [_one_record(stand)], message_date=future))

    assert _code(answer) == "SCE001"
    assert b"messageDate" in answer.body


def test_an_unknown_must_understand_header_is_refused(stand):
    body = _request(stand, [_one_record(stand)])
    root = etree.fromstring(body)
    soap = "http://schemas.xmlsoap.org/soap/envelope/"
    header = root.find(f"{{{soap}}}Header")
    if header is None:
        header = etree.Element(f"{{{soap}}}Header")
        root.insert(0, header)
    block = etree.SubElement(header, "{urn:example}Routing")
    block.set(f"{{{soap}}}mustUnderstand", "1")

    answer = services.receive(etree.tostring(root))

    assert _code(answer) == "SCE001"
    assert b"mustUnderstand" in answer.body


def test_concurrent_copies_of_one_message_store_each_value_once(endpoint, stand):
    body = _request(stand, [_one_record(stand, kind="1.6")])
    codes = []

    def post():
        reply = httpx.post(endpoint, content=body, headers={"Content-Type": "text/xml"}, timeout=30)
        codes.append((reply.status_code, etree.fromstring(reply.content).findtext(".//status/code")))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert codes == [(200, "SCSS001")] * 4
    keys = Reading.objects.values_list("object_id", "device_id", "quantity", "interval", "period_start")
    assert len(keys) == len(set(keys)) > 0
    assert JournalEntry.objects.filter(direction="IN", kind="message").count() == 1
