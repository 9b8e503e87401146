"""A metering point's status: active or not (AMI-04), its last value and whether it is current (AMI-07).

The last value comes from the readings store (`newest`) for the points on screen only, so a list
of a million meters costs one query per page on every backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery, ReadingRow, series_of
from egsu_core.clock import utcnow
from egsu_core.vocabulary import Interval


@dataclass(frozen=True)
class PointStatus:
    active: bool
    last_period: datetime | None
    last_recorded: datetime | None
    current: bool
    last_rows: tuple[ReadingRow, ...] = ()  # the newest value of each quantity

    @property
    def code(self) -> str:
        """A CSS status class: ok (current), late (stale), missing (never), bad (inactive)."""
        if not self.active:
            return "bad"
        if self.last_period is None:
            return "missing"
        return "ok" if self.current else "late"

    @property
    def label(self) -> str:
        return str(
            {"bad": _("inactive"), "missing": _("no data"), "ok": _("current"), "late": _("stale")}[self.code]
        )


def status_of(active: bool, rows: Iterable[ReadingRow], now: datetime | None = None) -> PointStatus:
    """From the newest value of each of a point's quantities."""
    rows = tuple(rows)
    if not rows:
        return PointStatus(active, None, None, False)
    newest = max(rows, key=lambda r: (r.period_start, r.recorded_at or r.period_start))
    interval = Interval(newest.interval)
    current = (now or utcnow()) - (newest.period_start + interval.step) <= interval.current_within
    recorded = max((r.recorded_at for r in rows if r.recorded_at), default=None)
    return PointStatus(active, newest.period_start, recorded, current, rows)


def statuses(points: Iterable, now: datetime | None = None) -> dict[int, PointStatus]:
    """Point pk → status, for a page of points: one `newest` call to the store."""
    points = list(points)
    if not points:
        return {}
    by_key = {point.store_key: point for point in points}
    found: dict[tuple[str, str], list[ReadingRow]] = {key: [] for key in by_key}
    for row in get_store().newest(ReadingQuery(series=series_of(by_key))):
        found[(row.key.object_id, row.key.device_id)].append(row)
    return {by_key[key].pk: status_of(by_key[key].active, rows, now) for key, rows in found.items()}
