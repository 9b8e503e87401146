"""The weather feed (ANA-03, PRC-07) as a forecast regressor, and the forecasts and correlation pages
(ANA-01, ANA-04): what each role sees through the gate, values read through the readings store."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from egsu.access.roles import Role
from egsu.analytics import weather
from egsu.analytics.forecast import ModelSpec
from egsu.analytics.models import Weather
from egsu.analytics.services import SeriesSpec, train_and_forecast
from egsu.analytics.targets import refresh_targets
from egsu.cli.app import app

pytestmark = pytest.mark.django_db
FAST = ModelSpec(n_estimators=30, num_leaves=15)
SHORT = {"model": FAST, "folds": 1, "history": timedelta(days=15)}  # small and quick: the path, not the skill


def test_a_weather_csv_is_imported_and_bad_lines_are_named(tmp_path):
    good = tmp_path / "weather.csv"
    good.write_text("region,time,temperature,wind_speed,precipitation,kind\n"
                    "Almaty,2026-01-10T00:00:00+05:00,-12.5,3.1,0,observed\n"
                    "Almaty,2026-01-10 01:00,-13,,,forecast\n", encoding="utf-8")  # fmt: skip
    result = CliRunner().invoke(app, ["weather", "import", str(good)])
    assert result.exit_code == 0 and "imported=2 regions=1" in result.output
    assert sorted(Weather.objects.values_list("kind", "temperature")) == [
        ("forecast", -13.0),
        ("observed", -12.5),
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("region,time,temperature\nAlmaty,yesterday,5\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["weather", "import", str(bad)])
    assert result.exit_code == 2 and "line 2" in result.output


def test_the_open_meteo_adapter_reads_a_stored_answer():
    answer = {"hourly": {"time": ["2026-01-10T00:00", "2026-01-10T01:00"], "temperature_2m": [-3.5, None],
                         "wind_speed_10m": [4.0, 5.0], "precipitation": [0.2, 0.0]}}  # fmt: skip
    from datetime import UTC, datetime

    records = weather.OpenMeteoAdapter("Astana").records(
        json.dumps(answer), now=datetime(2026, 1, 9, tzinfo=UTC)
    )
    assert [(r.region, r.temperature, r.wind_speed, r.kind) for r in records] == [
        ("Astana", -3.5, 4.0, "forecast")
    ]


def test_the_forecast_uses_the_region_temperature_when_it_covers_the_series(power_world):
    series = SeriesSpec(
        quantity="A+", interval="PT15M", bucket="PT1H", points=(power_world.boundary.store_key,)
    )
    with_weather = train_and_forecast(series, "day_ahead", weather_region="Almaty", **SHORT)
    assert with_weather.model.parameters["regressors"] == ["temperature"]
    assert with_weather.forecast.values.count() == 24
    without = train_and_forecast(series, "day_ahead", weather_region="Nowhere", **SHORT)
    assert "regressors" not in without.model.parameters


def test_the_forecasts_and_correlation_pages_through_the_gate(power_world, client):
    refresh_targets()
    series = SeriesSpec(quantity="A+", interval="PT15M", bucket="PT15M", object_ids=("SS-ALM", "SS-STP"))
    train_and_forecast(series, "day_ahead", weather_region="Almaty", **SHORT)
    client.force_login(power_world.users[Role.AUTHORITY])
    page = client.get(
        "/cabinet/analytics/forecasts/?energy=electricity&level=region&area=Almaty&horizon=day_ahead"
    )
    assert page.status_code == 200
    chart = page.context["chart"]
    assert len(chart["x"]) == 96 and len(chart["arrived"]) == 96  # the day before, for context
    assert all(
        lo <= v <= hi for lo, v, hi in zip(chart["lower"], chart["value"], chart["upper"], strict=True)
    )
    names = [row["name"] for row in page.context["backtest"]]
    assert names[0] == "lightgbm" and len(names) >= 2  # with seasonal naive (a week back: longer history)
    assert b"forecast-chart" in page.content
    levels = [code for code, _ in page.context["levels"]]
    assert levels == ["nation", "region", "subject", "object", "point"]

    corr = client.get("/cabinet/analytics/correlation/?energy=electricity&level=region&area=Almaty")
    assert corr.status_code == 200
    assert corr.context["pairs"] == 35 and -1 <= corr.context["r_temperature"] <= 1
    assert corr.context["charts"]["heat"] and len(corr.context["charts"]["heat"]["z"]) == 7

    # A subject's user: no region or nation, only its own subject, object and point.
    client.force_login(power_world.users[Role.SUBJECT])
    page = client.get("/cabinet/analytics/forecasts/?energy=electricity&level=region&area=Almaty")
    assert [code for code, _ in page.context["levels"]] == ["subject", "object", "point"]
    assert {t.subject for t in page.context["areas"]} == {power_world.steppe}
    for language in ("kk", "ru", "en"):
        client.cookies["django_language"] = language
        assert client.get("/cabinet/analytics/recommendations/").status_code == 200


def test_the_scheduled_job_asks_the_configured_provider(settings):
    """The provider is a real HTTP server on loopback answering a stored Open-Meteo answer."""
    import threading
    from dataclasses import replace
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from egsu.analytics.tasks import fetch_weather

    asked = []
    body = json.dumps(
        {"hourly": {"time": ["2026-01-10T00:00", "2026-01-10T01:00"], "temperature_2m": [-8.0, -8.5]}}
    )

    class Provider(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server interface
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert fetch_weather.call()["skipped"]  # nothing configured: nothing asked
        url = f"http://127.0.0.1:{server.server_port}/v1/forecast?latitude={{lat}}&longitude={{lon}}"
        settings.CONFIG = replace(
            settings.CONFIG, weather_url=url, weather_regions={"Astana": (51.17, 71.45)}
        )
        assert fetch_weather.call() == {"stored": 2}
    finally:
        server.shutdown()
    assert asked == ["/v1/forecast?latitude=51.17&longitude=71.45"]
    assert sorted(Weather.objects.filter(region="Astana").values_list("temperature", flat=True)) == [
        -8.5,
        -8.0,
    ]
