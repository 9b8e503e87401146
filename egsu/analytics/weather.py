"""The weather feed (ANA-03, PRC-07): hourly observations and forecasts per region, and what reads them.

Imported from a CSV file (`egsu weather import FILE.csv`) with the columns

    region, time, temperature[, wind_speed][, precipitation][, kind]

(time ISO 8601 with offset, or Astana wall-clock time; kind `observed` (default) or `forecast`),
or from a provider through an adapter: `OpenMeteoAdapter` turns the JSON of Open-Meteo's hourly
forecast API (https://open-meteo.com/en/docs: `hourly=temperature_2m,wind_speed_10m,precipitation`,
`timezone=UTC`) into the same records; `fetch_provider` asks the configured address
(EGSU_WEATHER_URL with {lat} and {lon}, per region in EGSU_WEATHER_REGIONS) on the worker's schedule.
Tests parse a stored answer: nothing here calls the network unless the operator configures it.

`temperature_for(region, times, bucket)` gives the forecasting engine its regressor: the observed
temperature where there is one, else the latest forecast, averaged over the bucket.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from egsu.analytics.models import Weather, WeatherKind
from egsu_core.clock import ASTANA, utcnow


class WeatherFileError(ValueError):
    """A weather file that cannot be read; the message names the line."""


@dataclass(frozen=True)
class Record:
    region: str
    at: datetime  # UTC, start of the hour
    temperature: float
    wind_speed: float | None = None
    precipitation: float | None = None
    kind: str = WeatherKind.OBSERVED


def _number(text: str | None, name: str, line: int, required: bool = False) -> float | None:
    text = (text or "").strip().replace(",", ".")
    if not text:
        if required:
            raise WeatherFileError(f"line {line}: no {name}")
        return None
    try:
        return float(text)
    except ValueError:
        raise WeatherFileError(f"line {line}: {name} {text!r} is not a number") from None


def _time(text: str, line: int) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise WeatherFileError(f"line {line}: time {text!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ASTANA)
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def read_csv(text: str) -> list[Record]:
    """Records of a weather CSV (see the module docstring); WeatherFileError names a bad line."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"region", "time", "temperature"} - set(reader.fieldnames or ())
    if missing:
        raise WeatherFileError(f"the file lacks the column(s): {', '.join(sorted(missing))}")
    records = []
    for line, row in enumerate(reader, start=2):
        kind = (row.get("kind") or WeatherKind.OBSERVED).strip()
        if kind not in WeatherKind.values:
            raise WeatherFileError(f"line {line}: kind {kind!r} is neither observed nor forecast")
        records.append(
            Record(
                region=(row["region"] or "").strip(),
                at=_time(row["time"] or "", line),
                temperature=_number(row["temperature"], "temperature", line, required=True),
                wind_speed=_number(row.get("wind_speed"), "wind_speed", line),
                precipitation=_number(row.get("precipitation"), "precipitation", line),
                kind=kind,
            )
        )
        if not records[-1].region:
            raise WeatherFileError(f"line {line}: no region")
    return records


class OpenMeteoAdapter:
    """Open-Meteo's hourly answer (JSON, times in UTC) → records of one region.

    Hours up to `now` are observations (the provider's analysis), later ones forecasts.
    """

    def __init__(self, region: str):
        self.region = region

    def records(self, answer: str | dict, *, now: datetime | None = None) -> list[Record]:
        data = json.loads(answer) if isinstance(answer, str) else answer
        hourly = data["hourly"]
        now = now or utcnow()
        found = []
        for i, stamp in enumerate(hourly["time"]):
            at = datetime.fromisoformat(stamp).replace(tzinfo=UTC)
            temperature = hourly["temperature_2m"][i]
            if temperature is None:
                continue
            found.append(
                Record(
                    region=self.region, at=at, temperature=float(temperature),
                    wind_speed=_maybe(hourly.get("wind_speed_10m"), i),
                    precipitation=_maybe(hourly.get("precipitation"), i),
                    kind=WeatherKind.OBSERVED if at <= now else WeatherKind.FORECAST,
                )
            )  # fmt: skip
        return found


def _maybe(values: Sequence | None, i: int) -> float | None:
    return None if not values or values[i] is None else float(values[i])


def store(records: Iterable[Record], *, source: str) -> int:
    """Write records; a newer value of the same (region, kind, hour) replaces the older. Returns rows."""
    now = utcnow()
    rows = [
        Weather(region=r.region[:100], kind=r.kind, at=r.at, temperature=r.temperature, wind_speed=r.wind_speed,
                precipitation=r.precipitation, source=source[:100], imported_at=now)
        for r in records
    ]  # fmt: skip
    Weather.objects.bulk_create(
        rows, batch_size=2000, update_conflicts=True, unique_fields=["region", "kind", "at"],
        update_fields=["temperature", "wind_speed", "precipitation", "source", "imported_at"],
    )  # fmt: skip
    return len(rows)


def hourly_temperature(region: str, start: datetime, end: datetime) -> pd.Series:
    """Temperature per UTC hour in [start, end): observed, else forecast (empty when none)."""
    observed, forecast = {}, {}
    rows = Weather.objects.filter(region=region, at__gte=start, at__lt=end).values_list(
        "at", "kind", "temperature"
    )
    for at, kind, temperature in rows:
        (observed if kind == WeatherKind.OBSERVED else forecast)[at] = temperature
    found = {**forecast, **observed}
    if not found:
        return pd.Series(dtype=float)
    series = pd.Series(found, dtype=float)
    series.index = pd.to_datetime(series.index, utc=True)
    return series.sort_index()


def temperature_for(region: str, times: Sequence[datetime] | pd.Series, bucket: str) -> list[float | None]:
    """The mean temperature of each bucket starting at `times` (aware UTC): hour, quarter hour or day."""
    stamps = pd.to_datetime(pd.Series(list(times)), utc=True)
    if stamps.empty or not region:
        return []
    span = pd.Timedelta(days=1) if bucket == "P1D" else pd.Timedelta(hours=1)
    hours = hourly_temperature(
        region, stamps.min().floor("h").to_pydatetime(), (stamps.max() + span).to_pydatetime()
    )
    if hours.empty:
        return [None] * len(stamps)
    out = []
    for stamp in stamps:
        if bucket == "P1D":
            window = hours[(hours.index >= stamp) & (hours.index < stamp + span)]
            out.append(float(window.mean()) if len(window) >= 12 else None)
        else:
            value = hours.get(stamp.floor("h"))
            out.append(None if value is None else float(value))
    return out


def regions_with_weather() -> list[str]:
    return sorted(Weather.objects.values_list("region", flat=True).distinct())


def fetch_provider(url_template: str, regions: dict[str, tuple[float, float]], *, get=None) -> int:
    """Ask a provider for each configured region (Open-Meteo's form) and store the answers.

    `get(url) -> str` is the HTTP client (urllib by default); the operator configures the address and
    the regions' coordinates. Not called by the tests, which parse a stored answer instead.
    """
    if not url_template.startswith(("https://", "http://")):
        raise ValueError("EGSU_WEATHER_URL must be an http(s) address")  # no file:// or custom schemes
    if get is None:
        from urllib.request import urlopen

        def get(url: str) -> str:
            # the operator's configured http(s) address, checked above
            with urlopen(url, timeout=30) as answer:  # noqa: S310  # nosec B310
                return answer.read().decode()

    written = 0
    for region, (lat, lon) in regions.items():
        answer = get(url_template.format(lat=lat, lon=lon))
        written += store(OpenMeteoAdapter(region).records(answer), source="open-meteo")
    return written
