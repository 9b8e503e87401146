"""The one place that chooses the readings backend; everything else asks `get_store()`."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache, lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from egsu.readings.backends.sql import SqlReadingsStore
from egsu.readings.clickhouse_schema import ClusterLayout
from egsu.readings.store import ReadingQuery, ReadingsStore

# Backend names settings may choose.
BACKENDS = ("sql", "clickhouse")


def claims_url() -> str:
    """Where ClickHouse writes claim their values (ADR 0013): READINGS_CLAIMS_URL, else beside the
    Django database (the same PostgreSQL database; a SQLite file next to the SQLite one)."""
    configured = getattr(settings, "READINGS_CLAIMS_URL", "")
    if configured:
        return configured
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        name = str(database["NAME"])
        if name.startswith(":memory:") or name.startswith("file:"):
            raise ImproperlyConfigured(
                "an in-memory SQLite database cannot hold claims: set READINGS_CLAIMS_URL"
            )
        return f"sqlite:///{name}-claims"
    if database["ENGINE"].endswith("postgresql"):
        from egsu.conf import postgres_url

        return postgres_url(database)  # every host and libpq parameter (a failover finds the primary)
    raise ImproperlyConfigured("set READINGS_CLAIMS_URL for the ClickHouse readings store")


@cache
def _store(
    backend: str, clickhouse_url: str | None, layout: str, claims: str = "", flush_s: float = 0.0
) -> ReadingsStore:
    if backend == "sql":
        return SqlReadingsStore()
    if backend == "clickhouse":
        if not clickhouse_url:
            raise ImproperlyConfigured("READINGS_BACKEND 'clickhouse' needs CLICKHOUSE_URL")
        from egsu.readings.backends.clickhouse import ClickHouseReadingsStore  # its client only when chosen

        flushing = (
            {"flush_interval_s": flush_s, "flush_lock_dir": str(settings.CONFIG.var_dir)} if flush_s else {}
        )
        return ClickHouseReadingsStore.from_url(
            clickhouse_url, layout=ClusterLayout.from_setting(layout), claims_url=claims or None, **flushing
        )
    raise ImproperlyConfigured(f"READINGS_BACKEND {backend!r} is not one of: {', '.join(BACKENDS)}")


class WindowedStore:
    """The configured backend with the System's service windows on every read (ReadingQuery.windows):
    a replaced device's values count up to its replacement, its successor's from then (DIG-45,
    egsu.points.lineage). A query that names its own windows keeps them (`()`: none). Writes and
    everything else go to the backend as they are."""

    READS = frozenset(
        {
            "latest",
            "rows",
            "newest",
            "count",
            "aggregate",
            "aggregate_iter",
            "aggregate_chunks",
            "totals",
            "value_stream",
        }  # fmt: skip
    )

    def __init__(self, backend: ReadingsStore) -> None:
        self.backend = backend

    def __getattr__(self, name: str):
        attribute = getattr(self.backend, name)
        if name not in self.READS:
            return attribute

        def read(query: ReadingQuery, *args, **kwargs):
            return attribute(windowed(query), *args, **kwargs)

        return read


def windowed(query: ReadingQuery) -> ReadingQuery:
    """`query` with the System's service windows, unless it names its own."""
    if query.windows is not None:
        return query
    from egsu.points.lineage import store_windows

    windows = store_windows()
    return replace(query, windows=windows) if windows else query


def get_store() -> ReadingsStore:
    """The configured readings store.

    settings.READINGS_BACKEND: "sql" (default) or "clickhouse"; then settings.CLICKHOUSE_URL
    (clickhouse://host:port/database, or chdb:///dir for the embedded engine) and
    settings.CLICKHOUSE_LAYOUT (None for one node, a cluster name, or a mapping of ClusterLayout fields).
    """
    layout = getattr(settings, "CLICKHOUSE_LAYOUT", None)
    layout_key = layout if layout is None or isinstance(layout, str) else json.dumps(layout, sort_keys=True)
    backend = getattr(settings, "READINGS_BACKEND", "sql")
    return _windowed(
        _store(
            backend,
            getattr(settings, "CLICKHOUSE_URL", None),
            layout_key or "",
            claims_url() if backend == "clickhouse" else "",
            getattr(settings, "READINGS_FLUSH_S", 0.0),
        )
    )


@lru_cache(maxsize=8)
def _windowed(backend: ReadingsStore) -> WindowedStore:
    """One wrapper per backend store (the same object on every call, as the store itself)."""
    return WindowedStore(backend)
