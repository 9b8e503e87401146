"""`get_store()` is the one place that chooses the backend."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from egsu.readings.backends.sql import SqlReadingsStore
from egsu.readings.services import get_store


def test_default_backend_is_sql():
    assert isinstance(get_store(), SqlReadingsStore)
    assert get_store() is get_store()


def test_unknown_backend_fails_loudly(settings):
    settings.READINGS_BACKEND = "clickhouse"
    with pytest.raises(ImproperlyConfigured, match="'clickhouse' is not one of: sql"):
        get_store()


def test_readings_store_domain_module_does_not_import_django():
    import ast
    from pathlib import Path

    import egsu.readings.store as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.startswith("django") for name in imported)
