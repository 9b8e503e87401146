"""`egsu serve`, the embedded default: ONE command starts the web server, a job worker and the scheduler;
Ctrl-C (SIGINT) stops all of them cleanly. Real processes on a fresh var dir (SQLite)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from tests.jobs.conftest import FAST_ENV, wait_for
from tests.stand import ROOT, free_port, stand_env


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _query(db: Path, sql: str) -> list[tuple]:
    try:
        with sqlite3.connect(db, timeout=5) as connection:
            return connection.execute(sql).fetchall()
    except sqlite3.OperationalError:  # not migrated yet
        return []


def test_serve_runs_web_worker_and_scheduler_and_ctrl_c_stops_them_all(tmp_path):
    var, port = tmp_path / "var", free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "egsu.cli", "serve", "--port", str(port), "--workers", "1"],
        cwd=ROOT, env=stand_env(var, **FAST_ENV), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    logs = lambda: (tmp_path / "serve.log").read_text(errors="replace")[-4000:]  # noqa: E731
    db = var / "egsu.sqlite3"
    try:
        # the web server answers
        def answers():
            try:
                return httpx.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(answers, timeout=180, what="the web server", logs=logs)
        # a worker that schedules is alive, and it ran the periodic heartbeat job
        wait_for(lambda: _query(db, "SELECT 1 FROM jobs_worker WHERE schedules AND stopped_at IS NULL"),
                 timeout=60, what="the worker", logs=logs)  # fmt: skip
        wait_for(lambda: _query(db, "SELECT 1 FROM jobs_job WHERE task_path = 'egsu.jobs.tasks.heartbeat' "
                                    "AND status = 'SUCCESSFUL'"), timeout=60, what="the heartbeat job", logs=logs)  # fmt: skip
        children = _children(server.pid)
        assert len(children) == 2, children  # gunicorn's master and the worker
        # when Ctrl-C reaches the command
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=60) == 0, logs()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    # then every process it started is gone, and the worker said it stopped
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    assert _query(db, "SELECT COUNT(*) FROM jobs_worker WHERE stopped_at IS NULL") == [(0,)]
