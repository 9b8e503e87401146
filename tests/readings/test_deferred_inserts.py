"""Deferred inserts: a ClickHouse write answers after its claim, a flusher inserts many writes as one block
(ADR 0013 "Deferred inserts"; COL, AMI-13..21 volume, DIG reliability).

The answers stay the truth the moment they are given (the claims decide them); what a write queued
reaches ClickHouse at the server's next flush, in one insert with the other writers' values; a
flusher that dies after taking its intents, before or after its insert, or whose insert fails,
leaves them to recovery, which inserts only what ClickHouse lacks. Claims live in the pass's
database (SQLite file or PostgreSQL); ClickHouse is a real server. The many-process proof is
`test_exactly_once.py` with flushing writers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from egsu.readings.backends.clickhouse import ClickHouseReadingsStore
from egsu.readings.store import (
    ReadingColumns,
    ReadingQuery,
    ReadingRow,
    SeriesKey,
    StoreUnavailableError,
    write_columns,
)
from egsu.readings.store import WriteOutcome as Outcome
from tests.readings import store_backends, test_exactly_once
from tests.readings.test_claims_upkeep import ROOT, _crash, _crash_rows

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)
QUARTER = timedelta(minutes=15)


def _rows(n: int, value: str = "1.5", device: str = "M", first: int = 0) -> list[ReadingRow]:
    return [
        ReadingRow(SeriesKey("OBJ1", f"{device}{i}", "energyActiveImport"), "PT15M", START + (first + i) * QUARTER,
                   Decimal(value), "kWh", "good", "deferred")
        for i in range(n)
    ]  # fmt: skip


@pytest.fixture
def url():
    server = store_backends._server_url()  # skips loudly when no server can be started
    return f"{server.rsplit('/', 1)[0]}/egsu_deferred_{uuid.uuid4().hex[:10]}"


def _store(url: str, tmp_path, interval_s: float, **options) -> ClickHouseReadingsStore:
    return ClickHouseReadingsStore.from_url(
        url, claims_url=test_exactly_once._claims_url(tmp_path), flush_interval_s=interval_s,
        flush_lock_dir=str(tmp_path), **options,
    )  # fmt: skip


@pytest.fixture
def queued(url, tmp_path):
    """A store whose writes queue and whose flusher waits an hour: the test flushes by hand."""
    store = _store(url, tmp_path, 3600.0)
    store.url = url
    try:
        yield store
    finally:
        store_backends.drop_database(store)


def _inserts(store: ClickHouseReadingsStore) -> int:
    """Inserts into the readings table so far: the server numbers each insert's block, merges keep the range."""
    found = store._query(
        "SELECT max(max_block_number) FROM system.parts"
        f" WHERE database = '{store.database}' AND table = '{store.layout.storage_table}'"
    )
    return int(found[0][0] or 0) if found else 0


def test_queued_writes_are_answered_at_once_and_inserted_together_by_one_flush(queued):
    store = queued
    assert store.write(_rows(5)) == [Outcome.NEW] * 5
    assert write_columns(store, ReadingColumns.of_rows(_rows(4, "2", device="C"))) == [Outcome.NEW] * 4
    # answered, claimed and queued; ClickHouse has nothing yet
    assert store.count(ReadingQuery()) == 0
    assert [intent.state for intent in store.claims.intents()] == ["queued", "queued"]
    # the answers are the truth before the insert: the same again is a duplicate, a change a revision
    assert store.write(_rows(5)) == [Outcome.DUPLICATE] * 5
    assert store.write(_rows(1, "1.75")) == [Outcome.REVISED]
    before = _inserts(store)
    assert store.flush() == 10
    assert _inserts(store) == before + 1  # three writes, one insert
    assert store.claims.pending() == 0 and store.flush() == 0
    assert store.count(ReadingQuery()) == 9
    assert store.totals(ReadingQuery()) == {"energyActiveImport": Decimal("1.75") + 4 * Decimal("1.5") + 8}
    history = store.history(SeriesKey("OBJ1", "M0", "energyActiveImport"), "PT15M", START)
    assert [(row.revision, row.value) for row in history] == [(1, Decimal("1.5")), (2, Decimal("1.75"))]


def test_a_flush_gathers_at_most_its_block_and_drain_takes_the_rest(queued):
    store = queued
    for n in range(6):
        store.write(_rows(10, device=f"D{n}-"))
    assert store.flush(max_rows=25) == 30  # whole intents: it stops at the first block past 25 rows
    assert store.claims.pending() == 3
    assert store.drain() == 30 and store.count(ReadingQuery()) == 60


def test_the_flusher_thread_inserts_within_its_interval_and_only_one_per_host_flushes(url, tmp_path):
    first = _store(url, tmp_path, 0.1)
    second = _store(url, tmp_path, 0.1, create_schema=False)
    try:
        assert first.write(_rows(3)) == [Outcome.NEW] * 3
        assert second.write(_rows(2, device="S")) == [Outcome.NEW] * 2
        deadline = time.monotonic() + 20
        while first.claims.pending():  # the intents go once their rows are in
            assert time.monotonic() < deadline, "the flusher never inserted the queued writes"
            time.sleep(0.05)
        assert first.count(ReadingQuery()) == 5
        # both threads run, one holds the host's lock (flock is per open file, so even in one process)
        assert first.flusher.holds_lock != second.flusher.holds_lock
        holder, other = (first, second) if first.flusher.holds_lock else (second, first)
        holder.flusher.stop()  # its process ends: the lock is free, the other thread takes it
        assert other.write(_rows(1, device="T")) == [Outcome.NEW]
        while first.claims.pending():
            assert time.monotonic() < deadline + 20, "no flusher took over"
            time.sleep(0.05)
        assert first.count(ReadingQuery()) == 6
        assert other.flusher.holds_lock
    finally:
        second.flusher.stop()
        second.claims.close()
        store_backends.drop_database(first)


