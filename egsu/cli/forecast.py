"""`egsu forecast`: check a forecasting model on an analyst's own data (ANA-01, ANA-04).

`egsu forecast backtest FILE.csv …` runs the rolling-origin backtest of the forecasting core
(egsu.analytics.forecast) on any CSV with a time column and a value column, prints a table
per fold and ends with one machine-readable line:
`model_mape=N seasonal_naive_mape=N ratio=N`.
The forecasting libraries load inside the command, so `egsu --help` stays quick.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import typer
from rich.table import Table

from egsu.cli import options

app = typer.Typer(help="Forecasts: check a model on your own data.", no_args_is_help=True)


def _number(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _fail(message: str) -> None:
    sys.stderr.write(f"egsu forecast backtest: {message}\n")
    raise typer.Exit(2)


@app.command()
def backtest(
    file: Path = typer.Argument(..., help="CSV file with a header row (comma or semicolon separated)."),
    time_column: str = typer.Option(..., "--time-column", help="Column of slot start times."),
    value_column: str = typer.Option(..., "--value-column", help="Column of the values to forecast."),
    regressor: list[str] = typer.Option(
        [], "--regressor", help="A regressor column, e.g. temperature (repeat for more)."
    ),
    holidays: str = typer.Option(
        "KZ",
        "--holidays",
        help="KZ (holidays and the Government's transfers), none, or a holidays-package code such as AU-VIC.",
    ),
    season_length: int = typer.Option(
        ..., "--season-length", min=1, help="Slots per season, e.g. 96 for a day of 15-minute slots."
    ),
    horizon: int = typer.Option(..., "--horizon", min=1, help="Slots to forecast from each origin."),
    folds: int = typer.Option(
        3, "--folds", min=1, help="Rolling origins, one horizon apart, ending at the data's end."
    ),
    model: str = typer.Option(
        "lightgbm", "--model", help="lightgbm (regressors, calendar) or mstl (no regressors)."
    ),
    level: int = typer.Option(80, "--level", min=50, max=99, help="Prediction interval, per cent."),
    timezone: str = typer.Option(
        "Asia/Almaty", "--timezone", help="Clock of the calendar features for times given with an offset."
    ),
) -> None:
    """Backtest a model against seasonal naive on FILE and print MAPE, MASE and interval coverage."""
    import pandas as pd

    from egsu.analytics.forecast import ForecastError, ModelSpec, calendar_for, prepare
    from egsu.analytics.forecast import backtest as run_backtest
    from egsu.analytics.forecast.evaluation import MODEL, NAIVE, NAIVE_WEEK

    if not file.is_file():
        _fail(f"no file {str(file)!r}")
    try:
        frame = pd.read_csv(
            file, sep=None, engine="python", dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )
    except UnicodeDecodeError:
        _fail(f"{file} is not UTF-8 text")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, OSError) as exc:
        _fail(f"cannot read {file} as CSV: {exc}")
    try:
        calendar = calendar_for(holidays)
        spec = ModelSpec(
            algorithm=model, season_length=season_length, horizon=horizon, level=level, calendar=calendar.name
        )
        series = prepare(
            frame,
            time_column=time_column,
            value_column=value_column,
            regressors=regressor,
            timezone=timezone,
        )
        result = run_backtest(series, spec, folds=folds)
    except ForecastError as exc:
        _fail(str(exc))
    labels = {
        MODEL: result.spec.algorithm,
        NAIVE: f"seasonal naive ({season_length} slots)",
        NAIVE_WEEK: f"seasonal naive (week, {result.week_season} slots)",
    }
    console = options.console()
    console.print(
        f"{file.name}: {len(series.frame)} slots of {series.resolution.label}"
        + (f", {series.filled} missing slots interpolated" if series.filled else "")
        + f"; {result.spec.algorithm} {_describe(result.spec)}; interval {level} %"
    )
    for fold, origin in result.folds():
        start = series.clock.to_output(pd.Series([origin])).iloc[0]
        if series.clock.aware:
            start = start.tz_convert(timezone)  # the zone's clock, with its offset
        table = Table(
            "model", "MAPE %", "MASE", f"coverage of {level} %", title=f"fold {fold + 1}: from {start}"
        )
        for name in result.models:
            score = result.score(name, fold=fold)
            table.add_row(labels[name], _number(score.mape), _number(score.mase), _number(score.coverage, 2))
        console.print(table)
    summary = Table("model", "MAPE %", "MASE", f"coverage of {level} %", title=f"all {folds} fold(s)")
    for name in result.models:
        score = result.score(name)
        summary.add_row(labels[name], _number(score.mape), _number(score.mase), _number(score.coverage, 2))
    console.print(summary)
    model_mape, naive_mape = result.score(MODEL).mape, result.score(NAIVE).mape
    ratio = model_mape / naive_mape if naive_mape else float("nan")
    typer.echo(
        f"model_mape={_number(model_mape)} seasonal_naive_mape={_number(naive_mape)} ratio={_number(ratio)}"
    )


def _describe(spec) -> str:
    if spec.algorithm != "lightgbm":
        return f"(season {spec.season_length}, horizon {spec.horizon})"
    return (
        f"(lags {', '.join(map(str, spec.lags))}, calendar {spec.calendar}, "
        f"{spec.conformal_windows} conformal windows)"
    )
