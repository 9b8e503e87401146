"""Housekeeping of the outbox: old rows pruned (audited)."""

from __future__ import annotations

from datetime import datetime, timedelta

from egsu.access import audit as trail
from egsu.access.audit import Event
from egsu.mail.models import Mail
from egsu_core.clock import utcnow

# Rows are kept well past a year: a dedupe key is only honoured while its row exists.
KEEP = timedelta(days=400)


def prune(*, now: datetime | None = None, source: str = "") -> int:
    now = now or utcnow()
    old = Mail.objects.filter(status__in=[Mail.Status.SENT, Mail.Status.FAILED], created_at__lt=now - KEEP)
    count = old.count()
    if count:
        old.delete()
        trail.audit(Event.MAIL_PRUNED, object_type="mail.mail", source=source, after={"deleted": count},
                    summary=f"{count} e-mails older than {KEEP.days} days deleted")  # fmt: skip
    return count
