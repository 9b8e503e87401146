"""Backups that restore (DIG-13, DIG-27; issue 17 item 3): the drill. Data through both feeds, a
backup, then a restore onto a clean var directory and a fresh database (another machine, as far as the
System can tell), and every table's checksum and the readings totals compared. The restore time is
printed (docs/operations.md keeps the figures)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest
from django.db import connection
from typer.testing import CliRunner

from egsu.ops import backup as backups
from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery
from tests.ops.conftest import egsu_env, probe, push_both_feeds

# Rows a restore itself adds: its own audit event (who restored what, when).
RESTORE_ADDS = {"access_auditevent"}


def _fresh_postgres_database() -> tuple[str, callable]:
    import psycopg

    db = connection.settings_dict
    name = f"egsu_ops_drill_{uuid.uuid4().hex[:8]}"
    admin = dict(
        dbname="postgres", user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"]
    )
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    url = (
        f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    )
    return url, drop


def test_backup_destroy_restore_gives_back_every_table_and_the_readings_totals(
    own_var, stand, identity, tmp_path
):
    # given data through both feeds (ISUN at the gateway, AMI over REST) and files in var/
    pushed = push_both_feeds(stand, identity)
    assert pushed.isun_codes == ["SCSS001", "SCSS001"] and pushed.ami_status == [200, 200]
    (own_var / "exports").mkdir()
    (own_var / "exports" / "export-1.xlsx").write_bytes(b"an export file")
    source_tables = backups.table_checksums()
    source_totals = {k: str(v) for k, v in get_store().totals(ReadingQuery()).items()}
    # when it is backed up
    archive = backups.backup(tmp_path / "backups")
    manifest = backups.read_manifest(archive)
    assert manifest.files["var/exports/export-1.xlsx"]["size"] == 14
    assert set(manifest.tables) >= {"readings_reading", "journal_journalentry", "ami_amibatch"}
    # and restored onto a clean var directory and a fresh database, by another process
    clean = tmp_path / "restored"
    drop = None
    if connection.vendor == "postgresql":
        url, drop = _fresh_postgres_database()
    else:
        url = f"sqlite:///{clean / 'egsu.sqlite3'}"
    try:
        env = egsu_env(clean, url)
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "egsu.cli", "restore", str(archive)], env=env, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        seconds = time.monotonic() - started
        assert run.returncode == 0, run.stdout + run.stderr
        print(f"restore of {archive.stat().st_size} bytes on {connection.vendor}: {seconds:.1f} s")  # noqa: T201 - the figure
        # then every table holds the same rows, and the readings add up to the same totals
        restored = probe(env)
        differing = [
            t
            for t, value in source_tables.items()
            if t not in RESTORE_ADDS and tuple(restored["tables"][t]) != value
        ]
        assert differing == []
        assert restored["tables"]["access_auditevent"][0] == source_tables["access_auditevent"][0] + 1
        assert restored["totals"] == source_totals and restored["count"] == get_store().count(ReadingQuery())
        assert (clean / "exports" / "export-1.xlsx").read_bytes() == b"an export file"
        assert (clean / "secret_key").read_text() == "drill-secret-key-not-for-production"
        # and a second restore onto the now full target is refused, unless forced
        again = subprocess.run(
            [sys.executable, "-m", "egsu.cli", "restore", str(archive)], env=env, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        assert again.returncode == 1 and "not empty" in again.stdout
    finally:
        if drop is not None:
            drop()


def test_a_damaged_archive_is_refused_before_anything_is_written(own_var, tmp_path, transactional_db):
    archive = backups.backup(tmp_path / "backups")
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    clean = tmp_path / "restored"
    run = subprocess.run(
        [sys.executable, "-m", "egsu.cli", "restore", str(archive)],
        env=egsu_env(clean, f"sqlite:///{clean / 'egsu.sqlite3'}"), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 1 and "SHA-256" in run.stdout
    assert not (clean / "egsu.sqlite3").exists()


def test_the_scheduled_backup_keeps_the_newest_and_is_audited(own_var, tmp_path, settings, transactional_db):
    from dataclasses import replace

    from egsu.access.models import AuditEvent
    from egsu.jobs.registry import load_schedule

    settings.CONFIG = replace(settings.CONFIG, backup_dir=tmp_path / "b", backup_keep=2)
    assert "ops.backup" in {entry.name for entry in load_schedule()}
    for n in range(3):  # three days' backups (the names carry the second; old ones made by hand)
        (tmp_path / "b").mkdir(exist_ok=True)
        (tmp_path / "b" / f"egsu-backup-2020010{n + 1}T013000Z.tar.gz").write_bytes(b"old")
    result = backups.scheduled_backup(source="test")
    kept = sorted(p.name for p in (tmp_path / "b").glob("egsu-backup-*.tar.gz"))
    assert kept == ["egsu-backup-20200103T013000Z.tar.gz", result["archive"]]
    assert AuditEvent.objects.filter(event="ops.backup_made").count() == 1
    assert AuditEvent.objects.get(event="ops.backups_pruned").after["removed"] == [
        "egsu-backup-20200102T013000Z.tar.gz", "egsu-backup-20200101T013000Z.tar.gz",
    ]  # fmt: skip


def test_egsu_backup_shows_progress_and_writes_the_archive(own_var, tmp_path, transactional_db):
    from egsu.cli.app import app

    result = CliRunner().invoke(app, ["backup", "--to", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert "backup written" in result.output
    assert len(list((tmp_path / "cli").glob("egsu-backup-*.tar.gz"))) == 1


@pytest.fixture
def clickhouse_readings(settings):
    """Readings in ClickHouse (a fresh database on the loopback server) for this test."""
    from egsu.readings import services as readings
    from tests.readings import store_backends

    server = store_backends._server_url()  # skips loudly when no server can be started
    url = f"{server.rsplit('/', 1)[0]}/egsu_drill_{uuid.uuid4().hex[:10]}"
    settings.READINGS_BACKEND, settings.CLICKHOUSE_URL = "clickhouse", url
    readings._store.cache_clear()
    yield url
    store_backends.drop_database(readings.get_store())
    readings._store.cache_clear()


def test_the_drill_with_readings_in_clickhouse(own_var, clickhouse_readings, stand, identity, tmp_path):
    from egsu.readings.backends.clickhouse import ClickHouseReadingsStore

    pushed = push_both_feeds(stand, identity)
    assert pushed.ami_status == [200, 200]
    store = get_store()
    source = (backups.clickhouse_partitions(store), store.totals(ReadingQuery()))
    archive = backups.backup(tmp_path / "backups")
    assert backups.read_manifest(archive).clickhouse["partitions"] == source[0]
    # restore onto a fresh ClickHouse database and a fresh SQL database
    target_url = f"{clickhouse_readings.rsplit('/', 1)[0]}/egsu_drill_{uuid.uuid4().hex[:10]}"
    clean = tmp_path / "restored"
    drop = None
    if connection.vendor == "postgresql":
        url, drop = _fresh_postgres_database()
    else:
        url = f"sqlite:///{clean / 'egsu.sqlite3'}"
    env = egsu_env(clean, url, EGSU_READINGS_BACKEND="clickhouse", EGSU_CLICKHOUSE_URL=target_url)
    try:
        run = subprocess.run(
            [sys.executable, "-m", "egsu.cli", "restore", str(archive)], env=env, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
        restored = ClickHouseReadingsStore.from_url(target_url)
        assert (backups.clickhouse_partitions(restored), restored.totals(ReadingQuery())) == source
        # the daily rollup was rebuilt from the rows by its view: daily sums agree too
        query = ReadingQuery()
        assert list(restored.aggregate(query, bucket="P1D", group="all")) == list(
            store.aggregate(query, bucket="P1D", group="all")
        )
    finally:
        restored_db = target_url.rsplit("/", 1)[1]
        store.connection.command(f"DROP DATABASE IF EXISTS {restored_db}")
        if drop is not None:
            drop()
