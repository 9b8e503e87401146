"""The gateway intake: one SendMessage in, one answer out (App.1 §47–55, INT-32, INT-42).

The steps, in order, each with its own gateway code:

1. size (INT-07) and a hardened parse: SCE001;
2. envelope structure (App.4, ENV-02): SCE001;
3. transport signature, offline half (SCE005–SCE007): the XML signature, the certificate chain
   built and every signature on it verified up to a configured trust root, validity, key usage,
   policy — before the payload is read, and without a single network request;
4. the sender's login and password (SCE002), the service (SCE004), the sender's right to it (SCE003);
5. transport signature, online half: revocation (OCSP, CRL) of the proven chain, under the
   message's time budget; then the business-data signature (SCE005–SCE007);
6. the message journal entry, durable before anything else happens (INT-36, INT-51); a re-sent
   messageId gets the answer already given, byte for byte;
7. the payload: each record checked against the registry and stored, or rejected with its
   position and reason (egsu_core.isun.rules has the mixed-message policy);
8. the answer, journalled durably, then sent.

Why this order (docs/decisions/0008-gateway-security-order.md): App.1 §51 has the System check
"message integrity and the validity of the subject system's EDS" and then "authorise the
initiator", so every signature verdict that can be reached offline comes first, in that order.
Revocation is the one part of EDS validity that sends requests, and the house rule is no outbound
request on behalf of an unauthenticated sender: so it waits for step 4. The one visible effect:
a revoked certificate with a wrong password is answered SCE002, not SCE005. Per-sender limits
(egsu.intake.limits) lock a senderId after repeated wrong passwords and put the password first
for a sender whose signatures keep failing.

Messages that fail before step 5 are journalled too, but never deduplicated: a sender who fixes a
wrong password may resend the same messageId and have it processed.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from egsu.access.audit import Event, audit
from egsu.alarms import sources as alarm_sources
from egsu.intake import limits
from egsu.journal import services as journal
from egsu.monitoring import ledger as arrivals
from egsu.ops import memory, metrics
from egsu.ops.timekeeping import system_time
from egsu.readings.services import get_store
from egsu.readings.store import Quality, ReadingColumns, WriteOutcome, write_columns
from egsu.registry import services as registry
from egsu.registry.snapshot import DjangoRegistryView
from egsu.signatures import receipts as signature_receipts
from egsu.signatures import services as signatures
from egsu_core.clock import utcnow
from egsu_core.isun import receipt as isun_receipt
from egsu_core.isun.records import RawRecord, record_chunks
from egsu_core.isun.rules import check_records
from egsu_core.isun.units import UNITS
from egsu_core.isun.verdicts import RecordStatus, Verdict
from egsu_core.shep import errors
from egsu_core.shep.envelope import SyncRequest, SyncResponse, build_fault, build_response, parse_request
from egsu_core.shep.xmlparse import parse_document

log = logging.getLogger("egsu.intake")

ADDRESSEE = "EGSU"
WSSE_SECURITY = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}Security"
UNDERSTOOD_HEADERS = frozenset({WSSE_SECURITY})
SIGNATURE_CODES = frozenset({"SCE005", "SCE006", "SCE007"})


@dataclass(frozen=True)
class Answer:
    http_status: int
    body: bytes
    signature_verdict: str = ""  # how the answer was signed, for the journal


# What we send when even an SCE909 fault cannot be signed: no SOAP answer at all (never an unsigned
# one), HTTP 503 so that the sender retries later (INT-13).
UNSIGNABLE = Answer(503, b"", "not signed: the System's signing key failed; no SOAP answer was sent")


class AnswerNotSigned(Exception):
    """The System's signing key failed: the answer must not go out (App.1 §51)."""

    def __init__(self, message: str, *, contour: str | None, summary: str, recorded: bool) -> None:
        super().__init__(message)
        self.contour, self.summary, self.recorded = contour, summary, recorded


@dataclass
class _Trace:
    """What is known about a message as it goes through the checks: its contour and signature verdicts."""

    contour: str | None = None
    verdicts: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return " | ".join(self.verdicts)


