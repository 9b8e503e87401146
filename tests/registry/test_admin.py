"""Registry admin: every changelist renders; forms enforce the rules and never show a password."""

from __future__ import annotations

import pytest
from django.urls import reverse

from egsu.registry.demo import load_demo_registry
from egsu.registry.models import ConnectedSystem, Device, OperationType, Service
from tests.registry.factories import make_device, make_facility, make_subject

pytestmark = pytest.mark.django_db

MODELS = [
    "subject",
    "facility",
    "device",
    "devicetype",
    "operationtype",
    "producttype",
    "pipeline",
    "service",
    "connectedsystem",
]


@pytest.mark.parametrize("model", MODELS)
def test_changelist_renders(admin_client, model):
    load_demo_registry(password="Demo-password-1")
    response = admin_client.get(reverse(f"admin:registry_{model}_changelist"), {"q": "1"})
    assert response.status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_change_form_renders(admin_client, model):
    load_demo_registry(password="Demo-password-1")
    from django.apps import apps

    obj = apps.get_model("registry", model).objects.first()
    response = admin_client.get(reverse(f"admin:registry_{model}_change", args=[obj.pk]))
    assert response.status_code == 200
    assert b"Demo-password-1" not in response.content
    assert b"pbkdf2" not in response.content


@pytest.mark.parametrize("model", ["devicetype", "operationtype"])
def test_fixed_dictionaries_cannot_be_added(admin_client, model):
    assert admin_client.get(reverse(f"admin:registry_{model}_add")).status_code == 403


def test_new_connected_system_gets_a_hashed_password(admin_client):
    subject = make_subject()
    service = Service.objects.get(service_id="ISUN_Service2")
    response = admin_client.post(
        reverse("admin:registry_connectedsystem_add"),
        {
            "sender_id": "new-client",
            "new_password": "Clear-Pass-123",
            "subject": subject.pk,
            "services": [service.pk],
            "contour": "test",
            "active": "on",
        },
    )
    assert response.status_code == 302
    system = ConnectedSystem.objects.get(sender_id="new-client")
    assert system.check_password("Clear-Pass-123")
    assert system.require_business_signature is False  # an unticked checkbox
    assert "Clear-Pass-123" not in system.password_hash


def test_connected_system_needs_a_password_when_created(admin_client):
    response = admin_client.post(
        reverse("admin:registry_connectedsystem_add"),
        {"sender_id": "new-client", "subject": make_subject().pk, "contour": "test"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "new_password": ["A new connected system needs a password."]
    }


def test_device_form_refuses_operations_of_another_kind(admin_client):
    device = make_device(make_facility("407004", kind="1.2"), "2", device_type_id=1)
    response = admin_client.post(
        reverse("admin:registry_device_change", args=[device.pk]),
        {
            "facility": device.facility_id,
            "device_id": "2",
            "device_type": 1,
            "allowed_operations": [OperationType.objects.get(id=3).pk, 7],
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "allowed_operations": ["operation type(s) 3 not allowed on a facility of kind 1.2 (allowed: 7)"]
    }
    assert list(Device.objects.get().allowed_operations.all()) == []
