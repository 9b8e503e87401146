"""A run of the rule catalogue through the readings store (issue 14 item 2): findings with their
values, alarms "vee" raised and cleared, the quality score, and estimates replaced by measured values."""

from __future__ import annotations

from datetime import timedelta

from egsu.alarms.models import Alarm
from egsu.points.models import MeteringPoint
from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery
from egsu.vee import services
from egsu.vee.models import Finding, QualityDay, RuleSetting
from tests.vee.conftest import DAY, Q, quarter

NOW = DAY + timedelta(days=2, hours=3)


def window():
    return services.run_window(DAY, DAY + timedelta(days=2), now=NOW)


def found(**filters):
    return sorted(
        (f.rule, f.quantity, round((f.first_slot - DAY) / Q), f.values)
        for f in Finding.objects.filter(object_id="TP-VEE", **filters)
    )


def newest(meter, slot):
    [row] = get_store().rows(ReadingQuery(
        object_ids=["TP-VEE"], device_ids=[str(meter.pk)], quantities=["A+"], start=DAY + slot * Q,
        end=DAY + (slot + 1) * Q,
    ))  # fmt: skip
    return row


def test_a_run_finds_flags_alarms_scores_and_estimates(meter, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        summary = window()
    assert found() == [
        ("gap", "A+", 20, 2), ("gap", "A+", 40, 20), ("negative", "A+", 10, 1), ("rollback", "reg:A+", 96, 1),
    ]  # fmt: skip
    point = MeteringPoint.objects.get(meter=meter)
    assert Finding.objects.filter(point=point).count() == 4
    alarms = {a.key: (a.severity, a.state, a.point_id) for a in Alarm.objects.filter(source="vee")}
    assert alarms == {
        f"negative:TP-VEE/{meter.pk}": ("warning", "open", point.pk),
        f"rollback:TP-VEE/{meter.pk}": ("critical", "open", point.pk),
    }
    assert summary.alarms_raised == 2
    # 2 June: 74 values + 22 missing slots + 1 register + the tank's 24 checked; 1 negative + 22 missing flagged
    score = QualityDay.objects.get(subject=point.subject, day="2025-06-02")
    assert (score.checked, score.flagged, score.findings, float(score.score)) == (121, 23, 3, 80.99)
    # Estimates: a line over the 30-minute gap, the like-day profile over the 5-hour one
    assert summary.estimated == 22
    line = newest(meter, 20)  # between slot 19 (1.3) and slot 22 (1.2)
    assert (line.quality, line.source, round(float(line.value), 4)) == ("estimated", "vee:estimate", 1.2667)
    profile = newest(meter, 45)  # Friday's value at the same time
    assert (profile.quality, float(profile.value)) == ("estimated", 1.1)


def test_a_measured_value_replaces_the_estimate_and_a_fixed_value_closes_its_alarm(
    meter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        window()
        get_store().write([quarter(meter, 20, 1.25), quarter(meter, 10, 0.5, source="ami:hes:b2")])
        assert (newest(meter, 20).quality, newest(meter, 20).value) == ("good", 1.25)  # AMI-16
        window()
    assert ("gap", "A+", 21, 1) in found() and ("negative", "A+", 10, 1) not in found()
    negative = Alarm.objects.get(source="vee", key=f"negative:TP-VEE/{meter.pk}")
    assert negative.state == "closed"
    assert Alarm.objects.get(source="vee", key=f"rollback:TP-VEE/{meter.pk}").state == "open"


def test_settings_switch_a_rule_off_for_one_point_and_change_a_parameter(meter):
    point = MeteringPoint.objects.get(meter=meter)
    RuleSetting.objects.create(code="rollback", point=point, enabled=False)
    RuleSetting.objects.create(code="gap", quantity="A+", params={"min_slots": 3}, alarm_severity="info")
    window()
    assert [f[:3] for f in found()] == [("gap", "A+", 40), ("negative", "A+", 10)]
    assert Finding.objects.get(rule="gap", object_id="TP-VEE").severity == "info"
