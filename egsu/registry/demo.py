"""A demo registry for `make demo`, integrators and end-to-end tests, plus the manifest that describes it.

Idempotent: running it again updates the same objects. The connected system's password is
only ever known at creation, so a run without an explicit password rotates it to a new
random one, and the manifest written afterwards is always right.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from django.db import transaction

from egsu.registry.bin import make_bin
from egsu.registry.models import (
    ConnectedSystem,
    Contour,
    Device,
    Facility,
    Pipeline,
    ProductType,
    Service,
    Subject,
)
from egsu.registry.rules import operations_for_kind
from egsu.registry.services import load_dictionaries

DEMO_SERVICE_ID = "ISUN_Service2"
DEMO_SENDER_ID = "demo-isun"

PRODUCT_TYPES = {1: "Crude oil", 2: "Gas condensate", 3: "Raw gas", 4: "Commodity gas"}
PIPELINES = {1: "Uzen - Atyrau - Samara", 2: "Kenkiyak - Kumkol", 3: "Atasu - Alashankou"}

# (BIN prefix, name, short name, region); the first owns what the demo system sends.
SUBJECTS = [
    ("24054000011", "Demo Munai LLP", "Demo Munai", "Atyrau region"),
    ("24054000022", "Demo Gas Processing JSC", "Demo Gas", "Mangystau region"),
    ("24054000033", "Demo Transport LLP", "Demo Transport", "Aktobe region"),
]

# Kind → (preparation/storage device type, acceptance/delivery device type, product).
_KIND_DEVICES = {
    "1.1": (1, 2, 1),
    "1.2": (1, 2, 2),
    "1.3": (1, 2, 1),
    "1.4": (10, 11, 3),
    "1.5": (10, 11, 3),
    "1.6": (10, 11, 3),
    "1.7": (10, 11, 3),
    "1.8": (10, 11, 4),
    "1.9": (10, 11, 4),
}
KINDS = tuple(_KIND_DEVICES)


def _facility_plan() -> list[dict]:
    """Every facility of the demo: owner index, object ID, kind, name, devices."""
    plan: list[dict] = []
    # The real client's objects (shared/shep/examples): flow meters on 1.3, tanks on 1.2, all of subject 0.
    for number in range(407001, 407004):
        plan.append(
            {
                "owner": 0,
                "object_id": str(number),
                "kind": "1.3",
                "name": f"Oil metering station {number}",
                "devices": [
                    {"device_id": "1", "type": 2, "product": 1, "pipeline": 3, "ops": [3], "commercial": True}
                ],
            }
        )
    for number in range(407004, 407010):
        plan.append(
            {
                "owner": 0,
                "object_id": str(number),
                "kind": "1.2",
                "name": f"Crude oil tank {number}",
                "devices": [
                    {
                        "device_id": "2",
                        "type": 1,
                        "product": 1,
                        "pipeline": None,
                        "ops": [7],
                        "commercial": False,
                    }
                ],
            }
        )
    # One facility of every kind for the sender's subject, and one of every kind for each other subject.
    for owner in range(len(SUBJECTS)):
        for index, kind in enumerate(KINDS, start=1):
            storage_type, delivery_type, product = _KIND_DEVICES[kind]
            ops = sorted(operations_for_kind(kind))
            pipeline = 1 if kind == "1.3" else None
            plan.append(
                {
                    "owner": owner,
                    "object_id": f"{9 - owner}{index:02d}001",
                    "kind": kind,
                    "name": f"{SUBJECTS[owner][2]} facility of kind {kind}",
                    "devices": [
                        {
                            "device_id": "1",
                            "type": storage_type,
                            "product": product,
                            "pipeline": pipeline,
                            "ops": ops,
                            "commercial": False,
                        },
                        {
                            "device_id": "2",
                            "type": delivery_type,
                            "product": product,
                            "pipeline": pipeline,
                            "ops": ops,
                            "commercial": True,
                        },
                    ],
                }
            )
    return plan


def _serial(object_id: str, device_id: str) -> str:
    return f"DEMO-{object_id}-{device_id.zfill(2)}"


@transaction.atomic
def load_demo_registry(*, password: str | None = None) -> dict:
    """Create or refresh the demo registry and return its manifest (without endpoint and wsdl)."""
    load_dictionaries()
    for code, name in PRODUCT_TYPES.items():
        ProductType.objects.update_or_create(id=code, defaults={"name": name, "active": True})
    for code, name in PIPELINES.items():
        Pipeline.objects.update_or_create(id=code, defaults={"name": name, "active": True})

    subjects = []
    for prefix, name, short_name, region in SUBJECTS:
        subject, _ = Subject.objects.update_or_create(
            bin=make_bin(prefix),
            defaults={
                "name": name,
                "short_name": short_name,
                "region": region,
                "email": f"metering@{short_name.lower().replace(' ', '-')}.example.kz",
                "active": True,
            },
        )
        subjects.append(subject)

    plan = _facility_plan()
    for entry in plan:
        facility, _ = Facility.objects.update_or_create(
            object_id=entry["object_id"],
            defaults={
                "kind": entry["kind"],
                "subject": subjects[entry["owner"]],
                "name": entry["name"],
                "region": SUBJECTS[entry["owner"]][3],
                "active": True,
            },
        )
        for spec in entry["devices"]:
            device, _ = Device.objects.update_or_create(
                facility=facility,
                device_id=spec["device_id"],
                defaults={
                    "device_type_id": spec["type"],
                    "product_type_id": spec["product"],
                    "pipeline_id": spec["pipeline"],
                    "commercial": spec["commercial"],
                    "serial_number": _serial(entry["object_id"], spec["device_id"]),
                    "model_name": "Demo flow meter" if spec["type"] in (2, 11) else "Demo level gauge",
                    "active": True,
                    "removed_at": None,
                },
            )
            device.allowed_operations.set(spec["ops"])

    password = password or secrets.token_urlsafe(18)
    system, _ = ConnectedSystem.objects.get_or_create(
        sender_id=DEMO_SENDER_ID, defaults={"subject": subjects[0], "password_hash": ""}
    )
    system.subject = subjects[0]
    system.contour = Contour.TEST
    system.active = True
    system.require_business_signature = False  # the demo sends unsigned messages
    system.set_password(password)
    system.save()
    system.services.set(Service.objects.filter(service_id=DEMO_SERVICE_ID))

    return {
        "serviceId": DEMO_SERVICE_ID,
        "senderId": DEMO_SENDER_ID,
        "password": password,
        "subjects": [{"bin": s.bin, "name": s.name} for s in subjects],
        # The sender may send for every facility listed here …
        "facilities": [_manifest_facility(e, subjects) for e in plan if e["owner"] == 0],
        # … and for none of these (other subjects'): useful to test the ownership rule.
        "foreignFacilities": [_manifest_facility(e, subjects) for e in plan if e["owner"] != 0],
    }


def _manifest_facility(entry: dict, subjects: list[Subject]) -> dict:
    devices = []
    for spec in entry["devices"]:
        device = {
            "deviceNameId": spec["device_id"],
            "deviceTypeId": spec["type"],
            "productTypeId": spec["product"],
        }
        if spec["pipeline"] is not None:
            device["pipelineId"] = spec["pipeline"]
        device["operationTypeId"] = list(spec["ops"])
        device["commercial"] = spec["commercial"]
        device["serialNumber"] = _serial(entry["object_id"], spec["device_id"])
        devices.append(device)
    return {
        "id": entry["object_id"],
        "kind": entry["kind"],
        "subject_bin": subjects[entry["owner"]].bin,
        "name": entry["name"],
        "devices": devices,
    }


def write_manifest(path: str | Path, manifest: dict) -> Path:
    """Write the manifest as UTF-8 JSON readable only by its owner (0600): it holds a password."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # also when the file already existed with wider rights
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
    return path
