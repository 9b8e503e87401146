"""The analytics pages: forecasts (ANA-01, ANA-10), correlation with weather and calendar (ANA-03, ANA-04),
recommendations (ANA-08, PRC-05). Every target and recommendation comes through the permission gate,
every value through the readings store."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.analytics import recommendations as advice
from egsu.analytics.forecast import Resolution
from egsu.analytics.forecast.evaluation import mape
from egsu.analytics.models import Forecast, ForecastModel, Level, Recommendation
from egsu.analytics.services import SeriesSpec, read_series
from egsu.analytics.weather import temperature_for
from egsu.cabinet.navigation import DATA
from egsu.calendar_kz import is_working_day
from egsu.choices import label
from egsu.quantities import unit_of
from egsu_core.clock import astana_date, astana_midnight, to_astana, utcnow

LEVELS = [Level.NATION, Level.REGION, Level.SUBJECT, Level.OBJECT, Level.POINT]
HORIZONS = [
    ("day_ahead", gettext_lazy("Day ahead")),
    ("week_ahead", gettext_lazy("Week ahead")),
    ("month_ahead", gettext_lazy("Month ahead")),
]
SCORED_SHOWN = 7
CORRELATION_DAYS = 90


def _pick(value, allowed: list, default=None):
    return value if value in allowed else (allowed[0] if allowed else default)


def _choose_target(request, targets, levels=LEVELS):
    """(energy, level, area, target) from the query, each falling back to the first available."""
    energies = sorted(set(targets.values_list("energy", flat=True)))
    energy = _pick(request.GET.get("energy"), energies)
    present = set(targets.filter(energy=energy).values_list("level", flat=True))
    level = _pick(request.GET.get("level"), [lv.value for lv in levels if lv in present])
    areas = list(targets.filter(energy=energy, level=level).order_by("name")[:500])
    target = next((t for t in areas if t.area == request.GET.get("area")), areas[0] if areas else None)
    return {
        "energies": [(e, label(e)) for e in energies],
        "energy": energy,
        "levels": [(lv.value, lv.label) for lv in levels if lv in present],
        "level": level,
        "areas": areas,
        "target": target,
    }


def _local(moment) -> str:
    return to_astana(moment).strftime("%Y-%m-%d %H:%M")


def _naive_mape(series: SeriesSpec, forecast: Forecast, values) -> float | None:
    """Seasonal naive's MAPE over the same slots: the value one season earlier (a day; a week for days)."""
    resolution = Resolution.of(forecast.model.resolution)
    back = timedelta(days=7) if resolution.daily else timedelta(days=1)
    earlier = read_series(
        series, forecast.period_start - back, forecast.period_end - back, bucket=forecast.model.resolution
    )
    before = {t.to_pydatetime() + back: v for t, v in zip(earlier["time"], earlier["value"], strict=True)}
    pairs = [
        (v.actual, before[v.slot_start]) for v in values if v.actual is not None and v.slot_start in before
    ]
    if not pairs:
        return None
    found = mape([a for a, _ in pairs], [b for _, b in pairs])
    return None if found != found else float(found)


@require_GET
@cabinet_view(any_of=DATA)
def forecasts(request):
    targets = gate.forecast_targets(request.scope)
    chosen = _choose_target(request, targets)
    horizon = _pick(request.GET.get("horizon"), [h for h, _ in HORIZONS])
    context = {**chosen, "horizons": HORIZONS, "horizon": horizon, "forecast": None, "chart": None}
    target = chosen["target"]
    if target is not None:
        series = SeriesSpec.from_dict(target.series)
        found = Forecast.objects.filter(series_key=target.series_key, horizon=horizon).select_related("model")
        latest = found.order_by("-issued_at").first()
        context["unit"] = unit_of(series.quantity)
        if latest is not None:
            values = list(latest.values.order_by("slot_start"))
            span = latest.period_end - latest.period_start
            arrived = read_series(series, latest.period_start - span, min(latest.period_end, utcnow()),
                                  bucket=latest.model.resolution)  # fmt: skip
            context["forecast"] = latest
            context["chart"] = {
                "x": [_local(v.slot_start) for v in values],
                "value": [v.value for v in values],
                "lower": [v.lower for v in values],
                "upper": [v.upper for v in values],
                "arrived_x": [_local(t.to_pydatetime()) for t in arrived["time"]],
                "arrived": [float(v) for v in arrived["value"]],
                "unit": context["unit"],
                "names": {
                    "forecast": _("Forecast"),
                    "band": _("Interval %(level)s %%") % {"level": latest.level},
                    "arrived": _("Arrived"),
                },  # fmt: skip
            }
            scored = []
            for forecast in found.filter(scored_at__isnull=False).order_by("-period_start")[:SCORED_SHOWN]:
                rows = list(forecast.values.order_by("slot_start"))
                scored.append({"forecast": forecast, "naive_mape": _naive_mape(series, forecast, rows)})
            context["scored"] = scored
            version = latest.model
            names = {"model": version.algorithm, "seasonal_naive": _("Seasonal naive (a season back)"),
                     "seasonal_naive_week": _("Seasonal naive (a week back)")}  # fmt: skip
            context["backtest"] = [
                {"name": names.get(name, name), **score}
                for name, score in version.backtest.get("scores", {}).items()
            ]
            context["version"] = version
            context["versions"] = ForecastModel.objects.filter(
                series_key=target.series_key, horizon=horizon
            ).count()
    return render(request, "analytics/forecasts.html", context)


