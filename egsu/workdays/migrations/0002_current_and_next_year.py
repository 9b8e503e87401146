"""The current and next year entered as operator data (egsu.workdays).

2026: as the built-in table (no Government transfer found; the law's moved days off apply).
2027: the law's holidays apply; the Government's decree on 2027 transfers was not available when
this was written, so the year is entered unconfirmed for the operator to complete.
"""

from django.db import migrations


def forward(apps, schema_editor):
    year = apps.get_model("workdays", "TransferYear")
    year.objects.get_or_create(
        year=2026,
        defaults={
            "confirmed": True,
            "source": "e-government holiday calendar 2026: no Government transfer",
        },
    )
    year.objects.get_or_create(
        year=2027,
        defaults={
            "confirmed": False,
            "note": "Enter the Government decree's transfers for 2027 (adilet.zan.kz) and mark the year checked.",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("workdays", "0001_initial")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
