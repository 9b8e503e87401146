"""The claims of ClickHouse writes kept up (ADR 0013 and its amendment; DIG-30 retention, INT-15 backfill).

Pruning: claims of old slots are deleted by the retention job, and a value arriving for such a slot
is answered from the store — DUPLICATE, REVISED with the next revision, or NEW — even with writer
processes racing the pruner. Filling: a store written without claims gets them, in pages,
idempotently and resumably. Recovery: a writer SIGKILLed between its claim and its insert (or
between its insert and dropping the intent) leaves an intent that the next write, the periodic job
or `egsu readings claims recover` completes. Claims live in the pass's database (SQLite file or
PostgreSQL); ClickHouse is a real server (and two shards for the pruned-slot answers).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from egsu.access.models import AuditEvent
from egsu.readings import services
from egsu.readings.backends.clickhouse import ClickHouseReadingsStore
from egsu.readings.clickhouse_schema import ClusterLayout
from egsu.readings.store import ReadingQuery, ReadingRow, SeriesKey, WriteOutcome
from tests.readings import store_backends, test_exactly_once
from tests.readings.test_exactly_once import two_shard_ports  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
NEW, DUPLICATE, REVISED = WriteOutcome.NEW, WriteOutcome.DUPLICATE, WriteOutcome.REVISED
HOUR = timedelta(hours=1)


def _now_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def _row(start: datetime, value: str, device: str = "M1", quality: str = "good") -> ReadingRow:
    return ReadingRow(SeriesKey("OBJ1", device, "energyActiveImport"), "PT1H", start, Decimal(value), "kWh",
                      quality, "test")  # fmt: skip


def _key(start: datetime, device: str = "M1") -> tuple:
    return ("OBJ1", device, "energyActiveImport", "PT1H", int(start.timestamp()))


def _claims_url(tmp_path: Path) -> str:
    """Claims where production keeps them: beside the Django database of this pass."""
    return test_exactly_once._claims_url(tmp_path)


@pytest.fixture
def store(tmp_path):
    """A ClickHouse store on a fresh database of the loopback server, claimed in the pass's database."""
    server = store_backends._server_url()  # skips loudly when no server can be started
    url = f"{server.rsplit('/', 1)[0]}/egsu_upkeep_{uuid.uuid4().hex[:10]}"
    store = ClickHouseReadingsStore.from_url(url, claims_url=_claims_url(tmp_path))
    store.url = url
    try:
        yield store
    finally:
        store_backends.drop_database(store)


@pytest.fixture
def configured(store, settings, tmp_path):
    """That store as the System's readings store (get_store(), the jobs, the CLI)."""
    settings.READINGS_BACKEND, settings.CLICKHOUSE_URL = "clickhouse", store.url
    settings.READINGS_CLAIMS_URL = _claims_url(tmp_path)
    services._store.cache_clear()
    system = services.get_store()
    system.url = store.url
    try:
        yield system
    finally:
        services.get_store().claims.close()
        services._store.cache_clear()


def _cli(*args: str):
    from egsu.cli.app import app

    return CliRunner().invoke(app, list(args))


# -- pruning -------------------------------------------------------------------------------------


@pytest.fixture(params=["one server", "two shards"])
def any_layout(request, tmp_path):
    if request.param == "one server":
        yield request.getfixturevalue("store")
        return
    ports = request.getfixturevalue("two_shard_ports")
    database = f"egsu_upkeep_{uuid.uuid4().hex[:10]}"
    layout = ClusterLayout(cluster="egsu_two_shards")
    stores = [
        ClickHouseReadingsStore.from_url(
            f"clickhouse://127.0.0.1:{port}/{database}", layout=layout, claims_url=_claims_url(tmp_path)
        )
        for port in ports
    ]
    try:
        yield stores[1]
    finally:
        for each in stores:
            each.connection.command(f"DROP DATABASE IF EXISTS {database}")
            each.claims.close()
        stores[0].claims.drop()


