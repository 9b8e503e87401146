"""The agent's work, one tick at a time: collect samples, build closed periods, deliver, notify.

A tick is idempotent and driven by a clock (schedule.Clock): the service loop asks when
to wake next (the next poll, the next slot, the next retry) and sleeps until then; tests
drive the same loop with ManualClock and never sleep. Every step commits to the outbox
before acting, so the agent can be killed at any point and started again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from egsu.clock import astana_date
from egsu.pki.keys import SigningIdentity, load_identity
from egsu_agent import aggregate
from egsu_agent.config import AgentConfig, DeviceConfig
from egsu_agent.delivery import RetryRule, ZeepChannel, build_messages
from egsu_agent.notices import (
    EmailChannel,
    Notice,
    NoticeChannel,
    SystemApiChannel,
    failure_notice,
    maintenance_notice,
    restored_notice,
)
from egsu_agent.outbox import DELIVERED, PENDING, REJECTED, Outbox, iso, parse_iso
from egsu_agent.schedule import Clock, Period, closed_periods, local_instant, next_day_start, next_slot
from egsu_agent.sources import Source, SourceError, build_source

log = logging.getLogger("egsu_agent")
PAUSED_UNTIL = "paused_until"
LAST_POLL = "last_poll"
NOTICE_RETRY = timedelta(minutes=5)


class Agent:
    def __init__(
        self,
        config: AgentConfig,
        *,
        clock: Clock,
        channel=None,
        sources: dict[str, Source] | None = None,
        notice_channels: list[NoticeChannel] | None = None,
        progress: bool = False,
    ) -> None:
        self.config = config
        self.clock = clock
        self.outbox = Outbox(config.database)
        recovered = self.outbox.recover_interrupted(clock.now())
        if recovered:
            log.warning(
                "attempts cut short by a stop or crash: %d; their messages are due again",
                recovered,
                extra={"event": "recovered", "count": recovered},
            )
        self.sources = sources if sources is not None else {s.name: build_source(s) for s in config.sources}
        self.channel = channel or ZeepChannel(
            config.system.wsdl, endpoint=config.system.endpoint, timeout=config.system.timeout_seconds
        )
        if notice_channels is None:
            notice_channels = []
            if config.notices is not None:
                notice_channels.append(EmailChannel(config.notices))
                if config.notices.system_api:
                    notice_channels.append(SystemApiChannel())
        self.notice_channels = notice_channels
        self.rule = RetryRule(config.delivery.retry_after, config.delivery.attempts_per_day)
        self.progress = progress
        self._identity: SigningIdentity | None = None

    def close(self) -> None:
        for source in self.sources.values():
            source.close()
        self.outbox.close()

    @property
    def identity(self) -> SigningIdentity:
        if self._identity is None:
            system = self.config.system
            self._identity = load_identity(system.sign_key.read_bytes(), system.sign_cert.read_bytes())
        return self._identity

    # ------------------------------------------------------------ the loop

    def run(
        self,
        *,
        until: datetime | None = None,
        stop: threading.Event | None = None,
        before_tick: Callable[[datetime], None] | None = None,
    ) -> None:
        """Tick, sleep until the next thing to do, repeat; until ``until`` (inclusive) or ``stop``."""
        stop = stop or threading.Event()
        while not stop.is_set():
            now = self.clock.now()
            if until is not None and now > until:
                return
            if before_tick is not None:
                before_tick(now)
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the service keeps running; the outbox holds what is done
                log.exception("tick failed; trying again at the next wake-up", extra={"event": "tick_error"})
            wake = max(self.next_wakeup(), now + timedelta(seconds=1))
            if until is not None and wake > until:
                if now >= until:
                    return
                wake = until
            self.clock.sleep_until(wake)

    def tick(self) -> None:
        now = self.clock.now()
        self.collect(now)
        self.build(now)
        self.deliver(now)
        self.watch_delivery(now)
        self.flush_notices(now)

    def next_wakeup(self) -> datetime:
        now = self.clock.now()
        candidates = [next_slot(now)]
        last_poll = self.outbox.get_state(LAST_POLL)
        poll = timedelta(seconds=self.config.schedule.poll_seconds)
        candidates.append(parse_iso(last_poll) + poll if last_poll else now)
        paused = self.outbox.get_state(PAUSED_UNTIL)
        paused_until = parse_iso(paused) if paused else None
        pending = self.outbox.pending()
        if pending:
            due = min(m.next_attempt_at for m in pending)
            candidates.append(max(due, paused_until) if paused_until else due)
        if self.outbox.unsent_notices() and self.notice_channels:
            candidates.append(now + NOTICE_RETRY)
        return min(candidates)

    # ------------------------------------------------------------ collecting

    def collect(self, now: datetime, *, force: bool = False) -> int:
        """Read every source when a poll is due; keep the samples durably, then let exports move away."""
        last = self.outbox.get_state(LAST_POLL)
        poll = timedelta(seconds=self.config.schedule.poll_seconds)
        if not force and last is not None and now < parse_iso(last) + poll and not self._slot_now(now):
            return 0
        kept = 0
        for name, source in self.sources.items():
            key = f"watermark:{name}"
            try:
                batch = source.read(now, since=self.outbox.get_state(key), seen=self.outbox.file_seen)
            except SourceError as exc:
                log.warning(
                    "source %s not read: %s", name, exc, extra={"event": "source_error", "source": name}
                )
                continue
            with self.outbox.transaction() as db:
                kept += self.outbox.add_samples(name, batch.samples, db)
                for path, sha in batch.files:
                    self.outbox.mark_file(db, path, sha, now)
                if batch.watermark is not None:
                    self.outbox.set_state(key, batch.watermark, db)
            batch.done()
        self.outbox.set_state(LAST_POLL, iso(now))
        return kept

    @staticmethod
    def _slot_now(now: datetime) -> bool:
        """At a slot the devices are read once more, so the closing value of a period is fresh."""
        return next_slot(now - timedelta(microseconds=1)) == now

    # ------------------------------------------------------------ building periods

    def _closable(self, now: datetime) -> list[Period]:
        schedule = self.config.schedule
        last_end = self.outbox.last_built_end()
        first = schedule.first_day
        if last_end is not None:
            first = max(first, astana_date(last_end) - timedelta(days=1))
        return [
            p
            for p in closed_periods(first, now, daily=schedule.daily, two_hourly=schedule.two_hourly)
            if not self.outbox.is_built(p)
        ]

    def build(self, now: datetime) -> list[Period]:
        """Aggregate and sign every closed period not built yet (missed slots included), oldest first."""
        built = []
        for period in self._closable(now):
            self.build_period(period, now)
            built.append(period)
        return built

    def build_period(self, period: Period, now: datetime) -> int:
        devices = self.config.devices
        tags = [tag for device in devices for tag in device.tags]
        window = self.outbox.samples(tags, period.start - (period.end - period.start), period.end)
        records = []
        for device in devices:
            result = aggregate.device_values(device, period, window, decimals=self.config.decimals)
            record = aggregate.device_record(device, period, result, registered_at=now)
            if record is not None:
                records.append(record)
            if period.is_daily != self.config.schedule.two_hourly:
                self._watch_device(device, period, result.silent_tags, now)
        system = self.config.system
        messages = build_messages(
            records,
            identity=self.identity,
            sender_id=system.sender_id,
            password=system.password,
            service_id=system.service_id,
            message_date=now,
            sign_business_data=system.sign_business_data,
            max_bytes=self.config.delivery.max_message_bytes,
        )
        self.outbox.add_period(period, messages, now=now, records=len(records))
        log.info(
            "period %s built: %d records in %d messages",
            period.label,
            len(records),
            len(messages),
            extra={
                "event": "period_built",
                "period": period.label,
                "records": len(records),
                "messages": len(messages),
            },
        )
        return len(records)

    # ------------------------------------------------------------ delivering

    def deliver(self, now: datetime, *, only: list[str] | None = None, ignore_pause: bool = False) -> int:
        """Send due messages oldest first under the retry rule (delivery.py); the number delivered."""
        paused = self.outbox.get_state(PAUSED_UNTIL)
        if paused and now < parse_iso(paused) and not ignore_pause:
            return 0
        due = [
            m
            for m in self.outbox.pending()
            if (only is None and m.next_attempt_at <= now) or (only and m.message_id in only)
        ]
        if not due:
            return 0
        delivered = 0
        progress = _progress(len(due)) if self.progress and len(due) > 1 else None
        task = progress.add_task("backfill", total=len(due)) if progress else None
        try:
            for message in due:
                day_start = local_instant(astana_date(now), 0)
                used = self.outbox.attempts_between(message.message_id, day_start, next_day_start(now))
                if used >= self.rule.attempts_per_day:  # INT-14
                    self.outbox.reschedule(message.message_id, next_day_start(now))
                    continue
                attempt = self.outbox.start_attempt(message.message_id, now)
                outcome = self.channel.post(message.envelope)
                done = self.clock.now()
                if outcome.state == "delivered":
                    state, next_at = DELIVERED, done
                    delivered += 1
                elif outcome.state == "rejected":
                    state, next_at = REJECTED, done
                else:
                    state, next_at = PENDING, self.rule.next_attempt(done, used + 1)
                self.outbox.finish_attempt(
                    attempt,
                    message.message_id,
                    outcome=outcome.state,
                    code=outcome.code,
                    detail=outcome.detail,
                    now=done,
                    state=state,
                    next_attempt_at=next_at,
                    rejections=outcome.rejections,
                )
                log.log(
                    logging.INFO if outcome.state == "delivered" else logging.WARNING,
                    "message %s (%s, %s) %s: %s %s",
                    message.message_id,
                    message.interval,
                    iso(message.period_start),
                    outcome.state,
                    outcome.code,
                    outcome.detail,
                    extra={
                        "event": "attempt",
                        "message_id": message.message_id,
                        "outcome": outcome.state,
                        "code": outcome.code,
                        "rejected_records": len(outcome.rejections),
                    },
                )
                if progress:
                    progress.advance(task)
                if outcome.state == "delivered":
                    self.outbox.set_state(PAUSED_UNTIL, None)
                if outcome.unreachable:
                    self.outbox.set_state(PAUSED_UNTIL, iso(done + self.rule.retry_after))
                    break
        finally:
            if progress:
                progress.stop()
        return delivered

    def send_period(self, interval: str, start: datetime, *, force: bool = False) -> int:
        """Manual resend of one period (``egsu-agent send``): its stored messages, same messageIds."""
        now = self.clock.now()
        messages = self.outbox.messages_for(interval, start)
        if not messages:
            period = next(
                (
                    p
                    for p in closed_periods(astana_date(start), now)
                    if p.interval == interval and p.start == start
                ),
                None,
            )
            if period is None:
                raise ValueError("that period has not closed yet")
            self.collect(now, force=True)
            self.build_period(period, now)
            messages = self.outbox.messages_for(interval, start)
        ids = [m.message_id for m in messages if m.state == PENDING]
        if force:
            for message_id in ids:
                self.outbox.reschedule(message_id, now)
        return self.deliver(now, only=ids, ignore_pause=True) if ids else 0

    # ------------------------------------------------------------ notices

    def _watch_device(
        self, device: DeviceConfig, period: Period, silent: tuple[str, ...], now: datetime
    ) -> None:
        """INT-10: a device silent for a whole period opens a notice; data coming back closes it."""
        notices = self.config.notices
        key = device.key
        open_id = self.outbox.open_notice("no-data", key)
        what = f"no data from device {device.device} of object {device.object_id}"
        if silent and open_id is None:
            if notices is None:
                log.error("%s (no [notices] configured)", what, extra={"event": "no_data", "device": key})
                return
            notice = failure_notice(
                notices,
                what=what,
                since=period.start,
                detected=now,
                details=f"No sample arrived from tag(s) {', '.join(silent)} during {period.label}. "
                "Possible causes: meter, power or local link failure (App.1 §10).",
            )
            self.outbox.add_notice("no-data", key, notice.subject, notice.body, now)
            log.error(
                "%s since %s: notice queued",
                what,
                iso(period.start),
                extra={"event": "no_data", "device": key},
            )
        elif not silent and open_id is not None:
            self._restore(open_id, what, now)

    def watch_delivery(self, now: datetime) -> None:
        """INT-10: repeated delivery failures mean the link or the gateway is down."""
        notices = self.config.notices
        failures, since = self.outbox.consecutive_failures()
        open_id = self.outbox.open_notice("delivery", "system")
        what = "data cannot be delivered to the System"
        if (
            notices is not None
            and since is not None
            and failures >= notices.failures_before_notice
            and open_id is None
        ):
            notice = failure_notice(
                notices,
                what=what,
                since=since,
                detected=now,
                details=f"{failures} consecutive send attempts failed. Undelivered periods are kept and sent "
                "after the repair, oldest first (App.1 §12).",
            )
            self.outbox.add_notice("delivery", "system", notice.subject, notice.body, now)
        elif failures == 0 and open_id is not None:
            self._restore(open_id, what, now)

    def _restore(self, open_id: int, what: str, now: datetime) -> None:
        self.outbox.close_notice(open_id, now)
        row = next(n for n in self.outbox.notices() if n[0] == open_id)
        if self.config.notices is not None:
            notice = restored_notice(self.config.notices, what=what, since=parse_iso(row[3]), restored=now)
            self.outbox.add_notice("restored", row[2], notice.subject, notice.body, now)
            self.outbox.close_notice(self.outbox.open_notice("restored", row[2]), now)

    def announce_maintenance(self, start: datetime, end: datetime, reason: str) -> Notice:
        """INT-12/INT-45: queue and send a maintenance announcement, at least 3 days ahead."""
        if self.config.notices is None:
            raise ValueError("no [notices] section: nobody to announce the maintenance to")
        now = self.clock.now()
        notice = maintenance_notice(self.config.notices, start=start, end=end, now=now, reason=reason)
        notice_id = self.outbox.add_notice("maintenance", iso(start), notice.subject, notice.body, now)
        self.outbox.close_notice(notice_id, now)
        self.flush_notices(now)
        return notice

    def flush_notices(self, now: datetime) -> int:
        """Send queued notices through every channel; a failure leaves them queued for the next tick."""
        if not self.notice_channels:
            return 0
        sent = 0
        for notice_id, subject, body in self.outbox.unsent_notices():
            try:
                for channel in self.notice_channels:
                    channel.send(Notice(subject, body))
            except Exception as exc:  # noqa: BLE001 - SMTP errors are many; retried on the next tick
                self.outbox.mark_notice(notice_id, sent_at=None, error=str(exc)[:500])
                log.warning("notice not sent: %s", exc, extra={"event": "notice_error"})
                continue
            self.outbox.mark_notice(notice_id, sent_at=now, error=None)
            log.info("notice sent: %s", subject, extra={"event": "notice_sent"})
            sent += 1
        return sent

    # ------------------------------------------------------------ status

    def status(self) -> dict:
        now = self.clock.now()
        pending = self.outbox.pending()
        last = self.outbox.last_delivery()
        paused = self.outbox.get_state(PAUSED_UNTIL)
        messages = self.outbox.all_messages()
        return {
            "now": now,
            "pending": [
                (m.interval, m.period_start, m.chunk, m.next_attempt_at, m.message_id) for m in pending
            ],
            "delivered": sum(1 for m in messages if m.state == DELIVERED),
            "rejected_messages": sum(1 for m in messages if m.state == REJECTED),
            "rejected_records": len(self.outbox.rejections()),
            "last_delivery": last,
            "next_slot": next_slot(now),
            "paused_until": parse_iso(paused) if paused else None,
            "open_notices": [n for n in self.outbox.notices() if n[4] is None],
        }


def _progress(total: int):
    """A rich progress bar on stderr for a backfill (several messages due at once)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    progress = Progress(
        TextColumn("backfill"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    progress.start()
    return progress
