"""A registry object as a workbook row (column name → value), shared by export and import.

Import compares these rows with what a workbook asks for, so an unchanged registry
re-imports as "unchanged" and an export re-imports as itself.
"""

from __future__ import annotations

from egsu.registry.models import ConnectedSystem, Device, Facility, Pipeline, ProductType, Subject
from egsu.registry.models.systems import oid_list


def product_type_row(obj: ProductType) -> dict:
    return {"id": obj.id, "name": obj.name, "active": obj.active}


def pipeline_row(obj: Pipeline) -> dict:
    return {"id": obj.id, "name": obj.name, "active": obj.active}


def subject_row(obj: Subject) -> dict:
    return {
        "bin": obj.bin,
        "name": obj.name,
        "short_name": obj.short_name,
        "region": obj.region,
        "address": obj.address,
        "email": obj.email,
        "phone": obj.phone,
        "active": obj.active,
    }


def facility_row(obj: Facility) -> dict:
    """Needs ``subject`` loaded (select_related) to avoid a query per row."""
    return {
        "object_id": obj.object_id,
        "kind": obj.kind,
        "subject_bin": obj.subject.bin,
        "name": obj.name,
        "region": obj.region,
        "active": obj.active,
    }


def device_row(obj: Device) -> dict:
    """Needs ``facility`` selected and ``allowed_operations`` prefetched."""
    return {
        "object_id": obj.facility.object_id,
        "device_id": obj.device_id,
        "device_type_id": obj.device_type_id,
        "product_type_id": obj.product_type_id,
        "pipeline_id": obj.pipeline_id,
        "commercial": obj.commercial,
        "serial_number": obj.serial_number,
        "model": obj.model_name,
        "allowed_operations": sorted(op.id for op in obj.allowed_operations.all()),
        "installed_at": obj.installed_at,
        "removed_at": obj.removed_at,
        "active": obj.active,
    }


def connected_system_row(obj: ConnectedSystem) -> dict:
    """Needs ``subject`` selected and ``services`` prefetched; the password never leaves the database."""
    return {
        "sender_id": obj.sender_id,
        "subject_bin": obj.subject.bin,
        "services": sorted(service.service_id for service in obj.services.all()),
        "contour": obj.contour,
        "active": obj.active,
        "require_business_signature": obj.require_business_signature,
        "allowed_policy_oids": oid_list(obj.allowed_policy_oids),
        "allowed_eku_oids": oid_list(obj.allowed_eku_oids),
    }


def product_types():
    return ProductType.objects.order_by("id")


def pipelines():
    return Pipeline.objects.order_by("id")


def subjects():
    return Subject.objects.order_by("bin")


def facilities():
    return Facility.objects.select_related("subject").order_by("object_id")


def devices():
    return (
        Device.objects.select_related("facility")
        .prefetch_related("allowed_operations")
        .order_by("facility__object_id", "device_id")
    )


def connected_systems():
    return (
        ConnectedSystem.objects.select_related("subject").prefetch_related("services").order_by("sender_id")
    )


# sheet name → (queryset factory, row function)
SOURCES = {
    "product_types": (product_types, product_type_row),
    "pipelines": (pipelines, pipeline_row),
    "subjects": (subjects, subject_row),
    "facilities": (facilities, facility_row),
    "devices": (devices, device_row),
    "connected_systems": (connected_systems, connected_system_row),
}
