"""A metering point's series across device replacements (DIG-45, OGM-12): one place for the rule.

When a failed device is replaced (egsu.schemes.registers.record_replacement), the failed device's
point counts its values up to the replacement day and the new device's point from that day on
(Astana midnight). Every read of the readings store gets these service windows (the store
`egsu.readings.services.get_store()` gives fills `ReadingQuery.windows` in), so pages, charts,
the read API, balances and quality rules neither double count an overlap nor show the old
device's stray values; arrivals expect the old point until the day before and the new one from
the day (`narrow_owed`, applied when points are derived). A point's page and its API series
read the whole chain (`chain_ids`), so the series runs on across the replacement without a gap.
"""

from __future__ import annotations

import threading
import time
from datetime import date, datetime

from egsu_core.clock import astana_midnight

CACHE_SECONDS = 60
_cache: dict[str, tuple[float, int, tuple]] = {}
_generation = 0
_lock = threading.Lock()

Window = tuple[str, str, datetime | None, datetime | None]


def replacements() -> list[tuple[int, int, date]]:
    """(failed point id, replacing point id, replacement day) of every replacement recorded."""
    from egsu.schemes.models import Failure

    return list(
        Failure.objects.filter(replacement__isnull=False)
        .order_by("replaced_on", "pk")
        .values_list("point_id", "replacement_id", "replaced_on")
    )


def key_windows() -> dict[tuple[str, str], tuple[date | None, date | None]]:
    """The same windows by store key (object_code, store_device_id)."""
    from egsu.points.models import MeteringPoint

    windows = day_windows()
    if not windows:
        return {}
    return {
        (code, device): windows[pk]
        for pk, code, device in MeteringPoint.objects.filter(pk__in=list(windows)).values_list(
            "pk", "object_code", "store_device_id"
        )
    }


def narrow_owed(points) -> None:
    """Narrow freshly derived points' owed days by their replacements (egsu.points.services calls this)."""
    windows = key_windows()
    if not windows:
        return
    for point in points:
        window = windows.get(point.store_key)
        if window is not None:
            point.owes_from, point.owes_until = _narrowed(window, point.owes_from, point.owes_until)


def _narrowed(window, owes_from: date, owes_until: date | None) -> tuple[date, date | None]:
    from datetime import timedelta

    start, end = window
    if start is not None:
        owes_from = max(owes_from, start)
    if end is not None:
        last = end - timedelta(days=1)
        owes_until = last if owes_until is None else min(owes_until, last)
    return owes_from, owes_until


def day_windows() -> dict[int, tuple[date | None, date | None]]:
    """Point id → (first day it counts, first day it no longer counts): only points in a replacement."""
    windows: dict[int, tuple[date | None, date | None]] = {}
    for old, new, day in replacements():
        start, end = windows.get(old, (None, None))
        windows[old] = (start, day if end is None else min(end, day))
        start, end = windows.get(new, (None, None))
        windows[new] = (day if start is None else max(start, day), end)
    return windows


def _build() -> tuple[Window, ...]:
    from egsu.points.models import MeteringPoint

    windows = day_windows()
    if not windows:
        return ()
    keys = dict(
        (pk, (code, device))
        for pk, code, device in MeteringPoint.objects.filter(pk__in=list(windows)).values_list(
            "pk", "object_code", "store_device_id"
        )
    )
    found = []
    for pk, (start, end) in sorted(windows.items()):
        if pk in keys:
            found.append((*keys[pk], _midnight(start), _midnight(end)))
    return tuple(found)


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else astana_midnight(day)


def store_windows() -> tuple[Window, ...]:
    """The service windows every read of the store applies; kept a minute per process and renewed at
    once when a replacement is recorded here (`invalidate`)."""
    now = time.monotonic()
    cached = _cache.get("windows")
    if cached is not None and cached[1] == _generation and now - cached[0] < CACHE_SECONDS:
        return cached[2]
    generation = _generation
    windows = _build()
    with _lock:
        _cache["windows"] = (now, generation, windows)
    return windows


def invalidate(**_kwargs) -> None:
    global _generation
    with _lock:
        _generation += 1
        _cache.clear()


def chain_ids(point_id: int) -> list[int]:
    """The point and every point it replaced or that replaced it, transitively (its series' devices)."""
    links: dict[int, set[int]] = {}
    for old, new, _day in replacements():
        links.setdefault(old, set()).add(new)
        links.setdefault(new, set()).add(old)
    seen, todo = {point_id}, [point_id]
    while todo:
        for other in links.get(todo.pop(), ()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return sorted(seen)
