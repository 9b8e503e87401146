"""The database behind egsu_core.pki.revocation.ReceiptStore and CrlStore."""

from __future__ import annotations

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


class DatabaseReceiptStore:
    def for_document(self, document_id: str, issuer_key_hash: bytes, serial: int) -> OcspReceipt | None:
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
        try:
            with transaction.atomic():
                OcspReceiptRecord.objects.create(
                    issuer_key_hash=receipt.issuer_key_hash.hex(),
                    serial=format(receipt.serial, "x"),
                    response_der=receipt.response_der,
                    produced_at=receipt.produced_at,
                    document_id=document_id or "",
                )
        except IntegrityError:
            pass  # this document already has its receipt: the first one stands (SIG-08)


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
