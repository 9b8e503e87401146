"""Seed the rule catalogue: one base row per rule, with its default parameters and alarm severity.

Parameters per quantity that differ from the defaults: gas volumes and heat are read hourly or
more often and idle for long stretches, so a flat line there needs a longer run before it counts.
"""

from django.db import migrations

BASE = {
    "range": ({}, "warning"),
    "spike": ({"factor": 10.0, "floor": 1.0}, ""),
    "stuck": ({"min_run": 16, "ignore_zero": True}, ""),
    "gap": ({"min_slots": 1}, ""),
    "negative": ({}, "warning"),
    "rollback": ({}, "critical"),
    "sum_register": ({"tolerance_abs": 0.5, "tolerance_rel": 0.01}, "warning"),
    "mass_density": ({"tolerance_abs": 0.1, "tolerance_rel": 0.01}, "warning"),
    "tank_balance": ({"tolerance_abs": 1.0, "tolerance_rel": 0.01, "losses_rel": 0.0}, "warning"),
    "timestamp": ({"future_tolerance_s": 600}, "warning"),
    "energy_balance": ({"allowed_loss_pct": 5.0}, "warning"),
}
PER_QUANTITY = [
    ("stuck", "tankLevel", {"min_run": 36}),  # a full tank left alone for three days of 2-hourly values
    ("stuck", "temperature", {"min_run": 48}),
    ("stuck", "Tsup", {"min_run": 96}),  # heat-carrier temperatures hold steady for a day
    ("stuck", "Tret", {"min_run": 96}),
]


def seed(apps, schema_editor):
    RuleSetting = apps.get_model("vee", "RuleSetting")
    for code, (params, severity) in BASE.items():
        RuleSetting.objects.get_or_create(
            code=code,
            quantity="",
            device_type="",
            point=None,
            defaults={"params": params, "alarm_severity": severity, "enabled": True},
        )
    for code, quantity, params in PER_QUANTITY:
        RuleSetting.objects.get_or_create(
            code=code,
            quantity=quantity,
            device_type="",
            point=None,
            defaults={"params": params, "alarm_severity": BASE[code][1], "enabled": True},
        )


def unseed(apps, schema_editor):
    apps.get_model("vee", "RuleSetting").objects.filter(point=None, device_type="").delete()


class Migration(migrations.Migration):
    dependencies = [("vee", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
