"""Commission acts for manual corrections (Rules §53, ANA-09) and the values they correct.

An act is never deleted and its lines never change after the proposal: the act is the
evidence behind a corrected revision in the readings store (source `act:<number>`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from egsu.quality.rules import ActState, act_source
from egsu.readings.store import KNOWN_INTERVALS, VALUE_DECIMAL_PLACES, VALUE_INTEGER_DIGITS, tidy_value


class ActStatus(models.TextChoices):
    PROPOSED = ActState.PROPOSED.value, _("Proposed")
    AGREED = ActState.AGREED.value, _("Agreed")
    REFUSED = ActState.REFUSED.value, _("Refused")
    APPLIED = ActState.APPLIED.value, _("Applied")
    WITHDRAWN = ActState.WITHDRAWN.value, _("Withdrawn")


_DECIDED = [ActStatus.AGREED, ActStatus.REFUSED, ActStatus.APPLIED]


def _value_field(verbose_name, **extra) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=VALUE_INTEGER_DIGITS + VALUE_DECIMAL_PLACES,
        decimal_places=VALUE_DECIMAL_PLACES,
        **extra,
    )


class CorrectionAct(models.Model):
    """A commission act: who proposed which corrected values and why, and the subject's decision."""

    number = models.CharField(_("number"), max_length=32, unique=True, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ActStatus.choices, default=ActStatus.PROPOSED
    )
    subject = models.ForeignKey(
        "registry.Subject",
        on_delete=models.PROTECT,
        related_name="correction_acts",
        verbose_name=_("subject"),
    )
    facility = models.ForeignKey(
        "registry.Facility",
        on_delete=models.PROTECT,
        related_name="correction_acts",
        verbose_name=_("facility"),
    )
    reason = models.TextField(_("reason for the discrepancy"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    proposed_at = models.DateTimeField(_("proposed"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    # The signed-off document itself, kept with the row (backed up with the database).
    pdf = models.BinaryField(_("act PDF"), null=True, blank=True, editable=False)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("correction act")
        verbose_name_plural = _("correction acts")
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ActStatus.values), name="quality_act_status_known"),
            # ANA-09: an act states the reasons for the discrepancies.
            models.CheckConstraint(condition=~Q(reason=""), name="quality_act_reason_given"),
            # A decision (agree, refuse) always names who decided and when; nothing else does.
            models.CheckConstraint(
                condition=Q(status__in=_DECIDED, decided_by__isnull=False, decided_at__isnull=False)
                | (~Q(status__in=_DECIDED) & Q(decided_by__isnull=True, decided_at__isnull=True)),
                name="quality_act_decision_recorded",
            ),
            models.CheckConstraint(
                condition=~Q(status=ActStatus.REFUSED) | ~Q(refusal_reason=""),
                name="quality_act_refusal_has_reason",
            ),
            # Applied means the revision exists and the act document was produced with it.
            models.CheckConstraint(
                condition=(Q(status=ActStatus.APPLIED, applied_at__isnull=False) & ~Q(pdf_sha256=""))
                | (~Q(status=ActStatus.APPLIED) & Q(applied_at__isnull=True)),
                name="quality_act_applied_complete",
            ),
            models.CheckConstraint(
                condition=Q(status=ActStatus.WITHDRAWN, withdrawn_at__isnull=False)
                | (~Q(status=ActStatus.WITHDRAWN) & Q(withdrawn_at__isnull=True)),
                name="quality_act_withdrawal_dated",
            ),
        ]
        indexes = [models.Index(fields=["status", "subject"], name="quality_act_status_subject")]

    def __str__(self) -> str:
        return f"{self.number or '(unnumbered)'} {self.facility_id} {self.status}"

    @property
    def source(self) -> str:
        return act_source(self.number or "")


class CorrectionLine(models.Model):
    """One corrected value: the key, the original (value and revision when proposed), the correction."""

    act = models.ForeignKey(CorrectionAct, on_delete=models.PROTECT, related_name="lines")
    object_id = models.CharField(_("object ID"), max_length=64)
    device_id = models.CharField(_("device ID"), max_length=64)
    quantity = models.CharField(_("quantity"), max_length=32)
    interval = models.CharField(_("interval"), max_length=8)
    period_start = models.DateTimeField(_("period start"))
    original_value = _value_field(_("original value"))
    original_revision = models.PositiveIntegerField(_("original revision"))
    original_quality = models.CharField(_("original quality"), max_length=32, blank=True)
    corrected_value = _value_field(_("corrected value"))
    unit = models.CharField(_("unit"), max_length=16)
    commercial = models.BooleanField(_("commercial"), default=False)
    applied_revision = models.PositiveIntegerField(_("applied revision"), null=True, blank=True)

    class Meta:
        verbose_name = _("correction line")
        verbose_name_plural = _("correction lines")
        ordering = ["act", "object_id", "device_id", "quantity", "interval", "period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["act", "object_id", "device_id", "quantity", "interval", "period_start"],
                name="quality_line_key_once_per_act",
            ),
            models.CheckConstraint(
                condition=Q(original_revision__gte=1), name="quality_line_revision_positive"
            ),
            models.CheckConstraint(
                condition=~Q(corrected_value=F("original_value")), name="quality_line_value_changes"
            ),
            models.CheckConstraint(
                condition=Q(applied_revision__isnull=True) | Q(applied_revision__gt=F("original_revision")),
                name="quality_line_applied_after_original",
            ),
            models.CheckConstraint(
                condition=Q(interval__in=sorted(KNOWN_INTERVALS)), name="quality_line_interval_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.object_id}/{self.device_id} {self.quantity} {self.period_start.isoformat()}"

    @property
    def difference(self):
        return self.corrected_value - self.original_value

    @property
    def original_text(self) -> str:
        return format(tidy_value(self.original_value), "f")

    @property
    def corrected_text(self) -> str:
        return format(tidy_value(self.corrected_value), "f")
