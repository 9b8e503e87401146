"""Versioned forecast models and the forecasts they made, kept so that each can be scored later.

A `ForecastModel` row is one trained version: the algorithm and every parameter, the series and
period it learned from, when, and its backtest scores against seasonal naive (ANA-01, ANA-04).
A `Forecast` is one issue of a version for the slots ahead; its `ForecastValue` rows hold the
value and interval per slot, and the value that arrived once the period is over (scored by
egsu.analytics.services.score_arrived_forecasts). Rows are written by the services only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from egsu.choices import energy_choices


class Horizon(models.TextChoices):
    DAY_AHEAD = "day_ahead", _("Day ahead")
    WEEK_AHEAD = "week_ahead", _("Week ahead")
    MONTH_AHEAD = "month_ahead", _("Month ahead")


class ForecastModel(models.Model):
    """One trained version of a forecasting model for one series and horizon."""

    series_key = models.CharField(_("series"), max_length=200, db_index=True)
    series = models.JSONField(_("series definition"))  # egsu.analytics.services.SeriesSpec, as read
    horizon = models.CharField(_("horizon"), max_length=16, choices=Horizon.choices)
    resolution = models.CharField(_("resolution"), max_length=8)  # the store's bucket: PT15M, PT1H, P1D
    version = models.PositiveIntegerField(_("version"))
    algorithm = models.CharField(_("algorithm"), max_length=32)
    parameters = models.JSONField(_("parameters"))  # ModelSpec.to_dict(), automatic parts fixed
    libraries = models.JSONField(_("library versions"), default=dict)
    train_start = models.DateTimeField(_("trained from"))
    train_end = models.DateTimeField(_("trained until"))  # exclusive
    slots = models.PositiveIntegerField(_("training slots"))
    filled = models.PositiveIntegerField(_("interpolated slots"), default=0)
    trained_at = models.DateTimeField(_("trained"))
    backtest = models.JSONField(_("backtest scores"))  # per model: mape, mase, coverage, points
    mase_scale = models.FloatField(_("MASE scale"), null=True, blank=True)

    class Meta:
        verbose_name = _("forecast model")
        verbose_name_plural = _("forecast models")
        ordering = ("series_key", "horizon", "-version")
        constraints = [
            models.UniqueConstraint(
                fields=("series_key", "horizon", "version"), name="analytics_model_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.series_key} {self.horizon} v{self.version} ({self.algorithm})"


class Forecast(models.Model):
    """One forecast issued by a model version: its period, and its scores once the period arrived."""

    model = models.ForeignKey(
        ForecastModel, on_delete=models.PROTECT, related_name="forecasts", verbose_name=_("model version")
    )
    series_key = models.CharField(_("series"), max_length=200, db_index=True)
    horizon = models.CharField(_("horizon"), max_length=16, choices=Horizon.choices)
    issued_at = models.DateTimeField(_("issued"))
    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end"))  # exclusive
    level = models.PositiveSmallIntegerField(_("interval level, %"))
    scored_at = models.DateTimeField(_("scored"), null=True, blank=True)
    arrived = models.PositiveIntegerField(_("slots arrived"), default=0)
    mape = models.FloatField(_("MAPE, %"), null=True, blank=True)
    mase = models.FloatField(_("MASE"), null=True, blank=True)
    coverage = models.FloatField(_("interval coverage"), null=True, blank=True)

    class Meta:
        verbose_name = _("forecast")
        verbose_name_plural = _("forecasts")
        ordering = ("-issued_at",)
        indexes = [models.Index(fields=("scored_at", "period_end"), name="analytics_forecast_due")]

    def __str__(self) -> str:
        return f"{self.series_key} {self.horizon} {self.period_start:%Y-%m-%d %H:%M}"


class ForecastValue(models.Model):
    """One slot of a forecast: value and interval, and what arrived (null until scored)."""

    forecast = models.ForeignKey(
        Forecast, on_delete=models.CASCADE, related_name="values", verbose_name=_("forecast")
    )
    slot_start = models.DateTimeField(_("slot start"))
    value = models.FloatField(_("value"))
    lower = models.FloatField(_("lower bound"))
    upper = models.FloatField(_("upper bound"))
    actual = models.FloatField(_("arrived value"), null=True, blank=True)

    class Meta:
        verbose_name = _("forecast value")
        verbose_name_plural = _("forecast values")
        ordering = ("forecast", "slot_start")
        constraints = [
            models.UniqueConstraint(fields=("forecast", "slot_start"), name="analytics_forecast_slot")
        ]


class Level(models.TextChoices):
    """The levels a forecast is made for (ANA-01): from one metering point up to the nation."""

    POINT = "point", _("metering point")
    OBJECT = "object", _("object")
    SUBJECT = "subject", _("subject")
    REGION = "region", _("region")
    NATION = "nation", _("nation")


class ForecastTarget(models.Model):
    """What the schedule forecasts: one energy at one level and area, as a series of the store.

    Derived from the metering points by egsu.analytics.targets.refresh_targets (the registry
    stays the one place people edit); the forecasts page picks one by level, area and energy.
    """

    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    energy = models.CharField(_("energy"), max_length=16, choices=energy_choices())
    area = models.CharField(
        _("area"), max_length=200
    )  # a region, a subject's BIN, an object code, a point id
    name = models.CharField(_("name"), max_length=300)
    region = models.CharField(_("region"), max_length=100, blank=True)  # its weather (none for the nation)
    subject = models.ForeignKey(
        "registry.Subject", verbose_name=_("subject"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="+",
    )  # fmt: skip
    point = models.ForeignKey(
        "points.MeteringPoint", verbose_name=_("metering point"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="+",
    )  # fmt: skip
    series = models.JSONField(_("series definition"))
    series_key = models.CharField(_("series"), max_length=200, db_index=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("forecast target")
        verbose_name_plural = _("forecast targets")
        ordering = ("energy", "level", "name")
        constraints = [
            models.UniqueConstraint(fields=("level", "energy", "area"), name="analytics_target_unique")
        ]

    def __str__(self) -> str:
        return f"{self.energy} {self.level} {self.name}"


class WeatherKind(models.TextChoices):
    OBSERVED = "observed", _("observed")
    FORECAST = "forecast", _("forecast")


class Weather(models.Model):
    """One hour of weather in one region, observed or forecast (ANA-03, PRC-07).

    Imported from a file or a provider by egsu.analytics.weather; the forecasts use the temperature
    as a regressor where it covers the history and the period ahead, and the correlation page
    sets consumption against it. A newer import of the same hour replaces the value.
    """

    region = models.CharField(_("region"), max_length=100)
    kind = models.CharField(_("kind"), max_length=8, choices=WeatherKind.choices)
    at = models.DateTimeField(_("hour"))  # UTC start of the hour
    temperature = models.FloatField(_("temperature, °C"))
    wind_speed = models.FloatField(_("wind speed, m/s"), null=True, blank=True)
    precipitation = models.FloatField(_("precipitation, mm"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=100)
    imported_at = models.DateTimeField(_("imported"))

    class Meta:
        verbose_name = _("weather")
        verbose_name_plural = _("weather")
        ordering = ("region", "at")
        constraints = [
            models.UniqueConstraint(fields=("region", "kind", "at"), name="analytics_weather_hour")
        ]


class Recommendation(models.Model):
    """A recommendation computed from the data, with its estimated effect (ANA-02, ANA-08, PRC-05).

    Recomputed by a periodic job: one row per (kind, key) while it holds. Someone it concerns
    accepts or dismisses it with a reason (audited); a decided one is not raised again until its
    figures change materially (a new key).
    """

    class Kind(models.TextChoices):
        PEAK_SHIFT = "peak_shift", _("Move consumption out of peak hours")
        OUTSIDE_PROFILE = "outside_profile", _("Equipment outside its normal profile")
        LOSSES = "losses", _("Losses above the allowed imbalance")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ACCEPTED = "accepted", _("accepted")
        DISMISSED = "dismissed", _("dismissed")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    key = models.CharField(_("condition"), max_length=200)
    energy = models.CharField(_("energy"), max_length=16, choices=energy_choices())
    subject = models.ForeignKey(
        "registry.Subject", verbose_name=_("subject"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="+",
    )  # fmt: skip
    point = models.ForeignKey(
        "points.MeteringPoint", verbose_name=_("metering point"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="+",
    )  # fmt: skip
    object_code = models.CharField(_("object code"), max_length=64, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    effect = models.JSONField(_("estimated effect"))  # numbers and their unit, see egsu.analytics.advice
    computed_at = models.DateTimeField(_("computed"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        ordering = ("status", "-computed_at")
        constraints = [models.UniqueConstraint(fields=("kind", "key"), name="analytics_recommendation_key")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"