def test_a_failed_flush_leaves_its_intents_to_recovery(queued, monkeypatch):
    store = queued
    store.write(_rows(4))

    def away(data):
        raise StoreUnavailableError("ClickHouse at 127.0.0.1 is unreachable: drill")

    monkeypatch.setattr(store, "_insert_columns", away)
    with pytest.raises(StoreUnavailableError):
        store.flush()
    assert [intent.state for intent in store.claims.intents()] == ["failed"]
    monkeypatch.undo()
    assert store.recover() == 4
    assert store.count(ReadingQuery()) == 4 and store.claims.pending() == 0


@pytest.mark.parametrize("stop", ["flush_before_insert", "flush_after_insert"])
def test_a_flusher_killed_mid_flush_is_recovered_once(queued, tmp_path, stop):
    store = queued
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=10)
    store.write(_rows(2, device="Q"))  # queued by this process, taken by the one that dies
    _crash(store, tmp_path, stop, _crash_rows(start))
    held = store.count(ReadingQuery())
    assert held == (7 if stop == "flush_after_insert" else 0)
    assert [intent.state for intent in store.claims.intents()] == ["writer dead", "writer dead"]
    assert store.recover() == 7 - held
    assert store.count(ReadingQuery()) == 7 and store.claims.pending() == 0
    assert store.totals(ReadingQuery()) == {"energyActiveImport": Decimal("10.5")}
    assert store.write(_rows(2, device="Q")) == [Outcome.DUPLICATE] * 2


def test_a_queued_intent_no_flusher_takes_is_recovered_after_the_grace(queued, monkeypatch):
    store = queued
    store.write(_rows(3))
    assert store.recover() == 0  # queued: the flusher's, not recovery's
    monkeypatch.setattr(store.claims, "flush_grace_s", -1.0)
    assert [intent.state for intent in store.claims.intents()] == ["not flushed"]
    assert store.recover() == 3 and store.count(ReadingQuery()) == 3


# A writer process: queues its batch (its flusher would wait an hour), then exits as a stopping worker does.
_QUEUE_THEN_EXIT = """
import json, sys
from datetime import datetime
from decimal import Decimal
from egsu.readings.backends.clickhouse import ClickHouseReadingsStore
from egsu.readings.store import ReadingRow, SeriesKey
spec = json.loads(sys.argv[1])
store = ClickHouseReadingsStore.from_url(spec["url"], claims_url=spec["claims_url"], create_schema=False,
                                         flush_interval_s=3600.0, flush_lock_dir=spec["lock_dir"])
rows = [ReadingRow(SeriesKey(o, d, q), i, datetime.fromisoformat(s), Decimal(v), "kWh", "good", "exit")
        for o, d, q, i, s, v in spec["rows"]]
assert store.write(rows)
"""


def test_a_writer_that_exits_in_order_first_inserts_what_is_queued(queued, tmp_path):
    store = queued
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=10)
    assert store.write(_rows(2, device="Q")) == [Outcome.NEW] * 2  # queued by this process, never flushed
    spec = {"url": store.url, "claims_url": test_exactly_once._claims_url(tmp_path), "lock_dir": str(tmp_path),
            "rows": _crash_rows(start)}  # fmt: skip
    subprocess.run(
        [sys.executable, "-c", _QUEUE_THEN_EXIT, json.dumps(spec)], cwd=ROOT, check=True, timeout=120
    )
    # the exiting writer inserted its own queued batch and this process's: nothing waits for a flusher
    assert store.claims.pending() == 0
    assert store.count(ReadingQuery()) == 7
    assert store.totals(ReadingQuery()) == {"energyActiveImport": Decimal("10.5")}
    # and once only: at this process's exit there is nothing left to insert
    assert store.flusher.finish() == 0 and store.count(ReadingQuery()) == 7


@pytest.mark.parametrize(
    ("value", "seconds"), [("", 0.0), ("0", 0.0), ("0.0", 0.0), ("1", 1.0), ("0.25", 0.25), ("0.01", None), ("11", None),
                           ("-1", None), ("soon", None)],
)  # fmt: skip
def test_the_flush_interval_is_configured_within_bounds(monkeypatch, value, seconds):
    from egsu import conf

    monkeypatch.setenv("EGSU_READINGS_FLUSH_S", value)
    if seconds is None:
        with pytest.raises(conf.ConfigError, match="EGSU_READINGS_FLUSH_S"):
            conf.load()
    else:
        assert conf.load().readings_flush_s == seconds


def test_the_configured_store_defers_its_inserts_when_asked(url, settings, tmp_path):
    from egsu.readings import services

    settings.READINGS_BACKEND, settings.CLICKHOUSE_URL, settings.READINGS_FLUSH_S = "clickhouse", url, 0.5
    settings.READINGS_CLAIMS_URL = test_exactly_once._claims_url(tmp_path)
    services._store.cache_clear()
    try:
        store = services.get_store().backend
        assert store.flusher.interval_s == 0.5
        assert store.flusher.lock_path.parent == settings.CONFIG.var_dir
        settings.READINGS_FLUSH_S = 0.0
        services._store.cache_clear()
        assert services.get_store().backend.flusher is None
    finally:
        store_backends.drop_database(services.get_store().backend)
        services._store.cache_clear()
