"""Writing, reading and purging the message journal (INT-36, INT-51).

A message is journalled durably before it is answered: `record_incoming` and
`record_outgoing` commit in their own transaction and refuse to run inside an outer one,
so an acknowledgement can never go out for a message that a later rollback would erase.
Any failure to write raises `JournalWriteError`; the caller answers with an internal error
(SCE909), never with an acknowledgement.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q, QuerySet

from egsu.journal.models import Direction, EntryKind, JournalEntry
from egsu_core.clock import utcnow

# INT-36: three years from the moment a message was sent. Three calendar years span 1,096
# days when they hold a 29 February, so a shorter retention could remove a message that is
# still inside its three years.
MINIMUM_RETENTION = timedelta(days=3 * 365 + 1)
PURGE_BATCH = 1000
STATUS_MESSAGE_LIMIT = 250  # StatusInfo message ≤ 250 characters (App.4)
SYSTEM_ADDRESSEE = "EGSU"


class JournalWriteError(RuntimeError):
    """The journal could not record a message durably; the message must not be acknowledged."""


def _now() -> datetime:
    """When a message crosses the wire, on the System's clock (INT-51; egsu.ops.timekeeping)."""
    from egsu.ops.timekeeping import system_time

    return system_time(utcnow())


def _compress(raw: bytes) -> bytes:
    return zlib.compress(raw, 6)


