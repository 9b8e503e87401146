"""Forecasting models: seasonal naive baselines and gradient-boosted trees (mlforecast + LightGBM).

PRC-06 asks for machine-learning demand forecasting; ANA-04 for statistical trends and ML
models. The model here is one LightGBM regressor over many series at once (mlforecast), fed
with lagged values, the calendar features of `features.py` and any regressors (weather).
By default its lags are at or beyond the horizon — the same slot one and two seasons earlier
and a week earlier — so each step of the horizon is predicted from observed values only and
errors do not feed back. Prediction intervals are split-conformal: mlforecast backtests the
last `conformal_windows` horizons of the training data and each series' absolute errors, pooled
over all steps, give the interval's radius. (mlforecast's own intervals take a quantile per
step from as many errors as there are windows — three — and covered about 60 % at a nominal
80 % on the Victoria data; pooling gives the quantile a hundred and more errors.)

The baselines are statsforecast's seasonal naive: the value of the same slot one season
earlier (a day, a week), with its normal intervals. statsforecast's MSTL (day and week seasons,
ETS trend) is offered as a statistical model for series without regressors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from egsu.analytics.forecast.errors import ForecastError, MissingRegressorError, NotEnoughDataError
from egsu.analytics.forecast.features import DayCalendar, calendar_features, calendar_for
from egsu.analytics.forecast.series import ID, TARGET, TIME, PreparedSeries, Resolution

if TYPE_CHECKING:
    from mlforecast import MLForecast

# The model libraries (about 90 MB resident with their dependencies) are imported where a model is
# fitted or used, so the web workers, which only show forecasts, never load them.

ALGORITHMS = ("lightgbm", "mstl", "seasonal_naive")
# Conformal windows: two at least; seven (a week of day-ahead windows) covered 77 % at a nominal
# 80 % on the Victoria data where three covered 72 %.
MIN_WINDOWS, MAX_WINDOWS = 2, 7
OUTPUT = (ID, TIME, "value", "lower", "upper")


@dataclass(frozen=True)
class ModelSpec:
    """What to train: the algorithm and every parameter, enough to train the same model again."""

    algorithm: str = "lightgbm"
    season_length: int = 24
    horizon: int = 24
    level: int = 80  # prediction interval, per cent
    calendar: str = "KZ"
    lags: tuple[int, ...] = ()  # empty: chosen from the data (`resolve`)
    n_estimators: int = 300
    learning_rate: float = 0.05
    num_leaves: int = 31
    conformal_windows: int = 0  # 0: as many as the history allows, from 2 to 7 (`resolve`)
    # LightGBM threads. One by default: on a busy 2-core machine OpenMP's spinning threads made a
    # 17,000-row fit 100 times slower with two threads than with one (benchmarks/README.md).
    threads: int = 1

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ForecastError(f"unknown algorithm {self.algorithm!r}; known: {', '.join(ALGORITHMS)}")
        if self.season_length < 1 or self.horizon < 1:
            raise ForecastError("the season length and the horizon must be at least 1")
        if not 50 <= self.level < 100:
            raise ForecastError("the interval level must be a percentage from 50 to 99")
        if any(lag < 1 for lag in self.lags):
            raise ForecastError("lags must be at least 1")
        if self.threads < 1:
            raise ForecastError("at least one thread")
        if self.conformal_windows and not MIN_WINDOWS <= self.conformal_windows <= MAX_WINDOWS:
            raise ForecastError(
                f"conformal intervals take {MIN_WINDOWS} to {MAX_WINDOWS} windows (0: automatic)"
            )

    def to_dict(self) -> dict:
        data = asdict(self)
        data["lags"] = list(self.lags)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ModelSpec:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["lags"] = tuple(values.get("lags", ()))
        return cls(**values)


class Forecaster(Protocol):
    spec: ModelSpec

    def fit(self, series: PreparedSeries) -> Forecaster: ...

    def predict(self, regressors: pd.DataFrame | None = None) -> pd.DataFrame:
        """unique_id, ds, value, lower, upper for the `spec.horizon` slots after the training data."""
        ...


def make_forecaster(spec: ModelSpec) -> Forecaster:
    if spec.algorithm == "lightgbm":
        return LightGBMForecaster(spec, calendar_for(spec.calendar))
    return StatisticalForecaster(spec)


class StatisticalForecaster:
    """statsforecast models, one per series: seasonal naive, or MSTL (day and week seasons, ETS trend).

    Neither uses regressors; MSTL refuses a series that has them rather than ignore the weather.
    MSTL is fitted on the last `MSTL_SEASONS` of its longest season (older data adds little and
    costs time).
    """

    def __init__(self, spec: ModelSpec):
        self.spec = spec
        self._series: PreparedSeries | None = None

    def seasons(self, resolution: Resolution) -> list[int]:
        if self.spec.algorithm == "seasonal_naive":
            return [self.spec.season_length]
        week = 7 * resolution.slots_per_day
        return sorted({self.spec.season_length, week})

    def fit(self, series: PreparedSeries) -> StatisticalForecaster:
        if self.spec.algorithm == "mstl" and series.regressors:
            raise ForecastError(f"MSTL uses no regressors; use lightgbm for {', '.join(series.regressors)}")
        need = least_history(self.spec)
        if self.spec.algorithm == "mstl":
            need = max(need, 2 * max(self.seasons(series.resolution)))
        if series.shortest < need:
            raise NotEnoughDataError(
                f"{self.spec.algorithm} with a season of {self.spec.season_length} slots needs {need} slots "
                f"of history; the shortest series has {series.shortest}"
            )
        self._series = series
        return self

    def predict(self, regressors: pd.DataFrame | None = None) -> pd.DataFrame:
        from statsforecast import StatsForecast
        from statsforecast.models import MSTL, AutoETS, SeasonalNaive

        series = _fitted(self._series)
        seasons = self.seasons(series.resolution)
        if self.spec.algorithm == "seasonal_naive":
            model, name, frame = SeasonalNaive(season_length=seasons[0]), "SeasonalNaive", series.frame
        else:
            model, name = MSTL(season_length=seasons, trend_forecaster=AutoETS(model="ZZN")), "MSTL"
            frame = series.frame.groupby(ID, sort=False).tail(MSTL_SEASONS * max(seasons))
        engine = StatsForecast(models=[model], freq=series.resolution.freq, n_jobs=1)
        level = self.spec.level
        raw = engine.forecast(df=frame[[ID, TIME, TARGET]], h=self.spec.horizon, level=[level])
        raw = series.future_times(self.spec.horizon).merge(raw, on=[ID, TIME], how="left")
        return pd.DataFrame(
            {
                ID: raw[ID],
                TIME: raw[TIME],
                "value": raw[name].to_numpy(),
                "lower": raw[f"{name}-lo-{level}"].to_numpy(),
                "upper": raw[f"{name}-hi-{level}"].to_numpy(),
            }
        )


MSTL_SEASONS = 8


def resolve(spec: ModelSpec, resolution: Resolution, history: int) -> ModelSpec:
    """The spec with its automatic parts fixed for `history` slots: lags and conformal windows.

    Lags are at or beyond the horizon: one and two seasons and a week back, as history allows
    (with the fewest windows); then as many windows as the rest of the history allows, up to seven.
    """
    if spec.algorithm != "lightgbm":
        return spec
    windows = spec.conformal_windows or MIN_WINDOWS
    lags = spec.lags
    if not lags:
        season, horizon = spec.season_length, spec.horizon
        week = 7 * resolution.slots_per_day
        first = -(-horizon // season) * season
        candidates = {first, first + season, -(-horizon // week) * week}
        budget = history - windows * horizon - min_training_rows(spec)
        lags = tuple(sorted(lag for lag in candidates if lag <= budget)) or (first,)
    if not spec.conformal_windows:
        spare = (history - max(lags) - min_training_rows(spec)) // spec.horizon
        windows = max(MIN_WINDOWS, min(MAX_WINDOWS, spare))
    resolved = replace(spec, lags=lags, conformal_windows=windows)
    need = least_history(resolved)
    if history < need:
        raise NotEnoughDataError(
            f"the model (lags {list(lags)}, {windows} conformal windows of {spec.horizon} slots) needs "
            f"{need} slots of history; the shortest series has {history}"
        )
    return resolved


def least_history(spec: ModelSpec) -> int:
    """The fewest slots of history a model of this spec can be trained on."""
    if spec.algorithm != "lightgbm":
        return 2 * spec.season_length  # one season to repeat, one more to measure its errors
    first = max(spec.lags) if spec.lags else -(-spec.horizon // spec.season_length) * spec.season_length
    windows = spec.conformal_windows or MIN_WINDOWS
    return first + windows * spec.horizon + min_training_rows(spec)


def min_training_rows(spec: ModelSpec) -> int:
    """Training rows left after the lags and the conformal windows: enough to learn a season."""
    return max(3 * spec.season_length, 30)


class LightGBMForecaster:
    """One LightGBM model over every series given, through mlforecast, with conformal intervals."""

    name = "lightgbm"

    def __init__(self, spec: ModelSpec, calendar: DayCalendar):
        self.spec = spec  # after `fit`: resolved (lags and windows fixed)
        self.calendar = calendar
        self._series: PreparedSeries | None = None
        self._forecast: MLForecast | None = None
        self._radius = pd.Series(dtype=float)

    def fit(self, series: PreparedSeries) -> LightGBMForecaster:
        spec = self.spec = resolve(self.spec, series.resolution, series.shortest)
        data = with_features(series.frame, series, self.calendar)
        # Conformal radius per series: backtest the last `conformal_windows` horizons (one fit on
        # the data before them), pool each series' absolute errors over all their steps, and take
        # the finite-sample quantile for the level.
        windows = self._model(series).cross_validation(
            data, n_windows=spec.conformal_windows, h=spec.horizon, refit=False, static_features=[]
        )
        errors = (windows[TARGET] - windows[self.name]).abs()
        self._radius = errors.groupby(windows[ID], sort=False).apply(
            lambda e: conformal_quantile(e, spec.level)
        )
        self._forecast = self._model(series).fit(data, static_features=[])
        self._series = series
        return self

    def _model(self, series: PreparedSeries) -> MLForecast:
        from lightgbm import LGBMRegressor
        from mlforecast import MLForecast

        spec = self.spec
        regressor = LGBMRegressor(
            n_estimators=spec.n_estimators,
            learning_rate=spec.learning_rate,
            num_leaves=spec.num_leaves,
            random_state=0,
            n_jobs=spec.threads,
            verbose=-1,
        )
        return MLForecast(
            models={self.name: regressor}, freq=series.resolution.freq, lags=list(self.spec.lags)
        )

    def predict(self, regressors: pd.DataFrame | None = None) -> pd.DataFrame:
        series = _fitted(self._series)
        future = future_frame(series, self.spec.horizon, regressors)
        raw = _fitted(self._forecast).predict(
            self.spec.horizon, X_df=with_features(future, series, self.calendar)
        )
        raw = future[[ID, TIME]].merge(raw, on=[ID, TIME], how="left")
        value = raw[self.name].to_numpy()
        radius = raw[ID].map(self._radius).to_numpy(dtype=float)
        return pd.DataFrame(
            {ID: raw[ID], TIME: raw[TIME], "value": value, "lower": value - radius, "upper": value + radius}
        )


def conformal_quantile(errors: pd.Series | np.ndarray, level: int) -> float:
    """The split-conformal radius: the ceil((n + 1)·level)-th smallest of n absolute errors."""
    values = np.sort(np.asarray(errors, float))
    values = values[np.isfinite(values)]
    if not len(values):
        return float("nan")
    rank = min(len(values), int(np.ceil((len(values) + 1) * level / 100)))
    return float(values[rank - 1])


def with_features(frame: pd.DataFrame, series: PreparedSeries, calendar: DayCalendar) -> pd.DataFrame:
    """The frame with the calendar features of its times (at the series' local clock)."""
    features = calendar_features(series.clock.local(frame[TIME]), series.resolution, calendar)
    return pd.concat([frame.reset_index(drop=True), features], axis=1)


def future_frame(series: PreparedSeries, horizon: int, regressors: pd.DataFrame | None) -> pd.DataFrame:
    """unique_id, ds of the slots to forecast, with the regressors' values for them (required)."""
    future = series.future_times(horizon)
    if not series.regressors:
        return future
    if regressors is None:
        raise MissingRegressorError(
            f"the model uses {', '.join(series.regressors)}: give their values for the {horizon} slots to forecast"
        )
    keys = [ID, TIME] if ID in regressors.columns else [TIME]
    missing = [name for name in (*keys, *series.regressors) if name not in regressors.columns]
    if missing:
        raise MissingRegressorError(f"the future regressors lack the column {missing[0]!r}")
    merged = future.merge(regressors[[*keys, *series.regressors]], on=keys, how="left")
    for name in series.regressors:
        holes = merged[name].isna()
        if holes.any():
            raise MissingRegressorError(
                f"regressor {name!r} has no value for {merged.loc[holes, TIME].iloc[0]} "
                f"(series {merged.loc[holes, ID].iloc[0]!r})"
            )
    return merged


def _fitted(thing):
    if thing is None:
        raise RuntimeError("fit the model before predicting")
    return thing
