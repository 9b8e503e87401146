"""Manual corrections under a commission act (Rules §53, ANA-09): propose, agree, refuse, withdraw.

Every step checks the permission gate (egsu.access.scope), runs in one transaction and is
audited. Nothing reaches the readings store before the subject agrees; then the corrected
values become a NEW revision (quality `corrected`, source `act:<number>`) and the original
stays. Lock order: the act row first (select_for_update), then the readings store's write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from egsu.access import scope as gate
from egsu.access.audit import Event, audit
from egsu.access.roles import Module
from egsu.access.scope import Scope
from egsu.cabinet.readings_selection import TableRow, as_table_row
from egsu.quality.act_document import build_pdf
from egsu.quality.errors import InvalidProposal, StaleReading, WrongState
from egsu.quality.models import ActStatus, CorrectionAct, CorrectionLine
from egsu.quality.rules import act_source, may_move
from egsu.readings.services import get_store
from egsu.readings.store import (
    KNOWN_INTERVALS,
    Quality,
    ReadingQuery,
    ReadingRow,
    SeriesKey,
    WriteOutcome,
    series_of,
    value_fits,
)
from egsu_core.clock import to_astana, utcnow

# How many values one act may correct: a device over a period range, not a bulk rewrite.
MAX_LINES = 500


@dataclass(frozen=True)
class LineProposal:
    """One value to correct: its key and the corrected value."""

    object_id: str
    device_id: str
    quantity: str
    interval: str
    period_start: datetime  # aware
    corrected_value: Decimal


# ---------------------------------------------------------------- reading through the gate


def acts(scope: Scope) -> QuerySet[CorrectionAct]:
    """The acts a user may see: those of the subjects in its scope, when corrections are granted."""
    if not scope.has(Module.CORRECTIONS):
        return CorrectionAct.objects.none()
    return CorrectionAct.objects.filter(subject__in=gate.subjects(scope)).select_related(
        "subject", "facility", "proposed_by", "decided_by"
    )


def awaiting_decision(scope: Scope) -> QuerySet[CorrectionAct]:
    """What waits for this user's agreement (subject users), oldest first."""
    if not scope.can_agree_corrections:
        return CorrectionAct.objects.none()
    return acts(scope).filter(status=ActStatus.PROPOSED).order_by("proposed_at", "pk")


def current_readings(
    scope: Scope,
    *,
    object_id: str,
    device_id: str,
    interval: str,
    start: datetime,
    end: datetime,
    quantities: Sequence[str] | None = None,
    limit: int = MAX_LINES,
) -> list[TableRow]:
    """The newest revision of each value of one metering point in [start, end), through the gate and the store."""
    point = gate.points(scope).filter(object_code=object_id, store_device_id=device_id)
    if not point.exists():
        return []
    query = ReadingQuery(
        quantities=list(quantities) if quantities else None,
        interval=interval,
        start=start,
        end=end,
        series=series_of([(object_id, device_id)]),
    )
    return [as_table_row(row) for row in get_store().rows(query, order="time", limit=limit)]


def _newest(scope: Scope, line: LineProposal) -> TableRow | None:
    """The value a correction replaces: the newest revision of that slot, if the point is in scope."""
    if not gate.points(scope).filter(object_code=line.object_id, store_device_id=line.device_id).exists():
        return None
    history = get_store().history(
        SeriesKey(line.object_id, line.device_id, line.quantity), line.interval, line.period_start
    )
    return as_table_row(history[-1]) if history else None


# ---------------------------------------------------------------- the steps


