"""Permission matrices of the new pages: reports library, subscriptions, urgent reports, information
requests, feedback, and the public open data (anonymous, no role, every role)."""

from __future__ import annotations

from datetime import date

import pytest

from egsu.access.roles import Role
from egsu.feedback.models import Feedback
from egsu.reporting.models import Report
from egsu_core.clock import utcnow
from tests.cabinet.conftest import ROLES

pytestmark = pytest.mark.django_db
NATIONAL = {Role.AUTHORITY, Role.OPERATOR}


def _refused(response, role):
    if role == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    else:
        assert response.status_code in (403, 404)


def _report(level="national", area="", status="built") -> Report:
    return Report.objects.create(kind="arrivals", frequency="daily", level=level, area=area, area_label=area,
                                 period_start=date(2025, 6, 1), period_end=date(2025, 6, 1), status=status,
                                 figures={"sections": []}, created_at=utcnow(), built_at=utcnow())  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "url", ["/cabinet/reports/", "/cabinet/reports/subscriptions/"], ids=["library", "subs"]
)
def test_the_reports_pages(client_for, role, url):
    response = client_for(role).get(url)
    if role in {*NATIONAL, Role.SUBJECT}:  # the REPORTS module by default
        assert response.status_code == 200
    else:
        _refused(response, role)


@pytest.mark.parametrize("role", ROLES)
def test_a_national_report_only_for_national_roles_and_a_local_one_for_its_subject(client_for, world, role):
    national, local = _report(), _report("local", world.own.bin)
    other = _report("local", world.other.bin)
    client = client_for(role)
    for report, allowed in ((national, NATIONAL), (local, {*NATIONAL, Role.SUBJECT}), (other, NATIONAL)):
        for url in (f"/cabinet/reports/{report.pk}/", f"/cabinet/reports/{report.pk}/xlsx/"):
            response = client.get(url)
            if role in allowed:
                assert response.status_code == 200, (url, role)
            else:
                _refused(response, role)
    listed = client.get("/cabinet/reports/")
    if role == Role.SUBJECT:
        assert list(listed.context["page"]) == [local]


@pytest.mark.parametrize("role", ROLES)
def test_urgent_reports_only_for_editing_roles(client_for, role):
    before = Report.objects.count()
    response = client_for(role).post(
        "/cabinet/reports/urgent/", {"kind": "arrivals", "level": "national", "area": ""}
    )
    if role in NATIONAL:
        assert response.status_code == 302 and Report.objects.count() == before + 1
    else:
        _refused(response, role)
        assert Report.objects.count() == before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("url", "allowed"),
    [("/cabinet/requests/", {Role.AUTHORITY, Role.STATE_BODY}), ("/cabinet/requests/new/", {Role.STATE_BODY}),
     ("/cabinet/feedback/", NATIONAL), ("/cabinet/feedback/mine/", {*NATIONAL, Role.SUBJECT, Role.STATE_BODY,
                                                                   Role.SUBSCRIBER})],
    ids=["requests", "request-new", "feedback-register", "feedback-mine"],
)  # fmt: skip
def test_requests_and_feedback_pages(client_for, role, url, allowed):
    response = client_for(role).get(url)
    if role in allowed:
        assert response.status_code == 200
    else:
        _refused(response, role)


@pytest.mark.parametrize("role", ROLES)
def test_anyone_with_a_role_sends_feedback_from_any_page(client_for, role):
    response = client_for(role).post("/cabinet/feedback/send/", {
        "topic": "idea", "text": "A wish", "page": "/cabinet/totals/?energy=heat", "page_title": "Totals",
        "snapshot": "<html><body>seen</body></html>", "attach": "on",
    })  # fmt: skip
    if role in ("anonymous", "no-role"):
        _refused(response, role)
        assert not Feedback.objects.exists()
    else:
        assert response.status_code == 302 and response["Location"] == "/cabinet/totals/?energy=heat"
        found = Feedback.objects.get()
        assert (found.page, found.query, found.snapshot) == ("/cabinet/totals/", "energy=heat",
                                                             "<html><body>seen</body></html>")  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_open_data_answers_everyone(client_for, role):
    client = client_for(role)
    assert client.get("/open/").status_code == 200
    assert client.get("/api/open/v1/datasets").status_code == 200


def test_every_cabinet_page_carries_the_feedback_control(client_for):
    page = client_for(Role.SUBJECT).get("/cabinet/").content.decode()
    assert 'action="/cabinet/feedback/send/"' in page
