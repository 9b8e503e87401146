"""Fixtures for the readings store tests."""

from __future__ import annotations

import pytest
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from egsu.conf import database_from_url
from egsu.readings.backends.sql import SqlReadingsStore
from egsu.readings.models import Reading


@pytest.fixture
def store(db) -> SqlReadingsStore:
    return SqlReadingsStore()


@pytest.fixture
def race_alias(transactional_db, tmp_path, monkeypatch, django_db_blocker):
    """A database alias that several threads can write to at once, as in production.

    On PostgreSQL that is the test database itself. SQLite's test database is a shared-cache
    in-memory one, whose table locks fail at once ("database table is locked") instead of
    waiting; the embedded system runs on a file in WAL mode with BEGIN IMMEDIATE, so on SQLite
    the race runs on such a file, holding just the readings table.
    """
    default = connections["default"]
    if default.vendor != "sqlite" or not default.is_in_memory_db():
        yield "default"
        return
    alias = "readings_race"
    connections.settings[alias] = {
        **database_from_url("sqlite:///" + str(tmp_path / "race.sqlite3"), tmp_path),
        "TIME_ZONE": None,
        "CONN_HEALTH_CHECKS": False,
        "CONN_MAX_AGE": 0,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "TEST": {},
    }
    # The Django test case refuses connections to aliases it was not set up with; let ours
    # through to the unwrapped method (pytest-django keeps it) and leave the others guarded.
    real = django_db_blocker._real_ensure_connection
    guarded = BaseDatabaseWrapper.ensure_connection

    def ensure_connection(self, *args, **kwargs):
        if self.alias == alias:
            return real(self, *args, **kwargs)
        return guarded(self, *args, **kwargs)

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", ensure_connection)
    with connections[alias].schema_editor() as editor:
        editor.create_model(Reading)
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections.settings[alias]
        del connections[alias]