def propose(scope: Scope, user, lines: Iterable[LineProposal], reason: str, *, request=None) -> CorrectionAct:
    """An operator's (or the authorized body's) proposal: one device, its current values, the reason."""
    if not scope.can_propose_corrections:
        raise PermissionDenied(
            "only the data operator or the authorized body proposes corrections (Rules §53)"
        )
    reason = (reason or "").strip()
    if not reason:
        raise InvalidProposal(_("State the reason for the discrepancy (Rules §53)."))
    lines = list(lines)
    if not lines:
        raise InvalidProposal(_("Enter at least one corrected value."))
    if len(lines) > MAX_LINES:
        raise InvalidProposal(_("One act corrects at most %(count)s values.") % {"count": MAX_LINES})
    devices = {(line.object_id, line.device_id) for line in lines}
    if len(devices) != 1:
        raise InvalidProposal(_("One act corrects the values of one device."))
    ((object_id, device_id),) = devices
    facility = gate.facilities(scope).select_related("subject").filter(object_id=object_id).first()
    if facility is None:
        raise InvalidProposal(_("Object %(object)s is not in your scope.") % {"object": object_id})

    seen: set[tuple] = set()
    planned: list[tuple[LineProposal, TableRow]] = []
    for line in lines:
        key = (line.quantity, line.interval, line.period_start)
        if key in seen:
            raise InvalidProposal(_("The same value appears twice in the proposal."))
        seen.add(key)
        if line.interval not in KNOWN_INTERVALS or line.period_start.tzinfo is None:
            raise InvalidProposal(_("Unknown interval or a period without a time zone."))
        if not value_fits(line.corrected_value):
            raise InvalidProposal(_("%(value)s cannot be stored exactly.") % {"value": line.corrected_value})
        original = _newest(scope, line)
        when = to_astana(line.period_start).strftime("%Y-%m-%d %H:%M")
        if original is None:
            raise InvalidProposal(
                _("There is no %(quantity)s value of device %(device)s at %(when)s.")
                % {"quantity": line.quantity, "device": device_id, "when": when}
            )
        if original.value == line.corrected_value:
            raise InvalidProposal(
                _("The %(quantity)s value at %(when)s is already %(value)s.")
                % {"quantity": line.quantity, "when": when, "value": line.corrected_value}
            )
        planned.append((line, original))

    now = utcnow()
    with transaction.atomic():
        act = CorrectionAct.objects.create(
            subject=facility.subject,
            facility=facility,
            reason=reason,
            proposed_by=user,
            proposed_at=now,
        )
        act.number = f"{to_astana(now).year}-{act.pk:05d}"
        act.save(update_fields=["number"])
        CorrectionLine.objects.bulk_create(
            CorrectionLine(
                act=act,
                object_id=line.object_id,
                device_id=line.device_id,
                quantity=line.quantity,
                interval=line.interval,
                period_start=line.period_start,
                original_value=original.value,
                original_revision=original.revision,
                original_quality=original.quality,
                corrected_value=line.corrected_value,
                unit=original.unit,
                commercial=original.commercial,
            )
            for line, original in planned
        )
        audit(
            Event.CORRECTION_PROPOSED,
            actor=user,
            obj=act,
            summary=f"act {act.number}: {len(planned)} value(s) of {object_id}/{device_id}",
            after=_snapshot(act),
            request=request,
        )
    return act


def agree(scope: Scope, user, act: CorrectionAct, *, request=None) -> CorrectionAct:
    """The subject agrees: the act is decided, the corrections applied and the act PDF made, at once."""
    _require_decider(scope, act)
    with transaction.atomic():
        act = _locked(act, ActStatus.AGREED)
        lines = list(act.lines.order_by("object_id", "device_id", "quantity", "interval", "period_start"))
        store = get_store()
        for line in lines:  # a concurrent edit since the proposal: refuse, never overwrite unseen data
            history = store.history(_key(line), line.interval, line.period_start)
            if not history or history[-1].revision != line.original_revision:
                raise StaleReading(_stale_message(line, history[-1].revision if history else 0))
        now = utcnow()
        act.status, act.decided_by, act.decided_at = ActStatus.AGREED, user, now
        act.save(update_fields=["status", "decided_by", "decided_at"])
        audit(
            Event.CORRECTION_AGREED, actor=user, obj=act, summary=f"act {act.number} agreed", request=request
        )

        source = act_source(act.number)
        outcomes = store.write([
            ReadingRow(
                key=_key(line), interval=line.interval, period_start=line.period_start,
                value=line.corrected_value, unit=line.unit, quality=Quality.CORRECTED, source=source,
                commercial=line.commercial,
            )
            for line in lines
        ])  # fmt: skip
        for line, outcome in zip(lines, outcomes, strict=True):
            newest = store.history(_key(line), line.interval, line.period_start)[-1]
            # A writer that slipped in between the check and the write leaves a gap: roll back.
            if outcome is not WriteOutcome.REVISED or newest.revision != line.original_revision + 1:
                raise StaleReading(_stale_message(line, newest.revision - 1))
            line.applied_revision = newest.revision
        CorrectionLine.objects.bulk_update(lines, ["applied_revision"])

        act.status, act.applied_at = ActStatus.APPLIED, utcnow()
        act.pdf = build_pdf(act)
        act.pdf_sha256 = hashlib.sha256(act.pdf).hexdigest()
        act.save(update_fields=["status", "applied_at", "pdf", "pdf_sha256"])
        audit(
            Event.CORRECTION_APPLIED,
            actor=user,
            obj=act,
            summary=f"act {act.number}: {len(lines)} value(s) revised, source {source}",
            after=_snapshot(act),
            request=request,
            source=source,
        )
    return act


