"""The three horizons forecasts are made for (ANA-01): a day ahead at the data's own resolution,
a week ahead hourly and a month ahead daily, each with the season its baseline repeats."""

from __future__ import annotations

from dataclasses import dataclass, replace

from egsu.analytics.forecast.errors import ForecastError
from egsu.analytics.forecast.models import ModelSpec
from egsu.analytics.forecast.series import Resolution


@dataclass(frozen=True)
class Horizon:
    name: str
    days: int
    resolution: str | None  # None: the data's own

    def resolution_for(self, data: Resolution) -> Resolution:
        target = Resolution.of(self.resolution) if self.resolution else data
        if target.step < data.step:
            raise ForecastError(
                f"a {self.name} forecast needs {target.label} data or finer; the data is {data.label}"
            )
        return target

    def spec_for(self, data: Resolution, base: ModelSpec | None = None) -> ModelSpec:
        """The model spec for this horizon: its steps, and a season of a day (a week for daily slots)."""
        target = self.resolution_for(data)
        season = 7 if target.daily else target.slots_per_day
        return replace(base or ModelSpec(), horizon=self.days * target.slots_per_day, season_length=season)


DAY_AHEAD = Horizon("day_ahead", 1, None)
WEEK_AHEAD = Horizon("week_ahead", 7, "1h")
MONTH_AHEAD = Horizon("month_ahead", 31, "1D")
HORIZONS: dict[str, Horizon] = {h.name: h for h in (DAY_AHEAD, WEEK_AHEAD, MONTH_AHEAD)}
