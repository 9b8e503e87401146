"""The OCSP receipts that proved a message's signatures are kept as evidence (SIG-08): written with the
message's journal entry in one statement, and a document's first receipt stands."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from egsu.signatures.models import OcspReceiptRecord
from egsu.signatures.receipts import DatabaseReceiptStore, holding
from egsu_core.pki.revocation import OcspReceipt

ISSUER = bytes(range(32))
AT = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_held_receipts_are_written_in_one_statement_and_a_documents_first_receipt_stands():
    store = DatabaseReceiptStore()
    first = OcspReceipt(issuer_key_hash=ISSUER, serial=5, response_der=b"first", produced_at=AT)
    again = replace(first, response_der=b"again", produced_at=AT + timedelta(hours=1))
    other = replace(first, serial=6, response_der=b"other")
    store.save(first, "sha256:doc-1")  # outside the gateway's holding block: written at once
    with holding() as held:
        store.save(again, "sha256:doc-1")  # the same document and certificate: a later receipt
        store.save(other, "sha256:doc-1")
        store.save(again, None)  # not bound to a document: kept as the newest answer for the certificate
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            held.write()  # as the gateway does, inside the journal entry's transaction
    assert len(queries.captured_queries) == 1  # one INSERT, no savepoint
    assert store.for_document("sha256:doc-1", ISSUER, 5).response_der == b"first"
    assert store.for_document("sha256:doc-1", ISSUER, 6).response_der == b"other"
    assert store.latest(ISSUER, 5).response_der == b"again"
    assert OcspReceiptRecord.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_repeated_receipt_inside_a_transaction_leaves_it_usable():
    """A conflict is ignored by the statement itself: the caller's transaction (the message's journal
    entry) goes on and commits."""
    store = DatabaseReceiptStore()
    first = OcspReceipt(issuer_key_hash=ISSUER, serial=7, response_der=b"first", produced_at=AT)
    store.save(first, "sha256:doc-2")
    with transaction.atomic():
        store.save(replace(first, response_der=b"later"), "sha256:doc-2")
        store.save(replace(first, serial=8), "sha256:doc-2")
    assert store.for_document("sha256:doc-2", ISSUER, 7).response_der == b"first"
    assert store.for_document("sha256:doc-2", ISSUER, 8) is not None
