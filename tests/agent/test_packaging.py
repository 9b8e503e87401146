"""The agent is its own installable package, with no Django anywhere in its process."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

NO_DJANGO = """
import sys, tempfile, pathlib, datetime as dt
from egsu_agent.cli import app
from egsu_agent.service import Agent
from egsu_agent.config import load_config
from egsu_agent.schedule import ManualClock, local_instant
from tests.agent.conftest import FakeSystem, base_config, write_config
from tests.agent import conftest

tmp = pathlib.Path(tempfile.mkdtemp())
key, cert = {key!r}, {cert!r}
data = base_config(tmp, (pathlib.Path(key), pathlib.Path(cert)))
(tmp / "drop" / "a.csv").write_text("tag,time,value\\nT1.level,2026-03-10T00:30,5\\nT1.volume,2026-03-10T00:30,7\\n")
start = local_instant(dt.date(2026, 3, 10), 0)
agent = Agent(load_config(write_config(tmp / "agent.toml", data)), clock=ManualClock(start), channel=FakeSystem())
agent.run(until=start + dt.timedelta(hours=2, minutes=15))
assert agent.status()["delivered"] == 1, agent.status()
agent.close()
django = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
sys.exit(f"django imported: {{django[:5]}}" if django else 0)
"""


def test_importing_and_running_the_agent_never_imports_django(key_and_cert):
    key, cert = key_and_cert
    code = NO_DJANGO.format(key=str(key), cert=str(cert))
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]


def test_the_distribution_declares_the_console_script_and_depends_on_egsu():
    project = tomllib.loads((ROOT / "agent" / "pyproject.toml").read_text())["project"]
    assert project["name"] == "egsu-agent"
    assert project["scripts"] == {"egsu-agent": "egsu_agent.cli:main"}
    assert "egsu" in project["dependencies"]
