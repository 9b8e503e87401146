"""Load the fixed App.2 dictionaries (FMT-06, FMT-07) and seed the gateway services (A10)."""

from django.db import migrations


def load(apps, schema_editor):
    from egsu.registry.services import load_dictionaries

    load_dictionaries(
        device_type_model=apps.get_model("registry", "DeviceType"),
        operation_type_model=apps.get_model("registry", "OperationType"),
        service_model=apps.get_model("registry", "Service"),
    )


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
