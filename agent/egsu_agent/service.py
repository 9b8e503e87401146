"""The agent's work, one tick at a time: collect samples, build and rebuild periods, deliver, notify.

A tick is idempotent and driven by a clock (schedule.Clock): the service loop asks when
to wake next (the next poll, the next period to build, the next retry, the moment a
silent device must be reported) and sleeps until then; tests drive the same loop with
ManualClock and never sleep. Every step commits to the outbox before acting, so the
agent can be killed at any point and started again.

Late data (App.1 §12, INT-15): a period is first built ``settle_minutes`` after its
slot, so exports that land a little after the hour are in its first message. A value
that arrives later marks its periods dirty (outbox.add_samples); the next tick rebuilds
them and sends the records that changed as a correction — a new message for that
period, which the System stores as a revision (decision 0002) — for up to
``corrections_days`` after the period.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from egsu_agent import aggregate
from egsu_agent.config import AgentConfig
from egsu_agent.delivery import AnswerVerifier, RetryRule, ZeepChannel, build_messages
from egsu_agent.notices import (
    EmailChannel,
    Notice,
    NoticeChannel,
    SystemNoticesApiChannel,
    maintenance_notice,
)
from egsu_agent.outbox import DELIVERED, PENDING, REJECTED, Outbox, iso, parse_iso
from egsu_agent.schedule import Clock, Period, closed_periods, local_instant, next_day_start, next_slot
from egsu_agent.sources import Source, SourceError, build_source
from egsu_agent.watch import Watcher
from egsu_core.clock import astana_date
from egsu_core.pki.keys import SigningIdentity

log = logging.getLogger("egsu_agent")
PAUSED_UNTIL = "paused_until"
LAST_POLL = "last_poll"
FIRST_TICK = "first_tick"
NOTICE_RETRY = timedelta(minutes=5)


@dataclass(frozen=True)
class BuildResult:
    version: int
    records: int
    messages: int
    changed: tuple[str, ...]
    """Device keys whose record is new or changed in this build."""


def fingerprint(record: dict[str, str]) -> str:
    """What makes two builds of a device's record the same: every field but the build time."""
    stable = {key: value for key, value in record.items() if key != "regdatetime"}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()


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
        recover: bool = True,
    ) -> None:
        """``recover=False`` (``status``) only reads: an attempt in flight in a running service stays so."""
        self.config = config
        self.clock = clock
        self.outbox = Outbox(config.database)
        recovered = self.outbox.recover_interrupted(clock.now()) if recover else 0
        if recovered:
            log.warning(
                "attempts cut short by a stop or crash: %d; their messages are due again",
                recovered,
                extra={"event": "recovered", "count": recovered},
            )
        self.sources = sources if sources is not None else {s.name: build_source(s) for s in config.sources}
        system = config.system
        if channel is None:
            verifier = None
            if system.system_cert or system.trust_roots:
                verifier = AnswerVerifier(system.system_cert, system.trust_roots)
            else:
                log.warning(
                    "no system_cert or trust_roots: the System's answers are believed without checking "
                    "their signature",
                    extra={"event": "answers_unverified"},
                )
            channel = ZeepChannel(
                system.wsdl, endpoint=system.endpoint, timeout=system.timeout_seconds, verifier=verifier
            )
        self.channel = channel
        if notice_channels is None:
            notice_channels = [EmailChannel(config.notices)] if config.notices is not None else []
            if config.notices is not None and config.notices.system_api:
                notice_channels.append(SystemNoticesApiChannel(config.system))
        self.notice_channels = notice_channels
        self.rule = RetryRule(config.delivery.retry_after, config.delivery.attempts_per_day)
        self.progress = progress
        self.watcher = Watcher(config, self.outbox)
        self._identity: SigningIdentity | None = None
        self._known_tags = {tag for device in config.devices for tag in device.tags}

    def close(self) -> None:
        for source in self.sources.values():
            source.close()
        self.outbox.close()

    @property
    def identity(self) -> SigningIdentity:
        if self._identity is None:
            self._identity = self.config.system.identity
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
        if self.outbox.get_state(FIRST_TICK) is None:
            self.outbox.set_state(FIRST_TICK, iso(now))
        changed = self.collect(now)
        if changed:
            self.watcher.faults(now)  # INT-11: at once
        self.build(now)
        self.rebuild(now)
        self.deliver(now)
        self.watcher.silence(now, self.watch_reference())  # INT-10
        self.watcher.delivery(now)
        self.flush_notices(now)

    def watch_reference(self) -> datetime:
        """Since when a tag that never gave a sample counts as silent: go-live or the first tick."""
        first = self.outbox.get_state(FIRST_TICK)
        start = local_instant(self.config.schedule.first_day, 0)
        return max(parse_iso(first), start) if first else start

    def next_build_at(self, now: datetime) -> datetime:
        """When the next period becomes due for its first build: its slot plus the settle time."""
        settle = self.config.schedule.settle
        return next_slot(now - settle) + settle

    def next_wakeup(self) -> datetime:
        now = self.clock.now()
        candidates = [next_slot(now), self.next_build_at(now)]
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
        silent_at = self.watcher.next_silence(now, self.watch_reference())
        if silent_at is not None:
            candidates.append(silent_at)
        return min(candidates)

    # ------------------------------------------------------------ collecting

    def collect(self, now: datetime, *, force: bool = False) -> int:
        """Read every source when a poll is due; keep the samples durably, then let exports move away.

        Returns how many samples were new or changed."""
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
                changed = self.outbox.add_samples(name, batch.samples, db)
                for path, sha in batch.files:
                    self.outbox.mark_file(db, path, sha, now)
                if batch.watermark is not None:
                    self.outbox.set_state(key, batch.watermark, db)
                unknown = self.outbox.note_unknown_tags(name, batch.samples, self._known_tags, now)
            for tag in unknown:
                log.warning(
                    "source %s gives tag %r, which no device maps (a typo in the configuration?)",
                    name,
                    tag,
                    extra={"event": "unknown_tag", "source": name, "tag": tag},
                )
            kept += len(changed)
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
        due = now - schedule.settle
        return [
            p
            for p in closed_periods(first, due, daily=schedule.daily, two_hourly=schedule.two_hourly)
            if not self.outbox.is_built(p)
        ]

    def build(self, now: datetime) -> list[Period]:
        """Build every period whose slot and settle time have passed (missed ones included), oldest first."""
        built = []
        for period in self._closable(now):
            self.build_period(period, now)
            built.append(period)
        return built

    def rebuild(self, now: datetime) -> list[Period]:
        """Periods that late values changed: send what changed as a correction (module docstring)."""
        schedule = self.config.schedule
        horizon = now - timedelta(days=schedule.corrections_days)
        first = local_instant(schedule.first_day, 0)
        rebuilt = []
        for period in self.outbox.dirty_periods():
            wanted = (period.is_daily and schedule.daily) or (not period.is_daily and schedule.two_hourly)
            if not wanted or period.start < first or not self.outbox.is_built(period):
                self.outbox.clear_dirty(period)  # its first build will read every sample kept
                continue
            if period.end < horizon:
                log.warning(
                    "late values for %s came more than %d days after it: kept, not sent "
                    "(egsu-agent send --period sends them)",
                    period.label,
                    schedule.corrections_days,
                    extra={"event": "late_beyond_corrections", "period": period.label},
                )
                self.outbox.clear_dirty(period)
                continue
            result = self.build_period(period, now)
            if result.messages:
                rebuilt.append(period)
        return rebuilt

    def build_period(self, period: Period, now: datetime, *, resend_all: bool = False) -> BuildResult:
        """Build a period, or rebuild it: only records that changed since its last build go out again
        (all of them with ``resend_all``), carrying along those of its still-pending messages."""
        devices = self.config.devices
        tags = [tag for device in devices for tag in device.tags]
        window = self.outbox.samples(tags, period.start - (period.end - period.start), period.end)
        items: list[tuple[str, dict[str, str]]] = []
        for device in devices:
            result = aggregate.device_values(device, period, window, decimals=self.config.decimals)
            record = aggregate.device_record(device, period, result, registered_at=now)
            if record is not None:
                items.append((device.key, record))
        prints = {key: fingerprint(record) for key, record in items}
        built = self.outbox.built(period)
        supersede: list[str] = []
        if built is None or resend_all:
            include = set(prints)
            changed = set(prints)
        else:
            previous = self.outbox.period_fingerprints(period)
            changed = {key for key, value in prints.items() if previous.get(key) != value}
            include = set(changed)
        pending = [m for m in self.outbox.messages_for(period.interval, period.start) if m.state == PENDING]
        if built is not None and include:
            carried = {key for message in pending for key in message.devices}
            if carried <= set(prints):  # every pending record has a newer build: replace those messages
                include |= carried
                supersede = [m.message_id for m in pending]
        if built is not None and not include:
            self.outbox.clear_dirty(period)
            return BuildResult(built.version, len(items), 0, ())
        system = self.config.system
        messages = build_messages(
            [(key, record) for key, record in items if key in include],
            identity=self.identity,
            sender_id=system.sender_id,
            password=system.password,
            service_id=system.service_id,
            message_date=now,
            sign_business_data=system.sign_business_data,
            max_bytes=self.config.delivery.max_message_bytes,
        )
        version = self.outbox.add_version(
            period,
            [(m.message_id, m.envelope, m.records, m.devices) for m in messages],
            {key: prints[key] for key in include},
            now=now,
            records=len(items),
            supersede=supersede,
        )
        event = "period_built" if built is None else "period_corrected"
        log.info(
            "period %s %s (version %d): %d of %d records in %d messages",
            period.label,
            "built" if built is None else "corrected by late values",
            version,
            len(include),
            len(items),
            len(messages),
            extra={
                "event": event,
                "period": period.label,
                "version": version,
                "records": len(include),
                "messages": len(messages),
                "superseded": len(supersede),
            },
        )
        return BuildResult(version, len(items), len(messages), tuple(sorted(changed)))

    # ------------------------------------------------------------ delivering

    def deliver(self, now: datetime, *, only: list[str] | None = None, ignore_pause: bool = False) -> int:
        """Send due messages oldest first under the retry rule (delivery.py); the number delivered.

        A period's messages go in version order: a correction never overtakes an older
        message of its period that is still owed."""
        paused = self.outbox.get_state(PAUSED_UNTIL)
        if paused and now < parse_iso(paused) and not ignore_pause:
            return 0
        owed = self.outbox.pending()
        due = [
            m
            for m in owed
            if (only is None and m.next_attempt_at <= now) or (only is not None and m.message_id in only)
        ]
        if not due:
            return 0
        delivered = 0
        owed_versions: dict[tuple[str, datetime], list[int]] = {}
        for message in owed:
            owed_versions.setdefault((message.interval, message.period_start), []).append(message.version)
        progress = _progress(len(due)) if self.progress and len(due) > 1 else None
        task = progress.add_task("backfill", total=len(due)) if progress else None
        try:
            for message in due:
                period_key = (message.interval, message.period_start)
                if message.version > min(owed_versions[period_key]):
                    continue  # an older message of this period is still owed: it goes first
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
                if state != PENDING:
                    owed_versions[period_key].remove(message.version)
                    if not owed_versions[period_key]:
                        owed_versions[period_key].append(message.version + 1)
                log.log(
                    logging.INFO if outcome.state == "delivered" else logging.WARNING,
                    "message %s (%s, %s, version %d) %s: %s %s",
                    message.message_id,
                    message.interval,
                    iso(message.period_start),
                    message.version,
                    outcome.state,
                    outcome.code,
                    outcome.detail,
                    extra={
                        "event": "attempt",
                        "message_id": message.message_id,
                        "outcome": outcome.state,
                        "code": outcome.code,
                        "version": message.version,
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

    # ------------------------------------------------------------ notices

    def announce_maintenance(self, start: datetime, end: datetime, reason: str) -> Notice:
        """INT-12/INT-45: queue and send a maintenance announcement, at least 3 days ahead."""
        if self.config.notices is None:
            raise ValueError("no [notices] section: nobody to announce the maintenance to")
        now = self.clock.now()
        notice = maintenance_notice(self.config.notices, start=start, end=end, now=now, reason=reason)
        notice_id = self.outbox.add_notice(
            "maintenance", iso(start), notice.subject, notice.body, now, notice.fields
        )
        self.outbox.close_notice(notice_id, now)
        self.flush_notices(now)
        return notice

    def flush_notices(self, now: datetime) -> int:
        """Offer queued notices to every channel; each channel's acknowledgement is kept, and a
        channel that failed is tried again on a later tick without repeating the others."""
        if not self.notice_channels:
            return 0
        sent = 0
        for stored in self.outbox.unsent_notices():
            taken = self.outbox.notice_sent_on(stored.id)
            errors = []
            for channel in self.notice_channels:
                if channel.name in taken:
                    continue
                try:
                    acknowledgement = channel.send(Notice(stored.subject, stored.body, stored.fields))
                except Exception as exc:  # noqa: BLE001 - SMTP errors are many; retried on the next tick
                    error = f"{channel.name}: {exc}"[:500]
                    errors.append(error)
                    self.outbox.record_notice_send(
                        stored.id, channel.name, now=now, acknowledgement=None, error=error
                    )
                    log.warning("notice not sent: %s", error, extra={"event": "notice_error"})
                    continue
                self.outbox.record_notice_send(
                    stored.id, channel.name, now=now, acknowledgement=acknowledgement, error=None
                )
            if errors:
                self.outbox.mark_notice(stored.id, sent_at=None, error="; ".join(errors))
                continue
            self.outbox.mark_notice(stored.id, sent_at=now, error=None)
            log.info("notice sent: %s", stored.subject, extra={"event": "notice_sent", "kind": stored.kind})
            sent += 1
        return sent

    # ------------------------------------------------------------ recovery and status

    def send_period(self, interval: str, start: datetime, *, force: bool = False, rebuild: bool = False):
        """``egsu-agent send``: see recovery.send_period."""
        from egsu_agent.recovery import send_period

        return send_period(self, interval, start, force=force, rebuild=rebuild)

    def status(self) -> dict:
        """``egsu-agent status``: see recovery.status."""
        from egsu_agent.recovery import status

        return status(self)


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


__all__ = ["Agent", "BuildResult", "fingerprint", "REJECTED", "DELIVERED", "PENDING"]
