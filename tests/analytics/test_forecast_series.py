"""Series handed to the forecasting core: checked, laid on a grid, with a clear error for each fault."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from egsu.analytics.forecast import (
    IrregularSeriesError,
    MissingColumnError,
    NotEnoughDataError,
    Resolution,
    TimeParseError,
    ValueParseError,
    prepare,
    resample,
)
from egsu.analytics.forecast.features import DAY_KINDS, KazakhstanCalendar, calendar_features
from egsu.calendar_kz import DayType


def table(times, values, **extra) -> pd.DataFrame:
    return pd.DataFrame({"t": times, "v": values, **extra})


def quarter_hours(start: str, count: int) -> list[str]:
    return [t.strftime("%Y-%m-%dT%H:%M") for t in pd.date_range(start, periods=count, freq="15min")]


def test_a_clean_series_keeps_its_values_and_shows_its_resolution():
    times = quarter_hours("2024-05-01", 8)
    series = prepare(table(times, [str(v) for v in range(8)]), time_column="t", value_column="v")
    assert series.resolution == Resolution(pd.Timedelta(minutes=15))
    assert series.resolution.slots_per_day == 96
    assert series.frame["y"].tolist() == list(range(8))
    assert series.filled == 0 and not series.clock.aware


def test_a_missing_column_is_named_with_the_columns_there_are():
    with pytest.raises(MissingColumnError, match=r"no column 'load' in the data \(it has: t, v\)"):
        prepare(table(["2024-01-01"], ["1"]), time_column="t", value_column="load")


def test_an_unreadable_time_names_its_row():
    times = quarter_hours("2024-05-01", 3) + ["2024-05-01T25:00"]
    with pytest.raises(TimeParseError, match=r"cannot read '2024-05-01T25:00' \(data row 4\)"):
        prepare(table(times, ["1"] * 4), time_column="t", value_column="v")


def test_times_with_and_without_offset_are_refused_together():
    times = ["2024-05-01T00:00+05:00", "2024-05-01T00:15"]
    with pytest.raises(TimeParseError, match="data row 2"):
        prepare(table(times, ["1", "2"]), time_column="t", value_column="v")


def test_a_value_that_is_not_a_number_names_its_row():
    with pytest.raises(ValueParseError, match=r"column 'v': 'n/a' \(data row 2\) is not a number"):
        prepare(table(quarter_hours("2024-05-01", 3), ["1", "n/a", "3"]), time_column="t", value_column="v")


def test_a_repeated_time_is_refused():
    times = quarter_hours("2024-05-01", 3)
    with pytest.raises(IrregularSeriesError, match=r"appears more than once \(data rows 2, 3\)"):
        prepare(table([times[0], times[1], times[1]], ["1", "2", "3"]), time_column="t", value_column="v")


def test_a_time_off_the_grid_is_refused():
    times = quarter_hours("2024-05-01", 6) + ["2024-05-01T01:37"]
    with pytest.raises(IrregularSeriesError, match="off the 15 min grid"):
        prepare(table(times, ["1"] * 7), time_column="t", value_column="v")


def test_short_gaps_are_interpolated_and_counted_and_long_ones_refused():
    times = quarter_hours("2024-05-01", 20)
    kept = [t for i, t in enumerate(times) if i not in (5, 6)]
    series = prepare(
        table(kept, [str(float(i)) for i in range(20) if i not in (5, 6)]), time_column="t", value_column="v"
    )
    assert series.filled == 2
    assert series.frame["y"].tolist() == [float(i) for i in range(20)]
    with pytest.raises(IrregularSeriesError, match="6 of 20 slots have no value"):
        prepare(table(times, ["1"] * 14 + [""] * 6), time_column="t", value_column="v")


def test_day_first_times_and_decimal_commas_from_spreadsheets_are_read():
    series = prepare(
        table(["01.03.2024 10:00", "01.03.2024 11:00", "01.03.2024 12:00"], ["1,5", "2,5", "3"]),
        time_column="t",
        value_column="v",
    )
    assert series.frame["ds"].iloc[0] == pd.Timestamp("2024-03-01 10:00")
    assert series.frame["y"].tolist() == [1.5, 2.5, 3.0]


def test_a_single_time_cannot_show_a_resolution():
    with pytest.raises(NotEnoughDataError):
        prepare(table(["2024-01-01T00:00"], ["1"]), time_column="t", value_column="v")


def test_aware_times_across_astanas_clock_change_stay_on_one_utc_grid():
    """1 March 2024: Astana went from UTC+6 to UTC+5 (INT-37); the 15-minute grid does not break."""
    instants = pd.date_range("2024-02-29T17:00Z", periods=12, freq="15min")  # 23:00+06 … 23:45+05
    local = [t.tz_convert("Asia/Almaty").isoformat() for t in instants]
    assert local[0].endswith("+06:00") and local[-1].endswith("+05:00")
    series = prepare(table(local, [str(i) for i in range(12)]), time_column="t", value_column="v")
    assert series.clock.utc and series.clock.aware
    assert series.filled == 0 and len(series.frame) == 12
    assert series.clock.to_output(series.frame["ds"]).tolist() == list(instants)
    wall = series.clock.local(series.frame["ds"])
    assert wall.iloc[0] == pd.Timestamp("2024-02-29 23:00") and wall.iloc[4] == pd.Timestamp(
        "2024-02-29 23:00"
    )


def test_aware_daily_values_are_local_days():
    times = [
        "2024-02-28T00:00+06:00",
        "2024-02-29T00:00+06:00",
        "2024-03-01T00:00+05:00",
        "2024-03-02T00:00+05:00",
    ]
    series = prepare(table(times, ["1", "2", "3", "4"]), time_column="t", value_column="v")
    assert series.resolution.daily
    assert series.frame["ds"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-02-28",
        "2024-02-29",
        "2024-03-01",
        "2024-03-02",
    ]
    back = series.clock.to_output(series.frame["ds"])
    assert back.iloc[2] == pd.Timestamp("2024-02-29T19:00Z")  # Astana midnight of 1 March, UTC+5


def test_resampling_sums_whole_slots_and_drops_a_partial_first_day():
    times = quarter_hours("2024-05-01T12:00", 96 * 2 + 48)  # half of 1 May, 2 and 3 May
    series = prepare(table(times, ["1"] * len(times), temp=[str(i % 4) for i in range(len(times))]),
                     time_column="t", value_column="v", regressors=["temp"])  # fmt: skip
    hourly = resample(series, Resolution.of("PT1H"))
    assert len(hourly.frame) == 60 and set(hourly.frame["y"]) == {4.0}
    assert set(hourly.frame["temp"]) == {1.5}
    daily = resample(series, Resolution.of("P1D"))
    assert daily.frame["ds"].dt.strftime("%m-%d").tolist() == ["05-02", "05-03"]
    assert daily.frame["y"].tolist() == [96.0, 96.0]
    with pytest.raises(IrregularSeriesError):
        resample(daily, Resolution.of("PT1H"))


def test_calendar_features_know_the_working_saturday_and_the_transferred_day_off():
    local = pd.Series(
        pd.to_datetime(["2024-05-04 00:00", "2024-05-04 23:45", "2024-05-08 12:00", "2024-05-10 06:15"])
    )
    features = calendar_features(local, Resolution.of("15min"), KazakhstanCalendar())
    kinds = [DAY_KINDS[k] for k in features["day_kind"]]
    assert kinds == [
        DayType.WORKING_WEEKEND,
        DayType.WORKING_WEEKEND,
        DayType.TRANSFERRED_DAY_OFF,
        DayType.WORKING,
    ]
    assert features["working"].tolist() == [1, 1, 0, 1]
    assert features["slot"].tolist() == [0, 95, 48, 25]
    assert features["dow"].tolist() == [5, 5, 2, 4]
    assert features["prev_working"].tolist() == [1, 1, 0, 0]  # 3 May worked; 7 May and 9 May holidays
    assert features["next_working"].tolist() == [0, 0, 0, 0]  # 5 May Sunday, 9 May, 11 May Saturday
    assert np.issubdtype(features["slot"].dtype, np.integer)
