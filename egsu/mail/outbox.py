"""`send`: the one call that mails someone (docs/jobs.md). The message is rendered now, in the
recipient's language, stored in the outbox, and delivered by the worker after the commit.
`retry`: the operator sends a failed message again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import make_msgid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation

from egsu.access import audit as trail
from egsu.access.audit import Event
from egsu.mail.models import Mail, MailAttachment
from egsu.mail.tasks import deliver_mail
from egsu_core.clock import utcnow

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # all attachments of one message together


@dataclass(frozen=True)
class Attachment:
    file_name: str
    content: bytes
    content_type: str = "application/octet-stream"


class MailError(ValueError):
    """A message that cannot be queued as asked (bad address, oversized attachments)."""


def send(
    to, subject, body: str = "", *, template: str | None = None, context: dict | None = None,
    language: str | None = None, dedupe_key: str = "", attachments: Iterable[Attachment] = (),
) -> Mail:  # fmt: skip
    """Queue one message to one recipient (an address, or a user: their e-mail and language).

    `subject` may be a lazy translation with %(name)s placeholders filled from `context`; the body
    is `body`, or `template` rendered with `context`, both in the recipient's language. With a
    `dedupe_key`, the same key is mailed to the same recipient at most once, ever: a repeated call
    returns the first message. Delivery runs after the surrounding transaction commits.
    """
    address, language = _recipient(to, language)
    attachments = list(attachments)
    if sum(len(a.content) for a in attachments) > MAX_ATTACHMENT_BYTES:
        raise MailError(f"attachments over {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB: send a link instead")
    if len(dedupe_key) > 200:
        raise MailError("the dedupe key is longer than 200 characters")
    with translation.override(language):
        title = str(subject) % context if context and "%(" in str(subject) else str(subject)
        text = render_to_string(template, context or {}) if template else str(body)
    title = " ".join(title.split())[:300]  # one line: no header injection through a subject
    if dedupe_key and (found := Mail.objects.filter(recipient=address, dedupe_key=dedupe_key).first()):
        return found
    sender = settings.DEFAULT_FROM_EMAIL
    now = utcnow()
    try:
        with transaction.atomic():
            mail = Mail.objects.create(
                recipient=address, subject=title, language=language, body=text, sender=sender,
                dedupe_key=dedupe_key, message_id=make_msgid("egsu", domain=sender.rpartition("@")[2] or None),
                next_try_at=now, created_at=now,
            )  # fmt: skip
            MailAttachment.objects.bulk_create(
                [
                    MailAttachment(
                        mail=mail, file_name=a.file_name, content_type=a.content_type, content=a.content
                    )
                    for a in attachments
                ]  # fmt: skip
            )
    except IntegrityError:  # the same key, queued at the same moment by someone else
        return Mail.objects.get(recipient=address, dedupe_key=dedupe_key)
    transaction.on_commit(lambda: deliver_mail.enqueue(mail.pk))
    return mail


def _recipient(to, language: str | None) -> tuple[str, str]:
    if isinstance(to, str):
        address = to.strip()
    else:  # a user account
        address = (to.email or "").strip()
        profile = getattr(to, "profile", None)
        language = language or (profile.language if profile is not None else None)
    try:
        validate_email(address)
    except ValidationError as exc:
        raise MailError(f"not an e-mail address: {address!r}") from exc
    known = {code for code, _name in settings.LANGUAGES}
    language = language if language in known else settings.LANGUAGE_CODE
    return address, language


class NotRetriable(ValueError):
    """Only a failed message can be sent again by hand."""


def retry(mail: Mail, *, actor=None, request=None, source: str = "") -> Mail:
    """Queue a failed message for a new round of attempts (audited)."""
    updated = Mail.objects.filter(pk=mail.pk, status=Mail.Status.FAILED).update(
        status=Mail.Status.PENDING, attempts=0, next_try_at=utcnow()
    )
    if not updated:
        raise NotRetriable(f"message {mail.pk} is {mail.status}, not failed")
    trail.audit(Event.MAIL_RETRIED, actor=actor, obj=mail, request=request, source=source,
                summary=f"to {mail.recipient}: sent again after: {mail.last_error[:150]}")  # fmt: skip
    transaction.on_commit(lambda: deliver_mail.enqueue(mail.pk))
    mail.refresh_from_db()
    return mail
