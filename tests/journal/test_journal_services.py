"""Journal writes: durable, checksummed, deduplicated; answers found again byte for byte."""

from __future__ import annotations

import hashlib
import zlib
from unittest import mock

import pytest
from django.db import DatabaseError, transaction

from egsu.journal import services
from egsu.journal.models import Direction, EntryKind, JournalEntry
from tests.journal.conftest import SAMPLE

MESSAGE_ID = "04e0ee99-407a-4b1e-a702-90230f9d7f8f"


def _incoming(message_id: str = MESSAGE_ID, sender_id: str = "oilco", raw: bytes = SAMPLE):
    return services.record_incoming(
        message_id=message_id,
        sender_id=sender_id,
        service_id="ISUN_Service2",
        raw=raw,
        remote_addr="10.0.0.7",
    )


@pytest.mark.django_db
def test_incoming_message_is_stored_compressed_with_its_checksum():
    # when a message is journalled
    entry, created = _incoming()
    # then it reads back with every INT-51 field and the exact bytes
    assert created is True
    stored = JournalEntry.objects.get(pk=entry.pk)
    assert (stored.direction, stored.kind, stored.message_id, stored.sender_id, stored.addressee) == (
        Direction.IN,
        EntryKind.MESSAGE,
        MESSAGE_ID,
        "oilco",
        "EGSU",
    )
    assert (stored.service_id, stored.remote_addr, stored.correlation_id) == ("ISUN_Service2", "10.0.0.7", "")
    assert stored.occurred_at.tzinfo is not None
    assert stored.sha256 == hashlib.sha256(SAMPLE).hexdigest()
    assert stored.size == len(SAMPLE)
    assert bytes(stored.raw) == zlib.compress(SAMPLE, 6)
    assert services.raw_bytes(stored) == SAMPLE
    assert services.verify_checksum(stored) is True


@pytest.mark.django_db
def test_large_messages_are_kept_compressed():
    raw = SAMPLE.replace(b"<events>", b"<events>" + b"<volume>106.7144</volume>" * 2000)
    entry, _ = _incoming(raw=raw)
    assert len(bytes(JournalEntry.objects.get(pk=entry.pk).raw)) < len(raw) / 20
    assert services.raw_bytes(entry) == raw


@pytest.mark.django_db
def test_tampered_archive_fails_the_checksum():
    entry, _ = _incoming()
    JournalEntry.objects.filter(pk=entry.pk).update(
        raw=zlib.compress(SAMPLE.replace(b"80.46875", b"99.46875"))
    )
    assert services.verify_checksum(JournalEntry.objects.get(pk=entry.pk)) is False
    JournalEntry.objects.filter(pk=entry.pk).update(raw=b"not zlib at all")
    assert services.verify_checksum(JournalEntry.objects.get(pk=entry.pk)) is False


@pytest.mark.django_db
def test_resent_message_id_returns_the_first_entry_without_writing():
    # given a journalled message
    first, _ = _incoming()
    # when the same sender sends the same messageId again
    again, created = _incoming(raw=SAMPLE + b" ")
    # then the first entry comes back and nothing is written
    assert (again.pk, created) == (first.pk, False)
    assert JournalEntry.objects.count() == 1


@pytest.mark.django_db
def test_same_message_id_from_another_sender_is_another_message():
    _incoming(sender_id="oilco")
    _, created = _incoming(sender_id="gasco")
    assert created is True
    assert JournalEntry.objects.count() == 2


@pytest.mark.django_db
def test_refused_message_does_not_claim_its_message_id():
    # given a message refused before processing (say, a wrong password)
    refused = services.record_refused(
        message_id=MESSAGE_ID,
        sender_id="oilco",
        service_id="ISUN_Service2",
        raw=SAMPLE,
        status_code="SCE002",
        status_message="Wrong login or password",
    )
    # when the sender fixes it and sends the same messageId again
    entry, created = _incoming()
    # then it is journalled as a new message, and both receipts stay on record
    assert created is True
    assert (refused.kind, refused.status_code, entry.kind) == (EntryKind.REFUSED, "SCE002", EntryKind.MESSAGE)
    assert JournalEntry.objects.filter(message_id=MESSAGE_ID, direction=Direction.IN).count() == 2


@pytest.mark.django_db
def test_refused_message_without_content_keeps_its_checksum_and_size():
    entry = services.record_refused(
        message_id="unparsed:abc",
        sender_id="",
        service_id="",
        raw=b"",
        sha256=hashlib.sha256(SAMPLE).hexdigest(),
        size=len(SAMPLE),
        status_code="SCE001",
        status_message="Message does not conform to the format: DOCTYPE\x00",
    )
    stored = JournalEntry.objects.get(pk=entry.pk)
    assert (stored.size, stored.sha256) == (len(SAMPLE), hashlib.sha256(SAMPLE).hexdigest())
    assert services.content_kept(stored) is False
    assert stored.status_message == "Message does not conform to the format: DOCTYPE "


