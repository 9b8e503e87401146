"""Exactly once with any number of writer processes (issue 13 item 1, ADR 0013; COL, DIG).

Four OS processes write the same batch, then overlapping batches of changed values, then each
its own value for the same keys, all at once (a file barrier per phase). On every backend —
SQL (SQLite file or PostgreSQL), one ClickHouse server, two ClickHouse shards — each value must
be stored once, each change be exactly one revision, and every answer tell the truth: per key
one NEW, one REVISED per distinct change, DUPLICATE for the rest. On ClickHouse both with each write
inserting its own values and with deferred inserts (ADR 0013), where the writers' flusher threads
insert what all of them queued.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connections

from egsu.readings.backends.clickhouse import ClickHouseReadingsStore
from egsu.readings.backends.sql import SqlReadingsStore
from egsu.readings.claims import PostgresClaims, SqliteClaims
from egsu.readings.clickhouse_schema import ClusterLayout
from egsu.readings.store import ReadingQuery, SeriesKey
from tests.readings import store_backends

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 4
KEYS = 160
START = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)


def _key(k: int) -> tuple[str, str, str, str, str]:
    # 16 objects × 10 meters, one quarter hour each: keys spread over both shards
    return (
        f"OBJ{k % 16:02d}",
        f"M{k:03d}",
        "energyActiveImport",
        "PT15M",
        (START + timedelta(minutes=15 * (k % 8))).isoformat(),
    )


def _phases(index: int) -> list[list]:
    same = [[*_key(k), f"{k}.25", "first"] for k in range(KEYS)]
    # overlapping windows of 100 keys, changed values (the same change from every writer)
    window = range(index * 20, index * 20 + 100)
    overlapping = [[*_key(k), f"{k}.5", f"second-{index}"] for k in window]
    # each writer its own value for the first 40 keys: WRITERS revisions each, in some order
    own = [[*_key(k), f"{k}.{index + 6}", f"third-{index}"] for k in range(40)]
    return [same, list(reversed(overlapping)) if index % 2 else overlapping, own]


def _run(tmp_path: Path, spec: dict, env: dict | None = None) -> list[list[list[str]]]:
    barrier = tmp_path / f"barrier-{uuid.uuid4().hex[:6]}"
    barrier.mkdir()
    processes, paths = [], []
    for index in range(WRITERS):
        path = tmp_path / f"writer-{index}.json"
        path.write_text(
            json.dumps(
                {
                    **spec,
                    "index": index,
                    "writers": WRITERS,
                    "barrier": str(barrier),
                    "phases": _phases(index),
                }
            )
        )
        paths.append(path)
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "tests.readings.exactly_once_writer", str(path)],
                cwd=ROOT,
                env={**os.environ, **(env or {})},
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    errors = []
    for process in processes:
        _out, err = process.communicate(timeout=360)
        errors.append(err[-2000:])
    assert [p.returncode for p in processes] == [0] * len(processes), "\n---\n".join(errors)
    return [json.loads(Path(str(path) + ".out").read_text()) for path in paths]


def _check(store, results: list[list[list[str]]]) -> None:
    phases = [_phases(index) for index in range(WRITERS)]
    # phase 1: per key exactly one writer was told NEW
    for k in range(KEYS):
        told = Counter(results[w][0][k] for w in range(WRITERS))
        assert told == Counter({"NEW": 1, "DUPLICATE": WRITERS - 1}), (k, told)
    # phase 2: per key one REVISED among the writers that sent the change, the others DUPLICATE
    told_by_key: dict[tuple, Counter] = {}
    for w in range(WRITERS):
        for row, outcome in zip(phases[w][1], results[w][1], strict=True):
            told_by_key.setdefault(tuple(row[:5]), Counter())[outcome] += 1
    for key, told in told_by_key.items():
        assert told["REVISED"] == 1 and told["NEW"] == 0, (key, told)
    # phase 3: every writer's own value is a revision of its own
    assert all(outcome == "REVISED" for w in range(WRITERS) for outcome in results[w][2])
    # and the store holds one value per key; revisions numbered 1…n, each once
    revised = {tuple(_key(k)) for k in range(0, WRITERS * 20 + 80)}
    total = Decimal(0)
    for k in range(KEYS):
        o, d, q, interval, start = _key(k)
        history = store.history(SeriesKey(o, d, q), interval, datetime.fromisoformat(start))
        expected = 1 + (tuple(_key(k)) in revised) + (WRITERS if k < 40 else 0)
        assert [row.revision for row in history] == list(range(1, expected + 1)), (k, history)
        total += history[-1].value
    assert store.count(ReadingQuery()) == KEYS
    assert store.totals(ReadingQuery()) == {"energyActiveImport": total}
    # the rows stored equal the answers NEW + REVISED given
    answered = sum(o != "DUPLICATE" for w in results for phase in w for o in phase)
    assert answered == sum(
        len(store.history(SeriesKey(*_key(k)[:3]), "PT15M", datetime.fromisoformat(_key(k)[4])))
        for k in range(KEYS)
    )


def _database_url(settings: dict) -> str:
    if settings["ENGINE"].endswith("sqlite3"):
        return "sqlite:///" + str(settings["NAME"])
    return (
        f"postgresql://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def test_sql_store_with_writer_processes_stores_each_value_once(race_alias, tmp_path):
    url = _database_url(connections[race_alias].settings_dict)
    results = _run(tmp_path, {"backend": "sql"}, env={"EGSU_DATABASE_URL": url})
    _check(SqlReadingsStore(using=race_alias), results)


def _claims_url(tmp_path: Path) -> str:
    """Claims where production keeps them: beside the Django database of this pass."""
    settings = connections["default"].settings_dict
    if settings["ENGINE"].endswith("postgresql"):
        return _database_url(settings)
    return "sqlite:///" + str(tmp_path / "claims.sqlite3")


def _claims(url: str, database: str):
    if url.startswith("sqlite"):
        return SqliteClaims(url[len("sqlite:///") :], database)
    return PostgresClaims(url, database)


def _flushed_by_writers(store: ClickHouseReadingsStore, tmp_path: Path, results: list) -> None:
    """With deferred inserts the writers' flushers inserted every row answered NEW or REVISED, and
    nothing is left for anyone else."""
    flushed = sum(int(path.read_text()) for path in tmp_path.glob("writer-*.json.flushed"))
    answered = sum(outcome != "DUPLICATE" for writer in results for phase in writer for outcome in phase)
    assert flushed == answered
    assert store.claims.pending() == 0 and store.drain() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("flush_s", [0, 0.05], ids=["insert each write", "deferred inserts"])
def test_clickhouse_with_writer_processes_stores_each_value_once(tmp_path, flush_s):
    server = store_backends._server_url()  # skips loudly when no server can be started
    database = f"egsu_once_{uuid.uuid4().hex[:10]}"
    url = f"{server.rsplit('/', 1)[0]}/{database}"
    claims_url = _claims_url(tmp_path)
    store = ClickHouseReadingsStore.from_url(url, claims_url=claims_url)
    try:
        results = _run(
            tmp_path,
            {"backend": "clickhouse", "clickhouse_urls": [url], "claims_url": claims_url, "flush_s": flush_s},
        )
        if flush_s:
            _flushed_by_writers(store, tmp_path, results)
        _check(store, results)
        assert store.claims.pending() == 0  # every intent done
    finally:
        store_backends.drop_database(store)


@pytest.fixture(scope="module")
def two_shard_ports(tmp_path_factory):
    """Two ClickHouse servers as the shards of one cluster `egsu_two_shards` (own ports, own folders)."""
    tmp_path = tmp_path_factory.mktemp("once-cluster")
    ports = [store_backends.free_port_block(3)]
    while True:
        port = store_backends.free_port_block(3)
        if abs(port - ports[0]) >= 3:
            ports.append(port)
            break
    remote = tmp_path / "remote_servers.xml"
    shards = "".join(
        f"<shard><replica><host>127.0.0.1</host><port>{p}</port></replica></shard>" for p in ports
    )
    remote.write_text(
        f"<yandex><remote_servers><egsu_two_shards>{shards}</egsu_two_shards></remote_servers></yandex>"
    )
    dirs = [tmp_path / f"shard{n}" for n in range(2)]
    try:
        for port, directory in zip(ports, dirs, strict=True):
            store_backends.ensure_clickhouse(
                "--port", str(port), "--http-port", str(port + 1), "--interserver-port", str(port + 2),
                "--config-d", str(remote), "--dir", str(directory),
            )  # fmt: skip
        yield ports
    finally:
        for directory in dirs:
            if directory.exists():
                store_backends.stop_clickhouse(directory)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("flush_s", [0, 0.05], ids=["insert each write", "deferred inserts"])
def test_two_clickhouse_shards_with_writer_processes_store_each_value_once(
    two_shard_ports, tmp_path, flush_s
):
    database = f"egsu_once_{uuid.uuid4().hex[:10]}"
    layout = ClusterLayout(cluster="egsu_two_shards")
    claims_url = _claims_url(tmp_path)
    stores = [
        ClickHouseReadingsStore.from_url(
            f"clickhouse://127.0.0.1:{port}/{database}", layout=layout, claims_url=claims_url
        )
        for port in two_shard_ports
    ]  # the same DDL on each node; writers enter through either
    try:
        spec = {
            "backend": "clickhouse",
            "claims_url": claims_url,
            "cluster": "egsu_two_shards",
            "flush_s": flush_s,
        }
        urls = [f"clickhouse://127.0.0.1:{port}/{database}" for port in two_shard_ports]
        results = _run(tmp_path, {**spec, "clickhouse_urls": urls})
        if flush_s:
            _flushed_by_writers(stores[0], tmp_path, results)
        _check(stores[1], results)
        local = [s.connection.query(f"SELECT count() FROM {database}.readings_local")[0][0] for s in stores]
        assert all(count > 0 for count in local)
    finally:
        for store in stores:
            store.connection.command(f"DROP DATABASE IF EXISTS {database}")
            store.claims.close()
        stores[0].claims.drop()
