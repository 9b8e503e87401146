"""Estimation of missing 15-minute values (VEE, issue 14 item 2; AMI-16): plain Python, no Django.

A gap of up to two hours is bridged by a straight line between its measured neighbours; a longer
gap takes the *like-day profile*: per missing slot, the mean of the values at the same time of day
on the latest days of the same kind (working day or day off, by the Kazakh calendar), as far as
the history holds them. The service writes what this returns to the readings store with quality
`estimated`; a measured value arriving later becomes the newest revision (store.repeats_stored).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from egsu.calendar_kz import is_working_day
from egsu_core.clock import astana_date

DAY = 86_400
LINEAR_MAX = 2 * 3600  # a gap of up to 2 hours is interpolated
LIKE_DAYS = 4  # the profile is the mean of up to this many like days
LOOK_BACK_DAYS = 14  # searched for like days


@dataclass(frozen=True)
class Estimate:
    t: int  # period start, seconds UTC
    value: float
    method: str  # "linear" or "profile"


def like_day_offsets(day: date, *, wanted: int = LIKE_DAYS, look_back: int = LOOK_BACK_DAYS,
                     same_kind: Callable[[date], bool] = is_working_day) -> list[int]:  # fmt: skip
    """How many days back each like day of `day` lies: the latest days of the same kind."""
    kind = same_kind(day)
    offsets = []
    for back in range(1, look_back + 1):
        if same_kind(day - timedelta(days=back)) == kind:
            offsets.append(back)
            if len(offsets) == wanted:
                break
    return offsets


def estimate_series(
    t: Sequence[int],
    v: Sequence[float],
    step: int,
    *,
    start: int | None = None,
    end: int | None = None,
    history: Mapping[int, float] | None = None,
    linear_max: int = LINEAR_MAX,
    offsets_of: Callable[[int], list[int]] | None = None,
) -> list[Estimate]:
    """Values for the missing slots of one series (measured `t`, `v`, sorted), within [start, end).

    A gap between two measured values no longer than `linear_max` is interpolated; any other gap
    (longer, or open at the window's edge) takes the like-day profile from `history` (period
    start → value, measured values of earlier days; `t`/`v` are added to it). A slot without a
    like day to go by stays missing: nothing is invented from nothing.
    """
    known = dict(history or {})
    known.update(zip(t, v, strict=True))
    offsets_of = offsets_of or _offsets_by_calendar
    found: list[Estimate] = []
    points = list(zip(t, v, strict=True))
    spans: list[tuple[int, int, tuple[int, float] | None, tuple[int, float] | None]] = []
    if points and start is not None and points[0][0] - start >= step:
        first = points[0][0] - ((points[0][0] - start) // step) * step
        spans.append((first, points[0][0] - step, None, points[0]))
    for left, right in zip(points, points[1:], strict=False):
        if right[0] - left[0] > step:
            spans.append((left[0] + step, right[0] - step, left, right))
    if points and end is not None and end - points[-1][0] > step:
        last = points[-1][0] + ((end - 1 - points[-1][0]) // step) * step
        spans.append((points[-1][0] + step, last, points[-1], None))
    for first, last, left, right in spans:
        missing = last - first + step
        if left is not None and right is not None and missing <= linear_max:
            (t0, v0), (t1, v1) = left, right
            for slot in range(first, last + 1, step):
                found.append(Estimate(slot, v0 + (v1 - v0) * (slot - t0) / (t1 - t0), "linear"))
            continue
        for slot in range(first, last + 1, step):
            days = [known[slot - back * DAY] for back in offsets_of(slot) if slot - back * DAY in known]
            if days:
                found.append(Estimate(slot, sum(days) / len(days), "profile"))
    return found


def _offsets_by_calendar(slot: int) -> list[int]:
    return like_day_offsets(astana_date(datetime.fromtimestamp(slot, UTC)))
