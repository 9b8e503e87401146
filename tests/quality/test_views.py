"""Correction pages: the flow through the browser forms, and the authorization matrix
(every page and action × every role × own/other subject; a refused change changes nothing)."""

from __future__ import annotations

from dataclasses import astuple
from decimal import Decimal

import pytest

from egsu.access.models import AuditEvent
from egsu.access.roles import Role
from egsu.quality.models import ActStatus, CorrectionAct, CorrectionLine
from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery, ReadingRow, SeriesKey
from tests.cabinet.conftest import ROLES
from tests.quality.conftest import SLOT

pytestmark = pytest.mark.django_db

PERIOD = "2025-06-01T02:00"  # Astana wall-clock time of the second slot (volume 101 / 501)
OBJECT = {"own": ("A100", "101"), "other": ("B200", "501")}


def _propose_params(which: str) -> dict:
    return {"object_id": OBJECT[which][0], "device_id": "1", "quantity": "volume", "interval": "PT2H",
            "period_start": PERIOD}  # fmt: skip


# ---------------------------------------------------------------- the flow through the pages


def test_operator_proposes_through_the_form_and_the_subject_agrees(world, client_for):
    operator, subject = client_for(Role.OPERATOR), client_for(Role.SUBJECT)

    # given the link the devices page gives (ISO period with offset), the form shows the current value
    page = operator.get(
        "/cabinet/corrections/propose/",
        {**_propose_params("own"), "period_start": "2025-06-01T02:00:00+05:00"},
    )
    assert page.status_code == 200
    assert [(r["reading"].quantity, r["value"]) for r in page.context["rows"]] == [("volume", "101")]
    assert page.context["start_local"] == PERIOD

    # when the operator enters a corrected value with a decimal comma and a reason
    response = operator.post(
        "/cabinet/corrections/propose/",
        {**_propose_params("own"), "corrected-0": "98,25", "reason": "Flowmeter drift, commission of 2 June"},
    )
    act = CorrectionAct.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cabinet/corrections/{act.pk}/"

    # then the subject sees it awaiting its decision, and agrees
    listing = subject.get("/cabinet/corrections/")
    assert [a.pk for a in listing.context["awaiting"]] == [act.pk]
    detail = subject.get(f"/cabinet/corrections/{act.pk}/")
    assert (detail.context["may_decide"], detail.context["may_withdraw"]) == (True, False)
    assert subject.post(f"/cabinet/corrections/{act.pk}/agree/").status_code == 302

    [newest] = [
        r
        for r in get_store().rows(ReadingQuery(object_ids=["A100"], quantities=["volume"]))
        if r.revision == 2
    ]
    assert (str(newest.value.normalize()), newest.quality, newest.source) == (
        "98.25",
        "corrected",
        f"act:{act.number}",
    )
    pdf = subject.get(f"/cabinet/corrections/{act.pk}/act.pdf")
    assert (pdf.status_code, pdf["Content-Type"], pdf.content[:5]) == (200, "application/pdf", b"%PDF-")
    assert pdf["X-Content-SHA256"] == CorrectionAct.objects.get().pdf_sha256
    assert AuditEvent.objects.filter(event="data.export", object_id=str(act.pk)).count() == 1


@pytest.mark.parametrize(
    ("post", "error"),
    [
        pytest.param({"corrected-0": "", "reason": "why"}, "at least one", id="no-value"),
        pytest.param({"corrected-0": "12x", "reason": "why"}, "enter a number", id="not-a-number"),
        pytest.param({"corrected-0": "12", "reason": " "}, "reason", id="no-reason"),
        pytest.param({"corrected-0": "101", "reason": "why"}, "already", id="unchanged"),
    ],
)
def test_the_form_shows_why_a_proposal_is_refused(world, client_for, post, error):
    response = client_for(Role.OPERATOR).post(
        "/cabinet/corrections/propose/", {**_propose_params("own"), **post}
    )
    assert response.status_code == 200
    assert any(error in e for e in response.context["errors"]), response.context["errors"]
    assert CorrectionAct.objects.count() == 0


def test_the_form_without_a_device_shows_the_choice_of_facilities(world, client_for):
    response = client_for(Role.OPERATOR).get("/cabinet/corrections/propose/")
    assert response.status_code == 200
    assert [f.object_id for f in response.context["facilities"]] == ["A100", "B200"]
    assert response.context["rows"] == []


