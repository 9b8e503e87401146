"""Failure notices and maintenance announcements to the data operator and the authorized body.

What the order asks (App.1 §9–11, §56):
- INT-09/INT-10: on loss of power, of the link (also inside the local network between
  the meter and the server) or another technical failure, a notice within 3 hours to
  the addresses the data operator and the authorized body gave, and within one day the
  deadline for the repair. INT-11: other meter failures, at once.
- INT-12/INT-45: planned maintenance announced in advance, at least 3 days before.

What the agent can see and reports: a device that gave no sample for a whole period
(meter, power or local-link failure: "no data"), and repeated delivery failures (link
or gateway: "delivery"). A notice is sent when the failure is detected — at the end of
the first silent period (at most 2 hours after it began, inside INT-10's 3 hours) or at
the N-th consecutive failed attempt — and carries "Failure since", "Detected at" and
"Repair deadline" (detection + ``repair_days``; the operator's own estimate replaces it
by a new notice). One notice per failure: it stays open, and is not repeated, until data
or a delivery comes again; then a "restored" notice closes it.

Channels: e-mail (smtplib), and the System's notice API, which does not exist yet:
``SystemApiChannel`` is the hook — when the System publishes an endpoint for outage
notices (INT-11 interpretation), implement its ``send`` and set ``system_api = true``.
Notices are kept in the outbox first and retried until a channel takes them.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

from egsu.clock import to_astana
from egsu_agent.config import NoticeConfig

log = logging.getLogger("egsu_agent.notices")
ANNOUNCE_AHEAD = timedelta(days=3)  # INT-45


def astana_text(moment: datetime) -> str:
    return to_astana(moment).strftime("%Y-%m-%d %H:%M (Astana, UTC%z)")


@dataclass(frozen=True)
class Notice:
    subject: str
    body: str


def failure_notice(
    config: NoticeConfig, *, what: str, since: datetime, detected: datetime, details: str
) -> Notice:
    """INT-10/11: what failed, since when, and the repair deadline."""
    deadline = detected + timedelta(days=config.repair_days)
    subject = f"[EGSU] {config.company}: {what} since {astana_text(since)}"
    body = "\n".join(
        [
            f"Company: {config.company}",
            f"Failure: {what}",
            f"Failure since: {astana_text(since)}",
            f"Detected at: {astana_text(detected)}",
            f"Repair deadline: {astana_text(deadline)}",
            "",
            details,
            "",
            "Sent automatically by egsu-agent (App.1 §9–10 of the EGSU Rules).",
        ]
    )
    return Notice(subject, body)


def restored_notice(config: NoticeConfig, *, what: str, since: datetime, restored: datetime) -> Notice:
    subject = f"[EGSU] {config.company}: restored — {what}"
    body = "\n".join(
        [
            f"Company: {config.company}",
            f"Restored: {what}",
            f"Failure since: {astana_text(since)}",
            f"Restored at: {astana_text(restored)}",
            "",
            "Periods missed meanwhile are sent on the following days, oldest first (App.1 §12).",
        ]
    )
    return Notice(subject, body)


class MaintenanceTooLate(ValueError):
    """INT-45: technological breaks are announced at least three days before they start."""


def maintenance_notice(
    config: NoticeConfig, *, start: datetime, end: datetime, now: datetime, reason: str
) -> Notice:
    if end <= start:
        raise ValueError("the maintenance must end after it starts")
    if start - now < ANNOUNCE_AHEAD:
        raise MaintenanceTooLate(
            f"maintenance starting {astana_text(start)} must be announced by {astana_text(start - ANNOUNCE_AHEAD)} "
            "(three days ahead, App.1 §56)"
        )
    subject = f"[EGSU] {config.company}: planned maintenance {astana_text(start)} – {astana_text(end)}"
    body = "\n".join(
        [
            f"Company: {config.company}",
            "Planned preventive maintenance of the subject's system (App.1 §11, §56).",
            f"From: {astana_text(start)}",
            f"To: {astana_text(end)}",
            f"Reason: {reason}",
            "",
            "Data of the periods that fall into the window is sent after it, oldest first (App.1 §12).",
        ]
    )
    return Notice(subject, body)


class NoticeChannel(Protocol):
    def send(self, notice: Notice) -> None: ...


class EmailChannel:
    """One e-mail to the data operator's and the authorized body's addresses (INT-10)."""

    def __init__(self, config: NoticeConfig, *, timeout: float = 20) -> None:
        self.config = config
        self.timeout = timeout

    def send(self, notice: Notice) -> None:
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = ", ".join(self.config.data_operator + self.config.authorized_body)
        message["Subject"] = notice.subject
        message.set_content(notice.body)
        with smtplib.SMTP(self.config.smtp_host, self.config.smtp_port, timeout=self.timeout) as smtp:
            if self.config.starttls:
                smtp.starttls()
            if self.config.smtp_user:
                smtp.login(self.config.smtp_user, self.config.smtp_password or "")
            smtp.send_message(message)


class SystemApiChannel:
    """HOOK: the System's API for outage and maintenance notices does not exist yet.

    When it does, post the notice there (signed like a SendMessage) and raise on failure so
    the outbox retries. Until then this channel only logs, and ``system_api`` stays false.
    """

    def send(self, notice: Notice) -> None:
        log.warning("the System offers no notice API yet; notice kept for e-mail only: %s", notice.subject)
