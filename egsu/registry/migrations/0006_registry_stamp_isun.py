"""The registry stamp also watches what the ISUN rules read: devices' allowed operations, product
types and pipelines (egsu.registry.snapshot keeps its reading per process under the stamp)."""

from django.db import migrations

from egsu.registry import stamp

_TABLES = ("registry_device_allowed_operations", "registry_producttype", "registry_pipeline")


def install(apps, schema_editor):
    stamp.install(apps, schema_editor, tables=_TABLES, column_tables={})


def uninstall(apps, schema_editor):
    """Only these tables' triggers: the stamp itself belongs to 0005."""
    for statement in stamp.uninstall_sql(schema_editor.connection.vendor, _TABLES, {})[:-1]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("registry", "0005_registry_stamp")]

    operations = [migrations.RunPython(install, uninstall)]
