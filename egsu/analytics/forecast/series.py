"""Series in long format (time, value, optional regressors), checked and laid on a regular grid.

Everything the forecasting core does starts from a `PreparedSeries`: one row per series and
slot, no repeats, no holes (short gaps interpolated and counted), at a resolution inferred from
the data (15 minutes, half-hourly, hourly, daily…). Times come in two kinds:

* aware instants (a UTC offset on every time, or the readings store's UTC times): below a day
  they are kept in UTC, where the grid is regular whatever the clock did (Astana moved from
  UTC+6 to UTC+5 on 1 March 2024, INT-37); daily series are kept as local dates, because a day
  starts at local midnight and is not always 24 hours long in UTC;
* wall-clock times without offset (a CSV from a spreadsheet): taken as they are, as times of
  the series' own clock.

Calendar features always look at the local wall clock (`Clock.local`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from egsu.analytics.forecast.errors import (
    IrregularSeriesError,
    MissingColumnError,
    NotEnoughDataError,
    TimeParseError,
    ValueParseError,
)

ID, TIME, TARGET = "unique_id", "ds", "y"
DAY = pd.Timedelta(days=1)
DEFAULT_TIMEZONE = "Asia/Almaty"  # the business clock (egsu_core.clock)

# Time forms read besides ISO 8601: the day-first dates that kk/ru spreadsheets write.
_DAY_FIRST_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y")
# An offset after a time of day (a date alone such as 2024-03-01 has none, though it ends in "-01").
_OFFSET = re.compile(r"\d:\d\d(?::\d\d(?:\.\d+)?)?\s*(?:Z|[+-]\d\d(?::?\d\d)?)$", re.IGNORECASE)


@dataclass(frozen=True)
class Resolution:
    """The step between slots: a whole divisor of a day, or one day."""

    step: pd.Timedelta

    def __post_init__(self) -> None:
        if self.step <= pd.Timedelta(0):
            raise IrregularSeriesError("the time step must be positive")
        if self.step > DAY:
            raise IrregularSeriesError(
                f"a step of {self.step} is above one day; daily data is the coarsest here"
            )
        if DAY % self.step != pd.Timedelta(0):
            raise IrregularSeriesError(f"a step of {self.step} does not divide a day into whole slots")

    @classmethod
    def of(cls, text: str) -> Resolution:
        """From a pandas alias or an ISO 8601 duration the readings store uses: 15min, PT15M, h, P1D…"""
        iso = {"PT10M": "10min", "PT15M": "15min", "PT30M": "30min", "PT1H": "1h", "PT2H": "2h", "P1D": "1D"}
        return cls(pd.Timedelta(pd.tseries.frequencies.to_offset(iso.get(text, text))))

    @property
    def daily(self) -> bool:
        return self.step == DAY

    @property
    def slots_per_day(self) -> int:
        return int(DAY / self.step)

    @property
    def freq(self) -> str:
        """The pandas frequency alias of the step (what the forecasting libraries take)."""
        return pd.tseries.frequencies.to_offset(self.step).freqstr

    @property
    def label(self) -> str:
        minutes = int(self.step / pd.Timedelta(minutes=1))
        if self.daily:
            return "1 day"
        return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


@dataclass(frozen=True)
class Clock:
    """How a prepared series' `ds` relate to real time (see the module docstring)."""

    timezone: str = DEFAULT_TIMEZONE
    utc: bool = False  # ds are UTC (aware input below a day); otherwise local wall-clock times
    aware: bool = False  # the input was aware: results are handed back as aware UTC instants

    def local(self, ds: pd.Series) -> pd.Series:
        """Wall-clock times in the series' zone, without offset (what calendar features read)."""
        if not self.utc:
            return ds
        return ds.dt.tz_localize("UTC").dt.tz_convert(self.timezone).dt.tz_localize(None)

    def to_output(self, ds: pd.Series) -> pd.Series:
        """Times as the caller gave them: aware UTC instants for aware input, else wall-clock times."""
        if not self.aware:
            return ds
        if self.utc:
            return ds.dt.tz_localize("UTC")
        return ds.dt.tz_localize(self.timezone).dt.tz_convert("UTC")


