"""Fixtures that give the same tests every readings backend: SQL, chDB, a ClickHouse server.

ClickHouse servers come from scripts/ensure-clickhouse (installs from Debian as root when
missing). When none can be started, ClickHouse tests skip LOUDLY with the script's reason;
chDB runs whenever the package is installed. Each test gets a database of its own.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import tempfile
import uuid
from functools import cache
from pathlib import Path

import pytest

from egsu.readings.backends.clickhouse import ChdbConnection, ClickHouseReadingsStore, DriverConnection
from egsu.readings.backends.sql import SqlReadingsStore
from egsu.readings.claims import SqliteClaims
from egsu.readings.clickhouse_schema import ClusterLayout

ROOT = Path(__file__).resolve().parents[2]
ENSURE_CLICKHOUSE = ROOT / "scripts" / "ensure-clickhouse"
BACKENDS = [pytest.param("sql", marks=pytest.mark.django_db), "chdb", "clickhouse"]
CLICKHOUSE_FLAVOURS = ["chdb", "clickhouse"]


def ensure_clickhouse(*args: str) -> str:
    """Run scripts/ensure-clickhouse; its URL, or a loud skip with its reason."""
    done = subprocess.run([str(ENSURE_CLICKHOUSE), *args], capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        pytest.skip(
            f"NO CLICKHOUSE SERVER: scripts/ensure-clickhouse {' '.join(args)} failed: {done.stderr.strip()}"
        )
    return done.stdout.strip()


def stop_clickhouse(directory: Path) -> None:
    subprocess.run([str(ENSURE_CLICKHOUSE), "--stop", "--dir", str(directory)], check=True, timeout=60)


def free_port_block(size: int = 3) -> int:
    """A loopback port with `size` free ports from it upwards (native, http, interserver).

    EGSU_TEST_PORT_RANGE=LOW-HIGH keeps the servers a test starts inside that range (machines
    shared by several people give each a range), above its first three ports, which are the single
    server's (`_server_url`); otherwise any free port."""
    bounds = os.environ.get("EGSU_TEST_PORT_RANGE")
    candidates = None
    if bounds:
        low, high = (int(part) for part in bounds.split("-"))
        low += 3
        candidates = iter(random.sample(range(low, high - size + 2), high - size + 2 - low))  # nosec B311
    for _ in range(50 if candidates is None else 1_000):
        if candidates is not None:
            base = next(candidates, None)
            if base is None:
                break
        else:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                base = probe.getsockname()[1]
        if base + size > 65535:
            continue
        try:
            sockets = []
            for port in range(base, base + size):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
        return base
    raise RuntimeError("no free block of loopback ports")


@cache
def _server_url() -> str:
    """The single server of the tests: EGSU_TEST_CLICKHOUSE_URL, else one started on the first ports of
    EGSU_TEST_PORT_RANGE (so that people sharing a machine keep apart), else on the script's default."""
    url = os.environ.get("EGSU_TEST_CLICKHOUSE_URL")
    if url:
        return url
    bounds = os.environ.get("EGSU_TEST_PORT_RANGE")
    if bounds:
        return ensure_clickhouse("--port", bounds.split("-")[0])
    return ensure_clickhouse()


@cache
def _chdb() -> ChdbConnection:
    return ChdbConnection()  # one engine per process; tests take databases of their own


@cache
def claims_file() -> str:
    """A SQLite file of this test process for the claims of ClickHouse writes (ADR 0013)."""
    return str(Path(tempfile.mkdtemp(prefix="egsu-claims-")) / "claims.sqlite3")


def clickhouse_store(flavour: str, *, layout: ClusterLayout | None = None) -> ClickHouseReadingsStore:
    """A store on a fresh database of the chosen flavour (drop it with `drop_database`), its writes
    claimed in a SQLite file of the test process's own."""
    database = f"egsu_test_{uuid.uuid4().hex[:12]}"
    if flavour == "chdb":
        pytest.importorskip("chdb", reason="chDB is not installed (pip install chdb)")
        connection = _chdb()
    else:
        url = _server_url()
        connection = ClickHouseReadingsStore.from_url(url, create_schema=False).connection
        assert isinstance(connection, DriverConnection)
    claims = SqliteClaims(claims_file(), database)
    return ClickHouseReadingsStore(connection, database=database, layout=layout, claims=claims)


def drop_database(store: ClickHouseReadingsStore) -> None:
    if store.flusher is not None:
        store.flusher.stop()
    store.connection.command(f"DROP DATABASE IF EXISTS {store.database}")
    if store.claims is not None:
        store.claims.drop()


@pytest.fixture(params=BACKENDS)
def any_store(request):
    """Every backend in turn, empty."""
    if request.param == "sql":
        yield SqlReadingsStore()
        return
    store = clickhouse_store(request.param)
    try:
        yield store
    finally:
        drop_database(store)


@pytest.fixture(params=CLICKHOUSE_FLAVOURS)
def clickhouse_any(request):
    """chDB and a ClickHouse server in turn, empty."""
    store = clickhouse_store(request.param)
    try:
        yield store
    finally:
        drop_database(store)


class Keyed(dict):
    """Labels that name their question, as egsu.cabinet.views_totals.PointLabels does."""

    def __init__(self, labels, key: str) -> None:
        super().__init__(labels)
        self.stored_key = key


def kept_labels(store) -> list[str]:
    """The labels tables a store keeps (`_stored_labels`)."""
    return sorted(
        name
        for (name,) in store.connection.query(
            f"SELECT name FROM system.tables WHERE database = '{store.database}' AND startsWith(name, 'labels_')"
        )
    )
