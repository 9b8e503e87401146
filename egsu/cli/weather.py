"""`egsu weather`: the weather feed of the forecasts and the correlation page (ANA-03, PRC-07).

`egsu weather import FILE.csv` reads region, time, temperature[, wind_speed][, precipitation][, kind]
(egsu.analytics.weather); `egsu weather import FILE.json --open-meteo REGION` reads a stored answer of
Open-Meteo's hourly API for one region. Django is set up by the caller (egsu.cli).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

app = typer.Typer(help="Weather: import observations and forecasts per region.", no_args_is_help=True)


@app.command("import")
def import_file(
    file: Path = typer.Argument(
        ..., help="CSV file (region,time,temperature,…) or an Open-Meteo JSON answer."
    ),
    open_meteo: str = typer.Option(
        "", "--open-meteo", help="The file is Open-Meteo's JSON answer for this region."
    ),
    source: str = typer.Option("", "--source", help="Where the values come from (kept with each hour)."),
) -> None:
    from egsu.access.audit import Event, audit
    from egsu.analytics import weather

    try:
        text = file.read_text(encoding="utf-8-sig")
        if open_meteo:
            records = weather.OpenMeteoAdapter(open_meteo).records(text)
        else:
            records = weather.read_csv(text)
    except (OSError, ValueError, KeyError) as error:
        sys.stderr.write(f"egsu weather import: {error}\n")
        raise typer.Exit(2) from None
    written = weather.store(records, source=source or ("open-meteo" if open_meteo else file.name))
    regions = sorted({r.region for r in records})
    audit(Event.WEATHER_IMPORTED, object_type="analytics.weather", source="egsu weather import",
          summary=f"{written} hour(s) of weather for {', '.join(regions) or 'no region'} from {file.name}",
          after={"rows": written, "regions": regions})  # fmt: skip
    typer.echo(f"imported={written} regions={len(regions)}")