@dataclass(frozen=True)
class PreparedSeries:
    """Series checked and on a regular grid: columns unique_id, ds, y and the regressors."""

    frame: pd.DataFrame
    resolution: Resolution
    regressors: tuple[str, ...] = ()
    clock: Clock = Clock()
    filled: int = 0  # slots that were missing and interpolated

    @property
    def ids(self) -> list[str]:
        return list(self.frame[ID].unique())

    @property
    def shortest(self) -> int:
        """Length of the shortest series (the history every model may count on)."""
        return int(self.frame.groupby(ID, sort=False).size().min())

    def last_times(self) -> pd.Series:
        return self.frame.groupby(ID, sort=False)[TIME].max()

    def future_times(self, horizon: int) -> pd.DataFrame:
        """unique_id, ds of the `horizon` slots after each series' end."""
        last = self.last_times()
        steps = np.arange(1, horizon + 1)
        ids = np.repeat(last.index.to_numpy(), horizon)
        times = (last.to_numpy()[:, None] + steps[None, :] * self.resolution.step.to_timedelta64()).ravel()
        return pd.DataFrame({ID: ids, TIME: times})

    def before(self, cutoff: pd.Timestamp) -> PreparedSeries:
        return replace(self, frame=self.frame[self.frame[TIME] < cutoff].reset_index(drop=True))

    def window(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        frame = self.frame
        return frame[(frame[TIME] >= start) & (frame[TIME] < end)].reset_index(drop=True)


def prepare(
    frame: pd.DataFrame,
    *,
    time_column: str,
    value_column: str,
    regressors: Sequence[str] = (),
    series_column: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    max_missing: float = 0.1,
) -> PreparedSeries:
    """Check a long-format table and lay it on a regular grid; a clear error for anything wrong.

    Empty value cells are missing slots; at most `max_missing` of a series' slots may be missing
    (interpolated linearly, regressors too). Times must repeat nothing and sit on one grid.
    """
    wanted = [time_column, value_column, *regressors, *([series_column] if series_column else [])]
    for name in wanted:
        if name not in frame.columns:
            have = ", ".join(str(c) for c in frame.columns) or "no columns"
            raise MissingColumnError(f"no column {name!r} in the data (it has: {have})")
    if len(set(wanted)) != len(wanted):
        raise MissingColumnError("a column is named twice among the time, value and regressor columns")
    if frame.empty:
        raise NotEnoughDataError("the data has no rows")
    times, aware = _parse_times(frame[time_column], time_column)
    table = pd.DataFrame(
        {
            ID: frame[series_column].astype(str).to_numpy() if series_column else "series",
            TIME: times.to_numpy(),
            TARGET: _parse_numbers(frame[value_column], value_column).to_numpy(),
        }
    )
    for name in regressors:
        table[name] = _parse_numbers(frame[name], name).to_numpy()
    table["_row"] = np.arange(1, len(frame) + 1)
    resolution = _infer_resolution(table)
    clock = Clock(timezone=timezone, utc=aware and not resolution.daily, aware=aware)
    if aware and resolution.daily:
        # A day of the business clock: the local date of each (local-midnight) instant.
        local = table[TIME].dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None)
        table[TIME] = local.dt.normalize()
    result, filled = _lay_on_grid(table, resolution, tuple(regressors), max_missing)
    return PreparedSeries(result, resolution, tuple(regressors), clock, filled)


def _parse_times(column: pd.Series, name: str) -> tuple[pd.Series, bool]:
    """Times as naive datetime64 (UTC when the input carries offsets) and whether it did."""
    if pd.api.types.is_datetime64_any_dtype(column):
        if getattr(column.dt, "tz", None) is not None:
            return column.dt.tz_convert("UTC").dt.tz_localize(None), True
        return column, False
    text = column.astype("string").str.strip()
    if text.isna().any() or (text == "").any():
        row = int(np.flatnonzero((text.isna() | (text == "")).to_numpy())[0]) + 1
        raise TimeParseError(f"time column {name!r}: data row {row} has no time")
    has_offset = text.str.contains(_OFFSET)
    if has_offset.any() and not has_offset.all():
        row = int(np.flatnonzero((~has_offset).to_numpy())[0]) + 1
        raise TimeParseError(
            f"time column {name!r}: some times carry a UTC offset and data row {row} ({text.iloc[row - 1]!r}) "
            "does not; give every time an offset or none"
        )
    aware = bool(has_offset.all())
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=aware)
    for form in _DAY_FIRST_FORMATS:
        if not parsed.isna().any() or aware:
            break
        retry = pd.to_datetime(text, errors="coerce", format=form)
        parsed = parsed.fillna(retry)
    if parsed.isna().any():
        row = int(np.flatnonzero(parsed.isna().to_numpy())[0]) + 1
        raise TimeParseError(
            f"time column {name!r}: cannot read {text.iloc[row - 1]!r} (data row {row}) as a date-time; "
            "write ISO 8601 (2024-03-01T10:15, optionally with an offset such as +05:00) or 01.03.2024 10:15"
        )
    if aware:
        return parsed.dt.tz_convert("UTC").dt.tz_localize(None), True
    return parsed, False


def _parse_numbers(column: pd.Series, name: str) -> pd.Series:
    """Numbers; empty cells are missing (NaN); anything else that is not a number is an error."""
    if pd.api.types.is_numeric_dtype(column):
        return column.astype(float)
    text = column.astype("string").str.strip()
    empty = text.isna() | (text == "")
    numbers = pd.to_numeric(text.str.replace(",", ".", regex=False).where(~empty), errors="coerce")
    bad = numbers.isna() & ~empty
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise ValueParseError(f"column {name!r}: {text.iloc[row - 1]!r} (data row {row}) is not a number")
    return numbers.astype(float)