def _signed(body: bytes, contour: str | None) -> tuple[bytes, str]:
    """App.1 §51: the System signs what it sends, with its contour's key; an unsigned answer never leaves.

    A failure is logged at ERROR and raised: the caller records it in the audit log (the operator's
    alarm) and answers SCE909 instead.
    """
    try:
        return signatures.sign_answer(body, contour), signatures.answer_verdict(contour)
    except Exception as exc:
        log.error("ALARM: the System could not sign an answer (%s contour): %s", contour or "default", exc)
        # recorded by the caller (`_record_not_signed`) once the message's transaction is over: inside
        # it, the record would roll back with it
        raise AnswerNotSigned(
            str(exc),
            contour=contour,
            summary=f"the System could not sign an answer: {type(exc).__name__}: {exc}"[:300],
            recorded=False,
        ) from exc


def _record_not_signed(failure: AnswerNotSigned) -> None:
    """The signing failure in the audit log (the operator's alarm); best effort, once."""
    if failure.recorded:
        return
    failure.recorded = True
    try:
        audit(
            Event.ANSWER_NOT_SIGNED,
            object_type="signatures.system_identity",
            object_id=failure.contour or "default",
            summary=failure.summary,
            source="intake",
        )
    except Exception:  # noqa: BLE001 - the alarm is best effort; the refusal to send unsigned is not
        log.exception("could not record the signing failure in the audit log")


def _fault(
    error: errors.GatewayError, *, session_id: str | None, now: datetime, contour: str | None
) -> Answer:
    """A signed fault (WS-I BP 1.1 R1126: HTTP 500), or UNSIGNABLE when it cannot be signed."""
    try:
        body, verdict = _signed(build_fault(error, session_id=session_id, when=now), contour)
    except AnswerNotSigned as not_signed:
        _record_not_signed(not_signed)
        return UNSIGNABLE
    return Answer(500, body, verdict)


def _unparsed_id(raw: bytes) -> str:
    return "unparsed:" + hashlib.sha256(raw).hexdigest()[:40]


