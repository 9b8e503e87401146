"""Balances from the readings store (aggregate per series and Astana day), with alarms "balance".

Values are read only through the store (`aggregate`), so a balance is the same on SQL and
ClickHouse. Tolerances are the VEE rule settings TANK_BALANCE and ENERGY_BALANCE (egsu.vee).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from egsu.alarms.services import clear_alarm, raise_alarm
from egsu.ami.models import MeteringObject
from egsu.balances.core import (
    PRODUCTS,
    EnergyDay,
    Line,
    OilGasDay,
    line_of,
    settle_oil_gas,
)
from egsu.points.lineage import key_windows
from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery, series_of
from egsu.registry.models import Device, Subject
from egsu.schemes.services import counts_on, in_force
from egsu.vee.catalogue import Code
from egsu.vee.settings import Settings
from egsu_core.clock import astana_date, astana_midnight, utcnow
from egsu_core.vocabulary import Energy, Interval

SOURCE = "balance"
ENERGY_KINDS = (
    MeteringObject.Kind.SUBSTATION, MeteringObject.Kind.FEEDER, MeteringObject.Kind.TRANSFORMER_POINT,
    MeteringObject.Kind.HEAT_POINT,
)  # fmt: skip
ENERGY_QUANTITY = {Energy.ELECTRICITY: "A+", Energy.HEAT: "Q"}  # active energy import, heat energy
FLOW_INTERVALS = (Interval.DAY, Interval.TWO_HOURS)  # a daily record wins over the 2-hourly ones


@dataclass
class FacilityLine:
    object_id: str
    name: str
    kind: str
    line: Line | None
    volume: float = 0.0


@dataclass
class OilGasBalance:
    subject: Subject
    product: str
    days: list[tuple[date, OilGasDay]]
    facilities: list[FacilityLine] = field(default_factory=list)
    tolerance: dict = field(default_factory=dict)

    @property
    def violated(self) -> bool:
        return any(day.violated for _, day in self.days)


@dataclass
class EnergyBalance:
    obj: MeteringObject
    energy: str
    quantity: str
    days: list[tuple[date, EnergyDay]]
    allowed_loss_pct: float
    children: list[MeteringObject] = field(default_factory=list)

    def violated_on(self, day: EnergyDay) -> bool:
        return day.violated(self.allowed_loss_pct)

    @property
    def violated(self) -> bool:
        return any(self.violated_on(day) for _, day in self.days)


def _daily(
    pairs, quantity: str, start: date, end: date, store
) -> dict[tuple[str, str, date], tuple[float, float]]:
    """(object, device, day) → (sum, last) of the daily record, else of the 2-hourly values."""
    found: dict[tuple[str, str, date], tuple[float, float]] = {}
    for interval in FLOW_INTERVALS:
        query = ReadingQuery(series=series_of(pairs), quantities=[quantity], interval=interval.value,
                             start=astana_midnight(start), end=astana_midnight(end + timedelta(days=1)))  # fmt: skip
        for row in store.aggregate(query, bucket="P1D", group="series"):
            key = (row.object_id, row.device_id, astana_date(row.bucket_start))
            found.setdefault(key, (float(row.sum), float(row.last)))
    return found


def oil_gas_balance(subject: Subject, product: str, start: date, end: date, *, store=None) -> OilGasBalance:
    store = store or get_store()
    setting = Settings.load().resolve(Code.TANK_BALANCE, point_id=None, device_type="", quantity="volume")
    devices = (
        Device.objects.filter(facility__subject=subject, facility__kind__in=PRODUCTS[product])
        .select_related("facility").prefetch_related("allowed_operations")
    )  # fmt: skip
    lines: dict[tuple[str, str], Line | None] = {}
    facilities: dict[str, FacilityLine] = {}
    facility_of: dict[tuple[str, str], int] = {}
    for device in devices:
        facility_of[(device.facility.object_id, device.device_id)] = device.facility_id
        kind = device.facility.kind
        line = line_of(kind, {op.pk for op in device.allowed_operations.all()})
        lines[(device.facility.object_id, device.device_id)] = line
        facility = facilities.setdefault(
            device.facility.object_id,
            FacilityLine(device.facility.object_id, device.facility.name, kind, line),
        )
        if facility.line != line:
            facility.line = None  # devices of one facility on different lines: shown per device below
    values = _daily(list(lines), "volume", start - timedelta(days=1), end, store) if lines else {}
    retired = {pair: window[1] for pair, window in key_windows().items() if window[1] is not None}
    schemes = in_force(set(facility_of.values())) if facility_of else {}  # the approved versions (OGM-04)
    days: list[tuple[date, OilGasDay]] = []
    stock_by_day: dict[date, float] = {}
    last_stock: dict[tuple[str, str], float] = {}
    day = start - timedelta(days=1)
    while day <= end:
        today = OilGasDay()
        for pair, line in lines.items():
            found = values.get((*pair, day))
            if not counts_on(schemes.get(facility_of[pair]), pair, day):
                found = None  # not on the scheme version in force that day: neither a flow nor a stock
                last_stock.pop(pair, None)
            if line is Line.STOCK:
                if found is not None:
                    last_stock[pair] = found[1]
                elif pair in retired and day >= retired[pair]:
                    last_stock.pop(pair, None)  # replaced (DIG-45): its successor holds the stock now
                continue
            if line is None or found is None:
                continue
            today.flows[line] = today.flows.get(line, 0.0) + found[0]
            if day >= start:
                facilities[pair[0]].volume += found[0]
        stock_by_day[day] = sum(last_stock.values())
        if day >= start:
            today.stock_begin, today.stock_end = stock_by_day[day - timedelta(days=1)], stock_by_day[day]
            days.append((day, today))
        day += timedelta(days=1)
    for pair, line in lines.items():
        if line is Line.STOCK and pair in last_stock:
            facilities[pair[0]].volume = sum(v for p, v in last_stock.items() if p[0] == pair[0])
    settle_oil_gas([d for _, d in days], tolerance_abs=float(setting.params.get("tolerance_abs", 1.0)),
                   tolerance_rel=float(setting.params.get("tolerance_rel", 0.01)),
                   losses_rel=float(setting.params.get("losses_rel", 0.0)))  # fmt: skip
    return OilGasBalance(subject, product, days, sorted(facilities.values(), key=lambda f: (f.kind, f.object_id)),
                         {"enabled": setting.enabled, **setting.params})  # fmt: skip


def energy_balance(obj: MeteringObject, start: date, end: date, *, store=None) -> EnergyBalance:
    store = store or get_store()
    energy = Energy.HEAT if obj.kind == MeteringObject.Kind.HEAT_POINT else Energy.ELECTRICITY
    quantity = ENERGY_QUANTITY[energy]
    setting = Settings.load().resolve(Code.ENERGY_BALANCE, point_id=None, device_type="", quantity=quantity)
    children = list(obj.children.order_by("code"))
    query = ReadingQuery(object_ids=[obj.code, *(c.code for c in children)], quantities=[quantity],
                         start=astana_midnight(start), end=astana_midnight(end + timedelta(days=1)))  # fmt: skip
    sums: dict[tuple[str, date], float] = {}
    for row in store.aggregate(query, bucket="P1D", group="object"):
        sums[(row.object_id, astana_date(row.bucket_start))] = float(row.sum)
    days = []
    day = start
    while day <= end:
        outputs = sum(sums.get((c.code, day), 0.0) for c in children)
        days.append((day, EnergyDay(sums.get((obj.code, day), 0.0), outputs)))
        day += timedelta(days=1)
    return EnergyBalance(obj, energy.value, quantity, days, float(setting.params.get("allowed_loss_pct", 5.0)),
                         children)  # fmt: skip


def oil_gas_nodes():
    """(subject, product) pairs that have facilities of the product's tables."""
    for product, kinds in PRODUCTS.items():
        for subject in Subject.objects.filter(facilities__kind__in=kinds).distinct().order_by("name"):
            yield subject, product


