"""Export sources: CSV and xlsx drop folder, SQL query with a watermark; a dead source does not stop the agent."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook

from egsu_agent.config import FolderSourceConfig, ModbusSourceConfig, SqlSourceConfig
from egsu_agent.samples import Sample
from egsu_agent.sources import SourceError
from egsu_agent.sources.dropfolder import FolderSource, read_rows
from egsu_agent.sources.modbus import ModbusSource
from egsu_agent.sources.sql import SqlSource
from tests.agent.devices import free_port

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "tag,time,value\nT1,2026-03-10T05:00:00,5.25\n",
            [Sample(datetime(2026, 3, 10, 0, tzinfo=UTC), "T1", Decimal("5.25"))],
            id="naive-time-is-astana",
        ),
        pytest.param(
            "Tag;Time;Value;Fault\nT1;2026-03-10 05:00+06:00;5,5;yes\n",
            [Sample(datetime(2026, 3, 9, 23, tzinfo=UTC), "T1", Decimal("5.5"), True)],
            id="semicolons-decimal-comma-offset-fault",
        ),
        pytest.param("tag,time,value\n\n", [], id="empty-rows-skipped"),
    ],
)
def test_csv_rows(text, expected):
    assert read_rows("x.csv", text.encode()) == expected


def test_a_bad_row_names_its_line():
    with pytest.raises(ValueError, match="line 3: 'abc' is not a number"):
        read_rows("x.csv", b"tag,time,value\nT1,2026-03-10T05:00,1\nT1,2026-03-10T05:30,abc\n")
    with pytest.raises(ValueError, match="the header lacks value"):
        read_rows("x.csv", b"tag,time\n")


def test_folder_reads_csv_and_xlsx_and_moves_them_once_kept(tmp_path):
    (tmp_path / "a.csv").write_text("tag,time,value\nT1,2026-03-10T05:00,1\n")
    book = Workbook()
    book.active.append(["tag", "time", "value"])
    book.active.append(["T2", datetime(2026, 3, 10, 5, 30), 2.5])  # noqa: DTZ001 - a spreadsheet's wall-clock time
    book.save(tmp_path / "b.xlsx")
    source = FolderSource(FolderSourceConfig(name="f", type="folder", path=tmp_path, pattern="*.*"))
    batch = source.read(NOW, seen=lambda path, sha: False)
    assert sorted((s.tag, s.value) for s in batch.samples) == [("T1", Decimal(1)), ("T2", Decimal("2.5"))]
    assert (tmp_path / "a.csv").exists()  # not moved before the samples are kept
    batch.done()
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == ["a.csv", "b.xlsx"]


def test_sql_source_reads_only_new_rows(tmp_path):
    db = tmp_path / "plant.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE log (tag TEXT, at TEXT, value REAL)")
        connection.executemany(
            "INSERT INTO log VALUES (?, ?, ?)",
            [("D", "2026-03-10 05:00:00", 700.5), ("D", "2026-03-10 18:00:00", 701)],
        )
    source = SqlSource(
        SqlSourceConfig(
            name="s",
            type="sql",
            url=f"sqlite:///{db}",
            query="SELECT tag, at, value FROM log WHERE at > :since AND at <= :until",
            lookback_hours=0,
        )
    )
    first = source.read(NOW, since=None)  # 12:00 UTC = 17:00 Astana
    assert [(s.at, s.value) for s in first.samples] == [
        (datetime(2026, 3, 10, 0, tzinfo=UTC), Decimal("700.5"))
    ]
    assert first.watermark == "2026-03-10 05:00:00"
    later = source.read(datetime(2026, 3, 10, 14, tzinfo=UTC), since=first.watermark)
    assert [s.value for s in later.samples] == [Decimal(701)]


def test_an_unreachable_modbus_device_raises_a_source_error():
    source = ModbusSource(
        ModbusSourceConfig.model_validate(
            {
                "name": "plc",
                "type": "modbus",
                "host": "127.0.0.1",
                "port": free_port(),
                "registers": [{"tag": "T", "address": 0}],
            }
        ),
        timeout=0.5,
    )
    with pytest.raises(SourceError):
        source.read(NOW)
    source.close()


def test_sql_source_on_postgresql_reads_only_new_rows():
    """The same query against a real PostgreSQL server (the company's own database is often one)."""
    import subprocess
    import uuid

    import psycopg

    from tests.conftest import ROOT

    found = subprocess.run(
        [str(ROOT / "scripts" / "ensure-postgres")], capture_output=True, text=True, timeout=300
    )
    if found.returncode != 0:
        pytest.skip(f"NO POSTGRESQL SERVER: scripts/ensure-postgres failed: {found.stderr.strip()[-300:]}")
    server = found.stdout.strip().rsplit("/", 1)[0]
    name = f"agent_src_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(f"{server}/{name}") as connection:
            connection.execute("CREATE TABLE log (tag text, at timestamp, value numeric)")
            connection.execute(
                "INSERT INTO log VALUES ('D', '2026-03-10 05:00:00', 700.5), ('D', '2026-03-10 18:00:00', 701)"
            )
        source = SqlSource(
            SqlSourceConfig(
                name="pg",
                type="sql",
                url=f"{server}/{name}",
                query="SELECT tag, at, value FROM log WHERE at > CAST(:since AS timestamp) "
                "AND at <= CAST(:until AS timestamp)",
                lookback_hours=0,
            )
        )
        first = source.read(NOW, since=None)
        assert [(s.at, s.value) for s in first.samples] == [
            (datetime(2026, 3, 10, 0, tzinfo=UTC), Decimal("700.5"))
        ]
        later = source.read(datetime(2026, 3, 10, 14, tzinfo=UTC), since=first.watermark)
        assert [s.value for s in later.samples] == [Decimal(701)]
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
