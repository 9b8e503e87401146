"""Runs data quality over a window of values: read through the store, judge, store findings, alarm, score.

`run_window()` reads the newest revisions of every value whose period starts in the window
through the readings store (ReadingQuery/rows: the same on SQL and ClickHouse; estimated values
are skipped, they are what the System itself wrote), cuts them into batches at metering point
boundaries, lets egsu.vee.engine judge each batch column-wise, then replaces the window's findings,
raises an alarm (source "vee") per rule and metering point with findings of a configured severity
and closes the ones a re-run no longer finds, recomputes the quality score of each subject and
day, and estimates the gaps of 15-minute amounts (egsu.vee.estimation).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction

from egsu.alarms.models import ACTIVE_STATES, Alarm
from egsu.alarms.services import clear_alarm, raise_alarm
from egsu.points.models import MeteringPoint
from egsu.readings.services import get_store
from egsu.readings.store import Quality, ReadingQuery, ReadingRow, SeriesKey, value_stream
from egsu.vee import engine
from egsu.vee.catalogue import ESTIMATE_SOURCE, SPECS, Code, is_amount
from egsu.vee.estimation import estimate_series
from egsu.vee.models import Finding, QualityDay, Run
from egsu.vee.settings import Settings
from egsu_core.clock import astana_midnight, utcnow
from egsu_core.vocabulary import Interval

SOURCE = "vee"
BATCH_VALUES = 500_000  # values judged at once (cut at a metering point's boundary)
LOOK_BACK_DAYS = 2  # a periodic run re-judges the last two Astana days (late values arrive)
AHEAD = timedelta(days=2)  # and reads this far into the future (TIMESTAMP finds those)
# Rules judged by a run over values; the balances keep their own findings.
VALUE_RULES = tuple(code.value for code in SPECS if code not in (Code.TANK_BALANCE, Code.ENERGY_BALANCE))
MEASURED = tuple(q.value for q in Quality if q != Quality.ESTIMATED)
ESTIMATED = Quality.ESTIMATED.value


@dataclass(frozen=True)
class RunSummary:
    values: int
    findings: int
    alarms_raised: int
    alarms_closed: int
    estimated: int
    seconds: float
    judge_seconds: float = 0.0  # of `seconds`, in egsu.vee.engine (the rest: reading, storing, alarms)


@dataclass(frozen=True)
class PointInfo:
    pk: int
    subject_id: int
    device_type: str
    installed_from: int


def point_index() -> dict[tuple[str, str], PointInfo]:
    """(object_id, device_id) → what the rules need of its metering point."""
    rows = MeteringPoint.objects.values_list(
        "pk", "object_code", "store_device_id", "subject_id", "device__installed_at", "device__device_type_id",
        "meter__meter_type",
    )  # fmt: skip
    found = {}
    for pk, obj, dev, subject_id, installed_at, device_type, meter_type in rows.iterator(chunk_size=10_000):
        kind = str(device_type) if device_type is not None else (meter_type or "")
        # TIMESTAMP "before installation": a device's installation date; a meter has none recorded
        installed = int(astana_midnight(installed_at).timestamp()) if installed_at else 0
        found[(obj, dev)] = PointInfo(pk, subject_id, kind, installed)
    return found


def read_batches(query: ReadingQuery, points: dict, *, batch_values: int = BATCH_VALUES, store=None):
    """The values of `query` as engine batches, read through the store in series order (store.value_stream)."""
    store = store or get_store()
    batch = engine.Batch()
    current = None
    current_pair = None
    series, sid, times, values = batch.series, batch.sid, batch.t, batch.v
    index = -1
    for object_id, device_id, quantity, interval, seconds, value, unit, quality in value_stream(store, query):
        if quality == ESTIMATED:
            continue  # what the System wrote itself is not judged (a quality filter in the query costs more)
        ident = (object_id, device_id, quantity, interval)
        if ident != current:
            pair = (object_id, device_id)
            if pair != current_pair and len(values) >= batch_values:
                yield batch
                batch = engine.Batch()
                series, sid, times, values = batch.series, batch.sid, batch.t, batch.v
            point = points.get(pair)
            series.append(engine.SeriesInfo(
                object_id, device_id, quantity, interval, unit,
                point.pk if point else None, point.subject_id if point else None,
                point.device_type if point else "", point.installed_from if point else 0,
            ))  # fmt: skip
            index = len(series) - 1
            current, current_pair = ident, pair
        sid.append(index)
        times.append(int(seconds))
        values.append(float(value))
    if len(values):
        yield batch


def resolver(settings: Settings):
    def resolve(code, info: engine.SeriesInfo):
        return settings.resolve(
            code, point_id=info.point_id, device_type=info.device_type, quantity=info.quantity
        )

    return resolve


def run_window(start: datetime, end: datetime, *, now: datetime | None = None, estimate: bool = True,
               batch_values: int = BATCH_VALUES, store=None) -> RunSummary:  # fmt: skip
    """Judge every value with a period start in [start, end); replace that window's findings."""
    now = now or utcnow()
    began = time.perf_counter()
    store = store or get_store()
    settings = Settings.load()
    resolve = resolver(settings)
    points = point_index()
    query = ReadingQuery(start=start, end=end)
    found: list[tuple[engine.SeriesInfo, engine.Found]] = []
    checked: dict[tuple[int, int], int] = defaultdict(int)
    flagged: dict[tuple[int, int], int] = defaultdict(int)
    gaps: list[tuple[engine.SeriesInfo, int, int]] = []
    total = 0
    judging = 0.0
    for batch in read_batches(query, points, batch_values=batch_values, store=store):
        judged = time.perf_counter()
        outcome = engine.evaluate(batch, resolve, now=int(now.timestamp()))
        judging += time.perf_counter() - judged
        total += len(batch)
        _count(batch, outcome, checked, flagged)
        found += [(batch.series[f.series], f) for f in outcome.findings]
        gaps += [(batch.series[s], first, slots) for s, first, slots in outcome.missing]
    findings = _store_findings(found, start, end, now, settings)
    raised, closed = _alarms(findings, now)
    _scores(checked, flagged, findings)
    estimated = _estimate(gaps, store) if estimate else 0
    seconds = time.perf_counter() - began
    Run.objects.create(started_at=now, window_start=start, window_end=end, values=total,
                       findings=len(findings), estimated=estimated, seconds=seconds)  # fmt: skip
    return RunSummary(total, len(findings), raised, closed, estimated, seconds, judging)


