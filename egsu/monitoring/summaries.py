"""Arrivals summaries: what each group of metering points owed, what arrived, when, with which result.

Definitions (INT-33/34 for the slots; egsu.monitoring.slots for due times, egsu.monitoring.expectations
for what a point owes):

- **expected**: the slots of the chosen Astana days that the points owe and that are overdue, i.e.
  ``due_at + grace <= now``.
- **arrived**: slots with at least one accepted record or stored value (first time, re-sent or revised).
- **on time**: arrived slots whose first accepted record came by ``due_at + grace``; **late**: after.
  Judged once, when the record arrives (a later change of the grace does not re-judge history).
- **rejected**: slots for which records came but every one was rejected (nothing usable yet); a
  later accepted record moves the slot from rejected to arrived (late or on time).
- **pending**: arrived (or rejected) slots still within their grace, so not yet expected: what came
  early for the current periods (``SubjectPeriod`` per subject, the ledger per point).
- **missing**: expected slots with nothing at all:
  ``max(0, expected − (arrived − pending) − (rejected − pending rejected))``. Without the pending
  term an early arrival would hide a missing slot: at national scale the last half hour's meters
  outnumber any day's missing ones.
- **completeness** = owed arrived ÷ expected, **timeliness** = owed on time ÷ expected (both capped at
  100 %), where *owed* leaves the pending slots out.

Oil and gas devices and AMI meters are counted by the same code: both are metering points
(docs/decisions/0007). Every read goes through the permission gate (egsu.access.scope).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count, F, Q, Sum

from egsu.access import scope as gate
from egsu.monitoring.expectations import ExpectedCounter, owing, periods_in_grace
from egsu.monitoring.models import Arrival, ArrivalStatus, PointDay, SubjectDay, SubjectPeriod
from egsu.registry.models import Subject
from egsu_core.clock import utcnow

GROUPS = ("subject", "region", "facility", "device", "national")


@dataclass
class SummaryRow:
    key: object
    label: str
    bin: str = ""
    region: str = ""
    expected: int = 0
    on_time: int = 0
    late: int = 0
    rejected: int = 0
    pending: int = 0  # of on_time: arrived while still within their grace
    pending_rejected: int = 0  # of rejected: likewise
    extra: dict = field(default_factory=dict)

    @property
    def arrived(self) -> int:
        return self.on_time + self.late

    @property
    def owed_arrived(self) -> int:
        """Arrived slots that are owed by now (the pending ones left out)."""
        return max(0, self.arrived - self.pending)

    @property
    def missing(self) -> int:
        owed_rejected = max(0, self.rejected - self.pending_rejected)
        return max(0, self.expected - self.owed_arrived - owed_rejected)

    @property
    def completeness(self) -> float | None:
        return None if not self.expected else min(100.0, 100.0 * self.owed_arrived / self.expected)

    @property
    def timeliness(self) -> float | None:
        owed = max(0, self.on_time - self.pending)
        return None if not self.expected else min(100.0, 100.0 * owed / self.expected)

    def add(self, other: SummaryRow) -> None:
        self.expected += other.expected
        self.on_time += other.on_time
        self.late += other.late
        self.rejected += other.rejected
        self.pending += other.pending
        self.pending_rejected += other.pending_rejected

    def as_dict(self) -> dict:
        return {
            "key": str(self.key), "label": self.label, "bin": self.bin, "region": self.region,
            "expected": self.expected, "arrived": self.arrived, "on_time": self.on_time, "late": self.late,
            "missing": self.missing, "rejected": self.rejected, "completeness": self.completeness,
            "timeliness": self.timeliness, "pending": self.pending,
        }  # fmt: skip


# The points' field each grouping keys on (facility: the object's code, device: the point).
_POINT_GROUP = {
    "subject": "subject_id",
    "region": "subject__region",  # the subject's region, as the per-subject rollup counts arrivals
    "facility": "object_code",
    "device": "id",
    "national": None,
}
# The rollup's field for the same key: per point for facility and device, per subject otherwise.
_ROLLUP_GROUP = {
    "subject": "subject_id",
    "region": "subject__region",
    "facility": "point__object_code",
    "device": "point_id",
    "national": None,
}


def arrivals_summary(
    scope,
    *,
    start: date,
    end: date,
    group_by: str = "subject",
    now: datetime | None = None,
    interval: str | None = None,
    subject: Subject | None = None,
    energy: str | None = None,
) -> list[SummaryRow]:
    """Expected, arrived, on time, late, missing, rejected per group over Astana days start..end.

    ``subject`` narrows to one subject (its object or point rows on the subject page); the scope
    still decides what is visible. ``energy`` (oil_gas, electricity, heat, gas) narrows to one
    energy's points; points count only for energies whose module the scope holds.
    """
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPS)}")
    if end < start:
        raise ValueError("the period ends before it starts")
    now = now or utcnow()
    energies = [e for e in gate.arrival_energies(scope) if not energy or e == energy]
    rows: dict[object, SummaryRow] = {}

    def row(key) -> SummaryRow:
        if key not in rows:
            rows[key] = SummaryRow(key=key, label="")
        return rows[key]

    if energies:
        _expected(scope, row, start, end, now, group_by, interval, subject, energies)
        _arrived(scope, row, start, end, group_by, interval, subject, energies)
        _pending(scope, row, start, end, now, group_by, interval, subject, energies)
    _label(rows, group_by, scope)
    kept = [r for r in rows.values() if r.expected or r.arrived or r.rejected or group_by == "national"]
    if not kept and group_by == "national":
        kept = [SummaryRow(key=None, label=national_label())]
    return kept


def _expected(scope, row, start, end, now, group_by, interval, subject, energies) -> None:
    """Expected slots from the points through the gate: one query grouped by life window and intervals."""
    points = owing(gate.points(scope, energies_seen=energies))
    if subject is not None:
        points = points.filter(subject=subject)
    counter = ExpectedCounter(start, end, now, [interval] if interval else None)
    fields = {"intervals": F("owed_intervals"), "first": F("owes_from"), "last": F("owes_until")}
    group = _POINT_GROUP[group_by]
    if group:
        fields["group"] = F(group)
    for window in points.values(**fields).order_by().annotate(n=Count("id")):
        owed = (
            window["intervals"]
            if not interval
            else (interval if interval in window["intervals"].split(",") else "")
        )
        if owed:
            row(window.get("group")).expected += (
                counter.count(owed, window["first"], window["last"]) * window["n"]
            )


def _arrived(scope, row, start, end, group_by, interval, subject, energies) -> None:
    """Arrivals from the rollups through the gate: per point for objects and points, else per subject."""
    if group_by in ("facility", "device"):
        rollup = PointDay.objects.filter(point__in=gate.points(scope, energies_seen=energies))
        if subject is not None:
            rollup = rollup.filter(point__subject=subject)
    else:
        rollup = SubjectDay.objects.filter(subject__in=gate.subjects(scope), energy__in=energies)
        if subject is not None:
            rollup = rollup.filter(subject=subject)
    rollup = rollup.filter(day__gte=start, day__lte=end)
    if interval:
        rollup = rollup.filter(interval=interval)
    sums = {"s_on_time": Sum("on_time"), "s_late": Sum("late"), "s_rejected": Sum("rejected")}
    for total in _sums(rollup, _ROLLUP_GROUP[group_by], sums):
        target = row(total.get("group_key"))
        target.on_time += total["s_on_time"]
        target.late += total["s_late"]
        target.rejected += total["s_rejected"]


def _sums(queryset, group: str | None, sums: dict) -> list[dict]:
    """`sums` per value of `group` (keyed ``group_key``), or one row for all without a group; a group
    with nothing to sum is left out."""
    found = (
        queryset.values(group_key=F(group)).order_by().annotate(**sums)
        if group
        else [queryset.aggregate(**sums)]
    )
    return [total for total in found if total["s_on_time"] is not None]


def _pending(scope, row, start, end, now, group_by, interval, subject, energies) -> None:
    """Arrivals of slots still within their grace, by the same groups as `_arrived`: from the
    subjects' period counts, or for objects and points from the ledger (its slot index leads with
    the period, and only the few periods within their grace are read: their due times need no
    filter of their own)."""
    starts = periods_in_grace(now, [interval] if interval else None)
    within = Q()
    for each, period_starts in starts.items():
        if period_starts:
            within |= Q(interval=each, period_start__in=period_starts)
    if not within:
        return
    group = _ROLLUP_GROUP[group_by]
    if group_by in ("facility", "device"):
        ledger = Arrival.objects.filter(within, point__in=gate.points(scope, energies_seen=energies))
        if subject is not None:
            ledger = ledger.filter(subject=subject)
        ledger = ledger.filter(day__gte=start, day__lte=end)
        sums = {
            "s_on_time": Count("id", filter=Q(on_time=True) & ~Q(status=ArrivalStatus.REJECTED)),
            "s_rejected": Count("id", filter=Q(status=ArrivalStatus.REJECTED)),
        }
        totals = _sums(ledger, group, sums)
    else:
        periods = SubjectPeriod.objects.filter(within, subject__in=gate.subjects(scope), energy__in=energies)
        if subject is not None:
            periods = periods.filter(subject=subject)
        periods = periods.filter(day__gte=start, day__lte=end)
        totals = _sums(periods, group, {"s_on_time": Sum("on_time"), "s_rejected": Sum("rejected")})
    for total in totals:
        target = row(total.get("group_key"))
        target.pending += total["s_on_time"]
        target.pending_rejected += total["s_rejected"]


def national_label() -> str:
    from django.utils.translation import gettext

    return gettext("Whole country")


def _label(rows: dict, group_by: str, scope) -> None:
    if group_by == "national":
        for r in rows.values():
            r.label = national_label()
    elif group_by == "region":
        for r in rows.values():
            r.region = r.key or ""
            r.label = r.key or "—"
    elif group_by == "subject":
        for pk, bin_, name, short, region in (
            gate.subjects(scope)
            .filter(pk__in=list(rows))
            .values_list("pk", "bin", "name", "short_name", "region")
        ):
            rows[pk].label, rows[pk].bin, rows[pk].region = short or name, bin_, region
    elif group_by == "facility":
        names = dict(
            gate.points(scope)
            .filter(object_code__in=list(rows))
            .values_list("object_code", "object_name")
            .distinct()
        )
        for code, r in rows.items():
            r.label, r.extra = f"{code} {names.get(code, '')}".strip(), {"object_id": code}
    elif group_by == "device":
        for point in gate.points(scope, energies_seen=gate.arrival_energies(scope)).filter(pk__in=list(rows)):
            rows[point.pk].label = point.name
            rows[point.pk].extra = {
                "object_id": point.object_code,
                "device_id": point.store_device_id,
                "model": point.model_name,
                "serial": point.serial_number,
                "active": point.active,
                "pk": point.pk,
                "device_pk": point.device_id,
                "meter_pk": point.meter_id,
                "energy": point.energy,
            }
