"""When a notice is due: silent devices (INT-10), device faults (INT-11), a dead link (INT-10).

- Silence is measured from the last sample, not from a period: a device tag whose newest
  sample is ``no_data_after_minutes`` old (at most 170) is silent now, and the service
  wakes at exactly that moment to say so, so the notice leaves within three hours of
  the last sample whatever the poll interval or slot (INT-10). "Failure since" is that
  sample's time.
- A fault is what the newest sample of a tag says: a sample flagged faulty (an OPC UA
  Bad status, an export's fault column) or a status tag that is not 0. It is reported in
  the tick that reads it (INT-11: at once), since the first sample of the faulty run.
  A fault that has already cleared by the time its samples arrive (a late export) is not
  reported again: the period's records carry deviceStatus "no" for it (FMT-05).
- One notice per device and kind stays open until the condition ends; then a
  "restored" notice closes it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from egsu_agent.config import AgentConfig, DeviceConfig
from egsu_agent.notices import failure_notice, restored_notice
from egsu_agent.outbox import Outbox, iso
from egsu_agent.samples import Sample

log = logging.getLogger("egsu_agent.watch")
DEFAULT_SILENCE = timedelta(minutes=120)
NO_DATA = "no-data"
FAULT = "fault"
DELIVERY = "delivery"


def is_faulty(sample: Sample, *, status_tag: bool) -> bool:
    return sample.fault or (status_tag and sample.value != 0)


class Watcher:
    def __init__(self, config: AgentConfig, outbox: Outbox) -> None:
        self.config = config
        self.outbox = outbox

    @property
    def threshold(self) -> timedelta:
        notices = self.config.notices
        return notices.no_data_after if notices is not None else DEFAULT_SILENCE

    # ------------------------------------------------------------ INT-10: silence

    def _last(self, device: DeviceConfig, reference: datetime) -> dict[str, datetime]:
        return {tag: at or reference for tag, at in self.outbox.last_samples(device.tags).items()}

    def silence(self, now: datetime, reference: datetime) -> None:
        for device in self.config.devices:
            last = self._last(device, reference)
            silent = {tag: at for tag, at in last.items() if at + self.threshold <= now}
            open_id = self.outbox.open_notice(NO_DATA, device.key)
            what = f"no data from device {device.device} of object {device.object_id}"
            if silent and open_id is None:
                since = min(silent.values())
                details = "No sample since then from: " + ", ".join(
                    f"{tag} (last {iso(at)})" for tag, at in sorted(silent.items())
                )
                self._open(NO_DATA, device, what, since, now,
                           details + ". Possible causes: meter, power or local link failure (App.1 §10).")  # fmt: skip
            elif not silent and open_id is not None:
                self.restore(open_id, what, now)

    def next_silence(self, now: datetime, reference: datetime) -> datetime | None:
        """The next moment a device becomes silent if nothing arrives meanwhile (to wake up then)."""
        moments = []
        for device in self.config.devices:
            if self.outbox.open_notice(NO_DATA, device.key) is not None:
                continue
            moments += [at + self.threshold for at in self._last(device, reference).values()]
        future = [m for m in moments if m > now]
        return min(future) if future else None

    # ------------------------------------------------------------ INT-11: faults

    def faults(self, now: datetime) -> None:
        for device in self.config.devices:
            runs: dict[str, tuple[Sample, Sample]] = {}
            for tag in device.tags:
                status = tag == device.status_tag
                recent = self.outbox.recent_samples(tag, limit=200)
                if not recent or not is_faulty(recent[0], status_tag=status):
                    continue
                first = recent[0]
                for sample in recent:
                    if not is_faulty(sample, status_tag=status):
                        break
                    first = sample
                runs[tag] = (first, recent[0])
            open_id = self.outbox.open_notice(FAULT, device.key)
            what = f"fault of device {device.device} of object {device.object_id}"
            if runs and open_id is None:
                since = min(first.at for first, _ in runs.values())
                details = "; ".join(_fault_text(tag, latest, tag == device.status_tag)
                                    for tag, (_, latest) in sorted(runs.items()))  # fmt: skip
                self._open(FAULT, device, what, since, now, f"The device reports: {details} (App.1 §10).")
            elif not runs and open_id is not None:
                self.restore(open_id, what, now)

    # ------------------------------------------------------------ INT-10: the link to the System

    def delivery(self, now: datetime) -> None:
        notices = self.config.notices
        failures, since = self.outbox.consecutive_failures()
        open_id = self.outbox.open_notice(DELIVERY, "system")
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
                kind=DELIVERY,
            )
            self.outbox.add_notice(DELIVERY, "system", notice.subject, notice.body, now, notice.fields)
        elif failures == 0 and open_id is not None:
            self.restore(open_id, what, now)

    # ------------------------------------------------------------ opening and closing

    def _open(self, kind: str, device: DeviceConfig, what: str, since: datetime, now: datetime, details: str):
        notices = self.config.notices
        if notices is None:
            log.error("%s since %s (no [notices] configured: nobody is told)", what, iso(since),
                      extra={"event": kind, "device": device.key})  # fmt: skip
            self.outbox.add_notice(kind, device.key, f"{what} since {iso(since)}", details, now)
            self.outbox.mark_notice(self.outbox.open_notice(kind, device.key), sent_at=now, error=None)
            return
        notice = failure_notice(notices, what=what, since=since, detected=now, details=details, kind=kind,
                                object_id=device.object_id, device=device.device)  # fmt: skip
        self.outbox.add_notice(kind, device.key, notice.subject, notice.body, now, notice.fields)
        log.error("%s since %s: notice queued", what, iso(since), extra={"event": kind, "device": device.key})

    def restore(self, open_id: int, what: str, now: datetime) -> None:
        self.outbox.close_notice(open_id, now)
        opened = self.outbox.notice(open_id)
        since = (
            datetime.fromisoformat(opened.fields["since"]) if "since" in opened.fields else opened.opened_at
        )
        if self.config.notices is not None:
            notice = restored_notice(self.config.notices, what=what, since=since, restored=now)
            notice_id = self.outbox.add_notice(
                "restored", opened.key, notice.subject, notice.body, now, notice.fields
            )
            self.outbox.close_notice(notice_id, now)
        log.info("restored: %s", what, extra={"event": "restored", "key": opened.key})


def _fault_text(tag: str, sample: Sample, status_tag: bool) -> str:
    if sample.note:
        return f"{tag}: {sample.note}"
    if status_tag and not sample.fault:
        return f"status tag {tag} = {sample.value}"
    return f"{tag}: reading flagged faulty"