def test_a_value_for_a_slot_whose_claim_was_pruned_is_answered_from_the_store(any_layout):
    store = any_layout
    old, recent = _now_hour() - timedelta(days=60), _now_hour() - 2 * HOUR
    # six objects' meters (both shards) and OBJ1's M1
    rows = [
        ReadingRow(
            SeriesKey(f"OBJ{n}", f"D{n}", "energyActiveImport"),
            "PT1H",
            old,
            Decimal("1.5"),
            "kWh",
            "good",
            "t",
        )
        for n in range(6)
    ]
    assert store.write(rows) == [NEW] * 6
    assert store.write([_row(old, "2"), _row(old, "3"), _row(recent, "4")]) == [NEW, REVISED, NEW]
    assert store.claims.count() == 8
    # when claims older than 35 days are pruned, in batches of two
    cutoff = int((_now_hour() - timedelta(days=35)).timestamp())
    pruned = store.claims.prune(cutoff, batch=2)
    assert (pruned.deleted, pruned.horizon, pruned.held_back_to) == (7, cutoff, None)
    assert store.claims.count() == 1 and store.claims.count(before=cutoff) == 0
    # then a value arriving again for a pruned slot is told the truth the store holds
    again = ReadingRow(
        SeriesKey("OBJ3", "D3", "energyActiveImport"), "PT1H", old, Decimal("1.50"), "kWh", "good", "t"
    )
    assert store.write([again, _row(old, "3"), _row(recent, "4")]) == [DUPLICATE, DUPLICATE, DUPLICATE]
    assert store.write([_row(old, "5"), _row(old, "5"), _row(old, "6"), _row(old, "7", device="NEW1")]) == [
        REVISED, DUPLICATE, REVISED, NEW,
    ]  # fmt: skip
    history = store.history(SeriesKey("OBJ1", "M1", "energyActiveImport"), "PT1H", old)
    assert [(r.revision, r.value) for r in history] == [(1, 2), (2, 3), (3, 5), (4, 6)]
    assert store.count(ReadingQuery()) == 9  # every slot once
    # an estimate for a delivered value is a repeat; the store's quality decides, as the claim would
    assert store.claims.prune(cutoff).deleted == 3
    assert store.write([_row(old, "6", quality="estimated")]) == [DUPLICATE]


def test_pruning_stops_at_the_oldest_slot_of_an_open_intent(store, monkeypatch):
    store.recover_every_s = 0  # every write recovers first
    old, older = _now_hour() - timedelta(days=50), _now_hour() - timedelta(days=80)
    assert store.write([_row(older, "1"), _row(old, "1", device="M2")]) == [NEW, NEW]

    def unreachable(rows):
        raise ConnectionError("ClickHouse went away")

    monkeypatch.setattr(store, "_insert", unreachable)
    with pytest.raises(ConnectionError):
        store.write([_row(old, "2", device="M2")])  # claimed as revision 2, the insert failed
    monkeypatch.undo()
    [intent] = store.claims.intents()
    assert (intent.state, intent.rows, intent.oldest) == ("failed", 1, int(old.timestamp()))
    # the pruner deletes what lies before the intent's slot and keeps the rest for the next run
    pruned = store.claims.prune(int((_now_hour() - timedelta(days=35)).timestamp()))
    assert (pruned.deleted, pruned.held_back_to) == (1, int(old.timestamp()))
    assert store.claims.newest([_key(old, "M2")]) == {_key(old, "M2"): 2}
    # the claim stays truthful: the revision is not in ClickHouse yet, and is not handed out twice
    assert store.write([_row(old, "2", device="M2")]) == [DUPLICATE]  # (this write recovered the intent)
    assert store.claims.pending() == 0
    assert [
        r.revision for r in store.history(SeriesKey("OBJ1", "M2", "energyActiveImport"), "PT1H", old)
    ] == [1, 2]
    assert store.claims.prune(int((_now_hour() - timedelta(days=35)).timestamp())).deleted == 1


def test_claims_younger_than_the_minimum_are_never_pruned(store, monkeypatch):
    from egsu import conf
    from egsu.ops import retention

    with pytest.raises(ValueError, match="7 days"):
        store.claims.prune(int((datetime.now(UTC) - timedelta(days=6)).timestamp()))
    with pytest.raises(ValueError, match="at least 7 days"):
        retention.purge_readings_claims(days=6, source="test")
    monkeypatch.setenv("EGSU_READINGS_CLAIMS_RETENTION_DAYS", "6")
    with pytest.raises(conf.ConfigError, match="at least 7 days"):
        conf._claims_retention_days()
    monkeypatch.setenv("EGSU_READINGS_CLAIMS_RETENTION_DAYS", "0")
    assert conf._claims_retention_days() == 0  # kept for ever
    monkeypatch.delenv("EGSU_READINGS_CLAIMS_RETENTION_DAYS")
    assert conf._claims_retention_days() == 35