class Body:
    """A request body handed over to ``receive``, which lets go of it once the message is journalled.

    Processing reads the parsed tree only, so a 15 MB message's bytes (INT-07) are not kept beside
    its tree and its records; the view passes its body this way and keeps no reference of its own.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes | None) -> None:
        self.data = data


@metrics.observe_isun  # latency and the answer's code of every message (DIG-22)
def receive(
    raw: bytes | Body | None, *, remote_addr: str = "", now: datetime | None = None, oversized: bool = False
) -> Answer:
    """Handle one SendMessage request body and return the answer to send.

    `now` is the receipt time, on the System's clock (egsu.ops.timekeeping): every check that depends
    on time takes it, never the sender's messageDate and never a web server's own clock.
    """
    now = now or system_time(utcnow())
    body = raw if isinstance(raw, Body) else Body(raw)
    del raw
    if body.data is None or len(body.data) < LARGE_MESSAGE_BYTES:
        return _receive(body, now=now, remote_addr=remote_addr, oversized=oversized)
    # A large message's tree is many times its size (INT-07): what earlier messages freed, in any
    # thread's heap, goes back to the system before it is parsed, and what it freed after it.
    memory.give_back_freed()
    try:
        return _receive(body, now=now, remote_addr=remote_addr, oversized=oversized)
    finally:
        memory.give_back_freed()


def _receive(body: Body, *, now: datetime, remote_addr: str, oversized: bool) -> Answer:
    trace = _Trace()
    # The OCSP receipts of this message's checks are written with its journal entry (one commit).
    with signature_receipts.holding() as held:
        answer = _check(body.data, now=now, remote_addr=remote_addr, trace=trace, oversized=oversized)
    if isinstance(answer, Answer):
        _write_alone(held)
        return answer
    request, system, business = answer
    return _journal_and_process(
        body, request, system, business, held=held, now=now, remote_addr=remote_addr, trace=trace
    )


def _write_alone(held: signature_receipts.HeldReceipts) -> None:
    """Receipts of a refused message: kept as before, in a transaction of their own (best effort)."""
    if not held.items:
        return
    try:
        with transaction.atomic(durable=True):
            held.write()
    except Exception:  # noqa: BLE001 - the refusal still goes out
        log.exception("could not keep the OCSP receipts of a refused message")


def _check(raw: bytes, *, now: datetime, remote_addr: str, trace: _Trace, oversized: bool):
    """Steps 1–5: (request, system, business check), or the refusal's Answer."""
    request: SyncRequest | None = None
    try:
        if oversized:
            raise errors.FormatError(
                f"message is larger than {settings.CONFIG.max_message_bytes} bytes (INT-07)"
            )
        root = parse_document(raw, max_bytes=settings.CONFIG.max_message_bytes)
        request = parse_request(root)
        _check_headers(request)
        _check_message_date(request, now)
        document_id = "sha256:" + hashlib.sha256(raw).hexdigest()
        deadline = signatures.message_deadline()
        sender = limits.state(request.sender_id)
        if sender.password_locked_until is not None and not registry.password_known(
            request.sender_id, request.password
        ):
            raise errors.AuthenticationError(
                "too many failed attempts for this senderId; try again after "
                f"{sender.password_locked_until:%Y-%m-%dT%H:%M:%SZ}"
            )
        system = _authorise(request) if sender.password_first else None
        # Integrity and EDS validity, offline (App.1 §51), before the payload is read.
        claimed = system or registry.system_for_sender(request.sender_id, request.service_id)
        trace.contour = claimed.contour if claimed is not None else None
        transport = signatures.verify_transport(request, claimed, at=now)
        if transport.pending:
            trace.verdicts.append(signatures.offline_verdict(transport))
        # Then the initiator; only an authenticated sender makes us ask anyone anything.
        system = system or _authorise(request, claimed)
        trace.contour = system.contour
        signatures.bind_to_subject(transport, system, "transport signature")
        transport = signatures.complete(transport, system, document_id=document_id, deadline=deadline)
        trace.verdicts[:] = [transport.verdict]
        business = signatures.check_business(
            request, system, at=now, document_id=document_id, deadline=deadline
        )
        trace.verdicts.append(business.verdict)
        metrics.count_signature("valid")
        limits.succeeded(request.sender_id, sender)
    except errors.GatewayError as exc:
        _count_failure(exc, request)
        if exc.code in SIGNATURE_CODES:
            metrics.count_signature(exc.code)
            trace.verdicts.append(exc.message)
        elif trace.verdicts:
            trace.verdicts.append(f"not continued: {exc.code}")
        return _refuse(exc, raw=raw, request=request, remote_addr=remote_addr, now=now, trace=trace)
    except Exception:  # noqa: BLE001 - anything unexpected is our fault, never the sender's
        log.exception("intake failed before the journal entry")
        return _fault(
            errors.InternalError("please retry later"), session_id=None, now=now, contour=trace.contour
        )
    return request, system, business


def _journal_and_process(
    body: Body,
    request: SyncRequest,
    system,
    business,
    *,
    held: signature_receipts.HeldReceipts,
    now: datetime,
    remote_addr: str,
    trace: _Trace,
) -> Answer:
    """Steps 6–8: the journal entry (with the message's OCSP receipts), then the payload and the answer."""
    try:
        entry, created = journal.record_incoming(
            message_id=request.message_id,
            sender_id=request.sender_id,
            service_id=request.service_id,
            raw=body.data,
            remote_addr=remote_addr,
            correlation_id=request.correlation_id,
            addressee=ADDRESSEE,
            signature_verdict=trace.verdict,
            also=held.write,
        )
    except Exception:  # noqa: BLE001 - no journal entry, no acknowledgement (nothing is lost)
        log.exception("could not journal message %s of %s", request.message_id, request.sender_id)
        return _fault(
            errors.InternalError("please retry later"),
            session_id=request.session_id,
            now=now,
            contour=trace.contour,
        )

    try:
        if not created:
            return _repeat(
                entry,
                system,
                business,
                raw=body.data,
                request=request,
                remote_addr=remote_addr,
                now=now,
                trace=trace,
            )
        body.data = None  # journalled (compressed); from here on only the parsed tree is read
        return _process(entry, request, system, business, now=now)
    except errors.GatewayError as exc:
        return _answer_fault(entry, request, exc, now=now, contour=system.contour)
    except AnswerNotSigned as not_signed:
        _record_not_signed(not_signed)  # after the message's transaction rolled back
        failure = errors.InternalError("the answer could not be signed; please retry later")
        return _answer_fault(entry, request, failure, now=now, contour=system.contour)
    except Exception:  # noqa: BLE001 - our failure: the sender may resend the same message (INT-13)
        log.exception(
            "intake failed while processing message %s of %s", request.message_id, request.sender_id
        )
        failure = errors.InternalError("please retry later")
        return _answer_fault(entry, request, failure, now=now, contour=system.contour)


