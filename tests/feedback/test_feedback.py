"""Feedback (GEN-07): answered by the operators (the author told by e-mail), counted monthly by page and topic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from egsu.access.roles import Role
from egsu.feedback import services
from egsu.feedback.models import Feedback
from egsu.feedback.tasks import monthly_summary
from egsu.mail.models import Mail

pytestmark = pytest.mark.django_db


def _send(world, role, page="/cabinet/totals/", topic="idea", at=None):
    found = services.submit(world.users[role], page=page, page_title="", query="", topic=topic, text="text")
    if at is not None:
        Feedback.objects.filter(pk=found.pk).update(created_at=at)
    return found


def test_the_operator_answers_and_the_author_is_mailed(client_for, world):
    found = _send(world, Role.SUBJECT)
    response = client_for(Role.OPERATOR).post(
        f"/cabinet/feedback/{found.pk}/", {"status": "answered", "answer": "Done."}
    )
    assert response.status_code == 302
    found.refresh_from_db()
    assert (found.status, found.answer, found.answered_by) == (
        "answered",
        "Done.",
        world.users[Role.OPERATOR],
    )
    assert Mail.objects.filter(recipient=world.users[Role.SUBJECT].email).count() == 1
    # The author sees the answer; another user cannot open it; the author cannot answer.
    author = client_for(Role.SUBJECT)
    assert "Done." in author.get("/cabinet/feedback/mine/").content.decode()
    assert client_for(Role.STATE_BODY).get(f"/cabinet/feedback/{found.pk}/").status_code == 404
    assert (
        author.post(f"/cabinet/feedback/{found.pk}/", {"status": "closed", "answer": "x"}).status_code == 403
    )
    found.refresh_from_db()
    assert found.status == "answered"


def test_the_monthly_summary_counts_by_page_and_topic(world):
    may = datetime(2025, 5, 10, 6, tzinfo=UTC)
    _send(world, Role.SUBJECT, "/cabinet/totals/", "idea", at=may)
    _send(world, Role.OPERATOR, "/cabinet/totals/", "error", at=may)
    _send(world, Role.SUBJECT, "/cabinet/readings/", "error", at=may)
    _send(
        world, Role.SUBJECT, "/cabinet/readings/", "error", at=datetime(2025, 5, 31, 19, 30, tzinfo=UTC)
    )  # 1 June in Astana
    assert monthly_summary.call(period_start="2025-06-01T00:00:00+00:00") == 3
    from egsu.feedback.models import MonthlySummary

    summary = MonthlySummary.objects.get(month="2025-05-01")
    assert summary.by_page == {"/cabinet/totals/": 2, "/cabinet/readings/": 1}
    assert summary.by_topic == {"idea": 1, "error": 2}
    assert monthly_summary.call(period_start="2025-06-02T00:00:00+00:00") == 3  # made again: the same row
    assert MonthlySummary.objects.count() == 1


def test_a_huge_snapshot_is_cut_and_says_so(world):
    found = services.submit(world.users[Role.SUBJECT], page="/cabinet/", page_title="", query="", topic="other",
                            text="t", snapshot="x" * (services.MAX_SNAPSHOT + 10))  # fmt: skip
    assert found.snapshot.endswith("snapshot limit -->") and len(found.snapshot) < services.MAX_SNAPSHOT + 100
