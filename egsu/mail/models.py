"""The outbox: one row per message and recipient, kept until delivered (and for a while after)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Mail(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    recipient = models.EmailField(_("recipient"))
    subject = models.CharField(_("subject"), max_length=300)
    language = models.CharField(_("language"), max_length=5)
    body = models.TextField(_("text"))
    sender = models.EmailField(_("from"))
    # The same key and recipient are mailed once, ever: e.g. one alarm state → one message each.
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=250, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_try_at = models.DateTimeField(_("next try"))
    claimed_until = models.DateTimeField(
        null=True, blank=True, editable=False
    )  # a sender holds it until then
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], condition=~Q(dedupe_key=""), name="mail_once_per_key"
            ),
        ]
        indexes = [
            models.Index(fields=["next_try_at"], name="mail_due_idx", condition=Q(status="pending")),
            models.Index(fields=["status", "created_at"], name="mail_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.subject}"


class MailAttachment(models.Model):
    mail = models.ForeignKey(Mail, on_delete=models.CASCADE, related_name="attachments")
    file_name = models.CharField(_("file"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    content = models.BinaryField(_("content"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.file_name
