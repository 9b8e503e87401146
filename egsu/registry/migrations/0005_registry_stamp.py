"""The registry's change stamp and its triggers (egsu.registry.stamp says why)."""

from django.db import migrations

from egsu.registry import stamp


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_connected_system_allowed_eku"),
        ("points", "0002_fill_from_registry"),
        ("ami", "0003_head_end_mqtt_password"),
        ("access", "0003_meter_accounts_help"),
        ("schemes", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(stamp.install, stamp.uninstall)]