def energy_objects():
    return (
        MeteringObject.objects.filter(kind__in=ENERGY_KINDS, children__isnull=False)
        .distinct()
        .order_by("code")
    )


def check_day(day: date | None = None) -> dict:
    """Every balance of one Astana day (yesterday by default): alarm the violated, clear the rest."""
    day = day or astana_date(utcnow()) - timedelta(days=1)
    at = utcnow()
    counts = {"balances": 0, "violated": 0}
    settings = Settings.load()
    for subject, product in oil_gas_nodes():
        key = f"oil_gas:{subject.bin}:{product}"
        setting = settings.resolve(Code.TANK_BALANCE, point_id=None, device_type="", quantity="volume")
        found = oil_gas_balance(subject, product, day, day)
        only = found.days[0][1]
        _finding(Code.TANK_BALANCE, found.violated and setting.enabled, subject.bin, product, "volume", day,
                 setting.alarm, at, subject=subject, energy=Energy.OIL_GAS,
                 detail={"imbalance": round(only.imbalance, 3), "relative": round(only.relative, 4)})  # fmt: skip
        _verdict(key, found.violated and setting.enabled, setting.alarm, at, subject=subject, energy=Energy.OIL_GAS,
                 title=f"Balance of {product}: {subject.short_name or subject.name} {day.isoformat()}",
                 evidence={"day": day.isoformat(), "imbalance": found.days[0][1].imbalance,
                           "relative": found.days[0][1].relative})  # fmt: skip
        counts["balances"] += 1
        counts["violated"] += found.violated
    for obj in energy_objects():
        found = energy_balance(obj, day, day)
        setting = settings.resolve(
            Code.ENERGY_BALANCE, point_id=None, device_type="", quantity=found.quantity
        )
        only = found.days[0][1]
        _finding(Code.ENERGY_BALANCE, found.violated and setting.enabled, obj.code, "", found.quantity, day,
                 setting.alarm, at, subject=obj.subject, energy=found.energy,
                 detail={"input": round(only.input, 3), "outputs": round(only.outputs, 3),
                         "loss_pct": None if only.loss_pct is None else round(only.loss_pct, 2)})  # fmt: skip
        _verdict(f"energy:{obj.code}", found.violated and setting.enabled, setting.alarm, at, subject=obj.subject,
                 energy=found.energy, region=obj.region,
                 title=f"Balance of {obj.code} {obj.name}: losses {only.loss_pct or 0:.1f} % on {day.isoformat()}",
                 evidence={"day": day.isoformat(), "input": only.input, "outputs": only.outputs,
                           "loss_pct": only.loss_pct, "allowed_loss_pct": found.allowed_loss_pct})  # fmt: skip
        counts["balances"] += 1
        counts["violated"] += found.violated
    return counts


def _finding(code: Code, violated: bool, object_id: str, device_id: str, quantity: str, day: date,
             severity: str, at, *, subject, energy: str, detail: dict) -> None:  # fmt: skip
    """The balance's day as a data-quality finding (the findings page lists it), or none when it closes."""
    from egsu.vee.models import Finding

    start = astana_midnight(day)
    key = dict(rule=code.value, object_id=object_id, device_id=device_id, quantity=quantity, interval="P1D",
               first_slot=start)  # fmt: skip
    if not violated:
        Finding.objects.filter(**key).delete()
        return
    Finding.objects.update_or_create(**key, defaults=dict(
        subject=subject, energy=energy, last_slot=astana_midnight(day + timedelta(days=1)), values=1,
        detail=detail, severity=severity, found_at=at,
    ))  # fmt: skip


def _verdict(key: str, violated: bool, severity: str, at, **alarm) -> None:
    if violated and severity:
        raise_alarm(source=SOURCE, key=key, severity=severity, at=at, **alarm)
    else:
        clear_alarm(source=SOURCE, key=key, at=at)
