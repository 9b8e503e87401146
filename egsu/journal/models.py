"""The message journal: every message received and sent, as received and sent (INT-36, INT-51)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from egsu_core.clock import utcnow


class Direction(models.TextChoices):
    IN = "IN", _("received")
    OUT = "OUT", _("sent")


class EntryKind(models.TextChoices):
    """Which received entry stands for a messageId: only a MESSAGE blocks its re-use."""

    MESSAGE = "message", _("message")  # accepted for processing; unique per sender and messageId
    REFUSED = "refused", _("refused")  # refused before processing (format, login, rights): may be re-sent
    REPEAT = "repeat", _("repeat")  # a re-sent copy of a MESSAGE, answered from the journal


class JournalEntry(models.Model):
    """One message with the fields INT-51 asks for, its raw bytes and what became of it.

    `raw` holds the zlib-compressed bytes exactly as received or sent; `sha256` is taken over
    the uncompressed bytes, so the checksum proves the archive is what crossed the wire.
    """

    message_id = models.CharField(max_length=100)  # ENV-02: messageId ≤ 100
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=8, choices=EntryKind.choices, default=EntryKind.MESSAGE)
    occurred_at = models.DateTimeField(default=utcnow, help_text=_("UTC; shown in Astana time."))
    sender_id = models.CharField(max_length=50, blank=True)  # ENV-02: senderId ≤ 50
    addressee = models.CharField(max_length=100, blank=True)
    service_id = models.CharField(max_length=50, blank=True)  # ENV-02: serviceId ≤ 50
    correlation_id = models.CharField(max_length=100, blank=True)  # the request's messageId, for an answer
    status_code = models.CharField(max_length=32, blank=True)
    status_message = models.CharField(max_length=250, blank=True)  # StatusInfo message ≤ 250
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    raw = models.BinaryField()
    signature_verdict = models.TextField(blank=True)
    remote_addr = models.CharField(max_length=45, blank=True)
    related = models.ForeignKey(  # an answer's request, a repeat's original
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followers",
        help_text=_("For an answer: the request it answers; for a repeat: the original message."),
    )
    records_total = models.PositiveIntegerField(null=True, blank=True)
    records_accepted = models.PositiveIntegerField(null=True, blank=True)
    records_rejected = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        constraints = [
            # A re-sent request (same sender, same messageId) is recognised by the database
            # itself, whichever process receives it (INT-51, shep-notes §5.9). Refused messages
            # and repeats are journalled too but stay outside: a sender may fix and re-send.
            models.UniqueConstraint(
                fields=["direction", "sender_id", "message_id"],
                condition=Q(direction="IN", kind="message"),
                name="journal_in_message_unique",
            ),
            models.CheckConstraint(condition=Q(direction__in=["IN", "OUT"]), name="journal_direction_known"),
        ]
        indexes = [
            models.Index(fields=["sender_id", "occurred_at"], name="journal_sender_idx"),
            models.Index(fields=["occurred_at"], name="journal_occurred_idx"),
            models.Index(fields=["status_code", "occurred_at"], name="journal_status_idx"),
            models.Index(fields=["message_id"], name="journal_message_idx"),
            models.Index(fields=["correlation_id"], name="journal_correlation_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.message_id}"
