"""Small factories for registry tests: valid by default, each field overridable."""

from __future__ import annotations

import itertools

from egsu.registry.bin import make_bin
from egsu.registry.models import ConnectedSystem, Device, Facility, Pipeline, ProductType, Service, Subject

_numbers = itertools.count(1)


def next_bin() -> str:
    """A fresh valid BIN (skipping the rare prefixes that admit no check digit)."""
    while True:
        prefix = f"2405400{next(_numbers):04d}"
        try:
            return make_bin(prefix)
        except ValueError:
            continue


def make_subject(**fields) -> Subject:
    fields.setdefault("bin", next_bin())
    fields.setdefault("name", f"Subject {fields['bin']}")
    return Subject.objects.create(**fields)


def make_facility(
    object_id: str | None = None, kind: str = "1.3", subject: Subject | None = None, **fields
) -> Facility:
    return Facility.objects.create(
        object_id=object_id or f"F{next(_numbers)}",
        kind=kind,
        subject=subject or make_subject(),
        name=fields.pop("name", "Test facility"),
        **fields,
    )


def make_product_type(code: int = 1, name: str = "Crude oil") -> ProductType:
    return ProductType.objects.get_or_create(id=code, defaults={"name": name})[0]


def make_pipeline(code: int = 3, name: str = "Trunk pipeline") -> Pipeline:
    return Pipeline.objects.get_or_create(id=code, defaults={"name": name})[0]


def make_device(
    facility: Facility, device_id: str = "1", device_type_id: int = 2, operations=(), **fields
) -> Device:
    device = Device.objects.create(
        facility=facility, device_id=device_id, device_type_id=device_type_id, **fields
    )
    if operations:
        device.allowed_operations.set(operations)
    return device


def make_system(
    sender_id: str = "client-1",
    password: str = "s3cret-Password",
    subject: Subject | None = None,
    services=("ISUN_Service2",),
    **fields,
) -> ConnectedSystem:
    system = ConnectedSystem(sender_id=sender_id, subject=subject or make_subject(), **fields)
    system.set_password(password)
    system.save()
    system.services.set(Service.objects.filter(service_id__in=services))
    return system
