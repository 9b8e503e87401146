"""The embedded default's mail "server": each message written to the log (design.md: e-mail to the console)."""

from __future__ import annotations

import logging

from django.core.mail.backends.base import BaseEmailBackend

log = logging.getLogger("egsu.mail.console")


class LogBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            names = ", ".join(name for name, _content, _type in message.attachments if isinstance(name, str))
            log.info(
                "e-mail (not sent: no EGSU_EMAIL_URL) to %s from %s\nSubject: %s\n%s%s",
                ", ".join(message.recipients()), message.from_email, message.subject, message.body,
                f"\n[attachments: {names}]" if names else "",
            )  # fmt: skip
        return len(email_messages)
