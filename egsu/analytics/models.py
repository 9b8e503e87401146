"""Versioned forecast models and the forecasts they made, kept so that each can be scored later.

A `ForecastModel` row is one trained version: the algorithm and every parameter, the series and
period it learned from, when, and its backtest scores against seasonal naive (ANA-01, ANA-04).
A `Forecast` is one issue of a version for the slots ahead; its `ForecastValue` rows hold the
value and interval per slot, and the value that arrived once the period is over (scored by
egsu.analytics.services.score_arrived_forecasts). Rows are written by the services only.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


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
