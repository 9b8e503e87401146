"""The arrivals pages: authorization matrix (every role × own/other subject) and what they show."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from egsu.access.models import Profile
from egsu.access.roles import Module, Role
from egsu.monitoring.ledger import record_verdicts
from egsu.monitoring.models import Arrival, SubjectDay
from tests.cabinet.conftest import ROLES
from tests.monitoring.conftest import accepted

PERIOD = "?start=2025-06-01&end=2025-06-03"
ALLOWED_SUMMARY = {Role.AUTHORITY: 200, Role.OPERATOR: 200, Role.SUBJECT: 302}
ALLOWED_SUBJECT = {Role.AUTHORITY: ("own", "other"), Role.OPERATOR: ("own", "other"), Role.SUBJECT: ("own",)}


def _refused(role) -> int:
    return 302 if role == "anonymous" else 403


@pytest.mark.parametrize("role", ROLES)
def test_the_arrivals_page_by_role(mworld, client_for, role):
    response = client_for(role).get("/cabinet/monitoring/")

    assert response.status_code == ALLOWED_SUMMARY.get(role, _refused(role))
    if role == "anonymous":
        assert response["Location"].startswith("/accounts/login/")
    if role == Role.SUBJECT:  # lands on its own page: what it still owes
        assert response["Location"] == f"/cabinet/monitoring/subjects/{mworld.own.bin}/"


@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
def test_the_subject_page_by_role_and_subject(mworld, client_for, role, whose):
    subject = mworld.own if whose == "own" else mworld.other

    response = client_for(role).get(f"/cabinet/monitoring/subjects/{subject.bin}/{PERIOD}")

    if role in ALLOWED_SUBJECT:
        assert response.status_code == (200 if whose in ALLOWED_SUBJECT[role] else 404)
    else:
        assert response.status_code == _refused(role)


@pytest.mark.parametrize("whose", ["own", "other"])
def test_a_state_body_granted_monitoring_sees_only_its_granted_subjects(mworld, client_for, whose):
    Profile.objects.filter(user=mworld.users[Role.STATE_BODY]).update(modules=[Module.MONITORING])
    subject = mworld.own if whose == "own" else mworld.other
    client = client_for(Role.STATE_BODY)

    page = client.get(f"/cabinet/monitoring/subjects/{subject.bin}/{PERIOD}")
    summary = client.get(f"/cabinet/monitoring/{PERIOD}&group=subject")

    assert page.status_code == (200 if whose == "own" else 404)
    assert summary.status_code == 200
    assert mworld.own.bin.encode() in summary.content and mworld.other.bin.encode() not in summary.content


@pytest.mark.parametrize("role", ROLES)
def test_a_post_changes_nothing(mworld, client_for, role):
    record_verdicts([accepted(mworld.own_device, "PT2H", datetime(2025, 6, 1, 5, tzinfo=UTC))], [], 1,
                    mworld.own.bin, now=datetime(2025, 6, 1, 7, tzinfo=UTC))  # fmt: skip
    before = list(Arrival.objects.values()), list(SubjectDay.objects.values())

    response = client_for(role).post("/cabinet/monitoring/", {"start": "2025-06-01"})

    assert response.status_code in {302, 403, 405}
    assert (list(Arrival.objects.values()), list(SubjectDay.objects.values())) == before


@pytest.mark.parametrize("group", ["subject", "region", "national"])
def test_the_operator_sees_completeness_per_group_with_a_chart(mworld, client_for, group):
    device = mworld.own_device
    record_verdicts([accepted(device, "PT2H", datetime(2025, 6, 1, 5, tzinfo=UTC))], [], 1, mworld.own.bin,
                    now=datetime(2025, 6, 1, 9, tzinfo=UTC))  # fmt: skip

    response = client_for(Role.OPERATOR).get(f"/cabinet/monitoring/{PERIOD}&group={group}")

    assert response.status_code == 200
    rows = {str(r.key): r for r in response.context["rows"]}
    own_key = {"subject": str(mworld.own.pk), "region": "Atyrau", "national": "None"}[group]
    assert rows[own_key].late == 1
    assert rows[own_key].expected == (3 * 13 if group != "national" else 2 * 3 * 13)
    assert b'id="completeness-data"' in response.content and b"/vendor/plotly.min.js" in response.content
    assert b'class="status late"' in response.content and b'class="status missing"' in response.content


def test_the_subject_page_lists_what_is_owed_in_astana_time(mworld, client_for):
    response = client_for(Role.SUBJECT).get(f"/cabinet/monitoring/subjects/{mworld.own.bin}/{PERIOD}")

    assert response.status_code == 200
    owed = response.context["owed"]
    assert len(owed) == 3 * 13 and {o.state for o in owed} == {"missing"}
    assert owed[0].period_start == datetime(2025, 6, 3, 17, tzinfo=UTC)  # 22:00 Astana, newest first
    assert b"2025-06-03 22:00" in response.content and b"2025-06-04 00:00" in response.content


@pytest.mark.parametrize(
    "query", ["?start=2025-06-05&end=2025-06-01", "?start=junk", "?start=2020-01-01&end=2025-01-01"],
    ids=["reversed", "not-a-date", "too-long"],
)  # fmt: skip
def test_a_bad_period_is_a_400_with_the_reason(mworld, client_for, query):
    response = client_for(Role.OPERATOR).get(f"/cabinet/monitoring/{query}")

    assert response.status_code == 400 and b'role="alert"' in response.content


def test_the_default_period_is_the_last_seven_astana_days(mworld, client_for):
    response = client_for(Role.OPERATOR).get("/cabinet/monitoring/")

    data = response.context["data"]
    assert (data["end"] - data["start"]).days == 6 and isinstance(data["start"], date)
