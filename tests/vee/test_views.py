"""The findings page (filterable, scoped like every list) and the findings on the metering point page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from egsu.access.roles import Role
from egsu.points.models import MeteringPoint
from egsu.vee import services
from tests.vee.conftest import DAY


@pytest.fixture
def judged(meter):
    services.run_window(DAY, DAY + timedelta(days=2), now=DAY + timedelta(days=2, hours=3))
    return meter


@pytest.mark.parametrize("role, status, sees", [
    ("anonymous", 302, False), ("no-role", 403, False), (Role.SUBSCRIBER, 200, False),
    (Role.STATE_BODY, 403, False), (Role.SUBJECT, 200, True), (Role.OPERATOR, 200, True),
])  # fmt: skip
def test_findings_page_per_role(judged, client_for, role, status, sees):
    response = client_for(role).get("/cabinet/quality/")
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert ("reg:A+" in page) is sees
        assert ("Quality score per subject and day" in page) is sees


def test_findings_filter_by_rule_and_the_point_page_lists_them(judged, client_for):
    client = client_for(Role.OPERATOR)
    page = client.get("/cabinet/quality/", {"rule": "negative"}).content.decode()
    assert "<td>Negative consumption</td>" in page and "reg:A+" not in page
    assert "1 finding" in page
    point = MeteringPoint.objects.get(meter=judged)
    detail = client.get(f"/cabinet/points/{point.pk}/").content.decode()
    assert "Data quality findings" in detail and "4 findings in all" in detail
    assert f"/cabinet/quality/?point={point.pk}" in detail
    only = client.get("/cabinet/quality/", {"point": point.pk, "rule": "gap"}).content.decode()
    assert "2 findings" in only


def test_the_overview_shows_the_newest_quality_score(judged, client_for):
    page = client_for(Role.SUBJECT).get("/cabinet/").content.decode()
    assert 'id="quality-title"' in page and "quality score on" in page
    assert 'id="quality-title"' not in client_for(Role.SUBSCRIBER).get("/cabinet/").content.decode()


def test_the_subjects_arrivals_page_shows_its_quality_score(judged, world, client_for):
    page = client_for(Role.OPERATOR).get(
        f"/cabinet/monitoring/subjects/{world.own.bin}/", {"start": "2025-06-02", "end": "2025-06-02"}
    )
    assert page.status_code == 200
    assert "80.99" not in page.content.decode()  # one decimal on screen
    assert "81.0 %" in page.content.decode() and f"subject={world.own.bin}" in page.content.decode()
