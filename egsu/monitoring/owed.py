"""What a subject still owes: its missing, late and rejected slots, newest first (INT-10, INT-33/34).

Oil and gas devices and AMI meters are both metering points: one walk over the subject's points,
their expected slots (egsu.monitoring.expectations) and the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from egsu.access import scope as gate
from egsu.monitoring.expectations import expected_slots, owing
from egsu.monitoring.models import Arrival, ArrivalStatus
from egsu.monitoring.slots import Slot
from egsu.registry.models import Subject
from egsu_core.clock import astana_date, utcnow


class OwedState:
    MISSING = "missing"
    LATE = "late"
    REJECTED = "rejected"


@dataclass(frozen=True)
class OwedSlot:
    object_id: str
    device_id: str
    interval: str
    period_start: datetime | None
    due_at: datetime | None
    state: str
    received_at: datetime | None = None
    reason: str = ""
    announced: bool = False  # missing inside a period the subject announced (a notice): owed, no alarm


def visible_subject(scope, bin_: str) -> Subject:
    """The subject if the scope sees it; Subject.DoesNotExist otherwise (the page answers 404)."""
    return gate.subjects(scope).get(bin=bin_)


def owed(
    scope,
    subject: Subject | str,
    *,
    start: date,
    end: date,
    now: datetime | None = None,
    limit: int | None = 500,
) -> list[OwedSlot]:
    """The subject's missing, late and rejected slots on Astana days start..end, newest first.

    Walks back a week at a time and stops once ``limit`` rows are found, so a year's page costs
    what its newest weeks cost.
    """
    now = now or utcnow()
    subject = visible_subject(scope, subject if isinstance(subject, str) else subject.bin)
    arrivals = Arrival.objects.filter(subject__in=gate.subjects(scope).filter(pk=subject.pk))
    points = list(
        owing(gate.points(scope, energies_seen=gate.arrival_energies(scope)))
        .filter(subject=subject)
        .order_by("energy", "object_code", "store_device_id")
    )
    found: list[OwedSlot] = []
    chunk_end = end
    while chunk_end >= start and (limit is None or len(found) < limit):
        chunk_start = max(start, chunk_end - timedelta(days=6))
        found.extend(_owed_between(arrivals, points, chunk_start, chunk_end, now, limit))
        chunk_end = chunk_start - timedelta(days=1)
    found = _mark_announced(found, subject, points, now)
    return found[:limit] if limit is not None else found


def _mark_announced(found: list[OwedSlot], subject: Subject, points, now: datetime) -> list[OwedSlot]:
    """Missing slots inside a notice's period stay owed, marked announced (INT-09..12)."""
    from dataclasses import replace

    from egsu.alarms.sources import active_notices, announced

    missing = [o for o in found if o.state == OwedState.MISSING and o.period_start is not None]
    if not missing:
        return found
    notices = active_notices([subject.pk], min(o.period_start for o in missing)).get(subject.pk, [])
    if not notices:
        return found
    by_key = {(p.object_code, p.store_device_id): p.pk for p in points}
    marked = []
    for slot in found:
        point_id = by_key.get((slot.object_id, slot.device_id))
        if (
            slot in missing
            and point_id is not None
            and (n := announced(notices, point_id, slot.period_start))
        ):
            slot = replace(
                slot,
                announced=True,
                reason=f"{n.get_kind_display()} {n.starts_at:%Y-%m-%d %H:%M}–{n.ends_at:%Y-%m-%d %H:%M} UTC",
            )
        marked.append(slot)
    return marked


def _owed_between(
    arrivals, points, start: date, end: date, now: datetime, limit: int | None
) -> list[OwedSlot]:
    ledger: dict[tuple, Arrival] = {}
    loose: list[Arrival] = []
    for arrival in arrivals.filter(day__gte=start, day__lte=end):
        if arrival.point_id is not None and arrival.period_start is not None:
            ledger[(arrival.point_id, arrival.interval, arrival.period_start)] = arrival
        else:
            loose.append(arrival)
    found: list[OwedSlot] = []
    # A utility may have many thousands of meters: stop once the page is full (order is by point).
    for point in points:
        if limit is not None and len(found) >= limit:
            break
        for interval in point.intervals:
            for slot in expected_slots(point, interval, start, end, now=now):
                arrival = ledger.pop((point.pk, interval, slot.period_start), None)
                state = _state(arrival)
                if state:
                    found.append(_owed(point.object_code, point.store_device_id, slot, state, arrival))
    for arrival in [*ledger.values(), *loose]:  # arrivals outside any expected slot
        state = _state(arrival)
        if state:
            found.append(OwedSlot(
                arrival.object_id, arrival.device_id, arrival.interval, arrival.period_start, arrival.due_at,
                state, arrival.last_received_at, arrival.reason,
            ))  # fmt: skip
    found.sort(key=lambda o: o.period_start or o.received_at, reverse=True)
    return found


def _state(arrival: Arrival | None) -> str | None:
    if arrival is None:
        return OwedState.MISSING
    if arrival.status == ArrivalStatus.REJECTED:
        return OwedState.REJECTED
    if arrival.on_time is False:
        return OwedState.LATE
    return None


def _owed(object_id, device_id, slot: Slot, state: str, arrival: Arrival | None) -> OwedSlot:
    return OwedSlot(
        object_id,
        device_id,
        slot.interval.value,
        slot.period_start,
        slot.due_at,
        state,
        (arrival.accepted_at or arrival.last_received_at) if arrival else None,
        arrival.reason if arrival else "",
    )


def last_days(days: int, *, now: datetime | None = None) -> tuple[date, date]:
    """The default period: the last ``days`` Astana days, today included."""
    today = astana_date(now or utcnow())
    return today - timedelta(days=days - 1), today