def run_recent(now: datetime | None = None) -> RunSummary:
    """The periodic run: the last LOOK_BACK_DAYS Astana days up to now, and what claims to be ahead."""
    now = now or utcnow()
    from egsu_core.clock import astana_date

    start = astana_midnight(astana_date(now) - timedelta(days=LOOK_BACK_DAYS))
    return run_window(start, now + AHEAD, now=now)


def _count(batch: engine.Batch, outcome: engine.Outcome, checked, flagged) -> None:
    """Values checked and flagged per (subject, Astana day); gaps count as checked and flagged slots."""
    if not len(batch):
        return
    sid = np.frombuffer(batch.sid, dtype=np.int64)
    t = np.frombuffer(batch.t, dtype=np.int64)
    subjects = np.array([s.subject_id or 0 for s in batch.series], dtype=np.int64)[sid]
    days = engine.astana_days(t)
    keys = subjects * 1_000_000 + days
    for mask, target in ((np.ones(len(keys), dtype=bool), checked), (outcome.flagged, flagged)):
        unique, counts = np.unique(keys[mask], return_counts=True)
        for key, count in zip(unique.tolist(), counts.tolist(), strict=True):
            target[(key // 1_000_000, key % 1_000_000)] += count
    for series, first, slots in outcome.missing:
        subject = batch.series[series].subject_id or 0
        day = int(engine.astana_days(np.array([first]))[0])
        checked[(subject, day)] += slots
        flagged[(subject, day)] += slots


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _store_findings(
    found, start: datetime, end: datetime, now: datetime, settings: Settings
) -> list[Finding]:
    points = {
        p.pk: p for p in MeteringPoint.objects.filter(pk__in={s.point_id for s, _ in found if s.point_id})
    }
    rows = []
    for info, item in found:
        setting = settings.resolve(item.rule, point_id=info.point_id, device_type=info.device_type,
                                   quantity=info.quantity)  # fmt: skip
        point = points.get(info.point_id)
        step = Interval(info.interval).step
        rows.append(Finding(
            rule=item.rule, point=point, subject_id=info.subject_id, energy=point.energy if point else "",
            object_id=info.object_id, device_id=info.device_id, quantity=info.quantity, interval=info.interval,
            first_slot=_instant(item.first), last_slot=_instant(item.last) + (step or timedelta(0)),
            values=item.values, detail=item.detail, severity=setting.alarm, found_at=now,
        ))  # fmt: skip
    with transaction.atomic():
        Finding.objects.filter(rule__in=VALUE_RULES, first_slot__gte=start, first_slot__lt=end).delete()
        Finding.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return rows


def alarm_key(rule: str, object_id: str, device_id: str) -> str:
    return f"{rule}:{object_id}/{device_id}"


def _alarms(findings: list[Finding], now: datetime) -> tuple[int, int]:
    """One alarm per rule and metering point with findings of a configured severity; the rest close."""
    from egsu.vee.catalogue import SPECS as specs

    worst: dict[str, Finding] = {}
    for finding in findings:
        if not finding.severity:
            continue
        key = alarm_key(finding.rule, finding.object_id, finding.device_id)
        if key not in worst or _rank(finding.severity) > _rank(worst[key].severity):
            worst[key] = finding
    standing = {
        alarm_key(rule, obj, dev)
        for rule, obj, dev in Finding.objects.exclude(severity="").filter(rule__in=VALUE_RULES)
        .values_list("rule", "object_id", "device_id").distinct()
    }  # fmt: skip
    raised = 0
    for key, finding in worst.items():
        was_active = Alarm.objects.filter(source=SOURCE, key=key, state__in=ACTIVE_STATES).exists()
        raise_alarm(
            source=SOURCE, key=key, severity=finding.severity,
            title=f"{specs[Code(finding.rule)].label}: {finding.object_id}/{finding.device_id} {finding.quantity}",
            subject=finding.subject, point=finding.point, energy=finding.energy,
            evidence={"rule": finding.rule, "quantity": finding.quantity, "interval": finding.interval,
                      "first": finding.first_slot.isoformat(), "last": finding.last_slot.isoformat(),
                      "values": finding.values, **finding.detail},
            at=now,
        )  # fmt: skip
        raised += not was_active
    closed = 0
    prefixes = tuple(f"{rule}:" for rule in VALUE_RULES)
    for key in Alarm.objects.filter(source=SOURCE, state__in=ACTIVE_STATES).values_list("key", flat=True):
        if key.startswith(prefixes) and key not in standing:
            closed += clear_alarm(source=SOURCE, key=key, at=now) is not None
    return raised, closed


def _rank(severity: str) -> int:
    from egsu_core.vocabulary import Severity

    return Severity(severity).rank


def _scores(checked, flagged, findings: list[Finding]) -> None:
    per_day: dict[tuple[int, int], int] = defaultdict(int)
    for finding in findings:
        if finding.subject_id:
            day = int(engine.astana_days(np.array([int(finding.first_slot.timestamp())]))[0])
            per_day[(finding.subject_id, day)] += 1
    epoch = date(1970, 1, 1)
    for (subject, day), count in checked.items():
        if not subject:
            continue
        bad = flagged.get((subject, day), 0)
        score = Decimal(100 * (count - bad) / count).quantize(Decimal("0.01")) if count else Decimal(100)
        QualityDay.objects.update_or_create(
            subject_id=subject, day=epoch + timedelta(days=day),
            defaults={"checked": count, "flagged": bad, "findings": per_day.get((subject, day), 0), "score": score},
        )  # fmt: skip


def _estimate(gaps, store) -> int:
    """Estimate the gaps of 15-minute amounts and write them with quality `estimated` (AMI-16)."""
    step = int(Interval.QUARTER_HOUR.step.total_seconds())
    rows: list[ReadingRow] = []
    by_series: dict[engine.SeriesInfo, list[tuple[int, int]]] = defaultdict(list)
    for info, first, slots in gaps:
        if info.interval == Interval.QUARTER_HOUR and is_amount(info.quantity):
            by_series[info].append((first, slots))
    for info, spans in by_series.items():
        first = min(a for a, _ in spans)
        last = max(a + (n - 1) * step for a, n in spans)
        key = SeriesKey(info.object_id, info.device_id, info.quantity)
        query = ReadingQuery(
            object_ids=[info.object_id], device_ids=[info.device_id], quantities=[info.quantity],
            interval=info.interval, start=_instant(first - 15 * 86400), end=_instant(last + 2 * step),
            qualities=MEASURED,
        )  # fmt: skip
        known: dict[int, float] = {}
        commercial = False
        for row in store.rows(query):
            known[int(row.period_start.timestamp())] = float(row.value)
            commercial = commercial or row.commercial
        t = sorted(k for k in known if k >= first - step)
        estimates = estimate_series(t, [known[k] for k in t], step, history=known)
        wanted = {a + i * step for a, n in spans for i in range(n)}
        for item in estimates:
            if item.t in wanted:
                rows.append(ReadingRow(
                    key, info.interval, _instant(item.t), Decimal(f"{item.value:.6f}"), info.unit,
                    Quality.ESTIMATED.value, ESTIMATE_SOURCE, commercial,
                ))  # fmt: skip
    if rows:
        store.write_many(rows)
    return len(rows)