def _checksum(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _short(text: str) -> str:
    """Status text fits the column and holds no control characters."""
    clean = "".join(ch if ch.isprintable() else " " for ch in text)
    return clean[:STATUS_MESSAGE_LIMIT]


def record_incoming(
    *,
    message_id: str,
    sender_id: str,
    service_id: str,
    raw: bytes,
    remote_addr: str = "",
    correlation_id: str | None = None,
    addressee: str = SYSTEM_ADDRESSEE,
    signature_verdict: str = "",
    also: Callable[[], None] | None = None,
) -> tuple[JournalEntry, bool]:
    """Journal a received message durably; (existing entry, False) when it was re-sent.

    Re-sending is recognised by (sender, messageId) through a unique constraint, so two
    copies arriving at the same moment in two processes still give one entry. ``also`` runs
    inside the same transaction (the OCSP receipts that proved the message's signature: one
    commit instead of two); for a re-sent message it runs in a transaction of its own.
    """
    existing = _incoming(sender_id, message_id)
    if existing is not None:
        _also_alone(also)
        return existing, False
    entry = JournalEntry(
        message_id=message_id,
        direction=Direction.IN,
        kind=EntryKind.MESSAGE,
        occurred_at=_now(),
        sender_id=sender_id,
        addressee=addressee,
        service_id=service_id,
        correlation_id=correlation_id or "",
        sha256=_checksum(raw),
        size=len(raw),
        raw=_compress(raw),
        remote_addr=remote_addr,
        signature_verdict=signature_verdict[:1000],
    )
    try:
        with transaction.atomic(durable=True):
            entry.save(force_insert=True)
            if also is not None:
                also()
    except IntegrityError:
        existing = _incoming(sender_id, message_id)
        if existing is None:  # the constraint fired for another reason
            raise JournalWriteError(f"could not journal incoming message {message_id!r}") from None
        _also_alone(also)
        return existing, False
    except DatabaseError as exc:
        raise JournalWriteError(f"could not journal incoming message {message_id!r}") from exc
    return entry, True


def _also_alone(also: Callable[[], None] | None) -> None:
    if also is not None:
        with transaction.atomic(durable=True):
            also()


def record_refused(
    *,
    message_id: str,
    sender_id: str,
    service_id: str,
    raw: bytes,
    status_code: str,
    status_message: str,
    sha256: str | None = None,
    size: int | None = None,
    remote_addr: str = "",
    addressee: str = SYSTEM_ADDRESSEE,
    signature_verdict: str = "",
) -> JournalEntry:
    """Journal, durably, a received message refused before processing (INT-36: every receipt).

    It does not claim its messageId, so the sender can fix the fault and send it again. `raw`
    may be empty when the content must not be kept (unparsable or hostile XML); `sha256` and
    `size` then still describe the bytes that arrived.
    """
    entry = JournalEntry(
        message_id=message_id,
        direction=Direction.IN,
        kind=EntryKind.REFUSED,
        occurred_at=_now(),
        sender_id=sender_id,
        addressee=addressee,
        service_id=service_id,
        status_code=status_code,
        status_message=_short(status_message),
        sha256=sha256 or _checksum(raw),
        size=len(raw) if size is None else size,
        raw=_compress(raw),
        remote_addr=remote_addr,
        signature_verdict=signature_verdict[:1000],
    )
    _save_durably(entry)
    return entry


def record_repeat(original: JournalEntry, *, remote_addr: str = "") -> JournalEntry:
    """Journal, durably, another copy of an already journalled message (same bytes, same messageId).

    The caller has checked that the copy's checksum equals the original's; the compressed
    bytes are copied so that each entry verifies on its own even after the other is purged.
    """
    entry = JournalEntry(
        message_id=original.message_id,
        direction=Direction.IN,
        kind=EntryKind.REPEAT,
        occurred_at=_now(),
        sender_id=original.sender_id,
        addressee=original.addressee,
        service_id=original.service_id,
        correlation_id=original.correlation_id,
        status_code=original.status_code,
        status_message=original.status_message,
        sha256=original.sha256,
        size=original.size,
        raw=bytes(original.raw),
        remote_addr=remote_addr,
        related=original,
    )
    _save_durably(entry)
    return entry


def _save_durably(entry: JournalEntry) -> None:
    try:
        with transaction.atomic(durable=True):
            entry.save(force_insert=True)
    except DatabaseError as exc:
        raise JournalWriteError(f"could not journal {entry.direction} message {entry.message_id!r}") from exc


def _incoming(sender_id: str, message_id: str) -> JournalEntry | None:
    try:
        return JournalEntry.objects.filter(
            direction=Direction.IN, kind=EntryKind.MESSAGE, sender_id=sender_id, message_id=message_id
        ).first()
    except DatabaseError as exc:
        raise JournalWriteError(f"could not read the journal for message {message_id!r}") from exc


def update_incoming(
    entry: JournalEntry,
    *,
    status_code: str,
    status_message: str,
    records_total: int | None = None,
    records_accepted: int | None = None,
    records_rejected: int | None = None,
) -> JournalEntry:
    """Record what became of a received message (its status and record counts)."""
    entry.status_code = status_code
    entry.status_message = _short(status_message)
    entry.records_total = records_total
    entry.records_accepted = records_accepted
    entry.records_rejected = records_rejected
    fields = ["status_code", "status_message", "records_total", "records_accepted", "records_rejected"]
    try:
        updated = JournalEntry.objects.filter(pk=entry.pk).update(
            **{name: getattr(entry, name) for name in fields}
        )
    except DatabaseError as exc:
        raise JournalWriteError(f"could not update journal entry {entry.pk}") from exc
    if updated != 1:
        raise JournalWriteError(f"journal entry {entry.pk} is gone")
    return entry


def record_outgoing(
    *,
    request: JournalEntry | None,
    message_id: str,
    addressee: str,
    raw: bytes,
    status_code: str,
    status_message: str,
    service_id: str = "",
    signature_verdict: str = "",
) -> JournalEntry:
    """Journal a message we send, durably, before it leaves; an answer points at its request."""
    entry = JournalEntry(
        message_id=message_id,
        direction=Direction.OUT,
        occurred_at=_now(),
        sender_id=SYSTEM_ADDRESSEE,
        addressee=addressee,
        service_id=service_id or (request.service_id if request else ""),
        correlation_id=request.message_id if request else "",
        status_code=status_code,
        status_message=_short(status_message),
        sha256=_checksum(raw),
        size=len(raw),
        raw=_compress(raw),
        related=request,
        signature_verdict=signature_verdict[:1000],
    )
    _save_durably(entry)
    return entry


def record_answer(
    request: JournalEntry,
    *,
    message_id: str,
    raw: bytes,
    status_code: str,
    status_message: str,
    records_total: int | None = None,
    records_accepted: int | None = None,
    records_rejected: int | None = None,
    signature_verdict: str = "",
    within_durable: bool = False,
) -> JournalEntry:
    """What became of a received message and the answer to it, in one durable transaction.

    One write instead of two matters on SQLite, where every transaction queues for the
    single writer lock. ``within_durable``: the caller already holds a durable transaction
    (``transaction.atomic(durable=True)``) that commits before the answer is sent, so what the
    message changed (values, ledger) and its answer commit together, in one commit.
    """
    if within_durable and not transaction.get_connection().in_atomic_block:
        raise RuntimeError("within_durable needs the caller's durable transaction around this call")
    try:
        # Within the caller's transaction no savepoint: a failure here fails the whole message anyway.
        with transaction.atomic(durable=not within_durable, savepoint=not within_durable):
            update_incoming(
                request,
                status_code=status_code,
                status_message=status_message,
                records_total=records_total,
                records_accepted=records_accepted,
                records_rejected=records_rejected,
            )
            entry = JournalEntry(
                message_id=message_id,
                direction=Direction.OUT,
                occurred_at=_now(),
                sender_id=SYSTEM_ADDRESSEE,
                addressee=request.sender_id,
                service_id=request.service_id,
                correlation_id=request.message_id,
                status_code=status_code,
                status_message=_short(status_message),
                sha256=_checksum(raw),
                size=len(raw),
                raw=_compress(raw),
                related=request,
                signature_verdict=signature_verdict[:1000],
            )
            entry.save(force_insert=True)
    except DatabaseError as exc:
        raise JournalWriteError(f"could not journal the answer to entry {request.pk}") from exc
    return entry


INTERNAL_ERROR_CODE = "SCE909"


def answer_for(request_entry: JournalEntry) -> JournalEntry | None:
    """The answer that stands for a request, to send again byte for byte.

    That is the first answer that was not our own internal error: after an internal
    error the request is processed again, and the answer of that attempt stands.
    """
    return (
        JournalEntry.objects.filter(direction=Direction.OUT, related=request_entry)
        .exclude(status_code=INTERNAL_ERROR_CODE)
        .order_by("occurred_at", "pk")
        .first()
    )


def raw_bytes(entry: JournalEntry) -> bytes:
    """The message exactly as received or sent."""
    return zlib.decompress(bytes(entry.raw))


def content_kept(entry: JournalEntry) -> bool:
    """False for a refused message whose content was deliberately not kept (see record_refused)."""
    try:
        return entry.size == 0 or bool(raw_bytes(entry))
    except zlib.error:
        return True  # kept but damaged: verify_checksum says so


def verify_checksum(entry: JournalEntry) -> bool:
    """Whether the archived bytes still hash to the checksum taken when they crossed the wire."""
    try:
        raw = raw_bytes(entry)
    except zlib.error:
        return False
    return len(raw) == entry.size and _checksum(raw) == entry.sha256


def search(
    *,
    sender_id: str | None = None,
    message_id: str | None = None,
    direction: str | None = None,
    status_code: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    text: str | None = None,
    limit: int | None = 100,
) -> QuerySet[JournalEntry]:
    """Entries matching every given filter, newest first; `since` inclusive, `until` exclusive."""
    entries = JournalEntry.objects.defer("raw")
    if sender_id:
        entries = entries.filter(sender_id=sender_id)
    if message_id:
        entries = entries.filter(message_id=message_id)
    if direction:
        entries = entries.filter(direction=direction)
    if status_code:
        entries = entries.filter(status_code=status_code)
    if since is not None:
        entries = entries.filter(occurred_at__gte=since)
    if until is not None:
        entries = entries.filter(occurred_at__lt=until)
    if text:
        entries = entries.filter(
            Q(message_id__icontains=text)
            | Q(correlation_id__icontains=text)
            | Q(sender_id__icontains=text)
            | Q(addressee__icontains=text)
            | Q(status_message__icontains=text)
        )
    entries = entries.order_by("-occurred_at", "-pk")
    return entries[:limit] if limit is not None else entries


def purge_cutoff(older_than: timedelta | None = None, now: datetime | None = None) -> datetime:
    """Entries that occurred strictly before this instant are past retention (INT-36)."""
    retention = (
        older_than if older_than is not None else timedelta(days=settings.CONFIG.journal_retention_days)
    )
    if retention < MINIMUM_RETENTION:
        raise ValueError(
            f"refusing to purge entries younger than {MINIMUM_RETENTION.days} days: "
            f"the journal keeps three years (INT-36), {retention} was asked"
        )
    return (now or utcnow()) - retention


def purge(
    *,
    older_than: timedelta | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    batch_size: int = PURGE_BATCH,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Delete entries past retention in batches; return how many (or would be, with dry_run).

    An entry exactly at the cutoff, or younger, always stays. `progress` is told the running
    total after each batch.
    """
    cutoff = purge_cutoff(older_than, now)
    expired = JournalEntry.objects.filter(occurred_at__lt=cutoff)
    if dry_run:
        return expired.count()
    deleted = 0
    while True:
        ids = list(expired.order_by("occurred_at", "pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        with transaction.atomic():
            # Answers that stay lose their link to a purged request (SET NULL), nothing else.
            JournalEntry.objects.filter(related_id__in=ids).exclude(pk__in=ids).update(related=None)
            count, _ = JournalEntry.objects.filter(pk__in=ids).delete()
        deleted += count
        if progress is not None:
            progress(deleted)
