"""The manual recovery commands: ``send --period`` for any period, and ``status``.

``send`` never fails with a traceback: whatever state the period is in — not closed yet,
before go-live, built empty, owed, delivered, refused by the System — it reads the
sources once more, builds or rebuilds the period (only changed records go out again, or
all of them with ``--rebuild``), sends what is owed for it with the stored messageIds,
and says in words what happened and what to do next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from egsu_agent.outbox import DELIVERED, PENDING, REJECTED, SUPERSEDED, Message, parse_iso, period_of
from egsu_agent.schedule import DAY, local_instant, next_day_start, next_slot
from egsu_core.clock import astana_date, to_astana


class RecoveryError(ValueError):
    """A manual command that cannot be done as asked; the message says why and what to do."""


@dataclass
class SendReport:
    period: str
    lines: list[str] = field(default_factory=list)
    delivered: int = 0
    owed: int = 0


def send_period(
    agent, interval: str, start: datetime, *, force: bool = False, rebuild: bool = False
) -> SendReport:
    """Send (or resend) one period now; see the module docstring."""
    now = agent.clock.now()
    try:
        period = period_of(interval, start)
    except ValueError as exc:
        raise RecoveryError(
            f"{exc}: two-hourly periods start at an even Astana hour, daily ones at 00:00"
        ) from None
    schedule = agent.config.schedule
    if period.start < local_instant(schedule.first_day, 0):
        raise RecoveryError(
            f"{period.label} is before first_day {schedule.first_day} (go-live): the agent never sends it"
        )
    if (period.is_daily and not schedule.daily) or (not period.is_daily and not schedule.two_hourly):
        raise RecoveryError(f"{period.label}: this agent is configured not to send {interval} periods")
    if period.end > now:
        raise RecoveryError(f"{period.label} has not closed yet: it ends at {_human(period.end)}")
    report = SendReport(period.label)
    agent.collect(now, force=True)
    before = agent.outbox.built(period)
    result = agent.build_period(period, now, resend_all=rebuild)
    if before is None:
        report.lines.append(f"built now: {result.records} record(s) in {result.messages} message(s)")
    elif result.messages:
        report.lines.append(
            f"rebuilt as version {result.version}: {result.messages} new message(s)"
            + (
                " with every record (--rebuild)"
                if rebuild
                else f" for {len(result.changed)} changed record(s)"
            )
        )
    if result.records == 0:
        report.lines.append(
            "no device gave a sample for this period: there is nothing to send "
            "(check the sources, then run send again)"
        )
    messages = agent.outbox.messages_for(period.interval, period.start)
    owed = [m for m in messages if m.state == PENDING]
    if force:
        for message in owed:
            agent.outbox.reschedule(message.message_id, now)
    if owed:
        report.delivered = agent.deliver(now, only=[m.message_id for m in owed], ignore_pause=True)
    for message in agent.outbox.messages_for(period.interval, period.start):
        report.lines.append(_describe(agent, message, now))
        report.owed += message.state == PENDING
    return report


def _describe(agent, message: Message, now: datetime) -> str:
    head = f"message {message.message_id} (version {message.version}, part {message.chunk}, {message.records} records)"
    attempts = agent.outbox.attempts(message.message_id)
    if message.state == DELIVERED:
        return f"{head}: delivered {_human(message.delivered_at)} ({message.answer_code})"
    if message.state == SUPERSEDED:
        return f"{head}: replaced by a later version before it was delivered"
    if message.state == REJECTED:
        return (
            f"{head}: the System refused every record ({message.answer_code}: {message.answer_message}); "
            "resending the same messageId gets the same answer — fix the cause shown by `status`, then "
            "`send --period … --rebuild` sends the records again as a new message"
        )
    last = attempts[-1] if attempts else None
    why = (
        f"last attempt {_human(last.at)}: {last.outcome} {last.code or ''} {last.detail or ''}".strip()
        if last
        else "not tried yet"
    )
    today = agent.outbox.attempts_between(
        message.message_id, local_instant(astana_date(now), 0), next_day_start(now)
    )
    limit = ""
    if today >= agent.rule.attempts_per_day:
        limit = f"; {today} attempts today already (INT-14 allows {agent.rule.attempts_per_day})"
    return f"{head}: owed — {why}{limit}; next attempt {_human(message.next_attempt_at)}"


def status(agent) -> dict:
    """What is owed, what was sent, what failed and why, open notices, tags no device maps."""
    now = agent.clock.now()
    outbox = agent.outbox
    pending = outbox.pending()
    messages = outbox.all_messages()
    paused = outbox.get_state("paused_until")
    owed = []
    for message in pending:
        attempts = outbox.attempts(message.message_id)
        last = attempts[-1] if attempts else None
        owed.append(
            {
                "period": _label(message),
                "interval": message.interval,
                "period_start": message.period_start,
                "version": message.version,
                "chunk": message.chunk,
                "records": message.records,
                "attempts": len(attempts),
                "last_attempt": last.at if last else None,
                "why": f"{last.outcome}: {last.code or ''} {last.detail or ''}".strip()
                if last
                else "not tried yet",
                "next_attempt": message.next_attempt_at,
                "message_id": message.message_id,
            }
        )
    refused = [
        {
            "period": _label(m),
            "version": m.version,
            "message_id": m.message_id,
            "code": m.answer_code,
            "why": m.answer_message,
        }
        for m in messages
        if m.state == REJECTED
    ]
    rejected_records = [
        {"message_id": r[0], "position": r[1], "object_id": r[2], "device": r[3], "code": r[4], "why": r[5]}
        for r in outbox.rejections()
    ]
    schedule = agent.config.schedule
    settling = []
    slot = next_slot(now - schedule.settle - timedelta(hours=2))
    if slot <= now and slot + schedule.settle > now:
        settling.append({"closed": slot, "built_at": slot + schedule.settle})
    recent = outbox.built_periods(since=now - timedelta(days=7))
    empty = [p for p in recent if p.records == 0]
    last = outbox.last_delivery()
    open_notices = [n for n in outbox.all_notices() if n.closed_at is None]
    return {
        "now": now,
        "owed": owed,
        "pending": [(m.interval, m.period_start, m.chunk, m.next_attempt_at, m.message_id) for m in pending],
        "delivered": sum(1 for m in messages if m.state == DELIVERED),
        "corrections_delivered": sum(1 for m in messages if m.state == DELIVERED and m.version > 1),
        "rejected_messages": len(refused),
        "refused": refused,
        "rejected_records": len(rejected_records),
        "record_rejections": rejected_records,
        "empty_periods": [
            {"period": period_of(p.interval, p.start).label, "built_at": p.built_at} for p in empty
        ],
        "waiting_to_settle": settling,
        "last_delivery": last,
        "next_slot": next_slot(now),
        "paused_until": parse_iso(paused) if paused else None,
        "open_notices": [
            (n.id, n.kind, n.key, n.opened_at, n.closed_at, n.subject, n.sent_at, n.last_error)
            for n in open_notices
        ],
        "unsent_notices": [(n.id, n.subject, n.last_error) for n in outbox.unsent_notices()],
        "unknown_tags": outbox.unknown_tags(),
    }


def _label(message: Message) -> str:
    local = _human(message.period_start)
    return f"{local[:10]} daily" if message.interval == DAY else f"{local} two-hourly"


def _human(moment: datetime | None) -> str:
    """Astana wall-clock time, to the minute, as a person reads it."""
    return to_astana(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"
