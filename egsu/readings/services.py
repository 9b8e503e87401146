"""The one place that chooses the readings backend; everything else asks `get_store()`."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from egsu.readings.backends.sql import SqlReadingsStore
from egsu.readings.store import ReadingsStore

# Backend names settings may choose; the ClickHouse backend joins here when it exists.
BACKENDS = ("sql",)


@cache
def _store(backend: str) -> ReadingsStore:
    if backend == "sql":
        return SqlReadingsStore()
    raise ImproperlyConfigured(f"READINGS_BACKEND {backend!r} is not one of: {', '.join(BACKENDS)}")


def get_store() -> ReadingsStore:
    """The configured readings store: settings.READINGS_BACKEND, "sql" when unset."""
    return _store(getattr(settings, "READINGS_BACKEND", "sql"))
