"""Anomalies raised as alarms with their evidence (PRC-05, ANA-02): source "forecast" in the alarms core.

* outside the forecast interval: the arrived values of a day-ahead forecast leave its prediction
  interval in at least `OUTSIDE_MIN_SLOTS` slots and a quarter of those arrived;
* unusual night load: a meter's mean load at night (00–05 Astana) over the last week is more than
  `NIGHT_RATIO` times that of the four weeks before;
* losses rising: an object's share of what came in and was not measured inside, over the last week,
  is above its energy's allowed imbalance and `LOSS_RISE` above the four weeks before.

Each check raises the alarm while its condition holds and clears it when it no longer does
(egsu.alarms.services). Values are read through the readings store only.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from egsu.alarms.services import clear_alarm, clear_all_except, raise_alarm
from egsu.analytics.models import Forecast, ForecastTarget
from egsu.analytics.profiles import NIGHT_HOURS, object_balances, point_profiles
from egsu.analytics.services import BUCKETS, SeriesSpec, read_series
from egsu.quantities import unit_of
from egsu.readings.store import ReadingsStore
from egsu_core.clock import utcnow
from egsu_core.vocabulary import METER_ENERGIES, Energy, Severity

SOURCE = "forecast"
OUTSIDE_MIN_SLOTS = 3
NIGHT_RATIO = 1.5
LOSS_RISE = 0.02  # two percentage points
# Allowed imbalance per energy: the share of what came in that may go unmeasured (technical losses).
ALLOWED_IMBALANCE: dict[str, float] = {Energy.ELECTRICITY: 0.08, Energy.HEAT: 0.12, Energy.GAS: 0.02}
EVIDENCE_SLOTS = 24


def _target_of(series: SeriesSpec) -> ForecastTarget | None:
    """The narrowest target of the series, whatever bucket it was forecast at."""
    order = ["point", "object", "subject", "region", "nation"]
    keys = {replace(series, bucket=bucket).key for bucket in BUCKETS}
    found = list(ForecastTarget.objects.filter(series_key__in=keys).select_related("subject", "point"))
    return min(found, key=lambda t: order.index(t.level)) if found else None


def check_forecasts(now: datetime, *, store: ReadingsStore | None = None) -> dict:
    """Compare what arrived with the latest day-ahead forecast of each series whose period has begun."""
    raised = cleared = 0
    recent = Forecast.objects.filter(
        horizon="day_ahead", period_start__lte=now, period_end__gt=now - timedelta(days=2)
    ).order_by("series_key", "-issued_at")
    seen = set()
    for forecast in recent.select_related("model"):
        if forecast.series_key in seen:
            continue
        seen.add(forecast.series_key)
        series = SeriesSpec.from_dict(forecast.model.series)
        arrived = read_series(
            series, forecast.period_start, min(forecast.period_end, now), bucket=forecast.model.resolution,
            store=store,
        )  # fmt: skip
        actual = {t.to_pydatetime(): v for t, v in zip(arrived["time"], arrived["value"], strict=True)}
        slots = [(v, actual[v.slot_start]) for v in forecast.values.all() if v.slot_start in actual]
        outside = [(v, a) for v, a in slots if not v.lower <= a <= v.upper]
        key = f"outside:{forecast.series_key}"
        if len(outside) >= OUTSIDE_MIN_SLOTS and len(outside) * 4 >= len(slots):
            target = _target_of(series)
            raise_alarm(
                source=SOURCE, key=key, severity=Severity.WARNING,
                title=f"Consumption outside its forecast interval: {target.name if target else forecast.series_key}",
                subject=target.subject if target else None, point=target.point if target else None,
                energy=target.energy if target else "", region=target.region if target else "",
                evidence={
                    "forecast": forecast.pk, "model_version": forecast.model.version, "level": forecast.level,
                    "unit": unit_of(series.quantity), "slots_arrived": len(slots), "slots_outside": len(outside),
                    "slots": [{"slot": v.slot_start.isoformat(), "arrived": a, "forecast": v.value, "lower": v.lower,
                               "upper": v.upper} for v, a in outside[:EVIDENCE_SLOTS]],
                },
                at=now,
            )  # fmt: skip
            raised += 1
        elif len(slots) >= OUTSIDE_MIN_SLOTS:
            cleared += clear_alarm(source=SOURCE, key=key, at=now) is not None
    return {"outside_raised": raised, "outside_cleared": cleared}


def _meter_points():
    from egsu.points.models import MeteringPoint

    return list(
        MeteringPoint.objects.filter(active=True, energy__in=list(METER_ENERGIES)).select_related("subject")
    )


def check_night_load(now: datetime, *, points=None, store: ReadingsStore | None = None) -> dict:
    points = _meter_points() if points is None else points
    profiles = point_profiles(points, now, store=store)
    keys = set()
    for point in points:
        profile = profiles.get(point.store_key)
        if profile is None:
            continue
        recent, base = profile.mean(NIGHT_HOURS, True), profile.mean(NIGHT_HOURS, False)
        if recent is None or not base or base <= 0 or recent <= NIGHT_RATIO * base:
            continue
        key = f"night:{point.object_code}:{point.store_device_id}"
        keys.add(key)
        raise_alarm(
            source=SOURCE, key=key, severity=Severity.WARNING, point=point,
            title=f"Unusual night load: {point.object_code}/{point.name}",
            evidence={"night_hours": f"{NIGHT_HOURS.start:02d}:00–{NIGHT_HOURS.stop:02d}:00",
                      "recent_mean": round(recent, 3), "baseline_mean": round(base, 3),
                      "ratio": round(recent / base, 2), "unit": unit_of(_quantity(point)), "recent_days": 7,
                      "baseline_days": 28},
            at=now,
        )  # fmt: skip
    cleared = clear_all_except(source=SOURCE, keys=keys | _other_keys("night:"), at=now)
    return {"night_raised": len(keys), "night_cleared": cleared}


def check_losses(now: datetime, *, points=None, store: ReadingsStore | None = None) -> dict:
    points = _meter_points() if points is None else points
    keys = set()
    by_object = {(p.object_code, p.energy): p for p in points if p.commercial}
    for balance in object_balances(points, now, store=store):
        allowed = ALLOWED_IMBALANCE.get(balance.energy)
        rate, base = balance.recent_rate, balance.base_rate
        if (
            allowed is None
            or rate is None
            or rate <= allowed
            or (base is not None and rate <= base + LOSS_RISE)
        ):
            continue
        key = f"losses:{balance.object_code}:{balance.energy}"
        keys.add(key)
        boundary = by_object.get((balance.object_code, balance.energy))
        raise_alarm(
            source=SOURCE, key=key, severity=Severity.WARNING,
            title=f"Losses rising at {balance.object_code}",
            subject=boundary.subject if boundary else None, energy=balance.energy,
            region=boundary.region if boundary else "",
            evidence={"recent_loss_percent": round(rate * 100, 2),
                      "baseline_loss_percent": None if base is None else round(base * 100, 2),
                      "allowed_percent": round(allowed * 100, 2), "came_in": round(balance.recent_in, 3),
                      "measured_inside": round(balance.recent_out, 3), "unit": unit_of(_quantity(boundary)) if boundary else "",
                      "recent_days": 7, "baseline_days": 28},
            at=now,
        )  # fmt: skip
    cleared = clear_all_except(source=SOURCE, keys=keys | _other_keys("losses:"), at=now)
    return {"losses_raised": len(keys), "losses_cleared": cleared}


def _quantity(point) -> str:
    from egsu.analytics.targets import QUANTITY

    return QUANTITY.get(point.energy, "")


def _other_keys(prefix: str) -> set[str]:
    """Active keys of this source that another check owns (a check clears only its own)."""
    from egsu.alarms.models import ACTIVE_STATES, Alarm

    keys = Alarm.objects.filter(source=SOURCE, state__in=ACTIVE_STATES).values_list("key", flat=True)
    return {k for k in keys if not k.startswith(prefix)}


def check_profiles(now: datetime | None = None, *, store: ReadingsStore | None = None) -> dict:
    """The checks over five weeks of hourly profiles and daily balances (once a day is enough)."""
    now = now or utcnow()
    points = _meter_points()
    return {
        **check_night_load(now, points=points, store=store),
        **check_losses(now, points=points, store=store),
    }


def check_all(now: datetime | None = None, *, store: ReadingsStore | None = None) -> dict:
    now = now or utcnow()
    return {**check_forecasts(now, store=store), **check_profiles(now, store=store)}
