"""The metrology page of a metering point and the obligated objects page, through the cabinet."""

from __future__ import annotations

import io
from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from egsu.access.roles import Role
from egsu.points.models import MeteringPoint
from egsu.schemes.models import Document, Failure, ObligatedObject, Verification
from egsu.schemes.services import today


def test_a_subject_keeps_its_device_papers_on_the_point_page(world, client_for):
    point = MeteringPoint.objects.get(device=world.own_device)
    client = client_for(Role.SUBJECT)
    url = f"/cabinet/schemes/point/{point.pk}/"
    day = today()
    client.post(url, {"what": "metrology", "type_register_no": "KZ.02.03.777-2022", "method_ref": "MVI 8.587",
                      "stated_error": "±0.25 %"})  # fmt: skip
    client.post(url, {"what": "document", "kind": "passport",
                      "file": SimpleUploadedFile("passport.pdf", b"%PDF-1.4 passport", "application/pdf")})  # fmt: skip
    client.post(url, {"what": "verification", "verified_on": (day - timedelta(days=10)).isoformat(),
                      "valid_until": (day + timedelta(days=355)).isoformat(), "certificate_no": "VC-77",
                      "certificate_file": SimpleUploadedFile("vc.pdf", b"%PDF-1.4 vc", "application/pdf")})  # fmt: skip
    client.post(url, {"what": "failure", "failed_on": day.isoformat(), "note": "display dead"})
    other = MeteringPoint.objects.get(device=world.other_device)
    # another subject's device is not in this subject's scope: no replacement by it
    client.post(url, {"what": "replacement", "replacement": f"{other.object_code}/{other.store_device_id}",
                      "replaced_on": day.isoformat()})  # fmt: skip
    assert Failure.objects.get(point=point).replaced_on is None
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "KZ.02.03.777-2022" in text and "VC-77" in text and "passport.pdf" in text
    assert (
        Document.objects.filter(point=point).count() == 2
        and Verification.objects.filter(point=point).exists()
    )
    document = Document.objects.get(point=point, kind="passport")
    download = client.get(f"/cabinet/schemes/document/{document.pk}/")
    assert download.content == b"%PDF-1.4 passport" and download["X-Content-SHA256"] == document.sha256
    # the other subject's point and documents are not found
    assert client.get(f"/cabinet/schemes/point/{other.pk}/").status_code == 404


def test_the_operator_imports_the_order_357_list(world, client_for):
    book = Workbook()
    book.active.append(["BIN", "Object code", "Object name", "Deadline"])
    book.active.append([world.own.bin, "OBJ-1", "Gathering point", date(2021, 6, 30)])
    data = io.BytesIO()
    book.save(data)
    operator = client_for(Role.OPERATOR)
    operator.post(
        "/cabinet/schemes/obligations/", {"workbook": SimpleUploadedFile("list.xlsx", data.getvalue())}
    )
    assert ObligatedObject.objects.filter(object_code="OBJ-1").exists()
    page = client_for(Role.SUBJECT).get("/cabinet/schemes/obligations/")
    assert page.status_code == 200 and "OBJ-1" in page.content.decode()
    assert client_for(Role.SUBJECT).post("/cabinet/schemes/obligations/", {}).status_code == 403


def test_a_device_past_its_verification_is_flagged_in_the_arrivals(world, client_for):
    from egsu.access.scope import scope_for
    from egsu.schemes import registers

    for device in (world.own_device, world.other_device):  # installed: they owe data in the period
        device.installed_at = date(2025, 6, 1)
        device.save(update_fields=["installed_at"])
    point = MeteringPoint.objects.get(device=world.own_device)
    subject = world.users[Role.SUBJECT]
    day = today()
    registers.record_verification(scope_for(subject), subject, point, verified_on=day - timedelta(days=400),
                                  valid_until=day - timedelta(days=2), certificate_no="VC-1")  # fmt: skip
    page = client_for(Role.SUBJECT).get(
        f"/cabinet/monitoring/subjects/{world.own.bin}/", {"start": "2025-06-01", "end": "2025-06-03"}
    )
    assert page.status_code == 200
    assert page.content.decode().count("verification-overdue") == 1


def test_the_scheme_editor_lists_every_bad_line_and_keeps_the_text(world, client_for, approved_types):
    from egsu.access.scope import scope_for
    from egsu.schemes import services

    subject = world.users[Role.SUBJECT]
    version = services.create_scheme(scope_for(subject), subject, world.own_facility)
    client = client_for(Role.SUBJECT)
    page = client.post(f"/cabinet/schemes/v/{version.pk}/save/",
                       {"nodes": "W1; well; W\nX1; volcano; X", "flows": "W1; Z9; gas; output"})  # fmt: skip
    text = page.content.decode()
    assert page.status_code == 200 and "nodes:2" in text and "volcano" in text and "flows:1" in text
    # a wrong key store password is told, nothing changes
    page = client.post(f"/cabinet/schemes/v/{version.pk}/step/submit/",
                       {"key_store": SimpleUploadedFile("k.p12", b"not a key store"), "password": "x"}, follow=True)  # fmt: skip
    assert page.status_code == 200 and "version-status" in page.content.decode()
    version.refresh_from_db()
    assert version.status == "draft"
    # nobody else's facility: the reviewer cannot draw, a stranger's version is not found
    assert (
        client_for(Role.AUTHORITY)
        .post("/cabinet/schemes/new/", {"facility": world.own_facility.pk})
        .status_code
        == 403
    )
    assert client_for(Role.STATE_BODY).get(f"/cabinet/schemes/v/{version.pk}/").status_code in (403, 404)