def test_the_retention_job_prunes_claims_in_batches_and_is_audited(configured):
    from egsu.jobs import scheduler
    from egsu.jobs.registry import load_schedule

    store = configured
    old, recent = _now_hour() - timedelta(days=40), _now_hour() - timedelta(days=3)
    store.write([_row(old, "1"), _row(old, "1", device="M2"), _row(recent, "1")])
    scheduler.schedule_due([e for e in load_schedule() if e.name == "ops.retention"], by="test")
    assert store.claims.count() == 1
    event = AuditEvent.objects.get(event="ops.retention_purged", after__kind="readings_claims")
    assert (event.after["deleted"], event.after["retention_days"]) == (2, 35)
    assert event.source == "periodic job ops.retention" and event.object_type == "ops.readings_claims"
    # the command does the same now (nothing left to prune); a shorter period is refused
    result = _cli("readings", "claims", "prune", "--older-than-days", "3")
    assert result.exit_code == 2 and "refused" in result.output
    result = _cli("readings", "claims", "prune")
    assert result.exit_code == 0 and "deleted 0 claims" in result.output, result.output
    assert store.write([_row(old, "1"), _row(old, "1", device="M2")]) == [DUPLICATE, DUPLICATE]


def test_writer_processes_racing_the_pruner_store_each_value_once(store, tmp_path, monkeypatch):
    """The race of test_exactly_once on slots sixty days old, with the pruner deleting their claims
    over and over while four writers send: every answer still the truth, every revision once."""
    monkeypatch.setattr(test_exactly_once, "START", _now_hour() - timedelta(days=60))
    cutoff = int((_now_hour() - timedelta(days=30)).timestamp())
    stop, pruned, errors = threading.Event(), [], []

    def pruner() -> None:
        try:
            while not stop.is_set():
                pruned.append(store.claims.prune(cutoff, batch=37).deleted)
                time.sleep(0.01)
        except Exception as exc:  # shown by the assertion below
            errors.append(exc)
        finally:
            store.claims.close()

    thread = threading.Thread(target=pruner)
    thread.start()
    try:
        results = test_exactly_once._run(
            tmp_path,
            {"backend": "clickhouse", "clickhouse_urls": [store.url], "claims_url": _claims_url(tmp_path)},
        )
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    assert sum(pruned) > 0 and len(pruned) > 3, pruned  # it pruned while they wrote
    test_exactly_once._check(store, results)
    assert store.claims.pending() == 0


# -- filling ---------------------------------------------------------------------------------------


def _written_without_claims(store: ClickHouseReadingsStore, start: datetime) -> list[ReadingRow]:
    """Values written as before claims existed (the in-process lock), revisions included."""
    bare = ClickHouseReadingsStore(
        store.connection, database=store.database, layout=store.layout, claims=None, create_schema=False
    )
    rows = [_row(start + n * HOUR, f"{n}.5", device=f"M{n % 3}") for n in range(12)]
    assert bare.write(rows) == [NEW] * 12
    assert (
        bare.write([_row(start, "9", device="M0"), _row(start, "10", device="M0"), _row(start + HOUR, "11")])
        == [REVISED] * 3
    )
    return rows


def test_fill_gives_a_store_written_without_claims_its_claims(any_layout):
    store = any_layout
    start = _now_hour() - timedelta(days=20)
    rows = _written_without_claims(store, start)
    # without claims a writer would be told NEW for a stored value: the fill comes first
    seen = []
    result = store.fill_claims(page_size=5, progress=lambda done, total, note: seen.append((done, total)))
    assert (result.read, result.written, result.resumed) == (12, 12, False)
    assert seen == [(0, 12), (5, 12), (10, 12), (12, 12)]
    keys = [_key(r.period_start, r.key.device_id) for r in rows]
    states = store.claims.states(keys)
    assert states[keys[0]] == (3, "10", "kWh", "good") and states[keys[1]] == (2, "11", "kWh", "good")
    assert all(states[k] == (1, f"{n}.5", "kWh", "good") for n, k in enumerate(keys) if n > 1)
    assert store.write([rows[5], _row(start, "10", device="M0"), _row(start, "12", device="M0")]) == [
        DUPLICATE,
        DUPLICATE,
        REVISED,
    ]
    assert [r.revision for r in store.history(rows[0].key, "PT1H", start)] == [1, 2, 3, 4]
    # idempotent: nothing to write a second time
    assert store.fill_claims(page_size=5).written == 0


