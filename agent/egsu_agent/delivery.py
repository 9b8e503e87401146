"""Building signed SendMessages for a period, posting them with zeep, and the retry rule.

Building (INT-39, SIG-03/04): the records go into ``requestData/data`` as ``<events>``
children with ``xsi:type="cs:Request"``, exactly as the real ISUN clients send them
(shep-notes §4); ``egsu_core.pki.sendmessage.signed_send_message`` signs the business data
when configured and always the Body (WS-Security). A period whose message would pass
INT-07's 15 MB is split into chunks, each its own message with its own messageId.

Posting: the signed bytes are stored first (outbox.py) and posted unchanged through
zeep's transport to the endpoint of the served WSDL, and the reply is read by zeep's
binding (``SyncChannelClient`` of the main package) — so a resend is byte-identical
and the System recognises the messageId.

Retry (INT-13/14/15, our reading of §18 A3, after the catalogue's interpretation):
- positive answer (SCSS001, SCSS002, or the real service's ``Success``): delivered;
- the System processed the message and refused every record (SCBR001): final — the
  same messageId would only get the same answer; the rejections are kept and shown;
- anything else (no connection, timeout, HTTP error, SOAP fault SCE…): failed. The
  message is tried again 30 minutes after the failure, at most 3 attempts per message
  per Astana calendar day; after the third, it waits for 00:00 of the next day.
  Undelivered messages go out oldest period first. When the gateway or System is
  unreachable (no connection, HTTP 5xx without a SOAP answer, SCE909), sending
  pauses for 30 minutes as a whole, so messages that were not tried keep their
  attempts for later rather than burning them against a dead link.

Trusting the answer (App.1 §51–53, INT-42/43): the System signs what it answers. With
``system_cert`` (or ``trust_roots``) configured, an answer counts only when its
WS-Security signature verifies and its signer is that certificate (or chains to those
roots, valid now); otherwise the attempt failed ("ANSWER_NOT_TRUSTED") and is retried —
a forged "delivered" must never make the agent drop a period. SOAP faults are not
checked: a fault changes nothing but the retry time.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from egsu_agent.schedule import next_day_start
from egsu_core.clock import utcnow
from egsu_core.isun.receipt import parse_receipt
from egsu_core.isun.samples import records_element
from egsu_core.pki.keys import SigningIdentity
from egsu_core.pki.sendmessage import signed_send_message
from egsu_core.shep.envelope import parse_fault, parse_response
from egsu_core.shep.errors import FormatError

log = logging.getLogger("egsu_agent.delivery")

POSITIVE = frozenset({"SCSS001", "SCSS002", "Success"})
FINAL_REFUSALS = frozenset({"SCBR001"})
UNAVAILABLE = "UNAVAILABLE"
UNREACHABLE_CODES = frozenset({UNAVAILABLE, "SCE909"})
NOT_TRUSTED = "ANSWER_NOT_TRUSTED"


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to."""

    state: str  # "delivered", "rejected" (final) or "failed"
    code: str
    detail: str
    rejections: tuple[tuple[int, str | None, str | None, str, str], ...] = field(default=())

    @property
    def unreachable(self) -> bool:
        return self.state == "failed" and self.code in UNREACHABLE_CODES


@dataclass(frozen=True)
class BuiltMessage:
    message_id: str
    envelope: bytes
    records: int
    devices: tuple[str, ...]
    """The device keys (object/device) whose records it carries."""


def build_messages(
    items: Sequence[tuple[str, dict[str, str]]],
    *,
    identity: SigningIdentity,
    sender_id: str,
    password: str,
    service_id: str,
    message_date: datetime,
    sign_business_data: bool,
    max_bytes: int,
) -> list[BuiltMessage]:
    """Signed envelopes for a period's (device key, record) items, each under ``max_bytes`` (INT-07)."""

    def sign(chunk: Sequence[tuple[str, dict[str, str]]]) -> BuiltMessage:
        message_id = str(uuid.uuid4())
        envelope = signed_send_message(
            list(records_element([record for _, record in chunk])),
            identity=identity,
            message_id=message_id,
            sender_id=sender_id,
            password=password,
            service_id=service_id,
            message_date=message_date,
            sign_business_data=sign_business_data,
        )
        return BuiltMessage(message_id, envelope, len(chunk), tuple(key for key, _ in chunk))

    def split(chunk: Sequence[tuple[str, dict[str, str]]]) -> list[BuiltMessage]:
        built = sign(chunk)
        if len(built.envelope) <= max_bytes:
            return [built]
        if len(chunk) == 1:
            raise ValueError(
                f"one record alone makes a {len(built.envelope)}-byte message, over {max_bytes} (INT-07)"
            )
        middle = len(chunk) // 2
        return split(chunk[:middle]) + split(chunk[middle:])  # INT-07

    return split(items) if items else []


