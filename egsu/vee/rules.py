"""The validation rules of data quality (VEE), each a small pure function over columns (no Django).

A *frame* is many series of one quantity and interval laid end to end: `sid` (which series each
value belongs to, non-decreasing), `t` (period start, whole seconds UTC, increasing within a
series) and `v` (the value as a float). A rule takes the frame and its parameters — scalars, or
arrays with one entry per value when the parameters differ by metering point — and answers with a
boolean mask of the values it flags. Nothing here makes a Python object per value: a day of
100,000 meters is 9.6 million values (benchmarks/quality.py). `runs()` turns a mask into the
findings the service stores (one per run of consecutive flagged values of a series).

The requirement behind each rule is in issue 14 item 2 (PRC-01..05, MON-05).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# (sid, t) packed in one int64 so that searchsorted finds a slot of a series: t fits 32 bits until 2106.
_SHIFT = np.int64(1 << 32)


@dataclass(frozen=True)
class Frame:
    sid: np.ndarray  # int64, non-decreasing
    t: np.ndarray  # int64 seconds since the epoch, UTC
    v: np.ndarray  # float64

    def __post_init__(self) -> None:
        if not (len(self.sid) == len(self.t) == len(self.v)):
            raise ValueError("sid, t and v must have the same length")

    def __len__(self) -> int:
        return len(self.v)

    @classmethod
    def of(cls, sid, t, v) -> Frame:
        return cls(
            np.asarray(sid, dtype=np.int64), np.asarray(t, dtype=np.int64), np.asarray(v, dtype=np.float64)
        )

    @property
    def same_as_previous(self) -> np.ndarray:
        """True where a value has a predecessor in its own series."""
        out = np.zeros(len(self.sid), dtype=bool)
        out[1:] = self.sid[1:] == self.sid[:-1]
        return out

    @property
    def same_as_next(self) -> np.ndarray:
        out = np.zeros(len(self.sid), dtype=bool)
        out[:-1] = self.sid[1:] == self.sid[:-1]
        return out

    def packed(self) -> np.ndarray:
        return self.sid * _SHIFT + self.t


def _previous(values: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    if len(values):
        out[0] = values[0]
        out[1:] = values[:-1]
    return out


def _next(values: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    if len(values):
        out[-1] = values[-1]
        out[:-1] = values[1:]
    return out


# ---------------------------------------------------------------- value rules


def out_of_range(frame: Frame, low, high) -> np.ndarray:
    """RANGE: a value below `low` or above `high` (limits in the quantity's unit; NaN means no limit)."""
    v = frame.v
    low = np.asarray(low, dtype=np.float64)
    high = np.asarray(high, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return (v < low) | (v > high) | ~np.isfinite(v)


def negative(frame: Frame) -> np.ndarray:
    """NEGATIVE: an amount per interval (consumption, a volume delivered) below zero."""
    return frame.v < 0


def spikes(frame: Frame, factor, floor) -> np.ndarray:
    """SPIKE: a value more than `factor` times both its neighbours (and `floor`), in its own series.

    Only values with a neighbour on each side are judged: the first and last of a series wait for
    the next run, when their neighbour has arrived.
    """
    v = frame.v
    both = frame.same_as_previous & frame.same_as_next
    reference = np.maximum(
        np.maximum(np.abs(_previous(v)), np.abs(_next(v))), np.asarray(floor, dtype=np.float64)
    )
    return both & (np.abs(v) > np.asarray(factor, dtype=np.float64) * reference)


def stuck(frame: Frame, step: int, min_run, ignore_zero=True) -> np.ndarray:
    """STUCK: a flat line — at least `min_run` consecutive slots with the very same value.

    Zeros are an idle meter, not a stuck one, unless `ignore_zero` is false.
    """
    v, t = frame.v, frame.t
    continues = frame.same_as_previous & (v == _previous(v)) & (t - _previous(t) == step)
    starts = ~continues
    run_id = np.cumsum(starts) - 1
    lengths = np.bincount(run_id)
    long = lengths[run_id] >= np.asarray(min_run)
    if np.any(ignore_zero):
        long &= ~(np.asarray(ignore_zero, dtype=bool) & (v == 0))
    return long


def rollback(frame: Frame, exempt: np.ndarray | None = None) -> np.ndarray:
    """ROLLBACK: a counter (register, totaliser) lower than its previous reading.

    `exempt` marks values that follow a meter replacement: a new meter starts again from its own
    reading, which is not a rollback.
    """
    mask = frame.same_as_previous & (frame.v < _previous(frame.v))
    if exempt is not None:
        mask &= ~exempt
    return mask


def replaced_between(frame: Frame, replacements: dict[int, list[int]]) -> np.ndarray:
    """Which values have a meter replacement (series → instants) after the previous value of their series."""
    exempt = np.zeros(len(frame), dtype=bool)
    if not replacements:
        return exempt
    previous_t = _previous(frame.t)
    for sid, instants in replacements.items():
        rows = np.flatnonzero(frame.sid == sid)
        for instant in instants:
            exempt[rows] |= (previous_t[rows] < instant) & (frame.t[rows] >= instant)
    return exempt


def timestamps(frame: Frame, now: int, tolerance: int, installed_from) -> tuple[np.ndarray, np.ndarray]:
    """TIMESTAMP: (values for periods that have not started yet, values before the point's installation)."""
    future = frame.t > now + tolerance
    early = frame.t < np.asarray(installed_from, dtype=np.int64)
    return future, early


# ---------------------------------------------------------------- gaps


@dataclass(frozen=True)
class Gaps:
    """Missing slots: per gap, its series and the first and last missing period start."""

    sid: np.ndarray
    first: np.ndarray
    last: np.ndarray

    def __len__(self) -> int:
        return len(self.sid)

    @property
    def slots(self) -> np.ndarray:
        return self.last - self.first


def gaps(frame: Frame, step: int, start: int | None = None, end: int | None = None) -> Gaps:
    """GAP: slots of a series that hold no value, between its values and, when given, from `start`
    (inclusive) up to `end` (exclusive) of the window checked."""
    sid, t = frame.sid, frame.t
    following = np.zeros(len(t), dtype=np.int64)
    following[:-1] = t[1:] - t[:-1]
    inner = np.flatnonzero(frame.same_as_next & (following > step))
    parts_sid = [sid[inner]]
    parts_first = [t[inner] + step]
    parts_last = [t[inner + 1] - step]
    if len(t):
        heads = np.flatnonzero(~frame.same_as_previous)
        tails = np.flatnonzero(~frame.same_as_next)
        if start is not None:
            late = heads[t[heads] - start >= step]
            parts_sid.append(sid[late])
            parts_first.append(np.full(len(late), _align(start, t[late], step), dtype=np.int64))
            parts_last.append(t[late] - step)
        if end is not None:
            early = tails[end - t[tails] > step]
            parts_sid.append(sid[early])
            parts_first.append(t[early] + step)
            parts_last.append(t[early] + ((end - 1 - t[early]) // step) * step)
    found_sid = np.concatenate(parts_sid)
    order = np.lexsort((np.concatenate(parts_first), found_sid))
    return Gaps(found_sid[order], np.concatenate(parts_first)[order], np.concatenate(parts_last)[order])


def _align(start: int, anchors: np.ndarray, step: int):
    """The first slot at or after `start` on each series' own grid (anchored at its first value)."""
    return anchors - ((anchors - start) // step) * step if len(anchors) else start


# ---------------------------------------------------------------- rules across quantities


def interval_vs_register(
    registers: Frame, intervals: Frame, step: int, tolerance_abs, tolerance_rel
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SUM_REGISTER: the interval values between two register readings add up to their difference.

    `registers` and `intervals` share series numbers (one meter channel each). For every register
    reading after the first of its series: (flagged, sum of the intervals, register difference).
    A span with an interval missing is not judged (the gap rule reports it).
    """
    packed = intervals.packed()
    cumulative = np.concatenate(([0.0], np.cumsum(intervals.v)))
    has_previous = registers.same_as_previous
    previous_t = _previous(registers.t)
    lo = np.searchsorted(packed, registers.sid * _SHIFT + previous_t)
    hi = np.searchsorted(packed, registers.sid * _SHIFT + registers.t)
    total = cumulative[hi] - cumulative[lo]
    difference = registers.v - _previous(registers.v)
    complete = (hi - lo) == (registers.t - previous_t) // step
    allowed = np.maximum(np.asarray(tolerance_abs), np.asarray(tolerance_rel) * np.abs(difference))
    flagged = has_previous & complete & (np.abs(total - difference) > allowed)
    return flagged, total, difference


def mass_volume_density(volume, density, mass, tolerance_abs, tolerance_rel) -> tuple[np.ndarray, np.ndarray]:
    """MASS_DENSITY: mass (t) = volume (m³) × density (kg/m³) / 1000, within a tolerance (App.2 tables).

    Arrays aligned slot by slot; NaN where a slot lacks one of them (then nothing is judged).
    Returns (flagged, the expected mass).
    """
    volume, density, mass = (np.asarray(a, dtype=np.float64) for a in (volume, density, mass))
    expected = volume * density / 1000.0
    allowed = np.maximum(np.asarray(tolerance_abs), np.asarray(tolerance_rel) * np.abs(expected))
    with np.errstate(invalid="ignore"):
        flagged = np.abs(mass - expected) > allowed
    return flagged & np.isfinite(expected) & np.isfinite(mass), expected


def balance(
    begin, inflow, outflow, end, tolerance_abs, tolerance_rel
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TANK_BALANCE: begin + in − out = end. Returns (flagged, imbalance, relative imbalance).

    The imbalance is end − (begin + in − out); relative to the throughput max(in, out) (to the
    stock when nothing moved). The oil and gas balances of a facility use the same function.
    """
    begin, inflow, outflow, end = (np.asarray(a, dtype=np.float64) for a in (begin, inflow, outflow, end))
    imbalance = end - (begin + inflow - outflow)
    base = np.maximum(np.maximum(np.abs(inflow), np.abs(outflow)), 0.0)
    base = np.where(base > 0, base, np.maximum(np.abs(begin), np.abs(end)))
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(base > 0, imbalance / base, 0.0)
    allowed = np.maximum(np.asarray(tolerance_abs), np.asarray(tolerance_rel) * base)
    return np.abs(imbalance) > allowed, imbalance, relative


# ---------------------------------------------------------------- findings


def runs(mask: np.ndarray, sid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs of consecutive flagged values within a series: (index of first, index of last) per run."""
    flagged = np.asarray(mask, dtype=bool)
    if not flagged.any():
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    previous = np.zeros(len(flagged), dtype=bool)
    previous[1:] = flagged[:-1] & (sid[1:] == sid[:-1])
    following = np.zeros(len(flagged), dtype=bool)
    following[:-1] = flagged[1:] & (sid[1:] == sid[:-1])
    return np.flatnonzero(flagged & ~previous), np.flatnonzero(flagged & ~following)
