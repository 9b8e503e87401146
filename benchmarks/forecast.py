"""Training and forecasting time for a region's meters: 10,000 series, one LightGBM model (ANA-01).

    .venv/bin/python benchmarks/forecast.py                        # 10,000 hourly series, 28 days, a day ahead
    .venv/bin/python benchmarks/forecast.py --series 1000 --resolution 15min --days 21

The series are SYNTHETIC and serve for timing only: a daily load shape with morning and evening
peaks (shifted per meter), lower weekends and Kazakh holidays, a level per meter, a shared
temperature regressor with a heating effect, and 5 % noise. Whether the model is any good is
tested on real public data (tests/analytics/test_forecast_real_data.py), not here.

Timed, each once, in one process:

1. prepare: checking the long table and laying it on the grid (egsu.analytics.forecast.prepare);
2. train: the model as the services train it (`ModelSpec` defaults for a day ahead: lags of one
   and two days and a week, conformal windows from the history, 300 trees) — one global LightGBM
   over all series through mlforecast, plus the conformal backtest windows (a second fit);
3. forecast: the next day for every series, with its interval;
4. the seasonal naive baseline (statsforecast, one series at a time), for comparison.

Each phase prints wall and CPU seconds (CPU: this process, all threads; on a machine shared with
other work the wall time grows and the CPU time much less). The last line is `series_per_s=N`:
series divided by the wall seconds of training plus forecasting.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.machine import commit, machine_line  # noqa: E402
from egsu import calendar_kz  # noqa: E402
from egsu.analytics.forecast import DAY_AHEAD, ModelSpec, Resolution, make_forecaster, prepare  # noqa: E402

START = pd.Timestamp("2024-04-01")  # wall clock of Astana; 1, 7, 8 (transferred) and 9 May fall inside


def synthetic(series: int, days: int, resolution: Resolution, seed: int = 11) -> pd.DataFrame:
    """A long table (meter, time, kwh, temperature) of `series` meters over `days` days."""
    rng = np.random.default_rng(seed)
    times = pd.date_range(START, periods=days * resolution.slots_per_day, freq=resolution.step)
    hours = (times.hour + times.minute / 60).to_numpy()
    day_off = np.array([not calendar_kz.is_working_day(t.date()) for t in times])
    temperature = 8 + 6 * np.sin(2 * np.pi * (hours - 15) / 24) + np.cumsum(rng.normal(0, 0.05, len(times)))
    level = rng.lognormal(mean=0.0, sigma=0.6, size=series)[:, None]
    shift = rng.normal(0, 1.0, size=series)[:, None]
    shape = (
        1.0
        + 0.35 * np.exp(-(((hours - 8 - shift) / 1.6) ** 2))
        + 0.55 * np.exp(-(((hours - 19 - shift) / 2.2) ** 2))
        - 0.25 * day_off
    )
    heating = 0.02 * np.clip(15 - temperature, 0, None)
    values = level * (shape + heating) * (1 + rng.normal(0, 0.05, size=(series, len(times))))
    return pd.DataFrame(
        {
            "meter": np.repeat([f"M{i:06d}" for i in range(series)], len(times)),
            "time": np.tile(times.to_numpy(), series),
            "kwh": values.ravel(),
            "temperature": np.tile(temperature, series),
        }
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=28, help="days of history per series")
    parser.add_argument("--resolution", default="1h", help="1h (default) or 15min")
    parser.add_argument("--threads", type=int, default=1, help="LightGBM threads")
    parser.add_argument("--trees", type=int, default=ModelSpec().n_estimators)
    args = parser.parse_args(argv)
    resolution = Resolution.of(args.resolution)

    print(
        f"command: .venv/bin/python benchmarks/forecast.py {shlex.join(argv if argv is not None else sys.argv[1:])}"
    )
    print(machine_line())
    print(
        f"commit: {commit()}; measured {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; load average {os.getloadavg()[0]:.1f}"
    )
    frame = synthetic(args.series, args.days, resolution)
    print(
        f"data: {args.series:,} synthetic series × {args.days} days of {resolution.label} = {len(frame):,} rows"
    )

    clock = Stopwatch()
    series = prepare(
        frame, time_column="time", value_column="kwh", regressors=["temperature"], series_column="meter"
    )
    prepared = clock.lap()

    spec = DAY_AHEAD.spec_for(resolution, ModelSpec(n_estimators=args.trees, threads=args.threads))
    model = make_forecaster(spec)
    clock = Stopwatch()
    model.fit(series)
    train = clock.lap()
    last = series.frame.groupby("unique_id", sort=False)["ds"].max().iloc[0]
    future_times = pd.date_range(last + resolution.step, periods=spec.horizon, freq=resolution.step)
    future = pd.DataFrame({"ds": future_times, "temperature": 10.0})
    clock = Stopwatch()
    forecast = model.predict(future)
    predict = clock.lap()

    naive = make_forecaster(
        ModelSpec(algorithm="seasonal_naive", season_length=spec.season_length, horizon=spec.horizon)
    )
    clock = Stopwatch()
    naive.fit(series).predict()
    baseline = clock.lap()

    resolved = model.spec
    print(
        f"model: lightgbm via mlforecast, lags {list(resolved.lags)}, {resolved.conformal_windows} conformal windows, "
        f"{resolved.n_estimators} trees, {resolved.threads} thread(s); horizon {spec.horizon} slots"
    )
    print(f"{'phase':<42}{'wall s':>9}{'CPU s':>9}")
    for name, (wall, cpu) in (
        ("prepare (check, lay on the grid)", prepared),
        ("train (final fit + conformal windows)", train),
        (f"forecast {len(forecast):,} slots with intervals", predict),
        ("seasonal naive baseline (statsforecast)", baseline),
    ):
        print(f"{name:<42}{wall:9.1f}{cpu:9.1f}")
    total_wall, total_cpu = train[0] + predict[0], train[1] + predict[1]
    print(f"train + forecast: {total_wall:.1f} s wall, {total_cpu:.1f} s CPU for {args.series:,} series")
    print(f"series_per_s={args.series / total_wall:.1f}")


class Stopwatch:
    """Wall and CPU (this process, all threads) seconds since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


if __name__ == "__main__":
    main()
