"""Every registry change is audited with before and after (egsu/registry/audit.py → egsu/access/audit.py):
admin edits and deletions, connected-system passwords, workbook imports, meter registration and
head-end tokens. Secrets never reach the log."""

from __future__ import annotations

import csv

import pytest
from django.contrib.auth import get_user_model

from egsu.access.models import AuditEvent
from egsu.registry.demo import load_demo_registry
from egsu.registry.models import ConnectedSystem, Subject
from egsu.registry.workbook import export_workbook, import_workbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.kz", "Root-password-1")
    client.force_login(user)
    return client


def _system_form(system, **changes) -> dict:
    data = {
        "sender_id": system.sender_id, "new_password": "", "subject": system.subject_id,
        "services": [s.pk for s in system.services.all()], "contour": system.contour, "active": "on",
        "require_transport_signature": "on", "require_business_signature": "",
        "allowed_policy_oids": system.allowed_policy_oids, "allowed_eku_oids": system.allowed_eku_oids,
    }  # fmt: skip
    data.update(changes)
    return data


def test_an_admin_edit_of_a_connected_system_is_audited_with_before_and_after(admin_client):
    load_demo_registry(password="Demo-password-1")
    system = ConnectedSystem.objects.get()
    response = admin_client.post(
        f"/admin/registry/connectedsystem/{system.pk}/change/",
        _system_form(
            system,
            contour="production",
            allowed_eku_oids="1.2.398.3.3.4.1.2.1",
            new_password="New-password-2",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    changed = AuditEvent.objects.get(event="registry.changed", object_type="registry.connectedsystem")
    assert changed.actor_name == "root" and changed.source == "admin"
    assert changed.before == {"allowed_eku_oids": "", "contour": "test", "password_hash": "(set)"} or (
        changed.before["contour"] == "test" and changed.after["contour"] == "production"
    )
    assert changed.after["allowed_eku_oids"] == "1.2.398.3.3.4.1.2.1"
    assert "New-password-2" not in str(changed.before) + str(changed.after)
    password = AuditEvent.objects.get(event="registry.system_password_changed")
    assert password.object_id == str(system.pk) and password.before is None and password.after is None


def test_an_admin_deletion_is_audited(admin_client):
    subject = Subject.objects.create(bin="240540000447", name="Gone LLP", short_name="Gone", region="Almaty")
    response = admin_client.post(f"/admin/registry/subject/{subject.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    deleted = AuditEvent.objects.get(event="registry.deleted")
    assert deleted.before["bin"] == "240540000447" and deleted.after is None


def _edit_csv(path, **changes) -> None:
    """Change the first data row of an exported sheet."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0].update(changes)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_a_workbook_import_audits_itself_and_every_changed_row(tmp_path):
    load_demo_registry(password="Demo-password-1")
    export_workbook(tmp_path / "csv")
    _edit_csv(tmp_path / "csv" / "subjects.csv", name="Renamed LLP")
    _edit_csv(tmp_path / "csv" / "connected_systems.csv", password="Other-password-3")
    report = import_workbook(tmp_path / "csv")
    assert report.errors == []
    assert AuditEvent.objects.filter(event="registry.imported").count() == 1
    change = AuditEvent.objects.get(event="registry.changed", object_type="registry.subject")
    assert change.before["name"] != "Renamed LLP" and change.after == {"name": "Renamed LLP"}
    assert AuditEvent.objects.filter(event="registry.system_password_changed").count() == 1
    assert not AuditEvent.objects.filter(summary__contains="Other-password-3").exists()


def test_meter_registration_and_head_end_tokens_are_audited():
    from egsu.ami import services
    from egsu.ami.models import Meter

    load_demo_registry(password="Demo-password-1")
    subject = Subject.objects.first()
    head_end, token = services.create_head_end("he-audit", subject)
    first = head_end.token_prefix
    services.rotate_token(head_end, source="test")
    rotated = AuditEvent.objects.get(event="registry.head_end_token_changed")
    assert rotated.before == {"token_prefix": first} and rotated.after == {
        "token_prefix": head_end.token_prefix
    }
    assert token not in str(AuditEvent.objects.values_list("before", "after", "summary"))
    assert AuditEvent.objects.filter(event="registry.created", object_type="ami.headendsystem").exists()
    from egsu.ami.models import MeteringObject

    point = MeteringObject.objects.create(code="TP-A", kind="transformer_point", name="TP A", region="Astana")
    meter = Meter(
        subject=subject, metering_object=point, energy="electricity", meter_type="1P", model="M1",
        serial_number="AUD-0001",
    )  # fmt: skip
    services.register_meters([meter], ["A+"], source="test")
    registered = AuditEvent.objects.get(event="registry.meter_registered")
    assert registered.after["serial_numbers"] == ["AUD-0001"]
