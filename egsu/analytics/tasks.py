"""The worker's forecasting jobs (ANA-01, ANA-10, PRC-06), declared in egsu/jobs/schedule.py.

* `retrain` (weekly): refresh the targets from the registry and queue one `retrain_target` per target
  and horizon — a backtested, new model version and its forecast;
* `forecast` (daily): queue one `forecast_target` per target and horizon — a new forecast of the
  target's latest version, fitted on the latest data (a target without a version is trained);
* `score` (hourly): score the forecasts whose period has arrived; arrivals outside their interval;
* `advise` (daily): night load and losses (alarms), and the recommendations;
* `fetch_weather` (hourly): the configured weather provider, if any.

A series that will not do (too short, irregular) is skipped with its reason in the job's result:
the other targets go on.
"""

from __future__ import annotations

import logging

from django.conf import settings

from egsu.analytics import anomalies, recommendations, services, weather
from egsu.analytics.forecast import ForecastError
from egsu.analytics.models import ForecastModel, ForecastTarget
from egsu.analytics.services import SeriesSpec
from egsu.analytics.targets import LEVELS, refresh_targets
from egsu.jobs.registry import job
from egsu_core.clock import utcnow

log = logging.getLogger(__name__)

# What the schedule forecasts, per horizon: a day ahead at the data's resolution, a week ahead hourly
# (not for daily data), a month ahead daily.
HORIZONS = ("day_ahead", "week_ahead", "month_ahead")


def _targets(levels, energies) -> list[ForecastTarget]:
    """The active targets, one per series (a region of one object is that object's series)."""
    found = ForecastTarget.objects.filter(active=True, level__in=levels or scheduled_levels())
    if energies:
        found = found.filter(energy__in=energies)
    unique = {}
    for target in found.order_by("pk"):
        unique.setdefault(target.series_key, target)
    return list(unique.values())


def scheduled_levels() -> tuple[str, ...]:
    """The levels the schedule forecasts (EGSU_FORECAST_LEVELS). Per metering point is left out by
    default: a model per point costs about 11 s of CPU (measured on 2 vCPU), hours a day for a
    region's meters; a point's page still has its region's, subject's and object's forecasts."""
    return tuple(level for level in settings.CONFIG.forecast_levels if level in LEVELS)


def _horizons(target: ForecastTarget, horizons) -> list[str]:
    daily = target.series["bucket"] == "P1D"
    return [h for h in (horizons or HORIZONS) if not (daily and h == "week_ahead")]


def _queue_per_target(each, levels, energies, horizons) -> dict:
    """Queue `each` once per active target and horizon: the schedule's fan-out, one place."""
    queued = 0
    for target in _targets(levels, energies):
        for horizon in _horizons(target, horizons):
            each.enqueue(target.pk, horizon)
            queued += 1
    return {"queued": queued}


@job(max_attempts=1)
def retrain(levels: list[str] | None = None, energies: list[str] | None = None, horizons=None) -> dict:
    refresh_targets()
    return _queue_per_target(retrain_target, levels, energies, horizons)


@job(max_attempts=1)
def forecast(levels: list[str] | None = None, energies: list[str] | None = None, horizons=None) -> dict:
    if not ForecastTarget.objects.exists():
        refresh_targets()
    return _queue_per_target(forecast_target, levels, energies, horizons)


@job(max_attempts=2)
def retrain_target(target_id: int, horizon: str) -> dict:
    target = ForecastTarget.objects.get(pk=target_id)
    try:
        trained = services.train_and_forecast(
            SeriesSpec.from_dict(target.series), horizon, weather_region=target.region
        )
    except ForecastError as error:
        log.info("forecast target %s %s skipped: %s", target, horizon, error)
        return {"skipped": str(error)}
    return {"model": trained.model.pk, "version": trained.model.version, "forecast": trained.forecast.pk}


@job(max_attempts=2)
def forecast_target(target_id: int, horizon: str) -> dict:
    target = ForecastTarget.objects.get(pk=target_id)
    version = (
        ForecastModel.objects.filter(series_key=target.series_key, horizon=horizon)
        .order_by("-version")
        .first()
    )
    if version is not None:
        try:
            issued = services.forecast_with(version)
            return {"model": version.pk, "version": version.version, "forecast": issued.pk}
        except ForecastError as error:
            log.info("version %s cannot forecast now (%s): retraining", version, error)
    return retrain_target.call(target_id, horizon)


@job(max_attempts=2)
def score() -> dict:
    """Hourly: score what arrived, and compare today's arrivals with their forecast interval."""
    scored = services.score_arrived_forecasts()
    return {"scored": len(scored), **anomalies.check_forecasts(utcnow())}


@job(max_attempts=2)
def advise() -> dict:
    """Daily: the profile checks (night load, losses) over five weeks, and the recommendations."""
    return {**anomalies.check_profiles(), **recommendations.recompute()}


@job(max_attempts=2)
def fetch_weather() -> dict:
    """Hourly: the configured weather provider's observations and forecasts (nothing when none is set)."""
    from django.conf import settings

    url, regions = settings.CONFIG.weather_url, settings.CONFIG.weather_regions
    if not url or not regions:
        return {"skipped": "EGSU_WEATHER_URL and EGSU_WEATHER_REGIONS are not set"}
    return {"stored": weather.fetch_provider(url, regions)}