def _pearson(x, y) -> float | None:
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


@require_GET
@cabinet_view(any_of=DATA)
def correlation(request):
    targets = gate.forecast_targets(request.scope).exclude(region="")
    chosen = _choose_target(request, targets, levels=[Level.REGION, Level.SUBJECT, Level.OBJECT])
    context = {**chosen, "days": CORRELATION_DAYS, "charts": None}
    target = chosen["target"]
    if target is None:
        return render(request, "analytics/correlation.html", context)
    series = SeriesSpec.from_dict(target.series)
    today = astana_date(utcnow())
    start, end = astana_midnight(today - timedelta(days=CORRELATION_DAYS)), astana_midnight(today)
    daily = read_series(series, start, end, bucket="P1D")
    days = [t.to_pydatetime() for t in daily["time"]]
    values = [float(v) for v in daily["value"]]
    temps = temperature_for(target.region, days, "P1D")
    pairs = [(t, v) for t, v in zip(temps, values, strict=False) if t is not None]
    working = [is_working_day(astana_date(d)) for d in days]
    r_temp = _pearson([t for t, _ in pairs], [v for _, v in pairs])
    r_day = _pearson([1.0 if w else 0.0 for w in working], values)
    fit = None
    if r_temp is not None:
        slope, intercept = np.polyfit([t for t, _ in pairs], [v for _, v in pairs], 1)
        low, high = min(t for t, _ in pairs), max(t for t, _ in pairs)
        fit = {
            "x": [low, high],
            "y": [slope * low + intercept, slope * high + intercept],
            "slope": float(slope),
        }
    on = [v for v, w in zip(values, working, strict=True) if w]
    off = [v for v, w in zip(values, working, strict=True) if not w]
    heat = None
    if series.bucket != "P1D":
        hourly = read_series(series, end - timedelta(days=28), end, bucket="PT1H")
        grid = [[[] for _ in range(24)] for _ in range(7)]
        for moment, value in zip(hourly["time"], hourly["value"], strict=True):
            local = to_astana(moment.to_pydatetime())
            grid[local.weekday()][local.hour].append(float(value))
        heat = [[(sum(c) / len(c)) if c else None for c in row] for row in grid]
    unit = unit_of(series.quantity)
    context.update({
        "unit": unit, "r_temperature": r_temp, "r_day_type": r_day, "pairs": len(pairs), "fit": fit,
        "working_mean": (sum(on) / len(on)) if on else None, "off_mean": (sum(off) / len(off)) if off else None,
        "charts": {
            "scatter": {"x": [t for t, _ in pairs], "y": [v for _, v in pairs], "fit": fit, "unit": unit,
                        "x_title": _("Mean daily temperature, °C"), "y_title": unit,
                        "names": {"days": _("Days"), "fit": _("Linear fit")}},
            "daytype": {"x": [_("Working days"), _("Days off")],
                        "y": [(sum(on) / len(on)) if on else 0, (sum(off) / len(off)) if off else 0], "unit": unit},
            "heat": heat and {"z": heat, "x": list(range(24)),
                              "y": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
                              "x_title": _("Hour (Astana)")},
        },
    })  # fmt: skip
    return render(request, "analytics/correlation.html", context)


@require_GET
@cabinet_view(any_of=DATA)
def recommendations(request):
    scope = request.scope
    status = _pick(request.GET.get("status"), [s.value for s in Recommendation.Status])
    found = gate.recommendations(scope).filter(status=status).select_related("subject", "point", "decided_by")
    rows = [
        {"r": r, "may_decide": gate.may_decide_recommendation(scope, r)}
        for r in found.order_by("-computed_at")[:200]
    ]
    return render(request, "analytics/recommendations.html", {
        "rows": rows, "status": status, "statuses": Recommendation.Status.choices,
    })  # fmt: skip


@require_POST
@cabinet_view(any_of=DATA)
def decide(request, pk: int):
    found = gate.recommendations(request.scope).filter(pk=pk).select_related("subject").first()
    if found is None or not gate.may_decide_recommendation(request.scope, found):
        raise Http404("no such recommendation in your scope")
    reason = request.POST.get("reason", "").strip()
    action = request.POST.get("action")
    if action not in ("accept", "dismiss") or not reason:
        messages.error(request, _("Give a reason for the decision."))
        return redirect("analytics:recommendations")
    try:
        advice.decide(
            found, accept=action == "accept", reason=reason[:2000], actor=request.user, request=request
        )
    except advice.AlreadyDecided:
        messages.error(request, _("This recommendation has already been decided."))
    else:
        messages.success(request, _("Decision saved."))
    return redirect("analytics:recommendations")
