"""Anomalies raised as alarms with their evidence, and recommendations with their estimated effect,
computed from the readings store (PRC-05, ANA-02, ANA-08); accepted or dismissed with a reason, audited."""

from __future__ import annotations

import pytest

from egsu.access.audit import Event
from egsu.access.models import AuditEvent
from egsu.access.roles import Role
from egsu.alarms.models import Alarm
from egsu.analytics import anomalies, recommendations
from egsu.analytics.models import Recommendation
from egsu_core.clock import astana_midnight

pytestmark = pytest.mark.django_db


def test_night_load_and_rising_losses_are_alarms_with_evidence(power_world):
    now = astana_midnight(power_world.today)
    found = anomalies.check_all(now)
    assert found["night_raised"] == 1 and found["losses_raised"] == 1
    night = Alarm.objects.get(source="forecast", key__startswith="night:")
    assert night.point == power_world.other and night.subject == power_world.steppe
    assert night.evidence["ratio"] == pytest.approx(3.5, rel=0.05) and night.evidence["unit"] == "kWh"
    losses = Alarm.objects.get(source="forecast", key="losses:SS-ALM:electricity")
    assert losses.subject == power_world.power and losses.region == "Almaty"
    assert losses.evidence["recent_loss_percent"] == pytest.approx(22.0, abs=0.1)
    assert losses.evidence["baseline_loss_percent"] == pytest.approx(15.0, abs=0.1)
    # Seen again: folded into the same alarms, nothing new.
    anomalies.check_all(now)
    assert Alarm.objects.filter(source="forecast").count() == 2
    assert Alarm.objects.get(pk=night.pk).count == 2


def test_recommendations_have_an_effect_and_decisions_are_audited(power_world, client):
    counts = recommendations.recompute(astana_midnight(power_world.today))
    assert counts["losses"] == 1 and counts["outside_profile"] >= 1
    losses = Recommendation.objects.get(kind="losses")
    assert losses.effect["loss_percent"] == pytest.approx(16.4, abs=0.5)  # 4 weeks at 15 %, one at 22 %
    assert losses.effect["volume_above_allowed"] > 0 and losses.effect["allowed_percent"] == 8.0
    profile = Recommendation.objects.get(kind="outside_profile", point=power_world.other)
    assert profile.effect["deviation_percent"] > 30
    shift = Recommendation.objects.get(kind="peak_shift", subject=power_world.power)  # its afternoon peak
    assert shift.effect["hours_from"] == [15, 16, 17] and len(shift.effect["hours_to"]) == 3
    assert shift.effect["volume_per_day"] > 0 and shift.effect["share_percent"] >= 1

    # The Steppe user sees its own recommendations only, and decides them with a reason.
    client.force_login(power_world.users[Role.SUBJECT])
    page = client.get("/cabinet/analytics/recommendations/")
    assert page.status_code == 200
    shown = {row["r"].pk for row in page.context["rows"]}
    assert profile.pk in shown and losses.pk not in shown
    refused = client.post(
        f"/cabinet/analytics/recommendations/{losses.pk}/decide/", {"action": "accept", "reason": "x"}
    )
    assert refused.status_code == 404
    client.post(
        f"/cabinet/analytics/recommendations/{profile.pk}/decide/", {"action": "dismiss", "reason": ""}
    )
    assert Recommendation.objects.get(pk=profile.pk).status == "open"  # a reason is required
    client.post(f"/cabinet/analytics/recommendations/{profile.pk}/decide/",
                {"action": "dismiss", "reason": "Night pumping is planned this month"})  # fmt: skip
    decided = Recommendation.objects.get(pk=profile.pk)
    assert decided.status == "dismissed" and decided.decided_by == power_world.users[Role.SUBJECT]
    event = AuditEvent.objects.get(event=Event.RECOMMENDATION_DECIDED)
    assert event.object_id == str(profile.pk) and "Night pumping" in str(event.after)
    from egsu.feedback.models import Feedback

    feedback = Feedback.objects.get(page="/cabinet/analytics/recommendations/")  # the register has it too
    assert "dismissed. Night pumping" in feedback.text and feedback.author == power_world.users[Role.SUBJECT]
    # Recomputed: the decided one stays decided, not offered again.
    recommendations.recompute(astana_midnight(power_world.today))
    assert Recommendation.objects.get(pk=profile.pk).status == "dismissed"


def test_arrivals_far_outside_the_forecast_interval_are_an_alarm_until_they_return(power_world):
    from datetime import timedelta
    from decimal import Decimal

    from egsu.analytics.forecast import ModelSpec
    from egsu.analytics.services import SeriesSpec, train_and_forecast
    from egsu.analytics.targets import refresh_targets
    from egsu.readings.services import get_store
    from egsu.readings.store import ReadingQuery, ReadingRow

    refresh_targets()
    yesterday = astana_midnight(power_world.today - timedelta(days=1))
    series = SeriesSpec(
        quantity="A+", interval="PT15M", bucket="PT1H", points=(power_world.boundary.store_key,)
    )
    trained = train_and_forecast(series, "day_ahead", now=yesterday, model=ModelSpec(n_estimators=30), folds=1,
                                 history=timedelta(days=15))  # fmt: skip
    query = ReadingQuery(
        series=None, object_ids=["SS-ALM"], start=yesterday, end=yesterday + timedelta(hours=6)
    )
    arrived = [r for r in get_store().rows(query) if r.key.device_id == power_world.boundary.store_device_id]
    tripled = [ReadingRow(r.key, r.interval, r.period_start, r.value * 3, r.unit, r.quality, "test-revised", True)
               for r in arrived]  # fmt: skip
    get_store().write(tripled)  # six hours at three times the load: new revisions

    anomalies.check_forecasts(astana_midnight(power_world.today))
    alarm = Alarm.objects.get(source="forecast", key=f"outside:{series.key}")
    assert alarm.state == "open" and alarm.point == power_world.boundary  # the point's own series
    assert alarm.evidence["forecast"] == trained.forecast.pk and alarm.evidence["slots_outside"] >= 6
    first = alarm.evidence["slots"][0]
    assert first["arrived"] > first["upper"] and first["slot"] == yesterday.isoformat()

    get_store().write([ReadingRow(r.key, r.interval, r.period_start, r.value + Decimal(0), r.unit, r.quality,
                                  "test-restored", True) for r in arrived])  # fmt: skip
    anomalies.check_forecasts(astana_midnight(power_world.today))
    assert Alarm.objects.get(pk=alarm.pk).state == "closed"
