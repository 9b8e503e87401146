"""`get_store()` is the one place that chooses the backend."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from egsu.readings.backends.sql import SqlReadingsStore
from egsu.readings.services import WindowedStore, get_store


def test_default_backend_is_sql():
    # the backend, behind the System's service windows of replaced devices (egsu.points.lineage)
    assert isinstance(get_store(), WindowedStore)
    assert isinstance(get_store().backend, SqlReadingsStore)
    assert get_store() is get_store()


def test_unknown_backend_fails_loudly(settings):
    settings.READINGS_BACKEND = "cassandra"
    with pytest.raises(ImproperlyConfigured, match="'cassandra' is not one of: sql, clickhouse"):
        get_store()


def test_clickhouse_backend_needs_a_url(settings):
    settings.READINGS_BACKEND = "clickhouse"
    settings.CLICKHOUSE_URL = None
    with pytest.raises(ImproperlyConfigured, match="needs CLICKHOUSE_URL"):
        get_store()


def test_clickhouse_backend_from_settings(settings, tmp_path):
    # given the embedded engine as the ClickHouse URL and a cluster layout by name
    pytest.importorskip("chdb", reason="chDB is not installed")
    from egsu.readings.backends.clickhouse import ChdbConnection, ClickHouseReadingsStore

    settings.READINGS_BACKEND = "clickhouse"
    settings.CLICKHOUSE_URL = "chdb://?database=egsu_settings"
    settings.CLICKHOUSE_LAYOUT = {"table": "readings"}
    store = get_store()
    assert isinstance(store.backend, ClickHouseReadingsStore)
    assert isinstance(store.connection, ChdbConnection)
    assert (store.database, store.table) == ("egsu_settings", "egsu_settings.readings")
    assert get_store() is store


def test_readings_store_domain_module_does_not_import_django():
    import ast
    from pathlib import Path

    import egsu.readings.store as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.startswith("django") for name in imported)
