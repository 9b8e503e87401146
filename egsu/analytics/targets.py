"""What the schedule forecasts: every energy at every level, derived from the metering points (ANA-01).

One `ForecastTarget` per (level, energy, area): the nation, each region, subject and object, and
each metering point, for electricity, heat, gas and oil. Its series is what the readings store
sums: the energy's main quantity (active energy import, heat energy, gas volume at standard
conditions, oil and gas mass) at the interval its points report. A region and an object are read
by object codes, a subject and a point by (object, device) pairs, the nation without a filter.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from django.db import transaction

from egsu.analytics.models import ForecastTarget, Level
from egsu.analytics.services import SeriesSpec
from egsu_core.vocabulary import Energy

# The quantity forecast per energy: what the energy is consumed or turned over as.
QUANTITY: dict[str, str] = {
    Energy.ELECTRICITY: "A+",
    Energy.HEAT: "Q",
    Energy.GAS: "Vstd",
    Energy.OIL_GAS: "mass",
}
# Oil and gas come as 2-hourly and daily records of the same flows: forecasts take the daily ones.
FIXED_INTERVAL: dict[str, str] = {Energy.OIL_GAS: "P1D"}
# The store's bucket for the readings' own interval (10-minute gas is read hourly, 2-hourly daily).
BUCKET_OF = {"PT10M": "PT1H", "PT15M": "PT15M", "PT1H": "PT1H", "PT2H": "P1D", "P1D": "P1D"}
LEVELS = tuple(level.value for level in Level)


def _interval(energy: str, points: list) -> str | None:
    if energy in FIXED_INTERVAL:
        return FIXED_INTERVAL[energy]
    counted = Counter(code for p in points for code in p.intervals if code in BUCKET_OF)
    return counted.most_common(1)[0][0] if counted else None


def _spec(energy: str, interval: str, **where) -> SeriesSpec:
    return SeriesSpec(quantity=QUANTITY[energy], interval=interval, bucket=BUCKET_OF[interval], **where)


def target_specs(levels=LEVELS) -> list[dict]:
    """Every target the active metering points make: dicts of ForecastTarget fields."""
    from egsu.points.models import MeteringPoint

    found = []
    by_energy = defaultdict(list)
    for point in MeteringPoint.objects.filter(active=True).select_related("subject").order_by("pk"):
        by_energy[point.energy].append(point)
    for energy, points in by_energy.items():
        interval = _interval(energy, points)
        if interval is None or energy not in QUANTITY:
            continue
        chosen = [p for p in points if energy in FIXED_INTERVAL or interval in p.intervals]

        def add(level, area, name, spec, *, region="", subject=None, point=None, energy=energy):
            if level in levels:
                found.append(dict(level=level, energy=energy, area=area[:200], name=name[:300], region=region,
                                  subject=subject, point=point, series=spec.to_dict(), series_key=spec.key))  # fmt: skip

        add(Level.NATION, "KZ", "Kazakhstan", _spec(energy, interval))
        regions, subjects, objects = defaultdict(set), defaultdict(list), defaultdict(list)
        for p in chosen:
            if p.region:
                regions[p.region].add(p.object_code)
            subjects[p.subject_id].append(p)
            objects[p.object_code].append(p)
        for region, codes in sorted(regions.items()):
            add(Level.REGION, region, region, _spec(energy, interval, object_ids=tuple(codes)), region=region)
        for members in subjects.values():
            subject = members[0].subject
            spec = _spec(energy, interval, points=tuple(p.store_key for p in members))
            add(Level.SUBJECT, subject.bin, subject.name, spec, region=subject.region, subject=subject)
        for code, members in sorted(objects.items()):
            first = members[0]
            add(Level.OBJECT, code, first.object_name or code, _spec(energy, interval, object_ids=(code,)),
                region=first.region, subject=first.subject)  # fmt: skip
        for p in chosen:
            add(Level.POINT, str(p.pk), f"{p.object_code}/{p.name}", _spec(energy, interval, points=(p.store_key,)),
                region=p.region, subject=p.subject, point=p)  # fmt: skip
    return found


def refresh_targets(levels=LEVELS) -> list[ForecastTarget]:
    """Create or update the targets of the registry's active points; deactivate the rest."""
    specs = target_specs(levels)
    kept = []
    with transaction.atomic():
        for fields in specs:
            target, _ = ForecastTarget.objects.update_or_create(
                level=fields.pop("level"), energy=fields.pop("energy"), area=fields.pop("area"),
                defaults={**fields, "active": True},
            )  # fmt: skip
            kept.append(target)
        ForecastTarget.objects.exclude(pk__in=[t.pk for t in kept]).update(active=False)
    return kept
