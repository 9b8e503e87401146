"""2027 says where its data comes from: no Government decree on 2027 transfers was available, so the
year holds the Labour Code's holidays only and stays unconfirmed until the operator enters the decree.
An operator's own text is kept."""

from django.db import migrations

SOURCE_2027 = "No Government decree on 2027 transfers available yet: the Labour Code's holidays only"


def forward(apps, schema_editor):
    year = apps.get_model("workdays", "TransferYear")
    year.objects.filter(year=2027, confirmed=False, source="").update(source=SOURCE_2027)


class Migration(migrations.Migration):
    dependencies = [("workdays", "0002_current_and_next_year")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
