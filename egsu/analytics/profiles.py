"""Load profiles and object balances read from the readings store, for anomalies and recommendations.

Everything here reads through the store's aggregates (streamed with `aggregate_iter`), never the
Reading model, so it works alike on SQL and ClickHouse:

* `point_profiles`: per metering point, its mean load per Astana hour of the day over the last
  week and over the four weeks before (what "normal" is);
* `label_profiles`: the same per label (a subject's BIN), over a period;
* `object_balances`: per object and energy, what came in through its commercial (boundary) points
  and what its other points measured, over the last week and the four weeks before.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from egsu.analytics.targets import QUANTITY
from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery, ReadingsStore, series_of
from egsu_core.clock import ASTANA
from egsu_core.vocabulary import METER_ENERGIES

RECENT = timedelta(days=7)
BASELINE = timedelta(days=28)
NIGHT_HOURS = range(0, 5)  # 00:00–05:00 Astana


@dataclass
class Profile:
    """Mean hourly load per Astana hour of the day (0–23), recent and baseline."""

    recent_sum: list[float] = field(default_factory=lambda: [0.0] * 24)
    recent_n: list[int] = field(default_factory=lambda: [0] * 24)
    base_sum: list[float] = field(default_factory=lambda: [0.0] * 24)
    base_n: list[int] = field(default_factory=lambda: [0] * 24)

    def add(self, hour: int, value: float, recent: bool) -> None:
        if recent:
            self.recent_sum[hour] += value
            self.recent_n[hour] += 1
        else:
            self.base_sum[hour] += value
            self.base_n[hour] += 1

    @staticmethod
    def _means(sums, counts) -> list[float | None]:
        return [s / n if n else None for s, n in zip(sums, counts, strict=True)]

    @property
    def recent(self) -> list[float | None]:
        return self._means(self.recent_sum, self.recent_n)

    @property
    def baseline(self) -> list[float | None]:
        return self._means(self.base_sum, self.base_n)

    def mean(self, hours, recent: bool) -> float | None:
        sums, counts = (self.recent_sum, self.recent_n) if recent else (self.base_sum, self.base_n)
        n = sum(counts[h] for h in hours)
        return sum(sums[h] for h in hours) / n if n else None

    def hours_seen(self, recent: bool) -> int:
        return sum(self.recent_n if recent else self.base_n)


def _hourly_rows(query: ReadingQuery, group: str, labels=None, store: ReadingsStore | None = None):
    return (store or get_store()).aggregate_iter(query, bucket="PT1H", group=group, labels=labels)


def point_profiles(
    points, now: datetime, *, store: ReadingsStore | None = None
) -> dict[tuple[str, str], Profile]:
    """(object_id, device_id) → Profile of the points given (meters of electricity, heat, gas)."""
    pairs = [p.store_key for p in points]
    if not pairs:
        return {}
    end = now.replace(minute=0, second=0, microsecond=0)
    split = end - RECENT
    query = ReadingQuery(
        quantities=[QUANTITY[e] for e in METER_ENERGIES],
        start=split - BASELINE,
        end=end,
        series=series_of(pairs),
    )
    found: dict[tuple[str, str], Profile] = defaultdict(Profile)
    for row in _hourly_rows(query, "series", store=store):
        hour = row.bucket_start.astimezone(ASTANA).hour
        found[(row.object_id, row.device_id)].add(hour, float(row.sum), row.bucket_start >= split)
    return dict(found)


def label_profiles(
    labels: dict[tuple[str, str], str], quantity: str, start: datetime, end: datetime, *, store=None
) -> dict[str, Profile]:
    """label → Profile (the `recent` half only) of the labelled points' summed hourly load in [start, end)."""
    if not labels:
        return {}
    query = ReadingQuery(quantities=[quantity], start=start, end=end, series=series_of(labels))
    by_hour: dict[tuple[str, datetime], float] = defaultdict(float)
    for row in _hourly_rows(query, "label", labels=labels, store=store):
        by_hour[(row.label, row.bucket_start)] += float(row.sum)
    found: dict[str, Profile] = defaultdict(Profile)
    for (label, moment), value in by_hour.items():
        found[label].add(moment.astimezone(ASTANA).hour, value, True)
    return dict(found)


@dataclass
class Balance:
    """What came in (commercial points) and what was measured inside (the others), recent and baseline."""

    object_code: str
    energy: str
    recent_in: float = 0.0
    recent_out: float = 0.0
    base_in: float = 0.0
    base_out: float = 0.0

    @staticmethod
    def _rate(came, measured) -> float | None:
        return (came - measured) / came if came > 0 else None

    @property
    def recent_rate(self) -> float | None:
        return self._rate(self.recent_in, self.recent_out)

    @property
    def base_rate(self) -> float | None:
        return self._rate(self.base_in, self.base_out)


def object_balances(points, now: datetime, *, store: ReadingsStore | None = None) -> list[Balance]:
    """Balances of the objects that have both commercial and other points of one meter energy."""
    members = defaultdict(list)
    for p in points:
        if p.energy in QUANTITY and p.energy != "oil_gas":
            members[(p.object_code, p.energy)].append(p)
    labels = {}
    for (code, energy), found in members.items():
        if any(p.commercial for p in found) and not all(p.commercial for p in found):
            for p in found:
                labels[p.store_key] = f"{code}\x1f{energy}\x1f{'in' if p.commercial else 'out'}"
    if not labels:
        return []
    end = now.replace(minute=0, second=0, microsecond=0)
    split = end - RECENT
    balances: dict[tuple[str, str], Balance] = {}
    query = ReadingQuery(
        quantities=[QUANTITY[e] for e in METER_ENERGIES],
        start=split - BASELINE,
        end=end,
        series=series_of(labels),
    )
    for row in (store or get_store()).aggregate_iter(query, bucket="P1D", group="label", labels=labels):
        code, energy, side = row.label.split("\x1f")
        if row.quantity != QUANTITY[energy]:
            continue
        balance = balances.setdefault((code, energy), Balance(code, energy))
        part = "recent" if row.bucket_start >= split else "base"
        setattr(balance, f"{part}_{side}", getattr(balance, f"{part}_{side}") + float(row.sum))
    return sorted(balances.values(), key=lambda b: (b.object_code, b.energy))
