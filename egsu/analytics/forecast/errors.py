"""What can be wrong with a series handed to the forecasting core; each error says what and where."""

from __future__ import annotations


class ForecastError(ValueError):
    """Base of every input error of the forecasting core (the CLI shows its message as is)."""


class MissingColumnError(ForecastError):
    """A named column is not in the data."""


class TimeParseError(ForecastError):
    """A time cell cannot be read as a date-time."""


class ValueParseError(ForecastError):
    """A value or regressor cell is not a number."""


class IrregularSeriesError(ForecastError):
    """Times repeat, fall off the series' grid, or too many slots are missing."""


class NotEnoughDataError(ForecastError):
    """Too little history for the model, the season or the folds asked for."""


class MissingRegressorError(ForecastError):
    """A regressor the model was trained with has no values for the slots to forecast."""