def refuse(scope: Scope, user, act: CorrectionAct, reason: str, *, request=None) -> CorrectionAct:
    """The subject refuses, with a reason; the act (with the refusal) is kept, nothing is applied."""
    _require_decider(scope, act)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidProposal(_("State why you refuse the correction."))
    with transaction.atomic():
        act = _locked(act, ActStatus.REFUSED)
        act.status, act.decided_by, act.decided_at, act.refusal_reason = (
            ActStatus.REFUSED,
            user,
            utcnow(),
            reason,
        )
        act.pdf = build_pdf(act)
        act.pdf_sha256 = hashlib.sha256(act.pdf).hexdigest()
        act.save(update_fields=["status", "decided_by", "decided_at", "refusal_reason", "pdf", "pdf_sha256"])
        audit(
            Event.CORRECTION_REFUSED,
            actor=user,
            obj=act,
            summary=f"act {act.number} refused",
            after=_snapshot(act),
            request=request,
        )
    return act


def withdraw(scope: Scope, user, act: CorrectionAct, *, request=None) -> CorrectionAct:
    """The proposer takes the proposal back before the subject decides."""
    if not scope.can_propose_corrections or act.proposed_by_id != user.pk:
        raise PermissionDenied("only the user who proposed the correction withdraws it")
    with transaction.atomic():
        act = _locked(act, ActStatus.WITHDRAWN)
        act.status, act.withdrawn_at = ActStatus.WITHDRAWN, utcnow()
        act.save(update_fields=["status", "withdrawn_at"])
        audit(
            Event.CORRECTION_WITHDRAWN,
            actor=user,
            obj=act,
            summary=f"act {act.number} withdrawn",
            after=_snapshot(act),
            request=request,
        )
    return act


def act_pdf(scope: Scope, user, act: CorrectionAct, *, request=None) -> tuple[bytes, bool]:
    """The act's PDF for a party: the kept document once decided, else a draft; audited as an export."""
    if not acts(scope).filter(pk=act.pk).exists():
        raise PermissionDenied("this act is not in your scope")
    draft = act.pdf is None
    data = build_pdf(act, draft=True) if draft else bytes(act.pdf)
    audit(
        Event.EXPORT,
        actor=user,
        obj=act,
        summary=f"act {act.number} PDF{' (draft)' if draft else ''}",
        request=request,
    )
    return data, draft


# ---------------------------------------------------------------- helpers


def _require_decider(scope: Scope, act: CorrectionAct) -> None:
    """Rules §53: only a user of the subject that owns the data agrees or refuses."""
    if not scope.can_agree_corrections or not scope.sees_subject(act.subject.bin):
        raise PermissionDenied("only a user of the subject that owns the data decides on a correction")


def _locked(act: CorrectionAct, target: str) -> CorrectionAct:
    locked = CorrectionAct.objects.select_for_update().select_related("subject", "facility").get(pk=act.pk)
    if not may_move(locked.status, target):
        raise WrongState(
            _("Act %(number)s is %(status)s; it cannot be changed now.")
            % {"number": locked.number, "status": locked.get_status_display()}
        )
    return locked


def _key(line: CorrectionLine) -> SeriesKey:
    return SeriesKey(line.object_id, line.device_id, line.quantity)


def _stale_message(line: CorrectionLine, current: int) -> str:
    when = to_astana(line.period_start).strftime("%Y-%m-%d %H:%M")
    return _(
        "The %(quantity)s value of %(object)s/%(device)s at %(when)s changed after the proposal "
        "(revision %(current)s now, %(original)s when proposed). Nothing was applied; the act "
        "should be withdrawn and proposed again."
    ) % {
        "quantity": line.quantity,
        "object": line.object_id,
        "device": line.device_id,
        "when": when,
        "current": current,
        "original": line.original_revision,
    }


def _snapshot(act: CorrectionAct) -> dict:
    return {
        "number": act.number,
        "status": act.status,
        "subject": act.subject.bin,
        "object_id": act.facility.object_id,
        "reason": act.reason,
        "refusal_reason": act.refusal_reason,
        "pdf_sha256": act.pdf_sha256,
        "lines": [
            {
                "device_id": line.device_id,
                "quantity": line.quantity,
                "interval": line.interval,
                "period_start": line.period_start.isoformat(),
                "original": str(line.original_value),
                "original_revision": line.original_revision,
                "corrected": str(line.corrected_value),
                "applied_revision": line.applied_revision,
            }
            for line in act.lines.all()
        ],
    }