def test_a_stale_agreement_is_shown_not_applied(world, client_for, propose_act):
    act = propose_act("own")
    get_store().write(
        [ReadingRow(SeriesKey("A100", "1", "volume"), "PT2H", SLOT, Decimal("3"), "m3", "good", "resent")]
    )
    client = client_for(Role.SUBJECT)
    response = client.post(f"/cabinet/corrections/{act.pk}/agree/", follow=True)
    assert [str(m) for m in response.context["messages"]][0].startswith("The volume value of A100/1")
    act.refresh_from_db()
    assert act.status == ActStatus.PROPOSED


def test_the_list_filters_by_status(world, client_for, propose_act):
    first, second = propose_act("own"), propose_act("other")
    client_for(Role.OPERATOR).post(f"/cabinet/corrections/{second.pk}/withdraw/")
    client = client_for(Role.AUTHORITY)
    assert [a.pk for a in client.get("/cabinet/corrections/", {"status": "proposed"}).context["page"]] == [
        first.pk
    ]
    assert [a.pk for a in client.get("/cabinet/corrections/", {"status": "withdrawn"}).context["page"]] == [
        second.pk
    ]
    assert {a.pk for a in client.get("/cabinet/corrections/", {"status": "bogus"}).context["page"]} == {
        first.pk,
        second.pk,
    }


# ---------------------------------------------------------------- the authorization matrix

NATIONAL = {Role.AUTHORITY, Role.OPERATOR}
ENDPOINTS = ["list", "propose-form", "propose", "act", "act-pdf", "agree", "refuse", "withdraw"]
CHANGES = {"propose", "agree", "refuse", "withdraw"}


def _expected(endpoint: str, role: str, which: str) -> int:
    """The status each role gets; 302 means an allowed change (redirect to the act) except for anonymous."""
    if role == "anonymous":
        return 302  # to the sign-in page
    if role in {"no-role", Role.STATE_BODY, Role.SUBSCRIBER}:
        return 403  # no role, or the corrections module not granted
    if role in NATIONAL:
        return {
            "list": 200, "propose-form": 200, "propose": 302, "act": 200, "act-pdf": 200,
            "agree": 403, "refuse": 403,  # an operator or the authority never agrees for the subject
            "withdraw": 302 if role == Role.OPERATOR else 403,  # the proposer only
        }[endpoint]  # fmt: skip
    # the subject user of "own"
    if endpoint in {"propose-form", "propose"}:
        return 403  # a subject cannot propose
    if endpoint == "list":
        return 200
    if which == "other":
        return 404  # another subject's act does not exist for it
    return {"act": 200, "act-pdf": 200, "agree": 302, "refuse": 302, "withdraw": 403}[endpoint]


def _request(client, endpoint: str, act: CorrectionAct, which: str):
    base = f"/cabinet/corrections/{act.pk}/"
    if endpoint == "list":
        return client.get("/cabinet/corrections/")
    if endpoint == "propose-form":
        return client.get("/cabinet/corrections/propose/", _propose_params(which))
    if endpoint == "propose":
        data = {**_propose_params(which), "corrected-0": "1.5", "reason": "Commission found a leak"}
        return client.post("/cabinet/corrections/propose/", data)
    if endpoint == "act":
        return client.get(base)
    if endpoint == "act-pdf":
        return client.get(base + "act.pdf")
    if endpoint == "refuse":
        return client.post(base + "refuse/", {"reason": "We disagree"})
    return client.post(base + f"{endpoint}/")


def _state():
    return (
        list(
            CorrectionAct.objects.order_by("pk").values_list(
                "pk", "status", "decided_at", "withdrawn_at", "pdf_sha256"
            )
        ),
        CorrectionLine.objects.count(),
        sorted(
            (astuple(r.key), r.interval, r.period_start, r.revision, r.value, r.source)
            for r in get_store().rows(ReadingQuery())
        ),  # the newest values, through the store
    )


@pytest.mark.parametrize("which", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_authorization_matrix(world, client_for, propose_act, endpoint, role, which):
    # given an act the operator proposed on the own or the other subject's device
    act = propose_act(which)
    before = _state()

    # when this role calls the endpoint
    response = _request(client_for(role), endpoint, act, which)

    # then it is allowed or refused exactly as the order says (ACC, Rules §53)
    expected = _expected(endpoint, role, which)
    assert response.status_code == expected
    if role == "anonymous":
        assert response["Location"].startswith("/accounts/login/")
    allowed_change = endpoint in CHANGES and expected == 302 and role != "anonymous"
    if endpoint in CHANGES and not allowed_change:
        assert _state() == before  # a refused change leaves nothing changed
    if allowed_change:
        act.refresh_from_db()
        after = {"agree": ActStatus.APPLIED, "refuse": ActStatus.REFUSED, "withdraw": ActStatus.WITHDRAWN}
        if endpoint == "propose":
            assert CorrectionAct.objects.count() == 2
        else:
            assert act.status == after[endpoint]
