"""What an integrator does with the demo stand: `egsu demo`, read stand.json, send with zeep.

This runs the real console command and the real gunicorn server in subprocesses, on a
database of their own, exactly as `make demo` does.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from lxml import etree

from egsu_core.isun.samples import records_element, sample_record
from egsu_core.pki.keys import load_identity
from egsu_core.shep.zeep_client import SyncChannelClient
from tests import stand
from tests.conftest import shared_path

ROOT = Path(__file__).resolve().parents[2]
PERIOD = datetime(2026, 1, 15, tzinfo=UTC) - timedelta(hours=5)  # midnight in Astana (UTC+5 since 2024)
EGSU = stand.EGSU


@pytest.fixture(scope="module")
def running_stand(tmp_path_factory):
    var = tmp_path_factory.mktemp("stand")
    with stand.running_stand(var) as manifest:
        yield var, manifest


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
    # issue 3: signing material of the test PKI for every subject, the trust roots and the System's certificate
    for subject in manifest["subjects"]:
        assert Path(subject["sign_key"]).read_bytes().startswith(b"-----BEGIN")
        assert b"CERTIFICATE" in Path(subject["sign_cert"]).read_bytes()
    assert b"CERTIFICATE" in Path(manifest["trust_roots"]).read_bytes()
    assert b"CERTIFICATE" in Path(manifest["system_cert"]).read_bytes()


XMLSEC1 = shutil.which("xmlsec1")


@pytest.mark.skipif(XMLSEC1 is None, reason="the Debian xmlsec1 tool is not installed (.ci/run installs it)")
def test_egsu_sign_then_send_and_the_signed_answer_verifies_with_xmlsec1(running_stand, tmp_path):
    # given a payload file and the demo subject's key, signed by the `egsu sign` command
    var, manifest = running_stand
    facility = next(f for f in manifest["facilities"] if f["kind"] == "1.2")
    device = facility["devices"][0]
    record = sample_record(
        "1.2",
        facility["id"],
        device["deviceNameId"],
        period_start=PERIOD,
        is_daily=True,
        device_type_id=device["deviceTypeId"],
        operation_type_id=device["operationTypeId"][0],
        product_type_id=device["productTypeId"],
    )
    payload = tmp_path / "payload.xml"
    payload.write_bytes(etree.tostring(records_element([record])))
    owner = next(s for s in manifest["subjects"] if s["bin"] == facility["subject_bin"])
    env = stand.stand_env(var, EGSU_SENDER_PASSWORD=manifest["password"])
    signed = subprocess.run(
        [
            *EGSU,
            "sign",
            str(payload),
            "--key",
            owner["sign_key"],
            "--cert",
            owner["sign_cert"],
            "--sender-id",
            manifest["senderId"],
        ],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout

    # when it is posted to the stand
    answer = httpx.post(
        manifest["endpoint"], content=signed, headers={"Content-Type": "text/xml"}, timeout=30
    )

    # then it is accepted, and the System's signature on the answer verifies with a tool nobody here wrote
    assert answer.status_code == 200, answer.text
    assert etree.fromstring(answer.content).findtext(".//responseInfo/status/code") == "SCSS001"
    (tmp_path / "answer.xml").write_bytes(answer.content)
    verified = subprocess.run(
        [
            XMLSEC1,
            "--verify",
            "--trusted-pem",
            manifest["trust_roots"],
            "--pubkey-cert-pem",
            manifest["system_cert"],
            "--id-attr:Id",
            "http://schemas.xmlsoap.org/soap/envelope/:Body",
            str(tmp_path / "answer.xml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verified.returncode == 0, verified.stderr
    assert "OK" in verified.stderr


def test_zeep_from_the_manifest_sends_the_real_client_records(running_stand):
    _, manifest = running_stand
    from lxml import etree

    real = etree.parse(str(shared_path("shep", "examples", "isun-sendmessage-request-unsigned.redacted.xml")))
    records = [{child.tag: child.text for child in event} for event in real.iter("events")]

    owner = next(s for s in manifest["subjects"] if s["bin"] == manifest["facilities"][0]["subject_bin"])
    identity = load_identity(Path(owner["sign_key"]).read_bytes(), Path(owner["sign_cert"]).read_bytes())
    client = SyncChannelClient(manifest["wsdl"], identity=identity)
    response = client.send(
        message_id=str(uuid.uuid4()),
        sender_id=manifest["senderId"],
        password=manifest["password"],
        records=list(records_element(records)),
        service_id=manifest["serviceId"],
    )

    assert response.responseInfo.status.code == "SCSS001"
    assert response.responseInfo.correlationId


def test_values_posted_to_the_demo_head_end_reach_the_read_api_of_their_owners(running_stand):
    # given the stand's manifest names a head-end with meters, and a read-API token per demo role
    _var, manifest = running_stand
    ami, api = manifest["ami"], manifest["api"]
    assert {"endpoint", "token", "head_end", "meters"} <= ami.keys()
    assert all({"serial", "account", "channels"} <= meter.keys() for meter in ami["meters"])
    assert set(api["tokens"]) == {"operator", "subject", "other_subject", "subscriber"}
    # when the head-end posts three quarter hours of the first meter
    meter = ami["meters"][0]
    values = ["1.5", "2.25", "3"]
    items = [{"meter": meter["serial"], "channel": meter["channels"][0], "start": f"2025-06-02T00:{15 * n:02d}:00+05:00",
              "value": value} for n, value in enumerate(values)]  # fmt: skip
    posted = httpx.post(ami["endpoint"], json={"format": "ami/1", "batchId": "stand-api-1", "intervals": items},
                        headers={"Authorization": f"Bearer {ami['token']}"}, timeout=30)  # fmt: skip
    assert posted.status_code == 200, posted.text

    def day(role: str) -> tuple[int, str]:
        answer = httpx.get(api["base"] + "aggregates", params={"start": "2025-06-02", "end": "2025-06-02",
                           "bucket": "P1D", "energy": "electricity"},
                           headers={"Authorization": f"Bearer {api['tokens'][role]}"}, timeout=30)  # fmt: skip
        assert answer.status_code == 200, answer.text
        rows = answer.json()["data"]
        return sum(r["count"] for r in rows), str(sum(Decimal(r["sum"]) for r in rows))

    # then the operator, the owning subject and the meter's subscriber read them, equal; the other subject not
    assert day("operator") == day("subject") == day("subscriber") == (3, "6.75")
    assert day("other_subject") == (0, "0")
