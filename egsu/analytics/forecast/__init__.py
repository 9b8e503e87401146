"""The forecasting core (no Django): series, calendar features, models, backtests and horizons.

series = prepare(frame, time_column="time", value_column="load", regressors=["temperature"])
result = backtest(series, ModelSpec(season_length=96, horizon=96), folds=3)
result.score("model"), result.score("seasonal_naive")
"""

from egsu.analytics.forecast.errors import (
    ForecastError,
    IrregularSeriesError,
    MissingColumnError,
    MissingRegressorError,
    NotEnoughDataError,
    TimeParseError,
    ValueParseError,
)
from egsu.analytics.forecast.evaluation import MODEL, NAIVE, NAIVE_WEEK, Backtest, Score, backtest
from egsu.analytics.forecast.features import calendar_for
from egsu.analytics.forecast.horizons import DAY_AHEAD, HORIZONS, MONTH_AHEAD, WEEK_AHEAD, Horizon
from egsu.analytics.forecast.models import ModelSpec, make_forecaster
from egsu.analytics.forecast.series import Clock, PreparedSeries, Resolution, prepare, resample

__all__ = [
    "DAY_AHEAD",
    "HORIZONS",
    "MODEL",
    "MONTH_AHEAD",
    "NAIVE",
    "NAIVE_WEEK",
    "WEEK_AHEAD",
    "Backtest",
    "Clock",
    "ForecastError",
    "Horizon",
    "IrregularSeriesError",
    "MissingColumnError",
    "MissingRegressorError",
    "ModelSpec",
    "NotEnoughDataError",
    "PreparedSeries",
    "Resolution",
    "Score",
    "TimeParseError",
    "ValueParseError",
    "backtest",
    "calendar_for",
    "make_forecaster",
    "prepare",
    "resample",
]
