"""Forecast models, forecasts, targets, weather and recommendations are read-only in the admin: only the
services (and the recommendations page, for decisions) write them."""

from django.contrib import admin

from egsu.admin_views import ViewOnlyAdmin
from egsu.analytics.models import (
    Forecast,
    ForecastModel,
    ForecastTarget,
    ForecastValue,
    Recommendation,
    Weather,
)


@admin.register(ForecastModel)
class ForecastModelAdmin(ViewOnlyAdmin):
    list_display = ("series_key", "horizon", "version", "algorithm", "train_start", "train_end", "trained_at")
    list_filter = ("horizon", "algorithm")
    search_fields = ("series_key",)
    date_hierarchy = "trained_at"


@admin.register(Forecast)
class ForecastAdmin(ViewOnlyAdmin):
    list_display = ("series_key", "horizon", "period_start", "issued_at", "scored_at", "mape", "coverage")
    list_filter = ("horizon",)
    search_fields = ("series_key",)
    date_hierarchy = "issued_at"


@admin.register(ForecastValue)
class ForecastValueAdmin(ViewOnlyAdmin):
    list_display = ("forecast", "slot_start", "value", "lower", "upper", "actual")
    search_fields = ("forecast__series_key",)


@admin.register(ForecastTarget)
class ForecastTargetAdmin(ViewOnlyAdmin):
    list_display = ("name", "level", "energy", "region", "active")
    list_filter = ("level", "energy", "active")
    search_fields = ("name", "area", "series_key")


@admin.register(Weather)
class WeatherAdmin(ViewOnlyAdmin):
    list_display = ("region", "kind", "at", "temperature", "wind_speed", "precipitation", "source")
    list_filter = ("kind", "region")
    date_hierarchy = "at"


@admin.register(Recommendation)
class RecommendationAdmin(ViewOnlyAdmin):
    list_display = ("kind", "key", "energy", "subject", "status", "computed_at", "decided_by")
    list_filter = ("kind", "status", "energy")
    search_fields = ("key",)