def test_fill_is_resumable_and_takes_the_store_over_claims_that_ran_ahead(store):
    start = _now_hour() - timedelta(days=20)
    rows = _written_without_claims(store, start)
    calls = []

    def interrupted(done: int, total: int, note: str) -> None:
        calls.append(done)
        if done >= 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.fill_claims(page_size=5, progress=interrupted)
    assert json.loads(store.claims.checkpoint())["after"][1] == "M2"  # two pages in, series order
    # a claim restored from a newer copy than ClickHouse's: revision 7 of a value the store lacks
    key = _key(start, "M0")
    claims, p = store.claims, store.claims.placeholder
    claims._run(
        f"UPDATE {claims.claims_table} SET revision = 7, value = '99' WHERE device_id = {p} AND period_start = {p}",
        (key[1], key[4]),
    )
    result = store.fill_claims(page_size=5)
    assert result.resumed and result.read < 12 and store.claims.checkpoint() == ""
    assert store.fill_claims(page_size=5, restart=True).written == 1  # the claim that ran ahead
    assert store.claims.states([key])[key] == (
        7,
        "10",
        "kWh",
        "good",
    )  # the number kept, the value the store's
    assert store.write([_row(start, "10", device="M0"), _row(start, "99", device="M0")]) == [
        DUPLICATE,
        REVISED,
    ]
    assert [r.revision for r in store.history(rows[0].key, "PT1H", start)] == [1, 2, 3, 8]


def test_the_fill_command_fills_recent_slots_audited_and_the_store_answers_for_older(configured):
    store = configured
    old, recent = _now_hour() - timedelta(days=90), _now_hour() - timedelta(days=2)
    _written_without_claims(store, old)
    _written_without_claims(store, recent)
    result = _cli("readings", "claims", "fill", "--days", "30", "--page-size", "4")
    assert result.exit_code == 0, result.output
    assert "12 values read, 12 claims written" in result.output
    assert store.claims.count() == 12 and store.claims.horizon() > int(old.timestamp())
    event = AuditEvent.objects.get(event="readings.claims_filled")
    assert event.after == {"read": 12, "written": 12, "resumed": False, "days": 30}
    # older slots have no claims: the store answers for them
    assert store.write(
        [_row(old, "10", device="M0"), _row(old + HOUR, "12"), _row(recent, "10", device="M0")]
    ) == [
        DUPLICATE,
        REVISED,
        DUPLICATE,
    ]
    assert _cli("readings", "claims", "fill", "--days", "3").exit_code == 1  # must cover the unchecked week


# -- recovery ------------------------------------------------------------------------------------


def _crash(store, tmp_path: Path, stop: str, rows: list[list[str]]) -> None:
    """A writer process that claims `rows` and is SIGKILLed at `stop`."""
    marker = tmp_path / f"claimed-{uuid.uuid4().hex[:6]}"
    spec = tmp_path / f"crash-{uuid.uuid4().hex[:6]}.json"
    spec.write_text(json.dumps({"url": store.url, "claims_url": _claims_url(tmp_path), "rows": rows,
                                "marker": str(marker), "stop": stop}))  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.readings.claim_then_die", str(spec)], cwd=ROOT, env=dict(os.environ),
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the writer never claimed"
        time.sleep(0.02)
    process.kill()  # SIGKILL: no handler runs, the intent stays as the crash left it
    process.wait(timeout=30)
    process.stderr.close()


def _crash_rows(start: datetime, n: int = 5, value: str = "1.5") -> list[list[str]]:
    return [
        ["OBJ9", f"K{i}", "energyActiveImport", "PT1H", (start + i * HOUR).isoformat(), value]
        for i in range(n)
    ]


