"""Factories for the ISUN tests: a registry with one facility per table, and the real example."""

from __future__ import annotations

from datetime import datetime

import pytest
from lxml import etree

from egsu_core.clock import ASTANA
from egsu_core.isun.registry_view import DeviceInfo, DictRegistry, FacilityInfo
from egsu_core.isun.samples import sample_facility
from egsu_core.isun.tables import TABLES
from tests.conftest import shared_path

SENDER = "123456789012"
OTHER_SENDER = "210987654321"
NOW = datetime(2024, 6, 10, 12, 0, tzinfo=ASTANA)  # after the switch to UTC+5
REAL_REQUEST = ("shep", "examples", "isun-sendmessage-request-unsigned.redacted.xml")
REAL_RESPONSE = ("shep", "examples", "isun-sendmessage-response-wss-signed-gost2004.xml")


def object_for(kind: str) -> str:
    return "OBJ" + kind.replace(".", "")


def device_for(kind: str) -> str:
    return "D" + kind.replace(".", "")


def kinds_registry() -> DictRegistry:
    """One facility per table (object OBJ11 … OBJ19), each with one device (D11 … D19) of SENDER."""
    facilities = {
        object_for(kind): sample_facility(kind, object_for(kind), device_for(kind), subject_bin=SENDER)
        for kind in TABLES
    }
    return DictRegistry(facilities=facilities, product_types={1, 2}, pipelines={3, 4})


def real_registry() -> DictRegistry:
    """The registry the real example was sent against (shep-notes §4)."""
    flow = DeviceInfo(
        device_id="1",
        device_type_id=2,
        product_type_id=1,
        pipeline_id=3,
        commercial=True,
        allowed_operations=frozenset({3}),
    )
    tank = DeviceInfo(device_id="2", device_type_id=1, product_type_id=1, pipeline_id=None, commercial=False)
    facilities = {}
    for number in range(1, 10):
        object_id = f"40700{number}"
        kind, device = ("1.3", flow) if number <= 3 else ("1.2", tank)
        facilities[object_id] = FacilityInfo(
            object_id=object_id, kind=kind, subject_bin=SENDER, devices={device.device_id: device}
        )
    return DictRegistry(facilities=facilities, product_types={1}, pipelines={3})


def real_data() -> etree._Element:
    tree = etree.parse(str(shared_path(*REAL_REQUEST)))
    return tree.xpath("//*[local-name()='data']")[0]


@pytest.fixture
def registry() -> DictRegistry:
    return kinds_registry()
