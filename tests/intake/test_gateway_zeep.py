"""The gateway endpoint end to end: a zeep client built from the served WSDL, a real HTTP server.

Done-when of issue 2: every record type of tables 1.1–1.9 is sent and answered; every error code
SCE001–SCE004 is produced by sending the offending message (App.4, ENV-02..05).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import zeep.exceptions
from lxml import etree

from egsu.journal.models import JournalEntry
from egsu.readings.models import Reading
from egsu_core.clock import astana_date, astana_midnight, utcnow
from egsu_core.isun.receipt import parse_receipt
from egsu_core.isun.tables import QUANTITIES
from tests.intake.conftest import (
    DEMO_PASSWORD,
    device_record,
    events,
    new_message_id,
    recent_two_hour_slot,
    signed,
)

KINDS = ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9"]


def _facility_of_kind(stand, kind):
    return next(f for f in stand["facilities"] if f["kind"] == kind and f["devices"])


def _fault_code(fault: zeep.exceptions.Fault) -> str:
    return fault.detail.find(".//errorCode").text


@pytest.mark.parametrize("is_daily", [True, False], ids=["daily", "two-hourly"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_table_is_accepted_through_zeep(zeep_client, stand, kind, is_daily):
    # given a device of a facility of this kind, registered to the sender's subject
    facility = _facility_of_kind(stand, kind)
    device = facility["devices"][0]
    start = astana_midnight(astana_date(utcnow()) - timedelta(days=2)) if is_daily else recent_two_hour_slot()
    record = device_record(facility, device, period_start=start, is_daily=is_daily)

    # when the subject's system sends it
    response = zeep_client.send(
        message_id=new_message_id(),
        sender_id=stand["senderId"],
        password=DEMO_PASSWORD,
        records=events([record]),
    )

    # then the answer says every record was stored, and the values are in the store
    info = response.responseInfo
    assert (info.status.code, info.status.message) == ("SCSS001", "Message has been processed successfully")
    receipt = parse_receipt(response.responseData.data)
    assert receipt.code == "SUCCESS"
    assert [(r.position, r.status) for r in receipt.records] == [(1, "ACCEPTED")]
    stored = Reading.objects.filter(
        object_id=facility["id"], device_id=device["deviceNameId"], period_start=start
    )
    assert stored.count() == len([k for k in record if k in QUANTITIES])
    assert {r.interval for r in stored} == {"P1D" if is_daily else "PT2H"}


def test_a_mixed_message_stores_the_good_and_reports_each_bad_record(zeep_client, stand):
    facility = _facility_of_kind(stand, "1.2")
    device = facility["devices"][0]
    start = recent_two_hour_slot()
    good = device_record(facility, device, period_start=start, is_daily=False)
    misaligned = device_record(facility, device, period_start=start + timedelta(hours=1), is_daily=False)
    foreign = dict(good, ID=stand["foreignFacilities"][0]["id"])

    response = zeep_client.send(
        message_id=new_message_id(),
        sender_id=stand["senderId"],
        password=DEMO_PASSWORD,
        records=events([good, misaligned, foreign]),
    )

    assert response.responseInfo.status.code == "SCSS002"
    receipt = parse_receipt(response.responseData.data)
    assert receipt.code == "PARTIAL"
    assert [(r.position, r.status, r.code) for r in receipt.records] == [
        (1, "ACCEPTED", ""),
        (2, "REJECTED", "PERIOD_NOT_ALIGNED"),
        (3, "REJECTED", "OBJECT_NOT_OWNED"),
    ]
    assert Reading.objects.filter(object_id=facility["id"], period_start=start).exists()


def test_resending_a_message_returns_the_same_answer_and_counts_nothing_twice(zeep_client, stand, endpoint):
    facility = _facility_of_kind(stand, "1.4")
    device = facility["devices"][0]
    record = device_record(facility, device, period_start=recent_two_hour_slot(), is_daily=False)
    message_id = new_message_id()

    first = zeep_client.send(
        message_id=message_id,
        sender_id=stand["senderId"],
        password=DEMO_PASSWORD,
        records=events([record]),
        message_date=None,
    )
    rows = Reading.objects.count()
    outgoing = JournalEntry.objects.filter(direction="OUT", correlation_id=message_id).order_by("pk")
    first_answer = bytes(outgoing.first().raw)

    # the same bytes again (zeep rebuilds the envelope, so send the journalled request itself)
    request = JournalEntry.objects.get(direction="IN", kind="message", message_id=message_id)
    import httpx

    from egsu.journal.services import raw_bytes

    again = httpx.post(
        endpoint, content=raw_bytes(request), headers={"Content-Type": "text/xml; charset=utf-8"}
    )

    assert again.status_code == 200
    assert again.content == raw_bytes(outgoing.first())
    assert first_answer  # the first answer was journalled before it went out
    assert Reading.objects.count() == rows
    assert first.responseInfo.status.code == "SCSS001"


def test_a_resent_record_is_a_duplicate_and_a_changed_one_a_revision(zeep_client, stand):
    facility = _facility_of_kind(stand, "1.9")
    device = facility["devices"][0]
    start = recent_two_hour_slot(6)
    record = device_record(facility, device, period_start=start, is_daily=False)

    def send(recs):
        answer = zeep_client.send(
            message_id=new_message_id(),
            sender_id=stand["senderId"],
            password=DEMO_PASSWORD,
            records=events(recs),
        )
        return parse_receipt(answer.responseData.data)

    assert send([record]).records[0].status == "ACCEPTED"
    rows = Reading.objects.count()
    assert send([record]).records[0].status == "DUPLICATE"
    assert Reading.objects.count() == rows
    changed = dict(record, volume="999.5")
    assert send([changed]).records[0].status == "REVISED"
    revisions = Reading.objects.filter(object_id=facility["id"], quantity="volume", period_start=start)
    assert sorted((r.revision, str(r.value)) for r in revisions)[-1][0] == 2


def test_the_real_client_request_is_accepted_unchanged(stand, endpoint, identity):
    from tests.conftest import shared_path

    # given the request a connected ISUN client really sends (credentials redacted there; use the stand's)
    text = shared_path("shep", "examples", "isun-sendmessage-request-unsigned.redacted.xml").read_text(
        "utf-8"
    )
    text = text.replace("<senderId>REDACTED</senderId>", f"<senderId>{stand['senderId']}</senderId>")
    text = text.replace("<password>REDACTED</password>", f"<password>{DEMO_PASSWORD}</password>")
    envelope = signed(
        (
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
            + text
            + "</soapenv:Body></soapenv:Envelope>"
        ).encode(),
        identity,
    )
    import httpx

    answer = httpx.post(endpoint, content=envelope, headers={"Content-Type": "text/xml"})

    assert answer.status_code == 200
    root = etree.fromstring(answer.content)
    assert root.findtext(".//responseInfo/status/code") == "SCSS001"
    receipt = parse_receipt(root.findtext(".//responseData/data"))
    assert [r.status for r in receipt.records] == ["ACCEPTED"] * 9
    # one daily value per device and quantity, on the Astana day 2024-01-11 (UTC+6 then)
    assert (
        Reading.objects.filter(object_id="407001", quantity="mass").get().period_start.isoformat()
        == "2024-01-10T18:00:00+00:00"
    )


# ------------------------------------------------------------------ App.4 error codes


def test_sce001_malformed_message(endpoint, stand):
    import httpx

    answer = httpx.post(endpoint, content=b"<soapenv:Envelope", headers={"Content-Type": "text/xml"})
    assert answer.status_code == 500
    assert etree.fromstring(answer.content).findtext(".//errorCode") == "SCE001"


def test_sce002_wrong_password(zeep_client, stand):
    with pytest.raises(zeep.exceptions.Fault) as caught:
        zeep_client.send(
            message_id=new_message_id(),
            sender_id=stand["senderId"],
            password="wrong",
            records=events([{"id": "1"}]),
        )
    assert _fault_code(caught.value) == "SCE002"
    assert "wrong" not in caught.value.message


def test_sce002_then_the_same_message_id_with_the_right_password_is_processed(zeep_client, stand):
    facility = _facility_of_kind(stand, "1.5")
    record = device_record(
        facility, facility["devices"][0], period_start=recent_two_hour_slot(), is_daily=False
    )
    message_id = new_message_id()
    with pytest.raises(zeep.exceptions.Fault):
        zeep_client.send(
            message_id=message_id, sender_id=stand["senderId"], password="wrong", records=events([record])
        )

    response = zeep_client.send(
        message_id=message_id, sender_id=stand["senderId"], password=DEMO_PASSWORD, records=events([record])
    )

    assert response.responseInfo.status.code == "SCSS001"


def test_sce003_system_without_the_right(zeep_client, stand):
    from egsu.registry.models import ConnectedSystem, Subject

    system = ConnectedSystem(
        sender_id="no-rights", subject=Subject.objects.get(bin=stand["subjects"][0]["bin"])
    )
    system.set_password("pw-no-rights-123")
    system.require_transport_signature = False
    system.save()  # no services granted

    with pytest.raises(zeep.exceptions.Fault) as caught:
        zeep_client.send(
            message_id=new_message_id(),
            sender_id="no-rights",
            password="pw-no-rights-123",
            records=events([{"id": "1"}]),
        )
    assert _fault_code(caught.value) == "SCE003"


def test_sce004_unknown_service(zeep_client, stand):
    with pytest.raises(zeep.exceptions.Fault) as caught:
        zeep_client.send(
            message_id=new_message_id(),
            sender_id=stand["senderId"],
            password=DEMO_PASSWORD,
            service_id="NO_SUCH_Service",
            records=events([{"id": "1"}]),
        )
    assert _fault_code(caught.value) == "SCE004"


def test_an_oversized_message_is_refused_before_it_is_read(endpoint, stand):
    import httpx

    body = b"<a>" + b"x" * (15 * 1024 * 1024) + b"</a>"
    answer = httpx.post(endpoint, content=body, headers={"Content-Type": "text/xml"}, timeout=60)
    assert answer.status_code == 500
    assert etree.fromstring(answer.content).findtext(".//errorCode") == "SCE001"
    assert "15" in etree.fromstring(answer.content).findtext(".//errorMessage")
    assert not Reading.objects.exists()