@pytest.mark.django_db
def test_outgoing_answer_points_at_its_request_and_is_found_again_byte_for_byte():
    # given a request and the answer sent to it
    request, _ = _incoming()
    answer_bytes = b"<SendMessageResponse>\xd0\x9e\xd0\x9a</SendMessageResponse>"
    answer = services.record_outgoing(
        request=request,
        message_id="answer-1",
        addressee="oilco",
        raw=answer_bytes,
        status_code="SCSS001",
        status_message="Message has been processed successfully",
    )
    # then the answer carries the request's ids
    assert (answer.direction, answer.correlation_id, answer.service_id, answer.sender_id) == (
        Direction.OUT,
        MESSAGE_ID,
        "ISUN_Service2",
        "EGSU",
    )
    # and a re-sent request finds the same answer bytes
    found = services.answer_for(JournalEntry.objects.get(pk=request.pk))
    assert found is not None and found.pk == answer.pk
    assert services.raw_bytes(found) == answer_bytes
    assert services.verify_checksum(found) is True


@pytest.mark.django_db
def test_no_answer_yet():
    request, _ = _incoming()
    assert services.answer_for(request) is None


@pytest.mark.django_db
def test_repeat_copies_the_original_and_points_at_it():
    original, _ = _incoming()
    services.update_incoming(original, status_code="SCSS001", status_message="OK", records_total=9)
    repeat = services.record_repeat(original, remote_addr="10.0.0.8")
    stored = JournalEntry.objects.get(pk=repeat.pk)
    assert (stored.kind, stored.related_id, stored.message_id, stored.remote_addr) == (
        EntryKind.REPEAT,
        original.pk,
        MESSAGE_ID,
        "10.0.0.8",
    )
    assert services.raw_bytes(stored) == SAMPLE
    assert services.verify_checksum(stored) is True
    # and the original still stands for the messageId
    assert _incoming()[0].pk == original.pk


@pytest.mark.django_db
def test_update_incoming_records_status_and_counts():
    entry, _ = _incoming()
    services.update_incoming(
        entry,
        status_code="SCSS001",
        status_message="x" * 300,
        records_total=9,
        records_accepted=7,
        records_rejected=2,
    )
    stored = JournalEntry.objects.get(pk=entry.pk)
    assert (stored.status_code, stored.records_total, stored.records_accepted, stored.records_rejected) == (
        "SCSS001",
        9,
        7,
        2,
    )
    assert stored.status_message == "x" * 250


@pytest.mark.django_db
def test_failed_write_fails_loudly():
    with mock.patch.object(JournalEntry, "save", side_effect=DatabaseError("disk full")):
        with pytest.raises(services.JournalWriteError, match="could not journal incoming message"):
            _incoming()
        request = JournalEntry(pk=1, message_id="m", service_id="s")
        with pytest.raises(services.JournalWriteError, match="could not journal OUT message 'a'"):
            services.record_outgoing(
                request=request, message_id="a", addressee="x", raw=b"", status_code="", status_message=""
            )


@pytest.mark.django_db
def test_update_of_a_vanished_entry_fails_loudly():
    entry, _ = _incoming()
    JournalEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(services.JournalWriteError, match="is gone"):
        services.update_incoming(entry, status_code="SCSS001", status_message="OK")


@pytest.mark.django_db(transaction=True)
def test_journal_write_refuses_to_hide_inside_an_outer_transaction():
    # A write nested in an outer transaction would only be durable when that one commits.
    with transaction.atomic(), pytest.raises(RuntimeError, match="durable"):
        _incoming()
    assert JournalEntry.objects.count() == 0


def test_the_write_is_committed_before_record_incoming_returns(threads_db):
    # when a message is journalled, a separate connection sees it at once (it is committed)
    def journal_then_look_from_another_connection():
        entry, _ = _incoming()
        (seen,) = threads_db([lambda: JournalEntry.objects.filter(pk=entry.pk).count()])
        return seen

    (seen,) = threads_db([journal_then_look_from_another_connection])
    assert seen == 1


def test_simultaneous_copies_of_a_message_give_one_entry(threads_db):
    # given six copies of one message arriving at the same moment in six threads
    outcomes = threads_db([lambda: _incoming()] * 6)
    # then exactly one was created, and all six got the same entry
    assert sorted(created for _, created in outcomes) == [False] * 5 + [True]
    assert len({entry.pk for entry, _ in outcomes}) == 1
    (count,) = threads_db([lambda: JournalEntry.objects.filter(message_id=MESSAGE_ID).count()])
    assert count == 1
