"""What an integrator does with the demo stand: `egsu demo`, read stand.json, send with zeep.

This runs the real console command and the real gunicorn server in subprocesses, on a
database of their own, exactly as `make demo` does.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from egsu.isun.samples import records_element
from egsu.shep.zeep_client import SyncChannelClient
from tests.conftest import shared_path

ROOT = Path(__file__).resolve().parents[2]
EGSU = [sys.executable, "-c", "from egsu.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def running_stand(tmp_path_factory):
    var = tmp_path_factory.mktemp("stand")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EGSU_", "PYTEST"))}
    env.update(EGSU_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="egsu.settings")
    subprocess.run(
        [*EGSU, "demo", "--no-serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = subprocess.Popen(
        [*EGSU, "serve", "--port", str(port), "--workers", "1", "--threads", "2"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    manifest = json.loads((var / "demo" / "stand.json").read_text("utf-8"))
    try:
        for _ in range(100):
            try:
                if httpx.get(manifest["wsdl"], timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not answer: " + server.stderr.read1().decode(errors="replace"))
        yield var, manifest
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_manifest_names_everything_an_integrator_needs(running_stand):
    var, manifest = running_stand
    assert {
        "endpoint",
        "wsdl",
        "serviceId",
        "senderId",
        "password",
        "subjects",
        "facilities",
    } <= manifest.keys()
    assert {f["kind"] for f in manifest["facilities"]} == {f"1.{n}" for n in range(1, 10)}
    for facility in manifest["facilities"]:
        assert {"id", "kind", "subject_bin", "devices"} <= facility.keys()
        for device in facility["devices"]:
            assert {"deviceNameId", "deviceTypeId", "productTypeId", "operationTypeId"} <= device.keys()
            assert ("pipelineId" in device) == (facility["kind"] == "1.3")
    assert oct((var / "demo" / "stand.json").stat().st_mode & 0o777) == "0o600"  # it holds a password


def test_zeep_from_the_manifest_sends_the_real_client_records(running_stand):
    _, manifest = running_stand
    from lxml import etree

    real = etree.parse(str(shared_path("shep", "examples", "isun-sendmessage-request-unsigned.redacted.xml")))
    records = [{child.tag: child.text for child in event} for event in real.iter("events")]

    client = SyncChannelClient(manifest["wsdl"])
    response = client.send(
        message_id=str(uuid.uuid4()),
        sender_id=manifest["senderId"],
        password=manifest["password"],
        records=list(records_element(records)),
        service_id=manifest["serviceId"],
    )

    assert response.responseInfo.status.code == "SCSS001"
    assert response.responseInfo.correlationId
