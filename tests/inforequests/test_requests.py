"""Information requests (ACC-16): filed by a state body, decided by the authorized body with reasons, an
approved one answered with a package built through a scope of only what was approved, for a limited time."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from egsu.access.audit import Event
from egsu.access.models import AuditEvent, Profile
from egsu.access.roles import Role
from egsu.inforequests import services
from egsu.inforequests.models import InfoRequest
from egsu_core.clock import utcnow
from tests.cabinet.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _form(world, **extra) -> dict:
    return {"organisation": "Ministry of Ecology", "what": "totals", "energy": "oil_gas",
            "subjects": [world.own.pk], "period_start": "2025-06-01", "period_end": "2025-06-03",
            "legal_basis": "Art. 11 of the Law On access to information", "purpose": "inspection", **extra}  # fmt: skip


def test_a_request_from_filing_to_download(client_for, world, django_capture_on_commit_callbacks):
    state_body, authority = client_for(Role.STATE_BODY), client_for(Role.AUTHORITY)
    response = state_body.post("/cabinet/requests/new/", _form(world))
    assert response.status_code == 302
    found = InfoRequest.objects.get()
    assert found.status == "submitted" and found.requester == world.users[Role.STATE_BODY]
    # The data operator may not decide; the authorized body must give reasons to refuse.
    assert (
        client_for(Role.OPERATOR).post(f"/cabinet/requests/{found.pk}/", {"decision": "approve"}).status_code
        == 403
    )
    assert (
        authority.post(f"/cabinet/requests/{found.pk}/", {"decision": "refuse", "reasons": ""}).status_code
        == 400
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = authority.post(
            f"/cabinet/requests/{found.pk}/", {"decision": "approve", "reasons": "competent"}
        )
    assert response.status_code == 302
    found.refresh_from_db()
    assert found.status == "ready" and found.available_until > found.decided_at + timedelta(days=13)
    # The package holds only the approved subject (own), although the store also has the other's values.
    text = state_body.get(f"/cabinet/requests/{found.pk}/package.csv")
    assert text.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(text.streaming_content).decode())))
    assert rows[0][:2] == ["Day", "Subject"] and {r[1] for r in rows[1:]} == {world.own.name}
    assert {r[0] for r in rows[1:]} == {"2025-06-01", "2025-06-02", "2025-06-03"}
    assert state_body.get(f"/cabinet/requests/{found.pk}/package.xlsx").status_code == 200
    # Nobody else downloads it, not even the authorized body; and not after its time.
    assert authority.get(f"/cabinet/requests/{found.pk}/package.csv").status_code == 403
    other = User.objects.create_user("other-body", "o@example.kz", PASSWORD)
    Profile.objects.create(user=other, role=Role.STATE_BODY)
    client = Client()
    client.force_login(other)
    assert client.get(f"/cabinet/requests/{found.pk}/package.csv").status_code == 404
    assert services.expire(now=found.available_until + timedelta(seconds=1)) == 1
    found.refresh_from_db()
    assert found.status == "expired"
    assert state_body.get(f"/cabinet/requests/{found.pk}/package.csv").status_code == 403
    events = list(
        AuditEvent.objects.filter(object_type="inforequests.inforequest").values_list("event", flat=True)
    )
    assert {Event.INFO_REQUEST_FILED, Event.INFO_REQUEST_APPROVED, Event.INFO_REQUEST_PACKAGE_BUILT,
            Event.INFO_REQUEST_DOWNLOADED} <= set(events)  # fmt: skip


def test_a_refusal_keeps_its_reasons_and_is_told(client_for, world):
    client_for(Role.STATE_BODY).post("/cabinet/requests/new/", _form(world, what="arrivals", energy=""))
    found = InfoRequest.objects.get()
    client_for(Role.AUTHORITY).post(
        f"/cabinet/requests/{found.pk}/", {"decision": "refuse", "reasons": "outside competence"}
    )
    found.refresh_from_db()
    assert (found.status, found.reasons) == ("refused", "outside competence")
    assert AuditEvent.objects.filter(event=Event.INFO_REQUEST_REFUSED, object_id=str(found.pk)).exists()


@pytest.mark.parametrize(
    ("change", "error"),
    [({"period_end": "2025-05-01"}, "before the start"), ({"legal_basis": "  "}, "required"),
     ({"energy": ""}, "energy")],
    ids=["reversed-period", "no-legal-basis", "totals-without-energy"],
)  # fmt: skip
def test_a_bad_request_is_refused_with_a_reason(client_for, world, change, error):
    response = client_for(Role.STATE_BODY).post("/cabinet/requests/new/", _form(world, **change))
    assert response.status_code == 400 and error in response.content.decode()
    assert not InfoRequest.objects.exists()


def test_the_package_scope_is_only_what_was_approved(world):
    found = InfoRequest.objects.create(requester=world.users[Role.STATE_BODY], organisation="x", what="totals",
                                       energy="oil_gas", period_start=date(2025, 6, 1), period_end=date(2025, 6, 2),
                                       legal_basis="law", filed_at=utcnow())  # fmt: skip
    found.subjects.set([world.own])
    from egsu.access.scope import approved_scope

    scope = approved_scope(found)
    assert scope.subject_bins == frozenset({world.own.bin}) and scope.modules == frozenset({"oil_gas"})
    assert not scope.all_subjects and not scope.can_edit
