"""Points for every device and meter registered before metering points existed."""

from django.db import migrations


def fill(apps, schema_editor):
    # The live service (not historical models): a point's fields are derived by code that must not
    # be copied here. Only a database that already holds devices or meters needs it (a fresh one
    # may be migrating towards registry columns the live models already have); `egsu init`
    # refreshes the points too whenever their count disagrees with the registry's.
    if not (
        apps.get_model("registry", "Device").objects.exists()
        or apps.get_model("ami", "Meter").objects.exists()
    ):
        return
    from egsu.points.services import refresh_all

    refresh_all()


class Migration(migrations.Migration):
    dependencies = [
        ("points", "0001_initial"),
        ("registry", "0003_signature_settings"),
        ("ami", "0002_vocabulary_choices"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
