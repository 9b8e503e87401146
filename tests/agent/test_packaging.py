"""The agent is its own installable package, with no Django anywhere in its process (issue 18 item 6).

It depends on egsu-core (../core, decision 0019), never on the server distribution ``egsu``: a
fresh virtual environment given ``pip install ./core ./agent`` holds no web framework and no
database driver, and ``egsu-agent`` runs there.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

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


def test_the_distribution_declares_the_console_script_and_depends_on_the_core_not_the_server():
    project = tomllib.loads((ROOT / "agent" / "pyproject.toml").read_text())["project"]
    assert project["name"] == "egsu-agent"
    assert project["scripts"] == {"egsu-agent": "egsu_agent.cli:main"}
    names = {dep.split(">")[0].split("=")[0].split("[")[0].strip() for dep in project["dependencies"]}
    assert "egsu-core" in names and "egsu" not in names
    core = tomllib.loads((ROOT / "core" / "pyproject.toml").read_text())["project"]
    assert core["name"] == "egsu-core"
    server = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "egsu-core" in {dep.split()[0].strip('",') for dep in server["dependencies"]}


SERVER_ONLY = {"django", "psycopg", "psycopg-binary", "clickhouse-driver", "reportlab", "plotly", "egsu",
               "gunicorn", "django-ninja", "pandas", "lightgbm"}  # fmt: skip
OFFLINE = ("Could not find a version", "No matching distribution", "Failed to establish", "Temporary failure")


@pytest.mark.slow
def test_a_fresh_venv_installs_the_agent_without_the_server(tmp_path):
    # given a new virtual environment (pip's cache may make the downloads cheap)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # when the core and the agent are installed from this checkout
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         str(ROOT / "core"), str(ROOT / "agent")],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if install.returncode and any(sign in install.stderr for sign in OFFLINE):
        pytest.skip(f"no package index reachable from here: {install.stderr.strip()[-300:]}")
    assert install.returncode == 0, install.stderr[-3000:]
    # then nothing of the server's is there, and the agent and the GOST signatures work
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    installed = {item["name"].lower().replace("_", "-") for item in json.loads(listed.stdout)}
    assert {"egsu-core", "egsu-agent"} <= installed
    assert not installed & SERVER_ONLY, sorted(installed & SERVER_ONLY)
    help_text = subprocess.run(
        [str(venv / "bin" / "egsu-agent"), "--help"], capture_output=True, text=True, timeout=120,
        cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )  # fmt: skip
    assert help_text.returncode == 0, help_text.stderr[-2000:]
    assert "check-config" in help_text.stdout and "send" in help_text.stdout
    signs = subprocess.run(
        [str(python), "-c", SIGN_WITH_GOST], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert signs.returncode == 0, signs.stderr[-3000:]
    assert signs.stdout.strip() == "gost34310-gost34311 verified, no django"


SIGN_WITH_GOST = """
import sys, tempfile, pathlib
from lxml import etree
from egsu_core.pki.testca import TestCA
from egsu_core.pki.keys import load_identity
from egsu_core.pki.wsse import sign_transport, verify_transport
from egsu_core.shep.envelope import SyncResponse, build_response
import datetime as dt
ca = TestCA.create(pathlib.Path(tempfile.mkdtemp()) / "ca", base_url="http://x.invalid", key_type="gost2004")
issued = ca.issue_system("AGENT VENV")
identity = load_identity(issued.p12("pw", iterations=1000), password="pw")
body = build_response(SyncResponse(message_id="a", correlation_id="b", response_date=dt.datetime.now(dt.UTC),
                                   status_code="SCSS001", status_message="ok"))
signed = sign_transport(body, private_key=identity.private_key, certificate_der=identity.certificate_der,
                        algorithm_uri=identity.algorithm_uri)
verified = verify_transport(etree.fromstring(signed))
assert not [m for m in sys.modules if m.split(".")[0] == "django"]
print(verified.signature_method.rsplit("#", 1)[-1], "verified, no django")
"""


def test_the_systemd_unit_verifies_and_both_service_recipes_run_the_agent(tmp_path):
    unit = (ROOT / "agent" / "deploy" / "egsu-agent.service").read_text()
    windows = (ROOT / "agent" / "deploy" / "install-windows-service.ps1").read_text()
    assert "ExecStart=/opt/egsu-agent/venv/bin/egsu-agent run\n" in unit
    assert 'install egsu-agent "$Root\\venv\\Scripts\\egsu-agent.exe" run' in windows
    assert 'pip install "$Source\\core" "$Source\\agent"' in windows
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here: the unit's syntax is not checked")
    # the unit as written, its program pointed at an egsu-agent that exists on this machine
    here = shutil.which("egsu-agent") or str(Path(sys.executable).parent / "egsu-agent")
    (tmp_path / "egsu-agent.service").write_text(unit.replace("/opt/egsu-agent/venv/bin/egsu-agent", here))
    result = subprocess.run(
        [analyze, "verify", str(tmp_path / "egsu-agent.service")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_core_imports_neither_the_server_nor_django():
    # decision 0019: egsu-core stands alone; the fresh-venv test above proves it installed, this names the line
    pattern = re.compile(r"^\s*(?:from|import)\s+(egsu|django)(?:\.|\s|$)", re.M)
    offending = [
        f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
        for path in sorted((ROOT / "core" / "egsu_core").rglob("*.py"))
        for match in pattern.finditer(path.read_text("utf-8"))
    ]
    assert offending == []