def _count_failure(exc: errors.GatewayError, request: SyncRequest | None) -> None:
    """Feed the per-sender limits; a limit that cannot be counted never changes the answer."""
    if request is None or not request.sender_id:
        return
    try:
        if exc.code == errors.AuthenticationError.code:
            limits.password_failed(request.sender_id)
        elif exc.code in SIGNATURE_CODES:
            limits.signature_failed(request.sender_id)
    except Exception:  # noqa: BLE001
        log.exception("could not count a failed attempt of %s", request.sender_id)


def _answer_fault(
    entry, request: SyncRequest, exc: errors.GatewayError, *, now: datetime, contour: str | None
) -> Answer:
    """Fault an already journalled message, journalling the fault as a sending too (INT-51)."""
    answer = _fault(exc, session_id=request.session_id, now=now, contour=contour)
    try:
        journal.record_answer(
            entry,
            message_id=str(uuid.uuid4()),
            raw=answer.body,
            status_code=exc.code,
            status_message=exc.message[:250],
            signature_verdict=answer.signature_verdict,
        )
    except Exception:  # noqa: BLE001 - the fault still goes out
        log.exception("could not journal the fault for %s", request.message_id)
    return answer


def _check_headers(request: SyncRequest) -> None:
    """SOAP 1.1 §4.2.3: a header we must understand but do not is a fault."""
    for qname in request.must_understand:
        if qname not in UNDERSTOOD_HEADERS:
            raise errors.FormatError(f"header {qname} is marked mustUnderstand and is not supported")


def _check_message_date(request: SyncRequest, now: datetime) -> None:
    skew = timedelta(seconds=settings.CONFIG.message_date_future_skew_s)
    if request.message_date > now + skew:
        raise errors.FormatError(
            f"requestInfo/messageDate {request.message_date.isoformat()} is in the future (clock skew over {skew})"
        )


def _authorise(request: SyncRequest, claimed=None):
    system = registry.authenticate_sender(
        request.sender_id, request.password, claimed=claimed, service_id=request.service_id
    )
    if system is None:
        raise errors.AuthenticationError()
    # A granted active service exists: the second question is asked only to tell SCE004 from SCE003.
    if registry.system_may_call(system, request.service_id):
        return system
    if not registry.service_exists(request.service_id):
        raise errors.NoServiceError(f"serviceId {request.service_id!r}")
    raise errors.NoRightError(f"{request.sender_id!r} may not call {request.service_id!r}")


def _refuse(
    exc: errors.GatewayError,
    *,
    raw: bytes,
    request: SyncRequest | None,
    remote_addr: str,
    now: datetime,
    trace: _Trace,
) -> Answer:
    """Journal a refused message (without its content when it never parsed) and answer with a fault.

    The journal keeps the signature verdict reached so far (INT-36): a refused but validly signed
    request says what was verified before it was refused.
    """
    session_id = request.session_id if request else None
    answer = _fault(exc, session_id=session_id, now=now, contour=trace.contour)
    try:
        entry = journal.record_refused(
            message_id=request.message_id if request else _unparsed_id(raw),
            sender_id=request.sender_id if request else "",
            service_id=request.service_id if request else "",
            raw=raw if request else b"",
            sha256=hashlib.sha256(raw).hexdigest(),
            size=len(raw),
            remote_addr=remote_addr,
            status_code=exc.code,
            status_message=exc.message[:250],
            signature_verdict=trace.verdict[:1000],
        )
        journal.record_outgoing(
            request=entry,
            message_id=str(uuid.uuid4()),
            addressee=request.sender_id if request else remote_addr,
            raw=answer.body,
            status_code=exc.code,
            status_message=exc.message[:250],
            service_id=request.service_id if request else "",
            signature_verdict=answer.signature_verdict,
        )
    except Exception:  # noqa: BLE001 - a refusal must still be answered
        log.exception("could not journal a refused message (%s)", exc.code)
    return answer