class AnswerVerifier:
    """Believes an answer only when the System signed it (App.1 §51; see the module docstring)."""

    def __init__(self, system_cert: Path | None = None, trust_roots: Path | None = None) -> None:
        from egsu_core.pki.certs import load_certificate
        from egsu_core.pki.trust import TrustStore

        self.pinned = load_certificate(system_cert.read_bytes()) if system_cert else None
        self.trust = TrustStore.from_paths([trust_roots]) if trust_roots else None
        known = ([self.pinned] if self.pinned else []) + (list(self.trust.all()) if self.trust else [])
        self._known = known

    def _lookup(self, issuer: str, serial: int) -> bytes | None:
        """X509IssuerSerial (the real ShEP's answers, shep-notes §2b) names a certificate we hold."""

        def key(name: str) -> str:
            return ",".join(part.strip().upper() for part in name.split(","))

        for cert in self._known:
            if cert.serial == serial and key(cert.issuer) == key(issuer):
                return cert.der
        return None

    def problem(self, content: bytes) -> str | None:
        """Why the answer is not to be believed, or None when the System's signature verifies."""
        from egsu_core.pki.certs import load_certificate
        from egsu_core.pki.path import CertificatePolicy, validate
        from egsu_core.pki.wsse import verify_transport
        from egsu_core.shep.xmlparse import parse_document

        try:
            verified = verify_transport(parse_document(content), certificate_lookup=self._lookup)
        except Exception as exc:  # noqa: BLE001 - not signed, bad signature, unparsable: all untrusted
            return f"the answer's signature does not verify: {exc}"
        signer = load_certificate(verified.certificate_der)
        if self.pinned is not None and signer.der == self.pinned.der:
            if not signer.valid_at(utcnow()):
                return f"the System's certificate {signer.subject} is not valid now"
            return None
        if self.trust is not None:
            result = validate(
                signer,
                trust=self.trust,
                at=utcnow(),
                policy=CertificatePolicy(check_revocation=False),
            )
            return (
                None
                if result.valid
                else f"the answer's signer {signer.subject} is not trusted: {result.reason}"
            )
        return f"the answer is signed by {signer.subject}, not by the configured System certificate"


class ZeepChannel:
    """Posts stored envelopes with the zeep client of the main package, built lazily from the WSDL."""

    def __init__(
        self,
        wsdl: str,
        *,
        endpoint: str | None = None,
        timeout: float = 60,
        verifier: AnswerVerifier | None = None,
    ) -> None:
        self.wsdl = wsdl
        self.endpoint = endpoint
        self.timeout = timeout
        self.verifier = verifier
        self._client = None

    def _zeep(self):
        if self._client is None:
            from egsu_core.shep.zeep_client import SyncChannelClient

            self._client = SyncChannelClient(self.wsdl, timeout=self.timeout).client
        return self._client

    def post(self, envelope: bytes) -> Outcome:
        import requests
        from zeep.exceptions import Error as ZeepError
        from zeep.exceptions import Fault, TransportError

        try:
            client = self._zeep()
            binding = client.service._binding
            address = self.endpoint or client.service._binding_options["address"]
            reply = client.transport.post(
                address, envelope, {"Content-Type": 'text/xml; charset="utf-8"', "SOAPAction": '""'}
            )
        except (requests.RequestException, OSError, TransportError) as exc:
            self._client = None  # the WSDL may have been the part that failed: fetch it again next time
            return Outcome("failed", UNAVAILABLE, f"{type(exc).__name__}: {exc}"[:500])
        except ZeepError as exc:
            self._client = None
            return Outcome("failed", UNAVAILABLE, f"WSDL not usable: {exc}"[:500])
        try:
            binding.process_reply(client, binding.get("SendMessage"), reply)
        except Fault:
            code, message, _ = _fault(reply.content)
            return Outcome("failed", code or "FAULT", message[:500])
        except (TransportError, ZeepError) as exc:
            return Outcome("failed", UNAVAILABLE, f"HTTP {reply.status_code}: {exc}"[:500])
        return read_answer(reply.content, verifier=self.verifier)


def _fault(content: bytes) -> tuple[str, str, object]:
    try:
        return parse_fault(content)
    except FormatError as exc:
        return "", str(exc), None


def read_answer(content: bytes, *, verifier: AnswerVerifier | None = None) -> Outcome:
    """Classify a SendMessageResponse: delivered, finally refused, or failed (module docstring)."""
    try:
        response = parse_response(content)
    except FormatError as exc:
        return Outcome("failed", UNAVAILABLE, f"unreadable answer: {exc}")
    if verifier is not None:
        problem = verifier.problem(content)
        if problem is not None:
            log.error("answer not trusted: %s", problem, extra={"event": "answer_not_trusted"})
            return Outcome("failed", NOT_TRUSTED, problem[:500])
    rejections: tuple = ()
    if response.data_text:
        try:
            receipt = parse_receipt(response.data_text)
            rejections = tuple(
                (r.position, r.object_id, r.device_id, r.code, r.reason)
                for r in receipt.records
                if r.status == "REJECTED"
            )
        except ValueError:
            log.warning("the answer's data is not a receipt; kept the status only")
    code = response.status_code
    if code in POSITIVE:
        return Outcome("delivered", code, response.status_message, rejections)
    if code in FINAL_REFUSALS:
        return Outcome("rejected", code, response.status_message, rejections)
    return Outcome("failed", code, response.status_message, rejections)


@dataclass(frozen=True)
class RetryRule:
    """INT-13/14: 30 minutes after a failure, at most 3 attempts per message per Astana day."""

    retry_after: timedelta = timedelta(minutes=30)
    attempts_per_day: int = 3

    def next_attempt(self, failed_at: datetime, attempts_today: int) -> datetime:
        """When a message that just failed may be tried again; attempts_today includes this one."""
        if attempts_today < self.attempts_per_day:
            return failed_at + self.retry_after
        return next_day_start(failed_at)  # INT-15: on the following day
