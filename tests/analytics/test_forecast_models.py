"""Model specs, intervals and the errors a caller can make, on small series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from egsu.analytics.forecast import (
    ForecastError,
    MissingRegressorError,
    ModelSpec,
    NotEnoughDataError,
    backtest,
    make_forecaster,
    prepare,
)
from egsu.analytics.forecast.models import conformal_quantile, resolve
from egsu.analytics.forecast.series import Resolution


def hourly(days: int, *, temperature: bool = False) -> pd.DataFrame:
    """A regular daily profile with noise: enough to exercise the plumbing (scores are tested on real data)."""
    times = pd.date_range("2024-04-01", periods=24 * days, freq="h")
    rng = np.random.default_rng(7)
    values = 100 + 20 * np.sin(2 * np.pi * times.hour / 24) + rng.normal(0, 1, len(times))
    frame = pd.DataFrame({"t": times, "v": values})
    if temperature:
        frame["temp"] = 10 + rng.normal(0, 3, len(times))
    return frame


def test_a_spec_survives_a_round_trip_through_json_fields():
    spec = ModelSpec(season_length=96, horizon=96, lags=(96, 192), conformal_windows=4, calendar="none")
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    assert spec.to_dict()["lags"] == [96, 192]


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"algorithm": "prophet"}, id="algorithm"),
        pytest.param({"level": 100}, id="level"),
        pytest.param({"horizon": 0}, id="horizon"),
        pytest.param({"conformal_windows": 1}, id="windows"),
    ],
)
def test_a_bad_spec_is_refused(fields):
    with pytest.raises(ForecastError):
        ModelSpec(**fields)


def test_lags_reach_past_the_horizon_and_drop_the_week_when_history_is_short():
    spec = ModelSpec(season_length=24, horizon=24)
    assert resolve(spec, Resolution.of("1h"), 24 * 60).lags == (24, 48, 168)
    assert resolve(spec, Resolution.of("1h"), 24 * 7).lags == (24, 48)
    assert resolve(spec, Resolution.of("1h"), 24 * 60).conformal_windows == 7
    with pytest.raises(NotEnoughDataError, match="needs 144 slots of history; the shortest series has 100"):
        resolve(spec, Resolution.of("1h"), 100)


def test_the_conformal_radius_is_the_finite_sample_quantile():
    errors = np.arange(1, 10)  # 9 errors: the 80 % radius is the ceil(10 * 0.8) = 8th smallest
    assert conformal_quantile(errors, 80) == 8
    assert conformal_quantile(np.arange(1, 4), 99) == 3


def test_a_forecast_has_the_horizon_the_interval_and_the_next_slots():
    series = prepare(hourly(30), time_column="t", value_column="v", timezone="Asia/Almaty")
    model = make_forecaster(ModelSpec(season_length=24, horizon=24, n_estimators=50)).fit(series)
    forecast = model.predict()
    assert list(forecast.columns) == ["unique_id", "ds", "value", "lower", "upper"]
    assert forecast["ds"].iloc[0] == pd.Timestamp("2024-05-01 00:00") and len(forecast) == 24
    assert (forecast["lower"] < forecast["value"]).all() and (forecast["value"] < forecast["upper"]).all()
    assert model.spec.lags == (24, 48, 168)


def test_a_model_with_weather_needs_the_weather_of_the_slots_it_forecasts():
    series = prepare(hourly(30, temperature=True), time_column="t", value_column="v", regressors=["temp"])
    model = make_forecaster(ModelSpec(season_length=24, horizon=24, n_estimators=50)).fit(series)
    with pytest.raises(MissingRegressorError, match="the model uses temp"):
        model.predict()
    future = pd.DataFrame({"ds": pd.date_range("2024-05-01", periods=23, freq="h"), "temp": 12.0})
    with pytest.raises(MissingRegressorError, match=r"regressor 'temp' has no value for 2024-05-01 23:00"):
        model.predict(future)
    future = pd.DataFrame({"ds": pd.date_range("2024-05-01", periods=24, freq="h"), "temp": 12.0})
    assert len(model.predict(future)) == 24


def test_mstl_refuses_regressors_rather_than_ignore_them():
    series = prepare(hourly(30, temperature=True), time_column="t", value_column="v", regressors=["temp"])
    with pytest.raises(ForecastError, match="MSTL uses no regressors"):
        make_forecaster(ModelSpec(algorithm="mstl", season_length=24, horizon=24)).fit(series)


def test_too_little_data_for_the_folds_says_how_much_is_needed():
    series = prepare(hourly(8), time_column="t", value_column="v")
    with pytest.raises(
        NotEnoughDataError,
        match=r"too little data for 3 fold\(s\) of 24 slots: the model needs 144 slots .* 216 slots in all; the shortest series has 192",
    ):
        backtest(series, ModelSpec(season_length=24, horizon=24), folds=3)


def test_many_series_train_one_model_and_are_scored_each():
    one, two = hourly(30), hourly(30)
    two["v"] = two["v"] * 3
    frame = pd.concat([one.assign(meter="a"), two.assign(meter="b")], ignore_index=True)
    series = prepare(frame, time_column="t", value_column="v", series_column="meter")
    result = backtest(series, ModelSpec(season_length=24, horizon=24, n_estimators=50), folds=2)
    scores = result.scores(by=("unique_id",))
    assert set(scores["unique_id"]) == {"a", "b"}
    assert set(scores["model"]) == {"model", "seasonal_naive", "seasonal_naive_week"}
    assert (scores["points"] == 48).all()