def _infer_resolution(table: pd.DataFrame) -> Resolution:
    """The most common step between consecutive distinct times of a series, over all series."""
    ordered = table.sort_values([ID, TIME], kind="stable")
    same_series = ordered[ID].to_numpy()[1:] == ordered[ID].to_numpy()[:-1]
    steps = np.diff(ordered[TIME].to_numpy())[same_series]
    steps = steps[steps > np.timedelta64(0)]
    if not len(steps):
        raise NotEnoughDataError("the data needs at least two distinct times to show its resolution")
    values, counts = np.unique(steps, return_counts=True)
    step = pd.Timedelta(values[np.argmax(counts)])
    if pd.Timedelta(hours=23) <= step <= pd.Timedelta(hours=25):
        step = DAY  # a local day seen in UTC across a clock change
    return Resolution(step)


def _lay_on_grid(
    table: pd.DataFrame, resolution: Resolution, regressors: tuple[str, ...], max_missing: float
) -> tuple[pd.DataFrame, int]:
    """Every series on its own regular grid, all series at once (a region holds 10,000 of them)."""
    table = table.sort_values([ID, TIME, "_row"], kind="stable").reset_index(drop=True)
    repeated = table.duplicated([ID, TIME], keep=False)
    if repeated.any():
        first = table[repeated]
        rows = ", ".join(str(r) for r in first["_row"].head(2))
        raise IrregularSeriesError(f"time {first[TIME].iloc[0]} appears more than once (data rows {rows})")
    starts = table.groupby(ID, sort=False)[TIME].transform("min")
    off_grid = (table[TIME] - starts) % resolution.step != pd.Timedelta(0)
    if off_grid.any():
        bad = table[off_grid].iloc[0]
        raise IrregularSeriesError(
            f"time {bad[TIME]} (data row {bad['_row']}) is off the {resolution.label} grid that starts at "
            f"{starts[off_grid].iloc[0]}"
        )
    stats = table.groupby(ID, sort=False)[TIME].agg(["min", "max", "size"])
    expected = ((stats["max"] - stats["min"]) // resolution.step + 1).astype(np.int64)
    holes = expected - table.groupby(ID, sort=False)[TARGET].count()  # missing times and empty cells
    too_many = holes > max_missing * expected
    if too_many.any():
        name = too_many.idxmax()
        raise IrregularSeriesError(
            f"series {name!r}: {holes[name]} of {expected[name]} slots have no value "
            f"(more than {max_missing:.0%}); fill the gaps or shorten the period"
        )
    columns = [TARGET, *regressors]
    table = table.drop(columns="_row")
    if not (expected - stats["size"]).any() and not table[columns].isna().any().any():
        return table[[ID, TIME, *columns]], 0
    counts = expected.to_numpy()
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    grid = pd.DataFrame(
        {
            ID: np.repeat(stats.index.to_numpy(), counts),
            TIME: np.repeat(stats["min"].to_numpy(), counts) + offsets * resolution.step.to_timedelta64(),
        }
    )
    full = grid.merge(table, on=[ID, TIME], how="left")
    missing = int(full[TARGET].isna().sum())
    full[columns] = full.groupby(ID, sort=False)[columns].transform(
        lambda column: column.interpolate(method="linear", limit_direction="both")
    )
    return full[[ID, TIME, *columns]], missing


def resample(series: PreparedSeries, resolution: Resolution, *, how: str = "sum") -> PreparedSeries:
    """Coarser slots: values summed (energy, volume) or averaged (power, level); regressors averaged.

    Daily slots are local days. A slot that the data does not cover whole is dropped, so a
    half-measured first or last day is not taken for a low one.
    """
    if how not in ("sum", "mean"):
        raise ValueError("how must be 'sum' or 'mean'")
    if resolution.step < series.resolution.step or resolution.step % series.resolution.step:
        raise IrregularSeriesError(f"cannot resample {series.resolution.label} slots to {resolution.label}")
    if resolution == series.resolution:
        return series
    frame = series.frame
    local = series.clock.local(frame[TIME])
    if resolution.daily:
        key, clock = local.dt.normalize(), replace(series.clock, utc=False)
    else:
        key, clock = frame[TIME].dt.floor(resolution.step), series.clock
    work = frame.assign(**{TIME: key.to_numpy()})
    grouped = work.groupby([ID, TIME], sort=True)
    values = grouped[TARGET].agg(how)
    counts = grouped[TARGET].size()
    out = values.to_frame()
    for name in series.regressors:
        out[name] = grouped[name].mean()
    # Inside the data every slot is whole (the grid has no holes); only a series' first and last
    # slot may be partly covered. (A 23- or 25-hour local day is whole too.)
    whole = int(resolution.step / series.resolution.step)
    out["_count"] = counts
    out = out.reset_index()
    position = out.groupby(ID, sort=False).cumcount()
    size = out.groupby(ID, sort=False)[TIME].transform("size")
    edge = (position == 0) | (position == size - 1)
    out = out[~edge | (out["_count"] >= whole)].drop(columns="_count").reset_index(drop=True)
    return PreparedSeries(out, resolution, series.regressors, clock, series.filled)
