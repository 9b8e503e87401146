"""The registry's change stamp: one cheap read that changes whenever anything that decides a user's
metering points, their labels and facets, the gate's scope, or the AMI meters and channels changes.

Why triggers, not Django signals: signals miss `QuerySet.update`, `bulk_create`, raw SQL imports and
other processes' writes, and a cache keyed by the stamp (labels kept in the readings store, meters
and channels per process in the AMI intake) must see every one of them. A migration installs
triggers on the tables of `TABLES`; each bumps the single row of `registry_stamp` in the writing
transaction, so the new stamp becomes visible with the change itself (a reader that sees the new
stamp then reads the new rows; one that read the old stamp at worst rebuilds once more). PostgreSQL
fires once per statement (a 1.25 M-row import pays one bump per statement); SQLite has row triggers
only.

The stamp is a token, not a counter: each bump writes a fresh random token, so a rolled-back change
(a test's transaction) or a flushed table never brings back a token that an earlier state had. Read
it as an opaque string and compare for equality.
"""

from __future__ import annotations

import uuid

from django.db import connections

TABLE = "registry_stamp"

# What decides points (the projection and what it derives from), labels and facets (subjects'
# names, points' regions, products …), scope (profiles, their subjects, users' activity, approved
# schemes' shared points) and the AMI intake's meters and channels. Migration registry 0005 installs
# the triggers of these; a table added here needs a new migration that calls `install` again (it
# replaces the triggers, so running it twice is harmless).
TABLES = (
    "points_meteringpoint",
    "registry_subject",
    "registry_facility",
    "registry_device",
    "ami_meteringobject",
    "ami_meter",
    "ami_channel",
    "ami_headendsystem",
    "access_profile",
    "access_profile_subjects",
    "schemes_scheme",
    "schemes_schemeversion",
    "schemes_schemeversion_points",
    # what the ISUN rules read of devices (egsu.registry.snapshot): migration registry 0006
    "registry_device_allowed_operations",
    "registry_producttype",
    "registry_pipeline",
)
# A user's sign-in writes last_login: only the columns the gate reads bump the stamp.
COLUMN_TABLES = {"auth_user": ("is_active", "is_superuser")}

_SQLITE_BUMP = (
    f"INSERT INTO {TABLE} (id, token) VALUES (1, lower(hex(randomblob(8))))"
    " ON CONFLICT (id) DO UPDATE SET token = excluded.token"
)
_POSTGRES_BUMP = (
    f"INSERT INTO {TABLE} (id, token) VALUES (1, md5(random()::text || clock_timestamp()::text))"
    " ON CONFLICT (id) DO UPDATE SET token = excluded.token"
)
_POSTGRES_FUNCTION = (
    "CREATE OR REPLACE FUNCTION registry_stamp_bump() RETURNS trigger LANGUAGE plpgsql AS $$"
    f" BEGIN {_POSTGRES_BUMP}; RETURN NULL; END $$"
)


def install_sql(vendor: str, tables=TABLES, column_tables=COLUMN_TABLES) -> list[str]:
    """The statements that create the stamp's table (if missing) and its triggers on these tables."""
    sql = [f"CREATE TABLE IF NOT EXISTS {TABLE} (id integer PRIMARY KEY, token varchar(40) NOT NULL)"]
    watched = [(table, None) for table in tables] + list(column_tables.items())
    if vendor == "postgresql":
        sql.append(_POSTGRES_FUNCTION)
        for table, columns in watched:
            update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
            sql.append(f"DROP TRIGGER IF EXISTS {table}_stamp ON {table}")
            sql.append(
                f"CREATE TRIGGER {table}_stamp AFTER INSERT OR {update} OR DELETE OR TRUNCATE"
                f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION registry_stamp_bump()"
            )
    elif vendor == "sqlite":
        for table, columns in watched:
            update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
            for event in ("INSERT", update, "DELETE"):
                name = f"{table}_stamp_{event.split()[0].lower()}"
                sql.append(f"DROP TRIGGER IF EXISTS {name}")
                sql.append(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {_SQLITE_BUMP}; END")
    else:
        raise NotImplementedError(f"no registry stamp for {vendor}")
    sql.append(_SQLITE_BUMP if vendor == "sqlite" else _POSTGRES_BUMP)  # the first token
    return sql


def uninstall_sql(vendor: str, tables=TABLES, column_tables=COLUMN_TABLES) -> list[str]:
    """The statements that drop the triggers of these tables and the stamp (the reverse migration)."""
    watched = [*tables, *column_tables]
    if vendor == "postgresql":
        dropped = [f"DROP TRIGGER IF EXISTS {table}_stamp ON {table}" for table in watched]
    else:
        dropped = [f"DROP TRIGGER IF EXISTS {table}_stamp_{event}" for table in watched
                   for event in ("insert", "update", "delete")]  # fmt: skip
    return dropped + [f"DROP TABLE IF EXISTS {TABLE}"]


def install(apps, schema_editor, tables=TABLES, column_tables=COLUMN_TABLES) -> None:
    """RunPython body of the migrations that install the stamp's triggers."""
    for statement in install_sql(schema_editor.connection.vendor, tables, column_tables):
        schema_editor.execute(statement)


def uninstall(apps, schema_editor, tables=TABLES, column_tables=COLUMN_TABLES) -> None:
    for statement in uninstall_sql(schema_editor.connection.vendor, tables, column_tables):
        schema_editor.execute(statement)


def registry_stamp(using: str = "default") -> str:
    """The registry's current stamp: equal tokens mean nothing the watched tables hold has changed.

    No row (a flushed test database before its first write): a fresh token each call, so that
    nothing is ever reused against it."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT token FROM registry_stamp WHERE id = 1")  # TABLE
        row = cursor.fetchone()
    return row[0] if row else f"none-{uuid.uuid4().hex}"
