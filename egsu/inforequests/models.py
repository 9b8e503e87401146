"""Information requests of other state bodies (ACC-16): filed, decided by the authorized body, answered
with a data package available for a limited time."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from egsu.choices import energy_choices


class InfoRequest(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        APPROVED = "approved", _("approved, package being prepared")
        READY = "ready", _("package ready")
        REFUSED = "refused", _("refused")
        EXPIRED = "expired", _("package expired")

    class What(models.TextChoices):
        TOTALS = "totals", _("daily totals of an energy, per subject")
        ARRIVALS = "arrivals", _("arrivals of data, per subject")

    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="info_requests",
                                  verbose_name=_("requester"))  # fmt: skip
    organisation = models.CharField(_("state body"), max_length=200)
    what = models.CharField(_("what"), max_length=16, choices=What.choices)
    energy = models.CharField(_("energy"), max_length=16, choices=energy_choices(), blank=True)
    subjects = models.ManyToManyField("registry.Subject", related_name="+", verbose_name=_("subjects"))
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    legal_basis = models.TextField(
        _("legal basis"), help_text=_("The law and article under which the body asks.")
    )
    purpose = models.TextField(_("purpose"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    filed_at = models.DateTimeField(_("filed"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("decided by"))  # fmt: skip
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reasons = models.TextField(_("reasons"), blank=True)
    package_xlsx = models.CharField(_("Excel file"), max_length=200, blank=True)
    package_csv = models.CharField(_("CSV file"), max_length=200, blank=True)
    package_rows = models.PositiveIntegerField(_("rows"), default=0)
    available_until = models.DateTimeField(_("available until"), null=True, blank=True)

    class Meta:
        verbose_name = _("information request")
        verbose_name_plural = _("information requests")
        ordering = ["-filed_at"]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")),
                                   name="inforequests_period_ordered"),
            models.CheckConstraint(condition=~Q(status="refused") | ~Q(reasons=""),
                                   name="inforequests_refusal_has_reasons"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"#{self.pk} {self.organisation} ({self.status})"
