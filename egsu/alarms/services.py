"""The one way alarms change: raise, clear, acknowledge, close.

Anyone who notices a condition calls `raise_alarm(source=…, key=…)` every time it sees it, and
`clear_alarm` when it no longer holds; this module folds repeats, keeps the history, and tells
the rest of the System through `alarm_changed` after the transaction commits (notifications,
urgent reports, metrics). Safe with several workers raising the same condition at once: the
(source, key) row is unique and changed under a row lock.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.dispatch import Signal

from egsu.alarms.models import ACTIVE_STATES, Alarm, AlarmEntry
from egsu.clock import utcnow
from egsu.vocabulary import AlarmState, Severity

# Sent after commit with alarm=Alarm and action=AlarmEntry.Action (raised, reopened, escalated,
# acknowledged, closed). Folded repeats send nothing: nobody is told twice about one state.
alarm_changed = Signal()

Action = AlarmEntry.Action


def raise_alarm(
    *,
    source: str,
    key: str,
    severity: Severity | str,
    title: str,
    subject=None,
    point=None,
    energy: str = "",
    region: str = "",
    evidence: dict | None = None,
    at: datetime | None = None,
) -> Alarm:
    """Record that the condition holds at `at`: opens, reopens, escalates or folds into its alarm."""
    at = at or utcnow()
    severity = Severity(severity)
    if point is not None:
        subject = subject or point.subject
        energy = energy or point.energy
        region = region or point.region
    if subject is not None and not region:
        region = subject.region
    fields = dict(
        title=title[:300], subject=subject, point=point, energy=energy, region=region[:100],
        evidence=evidence or {},
    )  # fmt: skip
    for attempt in range(2):
        try:
            with transaction.atomic():
                alarm = Alarm.objects.select_for_update().filter(source=source, key=key).first()
                if alarm is None:
                    alarm = Alarm.objects.create(
                        source=source, key=key[:200], severity=severity.value, state=AlarmState.OPEN.value,
                        first_seen=at, last_seen=at, opened_at=at, **fields,
                    )  # fmt: skip
                    return _entry(alarm, Action.RAISED, at)
                return _again(alarm, severity, at, fields)
        except IntegrityError:
            if attempt:
                raise  # a second collision is not a race any more
    raise AssertionError("unreachable")


def _again(alarm: Alarm, severity: Severity, at: datetime, fields: dict) -> Alarm:
    for name, value in fields.items():
        setattr(alarm, name, value)
    alarm.last_seen = max(alarm.last_seen, at)
    if alarm.state == AlarmState.CLOSED:
        alarm.state = AlarmState.OPEN.value
        alarm.severity = severity.value
        alarm.count = 1
        alarm.opened_at = at
        alarm.closed_at = None
        alarm.acknowledged_at = None
        alarm.acknowledged_by = None
        alarm.save()
        return _entry(alarm, Action.REOPENED, at)
    alarm.count += 1
    escalated = severity.rank > Severity(alarm.severity).rank
    if escalated:
        alarm.severity = severity.value
        alarm.state = AlarmState.OPEN.value  # a worse condition needs a new look
    alarm.save()
    return _entry(alarm, Action.ESCALATED, at) if escalated else alarm


def clear_alarm(*, source: str, key: str, at: datetime | None = None, comment: str = "") -> Alarm | None:
    """The condition no longer holds: close its alarm if active (automatic close, MON-07)."""
    with transaction.atomic():
        alarm = (
            Alarm.objects.select_for_update().filter(source=source, key=key, state__in=ACTIVE_STATES).first()
        )
        if alarm is None:
            return None
        return _close(alarm, at or utcnow(), user=None, comment=comment)


def clear_all_except(*, source: str, keys: set[str], at: datetime | None = None, within=None) -> int:
    """Close every active alarm of `source` whose key is not in `keys` (a rule's full re-evaluation).

    `within` narrows the alarms considered (a queryset filter dict), e.g. one subject's.
    """
    active = Alarm.objects.filter(source=source, state__in=ACTIVE_STATES).exclude(key__in=keys)
    if within:
        active = active.filter(**within)
    closed = 0
    for key in list(active.values_list("key", flat=True)):
        closed += clear_alarm(source=source, key=key, at=at) is not None
    return closed


def acknowledge(alarm: Alarm, user, comment: str = "", at: datetime | None = None) -> Alarm:
    """A person has seen it and takes care of it (MON-08): who and when are kept."""
    at = at or utcnow()
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().get(pk=alarm.pk)
        if alarm.state != AlarmState.OPEN:
            return alarm
        alarm.state = AlarmState.ACKNOWLEDGED.value
        alarm.acknowledged_at = at
        alarm.acknowledged_by = user
        if comment:
            alarm.comment = comment
        alarm.save()
        return _entry(alarm, Action.ACKNOWLEDGED, at, user=user, comment=comment)


def close(alarm: Alarm, user, comment: str, at: datetime | None = None) -> Alarm:
    """A person closes it by hand (a comment is required: why it needs nothing more)."""
    if not comment.strip():
        raise ValueError("closing an alarm by hand needs a comment")
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().get(pk=alarm.pk)
        if alarm.state == AlarmState.CLOSED:
            return alarm
        return _close(alarm, at or utcnow(), user=user, comment=comment)


def _close(alarm: Alarm, at: datetime, *, user, comment: str) -> Alarm:
    alarm.state = AlarmState.CLOSED.value
    alarm.closed_at = at
    if comment:
        alarm.comment = comment
    alarm.save()
    return _entry(alarm, Action.CLOSED, at, user=user, comment=comment)


def _entry(alarm: Alarm, action: str, at: datetime, *, user=None, comment: str = "") -> Alarm:
    AlarmEntry.objects.create(
        alarm=alarm, at=at, action=action, state=alarm.state, user=user, comment=comment
    )
    transaction.on_commit(lambda: alarm_changed.send(sender=Alarm, alarm=alarm, action=action))
    return alarm
