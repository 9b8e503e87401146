"""Where alarms come from (MON-05, AMI-13, INT-10, INT-11, MTR-06..14, DIG-45).

Each source names its conditions by a stable key and calls `raise_alarm` while the condition holds
and `clear_alarm` (or `clear_all_except` after a full re-evaluation) when it no longer does; the
lifecycle (folding, reopening, history) is egsu.alarms.services'. Titles are English phrases marked
for translation: pages and e-mails show them in the reader's language.

- meter events: an event of the MTR catalogue flagged alarming opens an alarm on the meter's
  metering point; its "restore" counterpart (egsu.ami.events.CLEARED_BY) closes it. A fault of the
  meter itself (DEVICE_FAULTS) also starts its replacement clock (DIG-45, egsu.schemes.registers).
- missing data (INT-10): a metering point owing a slot 3 hours past its due time; a subject whose
  every owing point is silent gets one alarm instead of one per point. Notices (INT-09..12)
  postpone the alarm for the slots of the announced period until the period is over.
- device status (INT-11): an ISUN record with deviceStatus = no, at once, at intake; a later
  record of the same device with deviceStatus = yes closes it.
- metrological verification (DIG-45): a point whose next verification date has passed.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils.translation import gettext_noop

from egsu.alarms.models import ACTIVE_STATES, Alarm, Notice
from egsu.alarms.services import clear_alarm, clear_all_except, raise_alarm
from egsu.ami.events import CLEARS, CRITICAL, MeterEventCode
from egsu.monitoring.models import Arrival, ArrivalStatus
from egsu.monitoring.slots import SLOT_INTERVALS, slots_between
from egsu_core.clock import astana_date, utcnow
from egsu_core.vocabulary import Severity

METER_EVENT = "meter_event"
MISSING_DATA = "missing_data"
DEVICE_STATUS = "device_status"
VERIFICATION = "verification"  # raised by egsu.schemes.registers.watch_verifications (OGM-09)

SOURCE_LABELS = {
    METER_EVENT: gettext_noop("Meter event"),
    MISSING_DATA: gettext_noop("Missing data"),
    DEVICE_STATUS: gettext_noop("Device status"),
    VERIFICATION: gettext_noop("Metrological verification"),
}

EVENT_TITLES: dict[MeterEventCode, str] = {
    MeterEventCode.COVER_OPENED: gettext_noop("Meter cover opened"),
    MeterEventCode.TERMINAL_COVER_OPENED: gettext_noop("Terminal cover opened"),
    MeterEventCode.MAGNETIC_FIELD: gettext_noop("Magnetic field detected"),
    MeterEventCode.ELECTROSTATIC_DISCHARGE: gettext_noop("Electrostatic discharge"),
    MeterEventCode.UNAUTHORISED_INTERFACE_ACCESS: gettext_noop("Unauthorised interface access"),
    MeterEventCode.CLOCK_FAILURE: gettext_noop("Meter clock failure"),
    MeterEventCode.LOW_BATTERY: gettext_noop("Low battery"),
    MeterEventCode.RELAY_OFF_TAMPER: gettext_noop("Relay opened on tampering"),
    MeterEventCode.RELAY_COMMAND_FAILED: gettext_noop("Relay command failed"),
    MeterEventCode.THRESHOLD_EXCEEDED: gettext_noop("Threshold exceeded"),
    MeterEventCode.LIMIT_EXCEEDED: gettext_noop("Limit exceeded"),
    MeterEventCode.OVERLOAD: gettext_noop("Overload"),
    MeterEventCode.PHASE_VOLTAGE_ABSENT: gettext_noop("Phase voltage absent"),
    MeterEventCode.WRONG_PHASE_CONNECTION: gettext_noop("Wrong phase connection"),
    MeterEventCode.WRONG_PHASE_NEUTRAL: gettext_noop("Phase and neutral swapped"),
    MeterEventCode.WATCHDOG_RESTART: gettext_noop("Meter restarted by its watchdog"),
    MeterEventCode.FIRMWARE_UPDATE_ERROR: gettext_noop("Firmware update failed"),
    MeterEventCode.MEASUREMENT_COEFFICIENT_ERROR: gettext_noop("Measurement coefficient error"),
    MeterEventCode.MEMORY_ERROR: gettext_noop("Meter memory error"),
    MeterEventCode.LEAK_DETECTED: gettext_noop("Leak detected"),
    MeterEventCode.SENSOR_FAULT: gettext_noop("Sensor fault"),
}
# Meter events that say the meter cannot measure any more: each starts a replacement clock at once
# (DIG-45); other alarms become a failure when a person declares it on the alarm's page.
DEVICE_FAULTS = frozenset(
    {MeterEventCode.SENSOR_FAULT, MeterEventCode.MEMORY_ERROR, MeterEventCode.MEASUREMENT_COEFFICIENT_ERROR}
)
SUBJECT_SILENT = gettext_noop("The subject sends no data")
POINT_SILENT = gettext_noop("Data missing past the grace time")
MANY_SILENT = gettext_noop("Many metering points send no data")
DEVICE_FAULT = gettext_noop("The device reports a fault (deviceStatus = no)")
VERIFICATION_OVERDUE = gettext_noop("Metrological verification overdue")

DEFAULT_MISSING_DATA_MINUTES = 150  # INT-10: noticed within 3 hours (checked every 15 minutes)
MAX_POINT_ALARMS = 20  # more silent points of one subject make one subject alarm (no storm, MON-06)
LOOKBACK = timedelta(days=1)  # the missing-data rule looks at slots due within the last day


# ---------------------------------------------------------------- meter events (AMI-13, MTR-06..14)


def meter_events(events: Iterable) -> int:
    """Open or close alarms for freshly stored MeterEvent rows (the AMI intake calls this); returns how
    many alarm changes were made. Events of a meter apply in the meter's time order."""
    relevant = [e for e in events if e.alarm or MeterEventCode(e.code) in CLEARS]
    if not relevant:
        return 0
    from egsu.ami.models import Meter
    from egsu.points.models import MeteringPoint

    meter_ids = {e.meter_id for e in relevant}
    points = {
        p.meter_id: p for p in MeteringPoint.objects.filter(meter_id__in=meter_ids).select_related("subject")
    }
    meters = {m.pk: m for m in Meter.objects.filter(pk__in=meter_ids - set(points)).select_related("subject")}
    changes = 0
    for event in sorted(relevant, key=lambda e: (e.meter_id, e.occurred_at)):
        code = MeterEventCode(event.code)
        point = points.get(event.meter_id)
        owner = f"point:{point.pk}" if point is not None else f"meter:{event.meter_id}"
        if code in CLEARS:
            opened = CLEARS[code]
            changes += (
                clear_alarm(source=METER_EVENT, key=f"{owner}:{opened.name}", at=event.occurred_at)
                is not None
            )
            continue
        meter = point.meter if point is not None else meters.get(event.meter_id)
        raise_alarm(
            source=METER_EVENT, key=f"{owner}:{code.name}",
            severity=Severity.CRITICAL if code in CRITICAL else Severity.WARNING,
            title=EVENT_TITLES.get(code, code.name), point=point,
            subject=None if point is not None else getattr(meter, "subject", None),
            evidence={"event": code.name, "code": int(code), "occurred_at": event.occurred_at.isoformat(),
                      "phase": event.phase, "details": event.details,
                      "value": None if event.value is None else str(event.value),
                      "serial_number": getattr(meter, "serial_number", "")},
            at=event.occurred_at,
        )  # fmt: skip
        changes += 1
        if (
            code in DEVICE_FAULTS and point is not None
        ):  # the meter itself is broken: the clock starts (DIG-45)
            from egsu.schemes.registers import report_failure

            report_failure(None, None, point, failed_on=astana_date(event.occurred_at), source="alarm",
                           note=EVENT_TITLES.get(code, code.name), evidence={"event": code.name})  # fmt: skip
    return changes


