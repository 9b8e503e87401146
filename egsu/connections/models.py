"""A subject's application to connect its system to the gateway, and every signed step on it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    FILED = "filed", _("Filed")
    REFUSED = "refused", _("Refused")
    TESTING = "testing", _("Testing on the test stand")
    ACT_DRAWN = "act_drawn", _("Testing act signed by the operator")
    ACT_SIGNED = "act_signed", _("Testing act signed by both sides")
    LIVE = "live", _("In production")


class ConnectionApplication(models.Model):
    subject = models.ForeignKey(
        "registry.Subject", on_delete=models.PROTECT, related_name="connection_applications"
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.FILED)
    fields = models.JSONField(_("application (App.1-SB Table 1)"), default=dict)
    test_password_hash = models.CharField(max_length=128, editable=False)
    production_password_hash = models.CharField(max_length=128, editable=False)
    transport_certificate = models.BinaryField(_("transport signature certificate"), editable=False)
    certificate_sha256 = models.CharField(_("certificate SHA-256"), max_length=64)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(_("filed"))
    note = models.TextField(_("operator's note"), blank=True)
    system = models.OneToOneField(
        "registry.ConnectedSystem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="application",
    )
    test_from = models.DateTimeField(_("test access from"), null=True, blank=True)
    act_pdf = models.BinaryField(_("testing act PDF"), null=True, blank=True, editable=False)
    act_sha256 = models.CharField(_("testing act SHA-256"), max_length=64, blank=True)
    live_on = models.DateField(_("in production from"), null=True, blank=True)

    class Meta:
        verbose_name = _("connection application")
        verbose_name_plural = _("connection applications")
        ordering = ["-filed_at", "-pk"]

    @property
    def login(self) -> str:
        return self.fields.get("login", "")


class ConnectionStep(models.Model):
    application = models.ForeignKey(ConnectionApplication, on_delete=models.PROTECT, related_name="steps")
    action = models.CharField(_("action"), max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"))
    signed_xml = models.BinaryField(_("signed statement"), null=True, blank=True, editable=False)
    signer = models.CharField(_("signer"), max_length=300, blank=True)
    verdict = models.CharField(_("verdict"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("connection step")
        verbose_name_plural = _("connection steps")
        ordering = ["application", "at", "pk"]
