"""Subscribers' meters named by (supplier BIN, account), never by the account text alone.

An old entry (an account alone) is kept only where exactly one registered meter has that account,
bound to that meter's supplier; an ambiguous one is dropped rather than guessed (it would show
another utility's meter), and the operator sets it again with the supplier.
"""

from django.db import migrations


def bind(apps, schema_editor):
    profile_model = apps.get_model("access", "Profile")
    meter_model = apps.get_model("ami", "Meter")
    for profile in profile_model.objects.exclude(meter_accounts=[]):
        pairs = []
        for entry in profile.meter_accounts:
            if isinstance(entry, list) and len(entry) == 2:
                pairs.append(entry)
                continue
            found = list(meter_model.objects.filter(account=entry).values_list("subject__bin", flat=True)[:2])
            if len(found) == 1:
                pairs.append([found[0], entry])
        profile.meter_accounts = pairs
        profile.save(update_fields=["meter_accounts"])


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial"), ("ami", "0002_vocabulary_choices")]

    operations = [migrations.RunPython(bind, migrations.RunPython.noop)]