def _repeat(
    entry,
    system,
    business,
    *,
    raw: bytes,
    request: SyncRequest,
    remote_addr: str,
    now: datetime,
    trace: _Trace,
) -> Answer:
    """A messageId this sender already used: same message → same answer; different content → refused."""
    if entry.sha256 != hashlib.sha256(raw).hexdigest():
        return _refuse(
            errors.FormatError(f"messageId {request.message_id!r} was already used for a different message"),
            raw=raw,
            request=request,
            remote_addr=remote_addr,
            now=now,
            trace=trace,
        )
    previous = journal.answer_for(entry)
    if previous is not None:
        repeat = journal.record_repeat(entry, remote_addr=remote_addr)
        body = journal.raw_bytes(previous)
        # INT-51: the answer sent again is a sending too.
        journal.record_outgoing(
            request=repeat,
            message_id=previous.message_id,
            addressee=request.sender_id,
            raw=body,
            status_code=previous.status_code,
            status_message=previous.status_message,
            service_id=request.service_id,
            signature_verdict=previous.signature_verdict,
        )
        return Answer(
            500 if previous.status_code.startswith("SCE") else 200, body, previous.signature_verdict
        )
    # The first attempt never finished (crash, internal error): process again; the store is idempotent.
    return _process(entry, request, system, business, now=now)


# Records judged and stored per chunk: a small message is one chunk, judged before the write
# transaction opens; a 15 MB message (INT-07, about 38,000 records) never holds all of its records'
# Python objects at once, and its parsed tree shrinks as its records are read (item: ≤ 300 MB).
RECORD_CHUNK = 1000
LARGE_MESSAGE_BYTES = 1024 * 1024
"""From this size on, a message's freed memory is given back to the system (egsu.ops.memory)."""


def _process(entry, request: SyncRequest, system, business, *, now: datetime) -> Answer:
    # Trust only what was verified: a signed payload is read from the element the verifier returned.
    payload = business.element if business.element is not None else request.data
    if payload is None:
        raise errors.FormatError("requestData/data is missing")
    chunks = record_chunks(payload, RECORD_CHUNK, release=True)  # FormatError when data holds no records
    first_records = next(chunks)
    if len(first_records) == RECORD_CHUNK:  # a large message: its tree shrinks chunk by chunk
        memory.give_back_freed()
    first = _judge(first_records, system, now=now)  # outside the write transaction
    del first_records
    verdicts: list[Verdict] = []
    # The values, the alarms, the arrivals ledger and the journalled answer commit together, in one
    # durable transaction before the answer is sent (INT-36, INT-51): one commit per message instead
    # of four, which on SQLite is one turn at the single writer lock instead of four. Any failure
    # rolls all of it back, and the sender's retry processes the message again (INT-13).
    with transaction.atomic(durable=True):
        _keep(first, entry, system, verdicts, now=now)
        del first
        for raw_records in chunks:
            memory.give_back_freed()  # the records released from the tree so far, and the last chunk's objects
            _keep(_judge(raw_records, system, now=now), entry, system, verdicts, now=now)

        code, message = isun_receipt.message_status(verdicts)
        response = SyncResponse(
            message_id=str(uuid.uuid4()),
            correlation_id=request.message_id,
            response_date=now,
            status_code=code,
            status_message=message,
            session_id=request.session_id,
            data_text=isun_receipt.build_receipt(
                request_number=str(entry.pk) + "-" + request.message_id[:60], verdicts=verdicts
            ),
        )
        answer_id = response.message_id
        body, verdict = _signed(build_response(response), system.contour)
        del response  # the receipt text: a 15 MB message's is megabytes
        rejected = sum(1 for v in verdicts if v.status is RecordStatus.REJECTED)
        journal.record_answer(
            entry,
            message_id=answer_id,
            raw=body,
            status_code=code,
            status_message=message[:250],
            records_total=len(verdicts),
            records_accepted=len(verdicts) - rejected,
            records_rejected=rejected,
            signature_verdict=verdict,
            within_durable=True,
        )
    return Answer(200, body, verdict)


