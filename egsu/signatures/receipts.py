"""The database behind egsu_core.pki.revocation.ReceiptStore and CrlStore."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction

from egsu.signatures.models import OcspReceiptRecord, StoredCrl
from egsu_core.pki.certs import RevocationList
from egsu_core.pki.revocation import OcspReceipt


def _receipt(record: OcspReceiptRecord) -> OcspReceipt:
    return OcspReceipt(
        issuer_key_hash=bytes.fromhex(record.issuer_key_hash),
        serial=int(record.serial, 16),
        response_der=bytes(record.response_der),
        produced_at=record.produced_at,
    )


class HeldReceipts:
    """OCSP receipts obtained while checking one message, not yet written (see ``holding``)."""

    def __init__(self) -> None:
        self.items: list[tuple[OcspReceipt, str | None]] = []

    def find(self, document_id: str, issuer_key_hash: bytes, serial: int) -> OcspReceipt | None:
        for receipt, held_for in self.items:
            if held_for == document_id and (receipt.issuer_key_hash, receipt.serial) == (
                issuer_key_hash,
                serial,
            ):
                return receipt
        return None

    def write(self) -> None:
        """Write them (inside the caller's transaction, e.g. the message's journal entry's)."""
        items, self.items = self.items, []
        _save(items)


_held = threading.local()


@contextmanager
def holding() -> Iterator[HeldReceipts]:
    """Hold the receipts this thread obtains until the caller writes them with ``HeldReceipts.write``.

    The gateway writes a message's receipts in the transaction that journals the message (INT-36,
    SIG-08), one commit instead of two; receipts not written when the block ends are dropped, like
    the check of a message that was never journalled.
    """
    outer = getattr(_held, "receipts", None)
    held = _held.receipts = HeldReceipts()
    try:
        yield held
    finally:
        _held.receipts = outer


def _save(items: list[tuple[OcspReceipt, str | None]]) -> None:
    """One INSERT for all of them; a document that already has its receipt keeps it: the first one
    stands (SIG-08). Ignoring the conflict in the statement spares the gateway a savepoint round trip
    per message."""
    if not items:
        return
    OcspReceiptRecord.objects.bulk_create(
        [
            OcspReceiptRecord(
                issuer_key_hash=receipt.issuer_key_hash.hex(),
                serial=format(receipt.serial, "x"),
                response_der=receipt.response_der,
                produced_at=receipt.produced_at,
                document_id=document_id or "",
            )
            for receipt, document_id in items
        ],
        ignore_conflicts=True,
    )


class DatabaseReceiptStore:
    def for_document(self, document_id: str, issuer_key_hash: bytes, serial: int) -> OcspReceipt | None:
        held = getattr(_held, "receipts", None)
        found = held.find(document_id, issuer_key_hash, serial) if held is not None else None
        if found is not None:
            return found
        record = OcspReceiptRecord.objects.filter(
            document_id=document_id, issuer_key_hash=issuer_key_hash.hex(), serial=format(serial, "x")
        ).first()
        return _receipt(record) if record else None

    def latest(self, issuer_key_hash: bytes, serial: int) -> OcspReceipt | None:
        record = (
            OcspReceiptRecord.objects.filter(
                issuer_key_hash=issuer_key_hash.hex(), serial=format(serial, "x")
            )
            .order_by("-produced_at", "-pk")
            .first()
        )
        return _receipt(record) if record else None

    def save(self, receipt: OcspReceipt, document_id: str | None = None) -> None:
        held = getattr(_held, "receipts", None)
        if held is not None:
            held.items.append((receipt, document_id))
            return
        _save([(receipt, document_id)])


class DatabaseCrlStore:
    """CRLs shared by every process and kept across restarts (one row per issuer and kind)."""

    def load(self, issuer_key: bytes, delta: bool) -> bytes | None:
        row = StoredCrl.objects.filter(issuer_key_hash=issuer_key.hex(), delta=delta).only("der").first()
        return bytes(row.der) if row is not None else None

    def save(self, issuer_key: bytes, delta: bool, crl: RevocationList, url: str) -> None:
        values = {
            "issuer": crl.issuer[:500],
            "number": format(crl.number, "x") if crl.number is not None else "",
            "this_update": crl.this_update,
            "next_update": crl.next_update,
            "url": url[:500],
            "der": crl.der,
        }
        try:
            with transaction.atomic():
                StoredCrl.objects.update_or_create(
                    issuer_key_hash=issuer_key.hex(), delta=delta, defaults=values
                )
        except IntegrityError:
            pass  # another process stored the same issuer's CRL at the same moment: either will do