# ---------------------------------------------------------------- device status (INT-11)


def device_statuses(verdicts: Iterable) -> int:
    """ISUN records just stored: deviceStatus = no opens an alarm at once, yes closes it (INT-11)."""
    from egsu.points.models import MeteringPoint

    faults: dict[tuple[str, str], object] = {}
    healthy: set[tuple[str, str]] = set()
    for verdict in verdicts:
        record = getattr(verdict, "record", None)
        if record is None or record.device_ok is None or str(verdict.status) == "REJECTED":
            continue
        pair = (record.object_id, record.device_id)
        if record.device_ok:
            healthy.add(pair)
            faults.pop(pair, None)
        else:
            faults[pair] = record
            healthy.discard(pair)
    changes = 0
    if healthy:
        keys = {f"{o}/{d}" for o, d in healthy}
        active = Alarm.objects.filter(source=DEVICE_STATUS, key__in=keys, state__in=ACTIVE_STATES)
        for key in active.values_list("key", flat=True):
            changes += clear_alarm(source=DEVICE_STATUS, key=key) is not None
    if faults:
        lookup = Q()
        for object_id, device_id in faults:
            lookup |= Q(object_code=object_id, store_device_id=device_id)
        points = {p.store_key: p for p in MeteringPoint.objects.filter(lookup).select_related("subject")}
        for pair, record in faults.items():
            raise_alarm(
                source=DEVICE_STATUS, key=f"{pair[0]}/{pair[1]}", severity=Severity.WARNING, title=DEVICE_FAULT,
                point=points.get(pair), evidence={"object_id": pair[0], "device_id": pair[1],
                                                  "period_start": record.period_start.isoformat()},
            )  # fmt: skip
            changes += 1
    return changes


