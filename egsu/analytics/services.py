"""Train a forecast model on a series from the readings store, store its forecast, score it later.

The functions the worker's schedule and the forecast pages call (ANA-01, ANA-10, PRC-06):

* `train_and_forecast(series, horizon)`: read the series through the readings store interface
  (`get_store().aggregate`, never the Reading model), backtest the model against seasonal naive,
  train it on the whole period, store the version with its scores and the forecast it makes;
* `score_arrived_forecasts()`: for every stored forecast whose period is over, read what
  arrived, keep it beside each slot and score the forecast (MAPE, MASE, interval coverage).

A series is what the store aggregates: one quantity at one reporting interval, over some
metering points — listed as (object_id, device_id) pairs (egsu.points.MeteringPoint's
object_code and store_device_id), or as whole objects and devices, or none for all (the nation) —
summed (energy, volume) or averaged (power, level) per bucket. Subjects and regions are lists of
points or objects, resolved by the caller from the registry.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from importlib.metadata import version as package_version

import pandas as pd
from django.db import transaction

from egsu.access.audit import Event, audit
from egsu.analytics.forecast import (
    HORIZONS,
    ForecastError,
    ModelSpec,
    Resolution,
    backtest,
    make_forecaster,
    prepare,
)
from egsu.analytics.forecast.evaluation import MODEL, coverage, mape, mase, seasonal_scale
from egsu.analytics.models import Forecast, ForecastModel, ForecastValue
from egsu.readings.aggregation import bucket_start
from egsu.readings.services import get_store
from egsu.readings.store import KNOWN_INTERVALS, ReadingQuery, ReadingsStore, series_of
from egsu_core.clock import ASTANA, utcnow

# The store's buckets a forecast may read: a horizon reads at its own resolution (a week ahead
# hourly, a month ahead daily) or at the series' own bucket (a day ahead).
BUCKETS = ("PT15M", "PT1H", "P1D")
MEASURES = ("sum", "mean")

# History read for training by default, per horizon: eight weeks for a day ahead (the lags reach
# a week back, the conformal windows a week), sixteen weeks hourly, two years daily.
DEFAULT_HISTORY = {
    "day_ahead": timedelta(weeks=8),
    "week_ahead": timedelta(weeks=16),
    "month_ahead": timedelta(days=730),
}
LIBRARIES = ("lightgbm", "mlforecast", "statsforecast", "holidays", "pandas")


@dataclass(frozen=True)
class SeriesSpec:
    """One series as the readings store aggregates it (see the module docstring)."""

    quantity: str
    interval: str  # the readings' own interval: PT15M, PT2H, P1D… (several would count twice)
    bucket: str = "PT15M"  # the finest resolution forecast: PT15M, PT1H or P1D
    object_ids: tuple[str, ...] = ()
    device_ids: tuple[str, ...] = ()
    measure: str = "sum"
    points: tuple[tuple[str, str], ...] = ()  # metering points: (object_id, device_id) pairs

    def __post_init__(self) -> None:
        if self.interval not in KNOWN_INTERVALS:
            raise ForecastError(
                f"unknown interval {self.interval!r}; known: {', '.join(sorted(KNOWN_INTERVALS))}"
            )
        if self.bucket not in BUCKETS:
            raise ForecastError(f"unknown bucket {self.bucket!r}; forecasts use PT15M, PT1H or P1D")
        if self.measure not in MEASURES:
            raise ForecastError("the measure is 'sum' (energy, volume) or 'mean' (power, level)")
        object.__setattr__(self, "object_ids", tuple(sorted(self.object_ids)))
        object.__setattr__(self, "device_ids", tuple(sorted(self.device_ids)))
        object.__setattr__(self, "points", tuple(sorted({(str(o), str(d)) for o, d in self.points})))

    @property
    def key(self) -> str:
        """A stable name: readable, with a digest when the lists of points are long."""
        where = f"o={','.join(self.object_ids) or '*'};d={','.join(self.device_ids) or '*'}"
        if self.points:
            where += ";p=" + ",".join(f"{o}:{d}" for o, d in self.points)
        head = f"{self.quantity}/{self.interval}/{self.bucket}/{self.measure}/"
        if len(head) + len(where) <= 200:
            return head + where
        digest = hashlib.sha256(where.encode()).hexdigest()[:16]
        return f"{head}{len(self.object_ids)}o{len(self.device_ids)}d{len(self.points)}p:{digest}"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["object_ids"], data["device_ids"] = list(self.object_ids), list(self.device_ids)
        data["points"] = [list(pair) for pair in self.points]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> SeriesSpec:
        return cls(
            **{
                **data,
                "object_ids": tuple(data["object_ids"]),
                "device_ids": tuple(data["device_ids"]),
                "points": tuple(tuple(pair) for pair in data.get("points", ())),
            }
        )


def read_series(
    series: SeriesSpec,
    start: datetime,
    end: datetime,
    *,
    bucket: str | None = None,
    store: ReadingsStore | None = None,
) -> pd.DataFrame:
    """time (aware UTC bucket starts), value, count: the series per bucket in [start, end)."""
    store = store or get_store()
    query = ReadingQuery(
        object_ids=list(series.object_ids) or None,
        device_ids=list(series.device_ids) or None,
        quantities=[series.quantity],
        interval=series.interval,
        start=start,
        end=end,
        series=series_of(series.points) if series.points else None,
    )
    rows = store.aggregate(query, bucket=bucket or series.bucket, group="all")
    values = [float(r.sum) if series.measure == "sum" else float(r.sum) / r.count for r in rows]
    return pd.DataFrame(
        {
            "time": pd.to_datetime([r.bucket_start for r in rows], utc=True),
            "value": values,
            "count": [r.count for r in rows],
        }
    )


@dataclass(frozen=True)
class Trained:
    model: ForecastModel
    forecast: Forecast


def train_and_forecast(
    series: SeriesSpec,
    horizon: str = "day_ahead",
    *,
    model: ModelSpec | None = None,
    folds: int = 3,
    history: timedelta | None = None,
    now: datetime | None = None,
    store: ReadingsStore | None = None,
    actor=None,
    weather_region: str = "",
) -> Trained:
    """Backtest, train and store a new model version for `series`, and the forecast it makes.

    Reads [now − history, start of the current bucket): the bucket still filling is left out. The
    forecast covers the slots after the last bucket that has data (late data start it earlier).
    Two trainings of one series and horizon at once cannot share a version number (a unique
    constraint); the periodic job runs one per period. Raises ForecastError (NotEnoughDataError, IrregularSeriesError…) when the series will not do;
    nothing is stored then. With `weather_region`, the region's temperature (egsu.analytics.weather)
    is a regressor when it covers the history and the slots ahead; otherwise the model goes without.
    """
    if horizon not in HORIZONS:
        raise ForecastError(f"unknown horizon {horizon!r}; known: {', '.join(HORIZONS)}")
    plan = HORIZONS[horizon]
    now = now or utcnow()
    store = store or get_store()
    base = Resolution.of(series.bucket)
    resolution = plan.resolution_for(base)
    bucket = next(b for b in BUCKETS if Resolution.of(b) == resolution)
    end = bucket_start(now, bucket)
    start = bucket_start(end - (history or DEFAULT_HISTORY[horizon]), bucket)
    frame = read_series(series, start, end, bucket=bucket, store=store)
    spec = plan.spec_for(base, model or ModelSpec())
    prepared, future = _prepared(series, frame, bucket, spec.horizon, weather_region, start, end)
    result = backtest(prepared, spec, folds=folds)
    spec = result.spec  # lags and windows fixed as backtested
    forecast = make_forecaster(spec).fit(prepared).predict(future)
    slots = prepared.clock.to_output(forecast["ds"])
    parameters = spec.to_dict()
    if prepared.regressors:
        parameters |= {"regressors": list(prepared.regressors), "weather_region": weather_region}
    with transaction.atomic():
        latest = (
            ForecastModel.objects.filter(series_key=series.key, horizon=horizon).order_by("-version").first()
        )
        version = ForecastModel.objects.create(
            series_key=series.key,
            series=series.to_dict(),
            horizon=horizon,
            resolution=bucket,
            version=(latest.version + 1) if latest else 1,
            algorithm=spec.algorithm,
            parameters=parameters,
            libraries={name: package_version(name) for name in LIBRARIES},
            train_start=prepared.clock.to_output(prepared.frame["ds"].head(1)).iloc[0].to_pydatetime(),
            train_end=slots.iloc[0].to_pydatetime(),
            slots=len(prepared.frame),
            filled=prepared.filled,
            trained_at=now,
            backtest={"folds": folds, "step": result.spec.horizon, "scores": result.summary()},
            mase_scale=_finite(seasonal_scale(prepared.frame["y"].to_numpy(), spec.season_length)),
        )
        issued = _issue(version, forecast, slots, now)
        scores = result.summary()
        audit(
            Event.FORECAST_TRAINED,
            actor=actor,
            obj=version,
            summary=f"{series.key} {horizon} v{version.version}: {spec.algorithm}, backtest MAPE "
            f"{_percent(scores[MODEL]['mape'])} against seasonal naive {_percent(scores['seasonal_naive']['mape'])}",
            after={"parameters": version.parameters, "backtest": version.backtest, "forecast": issued.pk},
            source="egsu.analytics.services.train_and_forecast",
        )
    return Trained(version, issued)


def score_arrived_forecasts(
    *,
    now: datetime | None = None,
    grace: timedelta = timedelta(hours=24),
    give_up: timedelta = timedelta(days=7),
    store: ReadingsStore | None = None,
) -> list[Forecast]:
    """Score every forecast whose period ended at least `grace` ago (late values get that long).

    What arrived is read through the store as the model read its training data, kept on each
    slot, and scored: MAPE, MASE (with the version's in-sample scale) and interval coverage, over
    the slots that have a value. A forecast for which nothing arrived waits until `give_up` has
    passed, then is closed with no scores.
    """
    now = now or utcnow()
    store = store or get_store()
    scored = []
    due = Forecast.objects.filter(scored_at__isnull=True, period_end__lte=now - grace).select_related("model")
    for forecast in due.order_by("period_end", "pk"):
        series = SeriesSpec.from_dict(forecast.model.series)
        arrived = read_series(
            series, forecast.period_start, forecast.period_end, bucket=forecast.model.resolution, store=store
        )
        actual = {t.to_pydatetime(): v for t, v in zip(arrived["time"], arrived["value"], strict=True)}
        if not actual and now < forecast.period_end + give_up:
            continue
        values = list(forecast.values.order_by("slot_start"))
        for row in values:
            row.actual = actual.get(row.slot_start)
        have = [row for row in values if row.actual is not None]
        with transaction.atomic():
            ForecastValue.objects.bulk_update(values, ["actual"])
            forecast.arrived = len(have)
            forecast.scored_at = now
            if have:
                y = [row.actual for row in have]
                forecast.mape = _finite(mape(y, [row.value for row in have]))
                scale = forecast.model.mase_scale
                forecast.mase = _finite(mase(y, [row.value for row in have], scale)) if scale else None
                forecast.coverage = coverage(y, [row.lower for row in have], [row.upper for row in have])
            forecast.save(update_fields=["arrived", "scored_at", "mape", "mase", "coverage"])
        scored.append(forecast)
    return scored


def _prepared(series, frame, bucket, horizon, weather_region, start, end):
    """The prepared series, with the temperature as a regressor when the weather covers it (and the
    future regressor frame then; None otherwise)."""
    if len(frame) < 2:
        raise ForecastError(f"series {series.key} has {len(frame)} value(s) from {start} to {end}")
    plain = prepare(frame, time_column="time", value_column="value", timezone=str(ASTANA))
    if not weather_region:
        return plain, None
    from egsu.analytics.weather import temperature_for

    past = pd.Series(temperature_for(weather_region, frame["time"], bucket), dtype=float)
    if past.empty or past.isna().mean() > 0.1:
        return plain, None
    future = plain.future_times(horizon)
    ahead = temperature_for(weather_region, plain.clock.to_output(future["ds"]), bucket)
    if not ahead or any(t is None for t in ahead):
        return plain, None
    frame = frame.assign(temperature=past.interpolate(limit_direction="both").to_numpy())
    prepared = prepare(frame, time_column="time", value_column="value", regressors=["temperature"],
                       timezone=str(ASTANA))  # fmt: skip
    return prepared, future.assign(temperature=ahead)


def _issue(version: ForecastModel, forecast: pd.DataFrame, slots: pd.Series, now: datetime) -> Forecast:
    step = Resolution.of(version.resolution).step.to_pytimedelta()
    issued = Forecast.objects.create(
        model=version,
        series_key=version.series_key,
        horizon=version.horizon,
        issued_at=now,
        period_start=slots.iloc[0].to_pydatetime(),
        period_end=_slot_end(slots.iloc[-1].to_pydatetime(), version.resolution, step),
        level=version.parameters["level"],
    )
    ForecastValue.objects.bulk_create(
        ForecastValue(
            forecast=issued, slot_start=slot.to_pydatetime(), value=float(value), lower=float(lower),
            upper=float(upper),
        )
        for slot, value, lower, upper in zip(
            slots, forecast["value"], forecast["lower"], forecast["upper"], strict=True
        )
    )  # fmt: skip
    return issued


def forecast_with(
    version: ForecastModel, *, now: datetime | None = None, store: ReadingsStore | None = None
) -> Forecast:
    """A new forecast of a stored version: its parameters as trained (lags, windows, regressors), fitted
    on the latest history, stored with that version (the daily job between weekly retrainings).

    Raises ForecastError when the history or the weather the version needs is not there now.
    """
    now = now or utcnow()
    store = store or get_store()
    series = SeriesSpec.from_dict(version.series)
    spec = ModelSpec.from_dict(version.parameters)
    bucket = version.resolution
    end = bucket_start(now, bucket)
    start = bucket_start(end - DEFAULT_HISTORY[version.horizon], bucket)
    frame = read_series(series, start, end, bucket=bucket, store=store)
    region = version.parameters.get("weather_region", "")
    prepared, future = _prepared(series, frame, bucket, spec.horizon, region, start, end)
    if tuple(version.parameters.get("regressors", ())) != prepared.regressors:
        raise ForecastError(
            f"version {version} needs the regressors {version.parameters.get('regressors', [])}"
        )
    forecast = make_forecaster(spec).fit(prepared).predict(future)
    slots = prepared.clock.to_output(forecast["ds"])
    with transaction.atomic():
        return _issue(version, forecast, slots, now)


def _slot_end(last_start: datetime, bucket: str, step: timedelta) -> datetime:
    """End of the last slot: a local day for daily buckets (not always 24 hours in UTC)."""
    if bucket != "P1D":
        return last_start + step
    local = last_start.astimezone(ASTANA).date() + timedelta(days=1)
    return datetime(local.year, local.month, local.day, tzinfo=ASTANA).astimezone(last_start.tzinfo)


def _finite(value: float | None) -> float | None:
    return None if value is None or value != value or value in (float("inf"), float("-inf")) else float(value)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} %"


__all__ = [
    "SeriesSpec",
    "Trained",
    "forecast_with",
    "read_series",
    "score_arrived_forecasts",
    "train_and_forecast",
]
