"""Delivering the outbox through Django's mail connection (EGSU_EMAIL_URL), with retries and backoff.

A message is claimed (pending → sending) before it is handed to the server, so two workers never
send it together. Delivery is as exactly-once as SMTP allows: a worker killed after the server
accepted the message but before the row says "sent" sends it once more after the claim expires,
with the same Message-ID (receiving servers and clients use it to drop the copy).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import F

from egsu.mail.models import Mail
from egsu_core.clock import utcnow

log = logging.getLogger(__name__)

CLAIM = timedelta(minutes=5)  # longer than any SMTP exchange (timeouts are 10 s per step)
MAX_DELAY = timedelta(hours=1)
DELIVERY_ERRORS = (smtplib.SMTPException, OSError)  # OSError: refused, unreachable, timed out, TLS


def build(mail: Mail) -> EmailMessage:
    message = EmailMessage(
        subject=mail.subject, body=mail.body, from_email=mail.sender, to=[mail.recipient],
        headers={"Message-ID": mail.message_id, "Content-Language": mail.language},
    )  # fmt: skip
    for attachment in mail.attachments.all():
        message.attach(attachment.file_name, bytes(attachment.content), attachment.content_type)
    return message


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failed attempt: EGSU_EMAIL_RETRY_S × 2^(n-1), at most an hour."""
    return min(timedelta(seconds=settings.CONFIG.email_retry_s) * 2 ** max(0, attempts - 1), MAX_DELAY)


def _permanent(exc: Exception) -> bool:
    """A 5xx answer will not change by retrying (unknown mailbox, refused sender)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def deliver(mail_id: int, now: datetime | None = None) -> Mail | None:
    """Try to hand one due message to the server; the row says how it went. None: not ours to send."""
    now = now or utcnow()
    claimed = Mail.objects.filter(pk=mail_id, status=Mail.Status.PENDING, next_try_at__lte=now).update(
        status=Mail.Status.SENDING, claimed_until=now + CLAIM, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    mail = Mail.objects.get(pk=mail_id)
    try:
        with get_connection(fail_silently=False) as connection:
            connection.send_messages([build(mail)])
    except DELIVERY_ERRORS as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        out_of_attempts = mail.attempts >= settings.CONFIG.email_max_attempts or _permanent(exc)
        log.warning(
            "mail %s to %s not delivered (attempt %s): %s", mail.pk, mail.recipient, mail.attempts, error
        )
        Mail.objects.filter(pk=mail.pk, status=Mail.Status.SENDING).update(
            status=Mail.Status.FAILED if out_of_attempts else Mail.Status.PENDING,
            last_error=error, claimed_until=None, next_try_at=utcnow() + retry_delay(mail.attempts),
        )  # fmt: skip
    else:
        Mail.objects.filter(pk=mail.pk, status=Mail.Status.SENDING).update(
            status=Mail.Status.SENT, sent_at=utcnow(), claimed_until=None
        )
    mail.refresh_from_db()
    return mail


def release_stale(now: datetime | None = None) -> int:
    """Messages whose sender died mid-delivery are due again (at-least-once, see above)."""
    now = now or utcnow()
    return Mail.objects.filter(status=Mail.Status.SENDING, claimed_until__lt=now).update(
        status=Mail.Status.PENDING, claimed_until=None, next_try_at=now
    )


def due_ids(now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or utcnow()
    due = Mail.objects.filter(status=Mail.Status.PENDING, next_try_at__lte=now).order_by("next_try_at", "pk")
    return list(due.values_list("pk", flat=True)[:limit])