def test_a_writer_killed_between_claim_and_insert_is_recovered_by_the_command(configured, tmp_path):
    from egsu.ops import checks

    store = configured
    start = _now_hour() - 10 * HOUR
    _crash(store, tmp_path, "before_insert", _crash_rows(start))
    # the claims hold the batch, ClickHouse does not: reads do not show it yet
    assert store.count(ReadingQuery()) == 0
    result = _cli("readings", "claims", "pending")
    assert (
        result.exit_code == 1 and "writer dead" in result.output and "1 open, 1 for recovery" in result.output
    )
    assert (
        checks.claims().state == "warn" and "1 waiting for recovery (writer dead)" in checks.claims().detail
    )
    from egsu.ops.metrics import exposition

    scraped = exposition().decode()  # what Prometheus alerts on
    assert 'egsu_readings_claim_intents{state="writer dead"} 1.0' in scraped
    assert 'egsu_readings_claim_intents{state="in flight"} 0.0' in scraped
    result = _cli("readings", "claims", "recover")
    assert result.exit_code == 0, result.output
    assert checks.claims() == checks.Check("claims", "ok", "0 intent(s) open, 0 waiting for recovery")
    assert 'egsu_readings_claim_intents{state="writer dead"} 0.0' in exposition().decode()
    assert "1 intents recovered: 5 of 5 claimed rows were missing and are inserted" in result.output
    assert store.count(ReadingQuery()) == 5 and store.totals(ReadingQuery()) == {
        "energyActiveImport": Decimal("7.5")
    }
    assert store.claims.pending() == 0 and _cli("readings", "claims", "pending").exit_code == 0
    event = AuditEvent.objects.get(event="readings.claims_recovered")
    assert (event.after["rows_claimed"], event.after["rows_inserted"], event.source) == (
        5, 5, "egsu readings claims recover",
    )  # fmt: skip
    # the sender, who got no answer, sends again: stored once
    again = [
        ReadingRow(SeriesKey("OBJ9", f"K{i}", "energyActiveImport"), "PT1H", start + i * HOUR, Decimal("1.5"), "kWh",
                   "good", "sent again")
        for i in range(5)
    ]  # fmt: skip
    assert store.write(again) == [DUPLICATE] * 5 and store.count(ReadingQuery()) == 5


def test_a_writer_killed_after_its_insert_is_recovered_without_a_second_row(configured, tmp_path):
    from egsu.jobs import scheduler
    from egsu.jobs.registry import load_schedule

    store = configured
    _crash(store, tmp_path, "after_insert", _crash_rows(_now_hour() - 10 * HOUR))
    assert store.count(ReadingQuery()) == 5 and store.claims.pending() == 1
    # the periodic job finds it (nobody writes) and inserts nothing twice
    scheduler.schedule_due([e for e in load_schedule() if e.name == "readings.recover-claims"], by="test")
    assert store.claims.pending() == 0
    event = AuditEvent.objects.get(event="readings.claims_recovered")
    assert (event.after["rows_claimed"], event.after["rows_inserted"]) == (5, 0)
    assert sum(len(store.history(SeriesKey("OBJ9", f"K{i}", "energyActiveImport"), "PT1H",
                                 _now_hour() - 10 * HOUR + i * HOUR)) for i in range(5)) == 5  # fmt: skip


def test_the_next_write_recovers_what_a_killed_writer_left(store, tmp_path):
    start = _now_hour() - 10 * HOUR
    _crash(store, tmp_path, "before_insert", _crash_rows(start))
    # another writer (a fresh process's store) writes something else: it recovers first
    other = ClickHouseReadingsStore.from_url(store.url, claims_url=_claims_url(tmp_path), create_schema=False)
    try:
        assert other.write([_row(start, "4")]) == [NEW]
        assert other.claims.pending() == 0
        assert store.count(ReadingQuery()) == 6
    finally:
        other.claims.close()


def test_nothing_to_keep_up_on_the_sql_store(settings):
    from egsu.readings import upkeep

    settings.READINGS_BACKEND = "sql"
    services._store.cache_clear()
    assert upkeep.recover(source="test") is None and upkeep.open_intents() is None
    assert "does not claim" in _cli("readings", "claims", "pending").output
    from egsu.ops import checks

    assert checks.claims().state == "off"
