"""Browser walk-through of the forecasts, the weather-and-calendar correlation and the recommendations,
on a desktop and a phone (ANA-01, ANA-03, ANA-04, ANA-08). Screenshots: tests/browser/screenshots/
forecasts-*.png, correlation-*.png, recommendations-*.png.

The data is tests/analytics/conftest.py's electricity world (real Victoria load and temperatures on the
last five weeks). Yesterday's forecast has been scored; today's is shown with what arrived the day before.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import PHONE, _user, accessibility_problems, body_overflows, shot, sign_in


@pytest.fixture
def analysed(live_server, transactional_db):
    from egsu.analytics import recommendations
    from egsu.analytics.forecast import ModelSpec
    from egsu.analytics.services import SeriesSpec, score_arrived_forecasts, train_and_forecast
    from egsu.analytics.targets import refresh_targets
    from egsu.registry.services import load_dictionaries
    from egsu_core.clock import astana_midnight, utcnow
    from tests.analytics.conftest import build_power_world

    load_dictionaries()
    world = build_power_world(_user)
    refresh_targets()
    series = SeriesSpec(quantity="A+", interval="PT15M", bucket="PT15M", object_ids=("SS-ALM", "SS-STP"))
    quick = {"model": ModelSpec(n_estimators=30, num_leaves=15), "folds": 1, "history": timedelta(days=15),
             "weather_region": "Almaty"}  # fmt: skip
    yesterday = astana_midnight(world.today - timedelta(days=1))
    train_and_forecast(series, "day_ahead", now=yesterday, **quick)
    score_arrived_forecasts(now=astana_midnight(world.today) + timedelta(hours=25))
    train_and_forecast(series, "day_ahead", now=utcnow(), **quick)
    recommendations.recompute(astana_midnight(world.today))
    return world


FORECASTS = "/cabinet/analytics/forecasts/?energy=electricity&level=region&area=Almaty&horizon=day_ahead"
CORRELATION = "/cabinet/analytics/correlation/?energy=electricity&level=region&area=Almaty"


def test_forecasts_correlation_and_recommendations(new_page, analysed):
    page = new_page()
    sign_in(page, "analyst")
    page.get_by_role("link", name="Forecasts").click()
    page.goto(FORECASTS)
    page.locator("#forecast-chart .js-plotly-plot, #forecast-chart.js-plotly-plot").first.wait_for()
    assert page.locator("table.scores tbody tr").count() == 1
    assert accessibility_problems(page) == []
    shot(page, "forecasts-desktop")
    page.goto(CORRELATION)
    page.locator("#heat-chart.js-plotly-plot").wait_for()
    assert "r = " in page.locator(".tiles").inner_text()
    assert accessibility_problems(page) == []
    shot(page, "correlation-desktop")
    page.goto("/cabinet/analytics/recommendations/")
    assert (
        page.locator("article.recommendation").count() >= 3
    )  # losses, a profile out of normal, a peak shift
    assert accessibility_problems(page) == []
    shot(page, "recommendations-desktop")
    first = page.locator("article.recommendation").first
    first.get_by_label("Reason").fill("Scheduled for the next maintenance window")
    first.get_by_role("button", name="Accept").click()
    page.get_by_text("Decision saved.").wait_for()

    phone = new_page(locale="ru-RU", viewport=PHONE)
    sign_in(phone, "analyst")
    with phone.expect_navigation():
        phone.select_option("#lang-select", "ru")
    for url, name, ready in ((FORECASTS, "forecasts-phone-ru", "#forecast-chart.js-plotly-plot"),
                             (CORRELATION, "correlation-phone-ru", "#scatter-chart.js-plotly-plot"),
                             ("/cabinet/analytics/recommendations/", "recommendations-phone-ru", "h1")):  # fmt: skip
        phone.goto(url)
        phone.locator(ready).first.wait_for()
        assert body_overflows(phone) == 0, name
        shot(phone, name)
