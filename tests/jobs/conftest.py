"""The queue as production has it (`real_queue`), real `egsu worker` processes over the test database,
and the tables the test jobs write their side effects to."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from egsu.registry.services import load_dictionaries
from tests.cabinet.conftest import client_for, world  # noqa: F401 - the cabinet's test world
from tests.jobs.tasks import TABLES
from tests.stand import ROOT, stand_env

REAL_TASKS = {"default": {"BACKEND": "egsu.jobs.backend.QueueBackend", "QUEUES": []}}
# Short heartbeats and leases, so a killed worker's job comes back within seconds.
FAST_ENV = {"EGSU_JOBS_HEARTBEAT_S": "0.5", "EGSU_JOBS_LEASE_S": "3", "EGSU_JOBS_POLL_S": "0.2"}


@pytest.fixture
def real_queue(settings):
    """Jobs wait in the database for a worker (tests/conftest.py otherwise runs them inline)."""
    settings.TASKS = REAL_TASKS


def database_url() -> str:
    """The test database, as EGSU_DATABASE_URL for a child process."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return "sqlite:///" + s["NAME"]
    auth = f"{quote(s['USER'])}:{quote(s['PASSWORD'])}@" if s["USER"] else ""
    return f"postgresql://{auth}{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def effect_tables(django_db_blocker):
    """The side-effect tables of tests/jobs/tasks.py (raw SQL: no migration for test-only rows)."""

    def run(statements):
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    run([f"DROP TABLE IF EXISTS {name}" for name in TABLES])
    run([f"CREATE TABLE {name} ({columns})" for name, columns in TABLES.items()])
    yield
    run([f"DROP TABLE IF EXISTS {name}" for name in TABLES])


class Workers:
    """Start `egsu worker`/`egsu scheduler` processes on the test database; stop whatever is left."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[subprocess.Popen] = []

    def env(self, **extra: str) -> dict[str, str]:
        env = stand_env(
            self.tmp_path / "var", EGSU_DATABASE_URL=database_url(), **FAST_ENV, **readings_env(), **extra
        )
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
        return env

    def start(self, *args: str, **extra: str) -> subprocess.Popen:
        log = (self.tmp_path / f"process-{len(self.started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "egsu.cli", *args], cwd=ROOT, env=self.env(**extra),
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.started.append(process)
        return process

    def run(self, *args: str, timeout: float = 60, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "egsu.cli", *args], cwd=ROOT, env=self.env(**extra),
                              capture_output=True, text=True, timeout=timeout)  # fmt: skip

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.tmp_path.glob("process-*.log"))
        )

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
        for process in self.started:
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def readings_env() -> dict[str, str]:
    """The test's own readings store for the worker processes too (the ClickHouse pass of make test)."""
    from django.conf import settings

    if getattr(settings, "READINGS_BACKEND", "sql") != "clickhouse":
        return {}
    return {"EGSU_READINGS_BACKEND": "clickhouse", "EGSU_CLICKHOUSE_URL": settings.CLICKHOUSE_URL}


@pytest.fixture
def workers(tmp_path, transactional_db, real_queue):
    """Worker processes need committed rows: a transactional test. An earlier such test's flush also
    removed the reference dictionaries the migrations loaded, so they are loaded again first."""
    load_dictionaries()
    pool = Workers(tmp_path)
    yield pool
    pool.stop_all()


def wait_for(check: Callable[[], object], *, timeout: float, what: str, logs: Callable[[], str] = str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{logs()}")