# ---------------------------------------------------------------- missing data (INT-10)


def missing_data_delay() -> timedelta:
    """How long past its due time a slot may be missing before it is an alarm (INT-10: 3 hours)."""
    return timedelta(
        minutes=int(getattr(settings, "EGSU_MISSING_DATA_ALARM_MINUTES", DEFAULT_MISSING_DATA_MINUTES))
    )


def announced(notices: list[Notice], point_id: int, period_start: datetime) -> Notice | None:
    """The notice whose period holds this slot of this point, if any."""
    for notice in notices:
        if notice.starts_at <= period_start < notice.ends_at and (
            not notice.covered or point_id in notice.covered
        ):
            return notice
    return None


def active_notices(subject_ids, since: datetime) -> dict[int, list[Notice]]:
    """Notices not withdrawn that end after `since`, by subject, each with `covered` (point ids or empty)."""
    found: dict[int, list[Notice]] = defaultdict(list)
    for notice in Notice.objects.filter(
        subject_id__in=subject_ids, withdrawn_at__isnull=True, ends_at__gt=since
    ).prefetch_related("points"):
        notice.covered = {p.pk for p in notice.points.all()}
        found[notice.subject_id].append(notice)
    return found


def silent_points(now: datetime | None = None) -> dict[int, tuple[list, dict]]:
    """Per subject id: (its owing points, {point id: missing slots}) — slots due at least the delay ago,
    within the lookback, with nothing accepted; a slot in an announced period waits until the
    period is over (plus the delay).

    Cheap at national scale: the window's slots are laid out once per interval; a point is looked at
    slot by slot only when fewer of its slots arrived than it owes (one grouped count for all points).
    """
    from egsu.points.models import MeteringPoint

    now = now or utcnow()
    delay = missing_data_delay()
    oldest_due = now - LOOKBACK
    start, end = astana_date(oldest_due - timedelta(days=1)), astana_date(now)
    window = _window_slots(start, end, due_by=now - delay, oldest_due=oldest_due)
    by_subject: dict[int, list] = defaultdict(list)
    owing = MeteringPoint.objects.filter(owes=True).exclude(owed_intervals="").order_by("pk")
    for point in owing.only("pk", "subject_id", "owed_intervals", "owes", "owes_from", "owes_until"):
        by_subject[point.subject_id].append(point)
    # each interval's arrivals from its own first slot of the window, so counts compare like with like
    in_window = Q(pk__in=[])
    for interval, (slots, _days) in window.items():
        if slots:
            in_window |= Q(interval=interval, period_start__gte=slots[0].period_start,
                           period_start__lte=slots[-1].period_start)  # fmt: skip
    recent = Arrival.objects.filter(in_window, point__isnull=False).exclude(status=ArrivalStatus.REJECTED)
    counts = dict(
        ((point_id, interval), n)
        for point_id, interval, n in recent.order_by().values("point_id", "interval").annotate(n=Count("pk"))
        .values_list("point_id", "interval", "n")
    )  # fmt: skip
    notices = active_notices(list(by_subject), oldest_due - timedelta(days=1))
    result: dict[int, tuple[list, dict]] = {}
    for subject_id, points in by_subject.items():
        owed = {}  # point → (interval, its slots in the window) where fewer arrived than owed
        for point in points:
            for interval in point.intervals:
                slots = _owed_in_window(window.get(interval), point)
                if slots and counts.get((point.pk, interval), 0) < len(slots):
                    owed.setdefault(point, []).append((interval, slots))
        missing: dict[int, list] = {}
        if owed:
            arrived = set(
                recent.filter(point__in=[p.pk for p in owed]).values_list(
                    "point_id", "interval", "period_start"
                )
            )
            for point, owed_slots in owed.items():
                for interval, slots in owed_slots:
                    for slot in slots:
                        if (point.pk, interval, slot.period_start) in arrived:
                            continue
                        notice = announced(notices.get(subject_id, []), point.pk, slot.period_start)
                        if notice is not None and now < notice.ends_at + delay:
                            continue  # announced: still owed, the alarm waits for the period's end
                        missing.setdefault(point.pk, []).append(slot)
        result[subject_id] = (points, missing)
    return result


