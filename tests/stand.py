"""The demo stand as an integrator runs it: `egsu demo --no-serve`, then `egsu serve`, in subprocesses.

Shared by the tests that need a real running System (tests/cli, tests/agent): its own var dir,
database and free port, stopped when the block ends.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
EGSU = [sys.executable, "-c", "from egsu.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stand_env(var: Path, **extra: str) -> dict[str, str]:
    """The environment of a stand process: ours without EGSU_/PYTEST settings, plus its var dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EGSU_", "PYTEST"))}
    env.update(EGSU_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="egsu.settings", **extra)
    return env


@contextmanager
def running_stand(
    var: Path, *, threads: int = 2, timeout: float = 60, prepare: str = "", **extra: str
) -> Iterator[dict]:
    """Start the demo stand in ``var`` and yield its manifest (var/demo/stand.json); ``extra``: more
    environment for both processes (e.g. EGSU_EMAIL_URL); ``prepare``: Python run with Django set up
    on the stand's database after the demo is loaded and before the server starts."""
    port = free_port()
    env = stand_env(var, **extra)
    subprocess.run([*EGSU, "demo", "--no-serve", "--port", str(port)], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=180)  # fmt: skip
    if prepare:
        subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + prepare], env=env, cwd=ROOT,
                       check=True, capture_output=True, timeout=60)  # fmt: skip
    server = subprocess.Popen(
        [*EGSU, "serve", "--port", str(port), "--workers", "1", "--threads", str(threads)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    manifest = json.loads((var / "demo" / "stand.json").read_text("utf-8"))
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(manifest["wsdl"], timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(
                    "the demo stand did not answer: " + server.stderr.read1().decode(errors="replace")
                )
            time.sleep(0.1)
        yield manifest
    finally:
        server.terminate()
        server.wait(timeout=20)
