"""The demo registry and its manifest (issue 2, `make demo`)."""

from __future__ import annotations

import json
import stat

import pytest

from egsu.registry import rules
from egsu.registry.bin import is_valid_bin
from egsu.registry.demo import load_demo_registry, write_manifest
from egsu.registry.models import ConnectedSystem, Device, Facility, Subject
from egsu.registry.services import authenticate_sender, system_may_call
from egsu.registry.snapshot import DjangoRegistryView

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int, int]:
    return (
        Subject.objects.count(),
        Facility.objects.count(),
        Device.objects.count(),
        ConnectedSystem.objects.count(),
    )


def test_manifest_names_every_key_the_issue_asks_for():
    manifest = load_demo_registry(password="Demo-password-1")
    assert {"serviceId", "senderId", "password", "subjects", "facilities"} <= manifest.keys()
    assert (manifest["serviceId"], manifest["senderId"], manifest["password"]) == (
        "ISUN_Service2",
        "demo-isun",
        "Demo-password-1",
    )
    assert len(manifest["subjects"]) >= 3
    assert all(
        subject.keys() == {"bin", "name"} and is_valid_bin(subject["bin"]) for subject in manifest["subjects"]
    )
    for facility in manifest["facilities"]:
        assert {"id", "kind", "subject_bin", "devices"} <= facility.keys()
        for device in facility["devices"]:
            assert {"deviceNameId", "deviceTypeId", "productTypeId", "operationTypeId"} <= device.keys()
            assert ("pipelineId" in device) is (facility["kind"] == "1.3")
            assert device["operationTypeId"] and set(device["operationTypeId"]) <= rules.operations_for_kind(
                facility["kind"]
            )
            assert device["deviceTypeId"] in rules.device_types_for_kind(facility["kind"])


def test_sender_covers_all_nine_kinds_and_the_real_client_objects():
    manifest = load_demo_registry()
    by_id = {facility["id"]: facility for facility in manifest["facilities"]}
    assert {facility["kind"] for facility in manifest["facilities"]} == {f"1.{n}" for n in range(1, 10)}
    assert by_id["407001"]["devices"] == [
        {
            "deviceNameId": "1",
            "deviceTypeId": 2,
            "productTypeId": 1,
            "pipelineId": 3,
            "operationTypeId": [3],
            "commercial": True,
            "serialNumber": "DEMO-407001-01",
        }
    ]
    assert by_id["407009"]["kind"] == "1.2"
    assert by_id["407009"]["devices"][0] | {"serialNumber": ""} == {
        "deviceNameId": "2",
        "deviceTypeId": 1,
        "productTypeId": 1,
        "operationTypeId": [7],
        "commercial": False,
        "serialNumber": "",
    }


def test_sender_may_send_for_every_listed_facility_and_none_of_the_foreign_ones():
    manifest = load_demo_registry()
    system = authenticate_sender(manifest["senderId"], manifest["password"])
    assert system is not None and system.require_business_signature is False and system.contour == "test"
    assert system_may_call(system, manifest["serviceId"])
    view = DjangoRegistryView()
    assert {view.facility(f["id"]).subject_bin for f in manifest["facilities"]} == {system.subject.bin}
    assert manifest["foreignFacilities"]
    assert system.subject.bin not in {
        view.facility(f["id"]).subject_bin for f in manifest["foreignFacilities"]
    }


def test_every_demo_device_passes_the_model_rules():
    load_demo_registry()
    for device in Device.objects.select_related("facility"):
        device.full_clean()


def test_loading_twice_is_idempotent_and_rotates_the_password():
    first = load_demo_registry()
    before = counts()
    second = load_demo_registry()
    assert counts() == before
    assert first["password"] != second["password"]
    assert first | {"password": ""} == second | {"password": ""}
    assert authenticate_sender("demo-isun", first["password"]) is None
    assert authenticate_sender("demo-isun", second["password"]) is not None


def test_a_given_password_is_kept():
    load_demo_registry()
    load_demo_registry(password="Chosen-password-2")
    assert ConnectedSystem.objects.get(sender_id="demo-isun").check_password("Chosen-password-2")


def test_manifest_file_is_private_json(tmp_path):
    path = tmp_path / "demo" / "stand.json"
    path.parent.mkdir()
    path.write_text("{}")
    path.chmod(0o644)
    manifest = {
        "senderId": "demo-isun",
        "password": "p",
        "subjects": [{"bin": "020240000555", "name": "Қазақ"}],
    }
    write_manifest(path, manifest)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text(encoding="utf-8")) == manifest
    assert "Қазақ" in path.read_text(encoding="utf-8")