def _window_slots(
    start: date, end: date, *, due_by: datetime, oldest_due: datetime
) -> dict[str, tuple[list, list]]:
    """Per interval: the slots of Astana days start..end due between oldest_due and due_by, and their days."""
    found = {}
    for interval in SLOT_INTERVALS:
        slots = [s for s in slots_between(interval, start, end, due_by=due_by) if s.due_at >= oldest_due]
        found[interval.value] = (slots, [s.day for s in slots])
    return found


def _owed_in_window(window: tuple[list, list] | None, point) -> list:
    """The window's slots on the days the point owes (owes_from..owes_until)."""
    if window is None or not point.owes:
        return []
    slots, days = window
    low = bisect_left(days, point.owes_from)
    high = bisect_right(days, point.owes_until) if point.owes_until else len(days)
    return slots[low:high]


def evaluate_missing_data(now: datetime | None = None) -> dict:
    """Raise and clear the missing-data alarms for the state at `now` (the periodic job's body)."""
    from egsu.points.models import MeteringPoint
    from egsu.registry.models import Subject

    now = now or utcnow()
    keys: set[str] = set()
    silent = silent_points(now)
    subjects = {s.pk: s for s in Subject.objects.filter(pk__in=[k for k, (_p, m) in silent.items() if m])}
    for subject_id, (points, missing) in silent.items():
        if not missing:
            continue
        subject = subjects[subject_id]
        if (len(missing) == len(points) and len(points) > 1) or len(missing) > MAX_POINT_ALARMS:
            # a subject that stopped sending, or many of its points at once: one alarm, not a storm (MON-06)
            key = f"subject:{subject.bin}"
            everything = len(missing) == len(points)
            oldest = min(s.period_start for slots in missing.values() for s in slots)
            raise_alarm(
                source=MISSING_DATA, key=key, severity=Severity.CRITICAL if everything else Severity.WARNING,
                title=SUBJECT_SILENT if everything else MANY_SILENT, subject=subject,
                evidence={"points": len(points), "silent_points": len(missing),
                          "missing_slots": sum(len(s) for s in missing.values()), "oldest_missing": oldest.isoformat(),
                          "sample_points": sorted(missing)[:50]},
                at=now,
            )  # fmt: skip
            keys.add(key)
            continue
        for point in MeteringPoint.objects.filter(pk__in=list(missing)).select_related("subject"):
            slots = missing[point.pk]
            key = f"point:{point.pk}"
            raise_alarm(
                source=MISSING_DATA, key=key,
                severity=Severity.CRITICAL if len(points) == 1 else Severity.WARNING,
                title=POINT_SILENT, point=point,
                evidence={"missing_slots": len(slots), "oldest_missing": slots[0].period_start.isoformat(),
                          "newest_missing": slots[-1].period_start.isoformat(),
                          "intervals": sorted({s.interval.value for s in slots})},
                at=now,
            )  # fmt: skip
            keys.add(key)
    closed = clear_all_except(source=MISSING_DATA, keys=keys, at=now)
    return {"active": len(keys), "closed": closed}