def _judge(
    raw_records: list[RawRecord], system, *, now: datetime
) -> tuple[list[RawRecord], list[Verdict], DjangoRegistryView]:
    """(raw records, verdicts, the registry view that judged them)."""
    view = DjangoRegistryView()
    view.prefetch({r.fields.get("ID") or r.fields.get("id") or "" for r in raw_records})
    return raw_records, check_records(raw_records, view, sender_bin=system.subject.bin, now=now), view


def _keep(judged, entry, system, verdicts: list[Verdict], *, now: datetime) -> None:
    """Store one chunk's values, raise its alarms, put it in the arrivals ledger; keep its verdicts."""
    raw_records, chunk, view = judged
    _store(chunk, source=f"journal:{entry.pk}")
    alarm_sources.device_statuses(chunk)  # INT-11: deviceStatus = no is an alarm at once
    # On time or late by the first receipt the journal holds (INT-51): a message the System could not
    # process then (SCE909: a store down) and processed on the sender's resend (INT-13) is not made late
    # by the System's own outage.
    received = min(now, entry.occurred_at)
    # The ledger places the records with the registry reading the rules judged them by.
    known = arrivals.Known(sender=system.subject_id, owners=view.owners())
    arrivals.record_verdicts(chunk, raw_records, entry.pk, system.subject.bin, now=received, known=known)
    metrics.count_isun_values(chunk)
    for verdict in chunk:
        verdict.record = None  # stored: the receipt needs only the verdict itself
    verdicts.extend(chunk)


def _quality(device_ok: bool | None) -> str:
    if device_ok is None:
        return Quality.DEVICE_UNKNOWN.value
    return Quality.GOOD.value if device_ok else Quality.DEVICE_FAULT.value


def _store(verdicts: list[Verdict], *, source: str) -> None:
    """Write every accepted record's values in one call; fold row outcomes back into record verdicts."""
    columns = ReadingColumns(source=source)  # the store's bulk form: no row object per value
    spans: list[tuple[Verdict, int, int]] = []
    for verdict in verdicts:
        rec = verdict.record
        if verdict.status is RecordStatus.REJECTED or rec is None:
            continue
        start, count = len(columns), len(rec.values)
        # a record's, the same for each of its values
        columns.object_id += [rec.object_id] * count
        columns.device_id += [rec.device_id] * count
        columns.interval += [rec.interval.value] * count
        columns.period_start += [rec.period_start] * count
        columns.quality += [_quality(rec.device_ok)] * count
        columns.commercial += [rec.commercial] * count
        columns.quantity += rec.values
        columns.value += rec.values.values()
        columns.unit += [UNITS[quantity] for quantity in rec.values]
        spans.append((verdict, start, len(columns)))
    if not len(columns):
        return
    outcomes = write_columns(get_store(), columns)
    faults = {}
    for verdict, _start, _end in spans:
        rec = verdict.record
        if rec.device_ok is False:  # deviceStatus = no: the replacement clock starts (DIG-45)
            key = (rec.object_id, rec.device_id)
            faults[key] = min(faults.get(key, rec.period_start), rec.period_start)
    if faults:
        from egsu.schemes.registers import failures_from_device_status

        failures_from_device_status(faults)
    for verdict, start, end in spans:
        mine = outcomes[start:end]
        if all(o is WriteOutcome.DUPLICATE for o in mine):
            verdict.status = RecordStatus.DUPLICATE
        elif any(o is WriteOutcome.REVISED for o in mine):
            verdict.status = RecordStatus.REVISED
        else:
            verdict.status = RecordStatus.ACCEPTED
