"""Honest evaluation: rolling-origin backtests against seasonal naive, scored per series.

Each fold trains on everything before its origin and forecasts the `horizon` slots after it;
origins step back from the end of the data by `step` slots (the horizon by default, so the
folds' windows do not overlap). Every fold retrains the model. Beside the model, the same folds
are forecast by seasonal naive with the given season (and a week, when that differs and the
history allows), so a score always comes with the score it must beat.

Metrics (per fold and series, or pooled over the folds):

* MAPE, per cent: mean |actual − forecast| / |actual| over slots whose actual is not zero;
* MASE: mean |actual − forecast| divided by the mean absolute seasonal difference (the given
  season) of the fold's training data — below 1 beats in-sample seasonal naive;
* coverage: the share of actuals inside the prediction interval (compare with its level).

Regressors (weather) are taken as observed in the forecast windows: the backtest scores a
model given a perfect weather forecast, so real skill with forecast weather is lower.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from egsu.analytics.forecast.errors import NotEnoughDataError
from egsu.analytics.forecast.models import ModelSpec, least_history, make_forecaster, resolve
from egsu.analytics.forecast.series import ID, TARGET, TIME, PreparedSeries

MODEL, NAIVE, NAIVE_WEEK = "model", "seasonal_naive", "seasonal_naive_week"


@dataclass(frozen=True)
class Score:
    mape: float  # per cent
    mase: float
    coverage: float  # share, 0..1 (nan without an interval)
    points: int

    def as_dict(self) -> dict[str, float | int | None]:
        return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in self.__dict__.items()}


def mape(actual: np.ndarray, forecast: np.ndarray) -> float:
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    keep = actual != 0
    if not keep.any():
        return float("nan")
    return float(np.mean(np.abs(actual[keep] - forecast[keep]) / np.abs(actual[keep])) * 100)


def mase(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray | float) -> float:
    errors = np.abs(np.asarray(actual, float) - np.asarray(forecast, float)) / np.asarray(scale, float)
    errors = errors[np.isfinite(errors)]
    return float(np.mean(errors)) if len(errors) else float("nan")


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    actual = np.asarray(actual, float)
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    if not len(actual) or np.isnan(lower).all():
        return float("nan")
    return float(np.mean((actual >= lower) & (actual <= upper)))


def seasonal_scale(values: np.ndarray, season: int) -> float:
    """Mean absolute difference between slots one season apart (MASE's denominator)."""
    values = np.asarray(values, float)
    if len(values) <= season:
        return float("nan")
    scale = float(np.mean(np.abs(values[season:] - values[:-season])))
    return scale if scale > 0 else float("nan")


def score(points: pd.DataFrame, model: str) -> Score:
    return Score(
        mape=mape(points[TARGET], points[model]),
        mase=mase(points[TARGET], points[model], points["scale"]),
        coverage=coverage(points[TARGET], points[f"{model}_lower"], points[f"{model}_upper"]),
        points=len(points),
    )


@dataclass(frozen=True)
class Backtest:
    """Every forecast slot of every fold: fold, origin, unique_id, ds, y, scale, and per model
    its value and interval (<model>, <model>_lower, <model>_upper)."""

    points: pd.DataFrame
    models: tuple[str, ...]
    spec: ModelSpec  # as trained in every fold (lags fixed from the first fold's history)
    week_season: int | None

    def score(self, model: str = MODEL, unique_id: str | None = None, fold: int | None = None) -> Score:
        points = self.points
        if unique_id is not None:
            points = points[points[ID] == unique_id]
        if fold is not None:
            points = points[points["fold"] == fold]
        return score(points, model)

    def folds(self) -> list[tuple[int, pd.Timestamp]]:
        origins = self.points.groupby("fold", sort=True)["origin"].first()
        return list(origins.items())

    def scores(self, by: Sequence[str] = ("fold", ID)) -> pd.DataFrame:
        """One row per group and model: mape, mase, coverage, points."""
        rows = []
        for key, group in self.points.groupby(list(by), sort=True):
            key = key if isinstance(key, tuple) else (key,)
            for model in self.models:
                rows.append(
                    {**dict(zip(by, key, strict=True)), "model": model, **score(group, model).__dict__}
                )
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, dict]:
        """Pooled scores per model (all series, all folds), for storing beside a model version."""
        return {model: self.score(model).as_dict() for model in self.models}


def backtest(series: PreparedSeries, spec: ModelSpec, *, folds: int = 3, step: int | None = None) -> Backtest:
    """Rolling-origin backtest of `spec` and seasonal naive on `series` (see the module docstring)."""
    if folds < 1:
        raise ValueError("at least one fold")
    horizon = spec.horizon
    step = step or horizon
    resolution = series.resolution
    end = series.last_times().min() + resolution.step
    origins = [end - (horizon + (folds - 1 - k) * step) * resolution.step for k in range(folds)]
    before_first = series.frame[series.frame[TIME] < origins[0]].groupby(ID, sort=False).size()
    first_history = int(before_first.min()) if len(before_first) == len(series.ids) else 0
    least = least_history(spec)
    if first_history < least:
        need = least + horizon + (folds - 1) * step
        raise NotEnoughDataError(
            f"too little data for {folds} fold(s) of {horizon} slots: the model needs {least} slots of history "
            f"before the first fold, so {need} slots in all; the shortest series has {series.shortest}"
        )
    spec = resolve(spec, resolution, first_history)  # the same lags and windows in every fold
    naive = ModelSpec(
        algorithm="seasonal_naive", season_length=spec.season_length, horizon=horizon, level=spec.level
    )
    models = {MODEL: spec, NAIVE: naive}
    week = 7 * resolution.slots_per_day
    week_season = None
    if week != spec.season_length and first_history >= 2 * week:
        week_season = week
        models[NAIVE_WEEK] = replace(naive, season_length=week)
    parts = []
    for fold, origin in enumerate(origins):
        train = series.before(origin)
        actual = series.window(origin, origin + horizon * resolution.step)
        scale = train.frame.groupby(ID, sort=False)[TARGET].apply(
            lambda y: seasonal_scale(y.to_numpy(), spec.season_length)
        )
        points = actual[[ID, TIME, TARGET]].assign(fold=fold, origin=origin)
        points["scale"] = points[ID].map(scale).to_numpy()
        future = actual[[ID, TIME, *series.regressors]] if series.regressors else None
        for name, model_spec in models.items():
            forecast = make_forecaster(model_spec).fit(train).predict(future)
            forecast = forecast.rename(
                columns={"value": name, "lower": f"{name}_lower", "upper": f"{name}_upper"}
            )
            points = points.merge(forecast, on=[ID, TIME], how="left")
        parts.append(points)
    frame = pd.concat(parts, ignore_index=True)
    return Backtest(frame, tuple(models), spec, week_season)


__all__ = [
    "MODEL",
    "NAIVE",
    "NAIVE_WEEK",
    "Backtest",
    "Score",
    "backtest",
    "coverage",
    "mape",
    "mase",
    "seasonal_scale",
]
