"""Runs the rule catalogue over a batch of values, column-wise (no Django, no object per value).

The service reads values from the readings store into a `Batch` (series metadata once per series,
values as arrays) and hands it here with the settings resolver; `evaluate()` answers with the
findings (one per run of flagged values, or per gap) and, per value, whether any rule flagged it,
for the quality score.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from egsu.vee import rules
from egsu.vee.catalogue import Code, default_limits, is_amount, is_counter
from egsu.vee.settings import Resolved
from egsu_core.clock import ASTANA
from egsu_core.vocabulary import Interval

_SWITCH = int(datetime(2024, 2, 29, 18, tzinfo=UTC).timestamp())  # Astana UTC+6 → UTC+5 (INT-37)


def astana_days(t: np.ndarray) -> np.ndarray:
    """Astana calendar day of each instant, as days since 1970-01-01 (the zone's two offsets)."""
    offset = np.where(t < _SWITCH, 6 * 3600, 5 * 3600)
    return (t + offset) // 86400


def check_zone() -> None:  # the offsets above are the zone's; a test keeps them honest
    for moment in (datetime(2023, 6, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC)):
        expected = moment.astimezone(ASTANA).utcoffset()
        got = timedelta(seconds=int(6 * 3600 if moment.timestamp() < _SWITCH else 5 * 3600))
        assert expected == got, (moment, expected, got)


@dataclass(frozen=True)
class SeriesInfo:
    object_id: str
    device_id: str
    quantity: str
    interval: str
    unit: str
    point_id: int | None = None
    subject_id: int | None = None
    device_type: str = ""
    installed_from: int = 0  # seconds UTC; values before it are flagged by TIMESTAMP


@dataclass
class Batch:
    series: list[SeriesInfo] = field(default_factory=list)
    sid: array = field(default_factory=lambda: array("q"))
    t: array = field(default_factory=lambda: array("q"))
    v: array = field(default_factory=lambda: array("d"))

    def __len__(self) -> int:
        return len(self.v)


@dataclass(frozen=True)
class Found:
    rule: str
    series: int  # index into Batch.series
    first: int  # first period start, seconds UTC
    last: int
    values: int
    detail: dict


@dataclass
class Outcome:
    findings: list[Found]
    flagged: np.ndarray  # per value of the batch
    missing: list[tuple[int, int, int]]  # (series, first, slots) of every gap


Resolver = Callable[[str, SeriesInfo], Resolved]


def evaluate(batch: Batch, resolve: Resolver, *, now: int) -> Outcome:
    sid = np.frombuffer(batch.sid, dtype=np.int64) if len(batch) else np.zeros(0, dtype=np.int64)
    t = np.frombuffer(batch.t, dtype=np.int64) if len(batch) else np.zeros(0, dtype=np.int64)
    v = np.frombuffer(batch.v, dtype=np.float64) if len(batch) else np.zeros(0, dtype=np.float64)
    flagged = np.zeros(len(v), dtype=bool)
    findings: list[Found] = []
    missing: list[tuple[int, int, int]] = []
    series = batch.series
    # Frames: the series of one (quantity, interval, unit) laid end to end (series are contiguous).
    groups: dict[tuple[str, str, str], list[int]] = {}
    for index, info in enumerate(series):
        groups.setdefault((info.quantity, info.interval, info.unit), []).append(index)
    bounds = np.searchsorted(sid, np.arange(len(series) + 1))
    for (quantity, interval, unit), members in groups.items():
        rows = np.concatenate([np.arange(bounds[m], bounds[m + 1]) for m in members])
        if len(rows):
            _judge_frame(series, members, rows, sid, t, v, (quantity, interval, unit), resolve, now,
                         flagged, findings, missing)  # fmt: skip
    findings += _sum_register(series, sid, t, v, bounds, resolve, flagged)
    findings += _mass_density(series, sid, t, v, bounds, resolve, flagged)
    return Outcome(findings, flagged, missing)


def _judge_frame(series, members, rows, sid, t, v, kind, resolve, now, flagged, findings, missing) -> None:
    """Every single-quantity rule over one frame (the series of one quantity, interval and unit)."""
    quantity, interval, unit = kind
    frame = rules.Frame(sid[rows], t[rows], v[rows])
    step = int(Interval(interval).step.total_seconds()) if Interval(interval).step else 0

    def settings(code: Code, members=members) -> tuple[np.ndarray, list[Resolved]]:
        resolved = [resolve(code, series[m]) for m in members]
        on = np.zeros(len(series), dtype=bool)
        on[members] = [r.enabled for r in resolved]
        return on, resolved

    def param(code_resolved: list[Resolved], name: str, members=members, default=np.nan) -> np.ndarray:
        out = np.full(len(series), default, dtype=np.float64)
        out[members] = [float(r.params.get(name, default)) for r in code_resolved]
        return out

    def report(code: Code, mask: np.ndarray, detail: Callable[[int, int], dict] | None = None) -> None:
        if not mask.any():
            return
        flagged[rows[mask]] = True
        first, last = rules.runs(mask, frame.sid)
        for a, b in zip(first.tolist(), last.tolist(), strict=True):
            findings.append(Found(code.value, int(frame.sid[a]), int(frame.t[a]), int(frame.t[b]), b - a + 1,
                                  detail(a, b) if detail else {"value": float(frame.v[a])}))  # fmt: skip

    # RANGE by quantity and unit
    on, resolved = settings(Code.RANGE)
    limits = default_limits(quantity, unit) or (np.nan, np.nan)
    if is_amount(quantity) and limits[0] == 0:
        limits = (np.nan, limits[1])  # below zero is NEGATIVE's finding, not a second one
    low = param(resolved, "low", default=limits[0])[frame.sid]
    high = param(resolved, "high", default=limits[1])[frame.sid]
    report(Code.RANGE, on[frame.sid] & rules.out_of_range(frame, low, high))
    # TIMESTAMP: future, or before installation
    on, resolved = settings(Code.TIMESTAMP)
    tolerance = param(resolved, "future_tolerance_s", default=600)[frame.sid]
    installed = np.array([info.installed_from for info in series], dtype=np.int64)[frame.sid]
    future, early = rules.timestamps(frame, now, tolerance, installed)
    report(Code.TIMESTAMP, on[frame.sid] & (future | early))
    if is_amount(quantity):
        on, _ = settings(Code.NEGATIVE)
        report(Code.NEGATIVE, on[frame.sid] & rules.negative(frame))
        on, resolved = settings(Code.SPIKE)
        factor, floor = param(resolved, "factor")[frame.sid], param(resolved, "floor")[frame.sid]
        report(Code.SPIKE, on[frame.sid] & rules.spikes(frame, factor, floor))
    if is_counter(quantity):
        on, resolved = settings(Code.ROLLBACK)
        replacements = _replacements(members, resolved)
        exempt = rules.replaced_between(frame, replacements)
        report(Code.ROLLBACK, on[frame.sid] & rules.rollback(frame, exempt),
               lambda a, b: {"value": float(frame.v[a]), "previous": float(frame.v[a - 1])})  # fmt: skip
    elif step:
        on, resolved = settings(Code.STUCK)
        min_run = param(resolved, "min_run", default=16)[frame.sid]
        ignore_zero = param(resolved, "ignore_zero", default=1)[frame.sid] > 0
        report(Code.STUCK, on[frame.sid] & rules.stuck(frame, step, min_run, ignore_zero))
    if step:
        on, resolved = settings(Code.GAP)
        minimum = param(resolved, "min_slots", default=1)
        found = rules.gaps(frame, step)
        for s, first, last in zip(found.sid.tolist(), found.first.tolist(), found.last.tolist(), strict=True):
            slots = (last - first) // step + 1
            if on[s] and slots >= minimum[s]:
                findings.append(Found(Code.GAP.value, s, first, last, slots, {"missing": slots}))
                missing.append((s, first, slots))


def _replacements(members: list[int], resolved: list[Resolved]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for member, setting in zip(members, resolved, strict=True):
        instants = setting.params.get("replaced_at") or []
        if instants:
            found[member] = [int(datetime.fromisoformat(text).timestamp()) for text in instants]
    return found


def _pairs(series: list[SeriesInfo]) -> dict[tuple[str, str, str, str], int]:
    return {(s.object_id, s.device_id, s.quantity, s.interval): i for i, s in enumerate(series)}


def _sum_register(series, sid, t, v, bounds, resolve, flagged) -> list[Found]:
    """SUM_REGISTER for every register series whose channel's 15-minute (or other) values are in the batch."""
    by_key = _pairs(series)
    found: list[Found] = []
    register_rows, interval_rows, steps = [], [], []
    for index, info in enumerate(series):
        if not info.quantity.startswith("reg:"):
            continue
        base = info.quantity[4:]
        for interval in (Interval.QUARTER_HOUR, Interval.TEN_MINUTES, Interval.HOUR):
            partner = by_key.get((info.object_id, info.device_id, base, interval.value))
            if partner is None:
                continue
            setting = resolve(Code.SUM_REGISTER, info)
            if not setting.enabled:
                break
            register_rows.append(np.arange(bounds[index], bounds[index + 1]))
            interval_rows.append(np.arange(bounds[partner], bounds[partner + 1]))
            steps.append((index, int(interval.step.total_seconds()), setting))
            break
    if not register_rows:
        return found
    for (index, step, setting), r_rows, i_rows in zip(steps, register_rows, interval_rows, strict=True):
        registers = rules.Frame(np.full(len(r_rows), index, dtype=np.int64), t[r_rows], v[r_rows])
        intervals = rules.Frame(np.full(len(i_rows), index, dtype=np.int64), t[i_rows], v[i_rows])
        mask, total, difference = rules.interval_vs_register(
            registers, intervals, step, setting.params.get("tolerance_abs", 0.5),
            setting.params.get("tolerance_rel", 0.01),
        )  # fmt: skip
        for a in np.flatnonzero(mask).tolist():
            flagged[r_rows[a]] = True
            found.append(Found(Code.SUM_REGISTER.value, index, int(registers.t[a - 1]), int(registers.t[a]), 1,
                               {"intervals": round(float(total[a]), 6), "register": round(float(difference[a]), 6)}))  # fmt: skip
    return found


def _mass_density(series, sid, t, v, bounds, resolve, flagged) -> list[Found]:
    """MASS_DENSITY where one device reports volume, density and mass for the same slots."""
    by_key = _pairs(series)
    found: list[Found] = []
    for index, info in enumerate(series):
        if info.quantity != "mass":
            continue
        volume = by_key.get((info.object_id, info.device_id, "volume", info.interval))
        density = by_key.get((info.object_id, info.device_id, "density", info.interval))
        if volume is None or density is None:
            continue
        setting = resolve(Code.MASS_DENSITY, info)
        if not setting.enabled:
            continue
        m_rows = np.arange(bounds[index], bounds[index + 1])
        aligned = [_aligned(t, v, bounds, other, t[m_rows]) for other in (volume, density)]
        mask, expected = rules.mass_volume_density(
            aligned[0], aligned[1], v[m_rows], setting.params.get("tolerance_abs", 0.1),
            setting.params.get("tolerance_rel", 0.01),
        )  # fmt: skip
        flagged[m_rows[mask]] = True
        first, last = rules.runs(mask, np.full(len(m_rows), index))
        for a, b in zip(first.tolist(), last.tolist(), strict=True):
            row = m_rows[a]
            found.append(Found(Code.MASS_DENSITY.value, index, int(t[row]), int(t[m_rows[b]]), b - a + 1,
                               {"mass": float(v[row]), "expected": round(float(expected[a]), 6)}))  # fmt: skip
    return found


def _aligned(t, v, bounds, other: int, slots: np.ndarray) -> np.ndarray:
    """The values of series `other` at `slots` (NaN where it has none)."""
    rows = np.arange(bounds[other], bounds[other + 1])
    where = np.searchsorted(t[rows], slots)
    where = np.clip(where, 0, max(len(rows) - 1, 0))
    out = np.full(len(slots), np.nan)
    if len(rows):
        hit = t[rows][where] == slots
        out[hit] = v[rows][where][hit]
    return out
