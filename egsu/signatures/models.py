"""OCSP receipts kept as evidence, so that re-verifying a document reuses them (SIG-08)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OcspReceiptRecord(models.Model):
    """One OCSP response obtained from the NCA (or the test CA), optionally tied to a document."""

    issuer_key_hash = models.CharField(max_length=64, help_text=_("SHA-256 of the issuer's public key, hex."))
    serial = models.CharField(max_length=64, help_text=_("Certificate serial number, hex."))
    response_der = models.BinaryField()
    produced_at = models.DateTimeField(
        help_text=_("producedAt of the response: the check counts as of then.")
    )
    document_id = models.CharField(
        max_length=120, blank=True, default="", help_text=_("e.g. journal:<sha256>")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("OCSP receipt")
        verbose_name_plural = _("OCSP receipts")
        indexes = [
            models.Index(fields=["issuer_key_hash", "serial", "-produced_at"], name="ocsp_receipt_latest")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["document_id", "issuer_key_hash", "serial"],
                condition=~Q(document_id=""),
                name="ocsp_receipt_one_per_document",
            )
        ]

    def __str__(self) -> str:
        return f"OCSP {self.serial} @ {self.produced_at:%Y-%m-%d %H:%M}"
