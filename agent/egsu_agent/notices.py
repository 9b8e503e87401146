"""Failure notices and maintenance announcements to the data operator and the authorized body.

What the order asks (App.1 §9–11, §56):
- INT-09/INT-10: on loss of power, of the link (also inside the local network between
  the meter and the server) or another technical failure, a notice within 3 hours to
  the addresses the data operator and the authorized body gave, and within one day the
  deadline for the repair. INT-11: other meter failures, at once.
- INT-12/INT-45: planned maintenance announced in advance, at least 3 days before.

What the agent sees and reports (service.py decides when):
- "no data": a device tag whose last sample is older than ``no_data_after_minutes``
  (at most 170): the notice goes out at that moment, so within 3 hours of the last
  sample (INT-10), and "Failure since" is that sample's time;
- "device fault": a sample flagged faulty (an OPC UA Bad status, a fault column in an
  export) or a non-zero status tag: the notice goes out in the tick that reads it
  (INT-11, at once), naming the status;
- "delivery": ``failures_before_notice`` consecutive failed sends (link or gateway).
Each carries "Failure since", "Detected at" and "Repair deadline" (detection +
``repair_days``). One notice per failure: it stays open until data, a good status or a
delivery comes back; then a "restored" notice closes it.

Channels: a notice is kept in the outbox first, then offered to every channel; each
channel's acknowledgement (the SMTP server's answer and the Message-ID) is stored per
channel, and a channel that failed is retried on the next tick without repeating the
others. Channels: e-mail, and with ``system_api = true`` the System's notices API
(``SystemNoticesApiChannel``), which files each notice as a record the System honours.
"""

from __future__ import annotations

import base64
import json
import logging
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid
from typing import Protocol
from urllib.parse import urlsplit

from egsu_agent.config import NoticeConfig
from egsu_core.clock import to_astana

log = logging.getLogger("egsu_agent.notices")
ANNOUNCE_AHEAD = timedelta(days=3)  # INT-45


def astana_text(moment: datetime) -> str:
    return to_astana(moment).strftime("%Y-%m-%d %H:%M (Astana, UTC%z)")


@dataclass(frozen=True)
class Notice:
    subject: str
    body: str
    fields: dict = field(default_factory=dict)
    """The same facts as data (kind, object, device, since, detected, deadline, what, details),
    for a channel that files notices as records rather than text (the System's API)."""


def failure_notice(
    config: NoticeConfig,
    *,
    what: str,
    since: datetime,
    detected: datetime,
    details: str,
    kind: str = "failure",
    object_id: str | None = None,
    device: str | None = None,
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
    fields = {
        "kind": kind,
        "company": config.company,
        "object_id": object_id,
        "device": device,
        "what": what,
        "since": since.isoformat(),
        "detected": detected.isoformat(),
        "repair_deadline": deadline.isoformat(),
        "details": details,
    }
    return Notice(subject, body, fields)


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
    fields = {"kind": "restored", "what": what, "since": since.isoformat(), "restored": restored.isoformat()}
    return Notice(subject, body, fields)


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
    fields = {"kind": "maintenance", "from": start.isoformat(), "to": end.isoformat(), "reason": reason}
    return Notice(subject, body, fields)


class NoticeChannel(Protocol):
    """Where notices go. ``send`` returns the channel's acknowledgement (kept in the outbox) or raises."""

    name: str

    def send(self, notice: Notice) -> str: ...


class EmailChannel:
    """One e-mail to the data operator's and the authorized body's addresses (INT-10)."""

    name = "email"

    def __init__(self, config: NoticeConfig, *, timeout: float = 20) -> None:
        self.config = config
        self.timeout = timeout

    def send(self, notice: Notice) -> str:
        message = EmailMessage()
        message["From"] = self.config.sender
        recipients = list(self.config.data_operator) + list(self.config.authorized_body)
        message["To"] = ", ".join(recipients)
        message["Subject"] = notice.subject
        message["Message-ID"] = make_msgid(domain=self.config.sender.rsplit("@", 1)[-1])
        message.set_content(notice.body)
        with smtplib.SMTP(self.config.smtp_host, self.config.smtp_port, timeout=self.timeout) as smtp:
            if self.config.starttls:
                smtp.starttls()
            if self.config.smtp_user:
                smtp.login(self.config.smtp_user, self.config.smtp_password or "")
            smtp.ehlo_or_helo_if_needed()
            code, answer = smtp.mail(self.config.sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, answer, self.config.sender)
            refused = {}
            for recipient in recipients:
                code, answer = smtp.rcpt(recipient)
                if code not in (250, 251):
                    refused[recipient] = (code, answer)
            if refused:
                smtp.rset()
                raise smtplib.SMTPRecipientsRefused(refused)
            code, answer = smtp.data(message.as_bytes(policy=SMTP))
            if code != 250:
                raise smtplib.SMTPDataError(code, answer)
        return f"{message['Message-ID']} {code} {answer.decode(errors='replace')}"


class SystemNoticesApiChannel:
    """The System's notices API (``POST /api/v1/notices``), authenticated with the connected system's
    senderId and password (HTTP Basic, the SendMessage credentials).

    maintenance → a "maintenance" notice for its window; failure → an "outage" (or "device_failure"
    when a device is named) from its start to the repair deadline; restored → the open failure
    notices end at the restore time (``POST /api/v1/notices/end``). The System then raises no
    missing-data alarm for the announced period; the data stays owed. Returns the System's notice
    numbers; raises on any failure, so the outbox retries this channel alone.
    """

    name = "system-api"

    def __init__(self, system, *, timeout: float = 20) -> None:
        base = system.endpoint or system.wsdl
        parts = urlsplit(base)
        if parts.scheme not in ("https", "http"):
            raise ValueError(f"the System's address must be http(s), not {parts.scheme!r}")
        self.base = f"{parts.scheme}://{parts.netloc}/api/v1"
        token = base64.b64encode(f"{system.sender_id}:{system.password or ''}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
        self.timeout = timeout

    def send(self, notice: Notice) -> str:
        fields = notice.fields
        kind = fields.get("kind")
        if kind == "maintenance":
            body = {"kind": "maintenance", "starts_at": fields["from"], "ends_at": fields["to"],
                    "text": fields.get("reason", "")}  # fmt: skip
            return f"notice {self._post('/notices', body)['id']}"
        if kind == "restored":
            answer = self._post("/notices/end", {"at": fields["restored"]})
            return "ended " + (", ".join(str(n) for n in answer["ended"]) or "none open")
        if kind in ("failure", None) and "since" in fields:
            device = fields.get("device")
            points = [f"{fields['object_id']}/{device}"] if fields.get("object_id") and device else []
            body = {"kind": "device_failure" if points else "outage", "starts_at": fields["since"],
                    "ends_at": fields["repair_deadline"], "metering_points": points,
                    "text": f"{fields.get('what', '')}\n{fields.get('details', '')}".strip()}  # fmt: skip
            return f"notice {self._post('/notices', body)['id']}"
        raise ValueError(f"a notice of kind {kind!r} has no form in the System's notices API")

    def _post(self, path: str, body: dict) -> dict:
        request = urllib.request.Request(
            self.base + path, data=json.dumps(body).encode(), headers=self.headers, method="POST"
        )
        try:
            # the System's configured http(s) address, checked in __init__
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310  # nosec B310
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            raise RuntimeError(
                f"the System refused the notice: {error.code} {error.read()[:300]!r}"
            ) from error
