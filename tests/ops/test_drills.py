"""Drills (issue 17 item 5; DIG-13, INT-13): what survives a web worker killed with SIGKILL in the
middle of intake. A lean version here (a few kills); `benchmarks/drill_kill.py` runs a hundred and more.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.intake.conftest import DEMO_PASSWORD
from tests.ops.conftest import egsu_env
from tests.ops.drills import run_drill


def test_kill_9_of_web_workers_during_intake_loses_nothing_and_stores_nothing_twice(tmp_path, settings):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip(
            "the lean drill runs once, in the SQLite pass; benchmarks/drill_kill.py takes --database-url"
        )
    var = tmp_path / "var"
    env = egsu_env(var, f"sqlite:///{var / 'egsu.sqlite3'}")
    outcome = run_drill(var, env, kills=4, messages=6, batches=6, password=DEMO_PASSWORD, interval=(0.3, 0.9))
    # every message and batch was acknowledged in the end (200), with the answer of a full store
    assert len(outcome.acknowledged) == 12
    assert {a.split()[0] for a in outcome.acknowledged.values()} == {"200"}, outcome.acknowledged
    assert all("SCSS001" in a or "stored" in a for a in outcome.acknowledged.values()), outcome.acknowledged
    # and each is stored exactly once, whatever the kills interrupted
    stored = outcome.stored
    assert (stored["messages"], stored["messages_twice"], stored["batches"], stored["revised"]) == (
        6,
        0,
        6,
        0,
    )
    assert stored["values"] - outcome.expected_values >= 6  # the ISUN values, beside the AMI ones exactly
    assert 1 <= outcome.kills <= 4  # the senders may finish before the fourth kill is due


def _mount_small_volume(where, image, megabytes: int) -> None:
    """A small ext4 file system on a loop device, as var/ (a tmpfs would answer a full disk with SIGBUS
    on memory-mapped files, which real disks do not)."""
    import os
    import subprocess

    where.mkdir(parents=True)
    if os.geteuid() != 0:
        pytest.skip("DISK-FULL DRILL NOT RUN: mounting a small volume for var/ needs root")
    steps = [
        ["truncate", "-s", f"{megabytes}M", str(image)],
        ["mkfs.ext4", "-q", "-F", str(image)],
        ["mount", "-o", "loop", str(image), str(where)],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"DISK-FULL DRILL NOT RUN: {' '.join(step)} failed: {done.stderr.strip()}")


def _fill(where) -> int:
    """Write until the file system is full; the bytes written."""
    written = 0
    with open(where / "filler", "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
                written += 65536
        except OSError:
            pass
    return written


def _post_or_none(post):
    import httpx

    try:
        return post()
    except httpx.TransportError:
        return None


def test_a_full_var_disk_refuses_intake_cleanly_and_nothing_is_corrupted(tmp_path):
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    import httpx
    from django.db import connection

    from egsu_core.pki.keys import load_identity
    from tests.ami.conftest import document, quarter_values
    from tests.ops.conftest import isun_message
    from tests.ops.drills import probe, seed
    from tests.readings.store_backends import free_port_block

    if connection.vendor != "sqlite":
        pytest.skip("the disk-full drill runs once, in the SQLite pass (var/ holds the SQLite database)")
    var = tmp_path / "var"
    _mount_small_volume(var, tmp_path / "var.img", 48)
    server = None
    try:
        env = egsu_env(
            var, f"sqlite:///{var / 'egsu.sqlite3'}", PROMETHEUS_MULTIPROC_DIR=str(var / "metrics")
        )
        (var / "metrics").mkdir()
        world = seed(env, 3, DEMO_PASSWORD)
        stand = world["stand"]
        owner = next(s for s in stand["subjects"] if s["bin"] == stand["facilities"][0]["subject_bin"])
        identity = load_identity(Path(owner["sign_key"]).read_bytes(), Path(owner["sign_cert"]).read_bytes())
        from types import SimpleNamespace

        meters = [SimpleNamespace(pk=pk, serial_number=serial) for pk, serial in world["meters"]]
        items = quarter_values(meters, quarters=8)
        port = free_port_block(1)
        server = subprocess.Popen([sys.executable, "-m", "egsu.cli", "web", "--port", str(port), "--workers", "2"],
                                  env=env, stdout=(tmp_path / "web.log").open("w"), stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        auth = {"Authorization": f"Bearer {world['token']}"}
        soap = {"Content-Type": "text/xml; charset=utf-8"}
        # given intake works
        first = httpx.post(
            f"{base}/shep/SyncChannel", content=isun_message(stand, identity, 4), headers=soap, timeout=60
        )
        assert first.status_code == 200 and b"SCSS001" in first.content
        ok = httpx.post(
            f"{base}/api/ami/v1/batches",
            json=document("full-0", intervals=items[:48]),
            headers=auth,
            timeout=60,
        )
        assert ok.status_code == 200, ok.text
        # when var/ fills up
        filled = _fill(var)
        message = isun_message(stand, identity, 6)
        batch = document("full-1", intervals=items[48:])
        refused_isun, refused_ami = (
            _post_or_none(
                lambda: httpx.post(f"{base}/shep/SyncChannel", content=message, headers=soap, timeout=60)
            ),
            _post_or_none(
                lambda: httpx.post(f"{base}/api/ami/v1/batches", json=batch, headers=auth, timeout=60)
            ),
        )
        # then nothing is acknowledged: a signed SCE909 fault (retry later), HTTP 503, or no answer at all —
        # SQLite's WAL index is memory-mapped, and a write into it on a full volume kills that gunicorn
        # worker with SIGBUS (gunicorn starts another); a sender that got no answer sends again (INT-13)
        assert refused_isun is None or (refused_isun.status_code == 500 and b"SCE909" in refused_isun.content)
        assert refused_ami is None or refused_ami.status_code == 503, (tmp_path / "web.log").read_text()[
            -3000:
        ]
        if refused_ami is not None:
            assert refused_ami.json()["code"] == "store-unavailable"
        # and when space is freed, the same message and batch are stored, once, and the database is sound
        (var / "filler").unlink()
        time.sleep(1)  # a worker killed by SIGBUS is replaced
        again_isun = httpx.post(f"{base}/shep/SyncChannel", content=message, headers=soap, timeout=60)
        again_ami = httpx.post(f"{base}/api/ami/v1/batches", json=batch, headers=auth, timeout=60)
        assert again_isun.status_code == 200 and b"SCSS001" in again_isun.content
        assert again_ami.status_code == 200 and again_ami.json()["values"]["new"] == len(items) - 48
        stored = probe(env)
        assert (stored["messages"], stored["messages_twice"], stored["batches"], stored["revised"]) == (
            2,
            0,
            2,
            0,
        )
        db = sqlite3.connect(var / "egsu.sqlite3")
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()
        assert filled > 0
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
        subprocess.run(["umount", "-l", str(var)], check=False)
