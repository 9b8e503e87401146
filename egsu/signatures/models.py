"""OCSP receipts kept as evidence (SIG-08), and the CRLs downloaded (SIG-09), in the database.

Receipts: re-verifying a document reuses them. CRLs: one row per issuer and kind (full or
delta), so that a restart or a second server uses the CRL another process downloaded while
it is current, instead of downloading up to 16 MB again.
"""

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


class StoredCrl(models.Model):
    """The newest verified CRL (or delta CRL) of one issuer, as downloaded from its distribution point."""

    issuer_key_hash = models.CharField(max_length=64, help_text=_("SHA-256 of the issuer's public key, hex."))
    delta = models.BooleanField(default=False)
    issuer = models.CharField(max_length=500, blank=True, default="")
    number = models.CharField(max_length=64, blank=True, default="", help_text=_("CRL number, hex."))
    this_update = models.DateTimeField()
    next_update = models.DateTimeField(null=True, blank=True)
    url = models.CharField(max_length=500, blank=True, default="")
    der = models.BinaryField()
    fetched_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("downloaded CRL")
        verbose_name_plural = _("downloaded CRLs")
        constraints = [
            models.UniqueConstraint(
                fields=["issuer_key_hash", "delta"], name="stored_crl_one_per_issuer_kind"
            )
        ]

    def __str__(self) -> str:
        kind = "delta CRL" if self.delta else "CRL"
        return f"{kind} {self.number} of {self.issuer}"
