"""Corrections under a commission act (Rules §53, ANA-09): propose → agree / refuse / withdraw."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from egsu.access.models import AuditEvent
from egsu.access.roles import Role
from egsu.access.scope import scope_for
from egsu.quality import services
from egsu.quality.errors import InvalidProposal, StaleReading, WrongState
from egsu.quality.models import ActStatus, CorrectionAct
from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery, ReadingRow, SeriesKey
from tests.quality.conftest import SLOT, line_for

pytestmark = pytest.mark.django_db


def _as(world, role):
    user = world.users[role]
    return scope_for(user), user


def _history(facility, device, quantity="volume", at=SLOT):
    return get_store().history(SeriesKey(facility.object_id, device.device_id, quantity), "PT2H", at)


def _events(act):
    return list(
        AuditEvent.objects.filter(object_type="quality.correctionact", object_id=str(act.pk))
        .order_by("pk")
        .values_list("event", flat=True)
    )


def test_full_flow_operator_proposes_subject_agrees(world, propose_act):
    # given an operator's proposal for volume 101 → 111.5 at the second slot of A100/1
    act = propose_act("own")
    assert (act.status, act.number.endswith(f"-{act.pk:05d}")) == (ActStatus.PROPOSED, True)
    line = act.lines.get()
    assert (line.original_value, line.original_revision, line.corrected_value, line.unit) == (
        Decimal("101"),
        1,
        Decimal("111.5"),
        "m3",
    )
    assert len(_history(world.own_facility, world.own_device)) == 1  # nothing applied before agreement

    # when the subject's user agrees
    scope, user = _as(world, Role.SUBJECT)
    act = services.agree(scope, user, act)

    # then the store holds revision 2 (corrected, act:N) and revision 1 untouched
    first, second = _history(world.own_facility, world.own_device)
    assert (first.revision, first.value, first.quality, first.source) == (1, Decimal("101"), "good", "test")
    assert (second.revision, second.value, second.quality, second.source) == (
        2,
        Decimal("111.5"),
        "corrected",
        f"act:{act.number}",
    )
    act.refresh_from_db()
    assert (act.status, act.decided_by, act.lines.get().applied_revision) == (ActStatus.APPLIED, user, 2)
    assert (
        bytes(act.pdf).startswith(b"%PDF-") and act.pdf_sha256 == hashlib.sha256(bytes(act.pdf)).hexdigest()
    )
    assert _events(act) == ["correction.proposed", "correction.agreed", "correction.applied"]


def test_a_range_of_one_device_is_one_act(world):
    # given three slots of two quantities
    scope, operator = _as(world, Role.OPERATOR)
    lines = [
        line_for(
            world.own_facility, world.own_device, quantity=q, at=SLOT + timedelta(hours=2 * i), value="7"
        )
        for i in range(3)
        for q in ("volume", "tankLevel")
    ]
    # when proposed and agreed
    act = services.propose(scope, operator, lines, "Level gauge replaced")
    services.agree(*_as(world, Role.SUBJECT), act)
    # then six values carry revision 2 from the act
    newest = get_store().rows(ReadingQuery(object_ids=["A100"]))  # through the store: any backend
    corrected = [
        r for r in newest if r.source == f"act:{act.number}" and (r.revision, r.quality) == (2, "corrected")
    ]
    assert len(corrected) == 6


def test_refusal_keeps_the_act_and_applies_nothing(world, propose_act):
    act = propose_act("own")
    scope, user = _as(world, Role.SUBJECT)

    with pytest.raises(InvalidProposal):
        services.refuse(scope, user, act, "   ")  # a refusal states its reason
    act = services.refuse(scope, user, act, "Our own reading is right")

    act.refresh_from_db()
    assert (act.status, act.refusal_reason, act.decided_by) == (
        ActStatus.REFUSED,
        "Our own reading is right",
        user,
    )
    assert bytes(act.pdf).startswith(b"%PDF-")
    assert len(_history(world.own_facility, world.own_device)) == 1
    assert _events(act) == ["correction.proposed", "correction.refused"]
    with pytest.raises(WrongState):
        services.agree(scope, user, act)  # a refused act cannot be agreed later


def test_withdrawal_by_the_proposer_only(world, propose_act):
    act = propose_act("own")
    with pytest.raises(PermissionDenied):
        services.withdraw(*_as(world, Role.AUTHORITY), act)  # not the proposer
    act = services.withdraw(*_as(world, Role.OPERATOR), act)
    assert (act.status, act.withdrawn_at is not None) == (ActStatus.WITHDRAWN, True)
    with pytest.raises(WrongState):
        services.agree(*_as(world, Role.SUBJECT), act)
    assert len(_history(world.own_facility, world.own_device)) == 1
    assert _events(act) == ["correction.proposed", "correction.withdrawn"]


def test_a_newer_revision_after_the_proposal_makes_agreement_fail(world, propose_act):
    # given a proposal, then the subject's system re-sends a different value (revision 2)
    act = propose_act("own")
    get_store().write([
        ReadingRow(key=SeriesKey("A100", "1", "volume"), interval="PT2H", period_start=SLOT,
                   value=Decimal("105"), unit="m3", quality="good", source="resent")
    ])  # fmt: skip
    # when the subject agrees
    with pytest.raises(StaleReading, match=r"revision 2 now, 1 when proposed"):
        services.agree(*_as(world, Role.SUBJECT), act)
    # then nothing changed: the act is still proposed, the store has only the re-sent revision
    act.refresh_from_db()
    assert (act.status, act.decided_at, act.pdf) == (ActStatus.PROPOSED, None, None)
    assert [r.source for r in _history(world.own_facility, world.own_device)] == ["test", "resent"]
    assert _events(act) == ["correction.proposed"]


@pytest.mark.parametrize(
    ("lines", "reason", "message"),
    [
        pytest.param(lambda w: [], "why", "at least one", id="no-lines"),
        pytest.param(lambda w: [line_for(w.own_facility, w.own_device)], "  ", "reason", id="no-reason"),
        pytest.param(lambda w: [line_for(w.own_facility, w.own_device, value="101")], "why", "already",
                     id="unchanged-value"),
        pytest.param(lambda w: [line_for(w.own_facility, w.own_device, at=SLOT - timedelta(days=30))], "why",
                     "There is no", id="no-such-reading"),
        pytest.param(lambda w: [line_for(w.own_facility, w.own_device)] * 2, "why", "twice", id="duplicate"),
        pytest.param(lambda w: [line_for(w.own_facility, w.own_device), line_for(w.other_facility,
                     w.other_device)], "why", "one device", id="two-devices"),
    ],
)  # fmt: skip
def test_invalid_proposals_are_refused(world, lines, reason, message):
    scope, operator = _as(world, Role.OPERATOR)
    with pytest.raises(InvalidProposal, match=message):
        services.propose(scope, operator, lines(world), reason)
    assert CorrectionAct.objects.count() == 0


@pytest.mark.parametrize("role", [Role.SUBJECT, Role.STATE_BODY, Role.SUBSCRIBER, "no-role"])
def test_only_the_operator_or_the_authority_proposes(world, role):
    scope, user = _as(world, role)
    with pytest.raises(PermissionDenied):
        services.propose(scope, user, [line_for(world.own_facility, world.own_device)], "why")
    assert CorrectionAct.objects.count() == 0


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.AUTHORITY, Role.STATE_BODY])
def test_only_the_owning_subject_agrees(world, propose_act, role):
    act = propose_act("own")
    with pytest.raises(PermissionDenied):
        services.agree(*_as(world, role), act)
    act.refresh_from_db()
    assert act.status == ActStatus.PROPOSED


def test_a_subject_cannot_agree_another_subjects_act(world, propose_act):
    act = propose_act("other")
    with pytest.raises(PermissionDenied):
        services.agree(*_as(world, Role.SUBJECT), act)
    assert services.acts(scope_for(world.users[Role.SUBJECT])).filter(pk=act.pk).exists() is False
    assert len(_history(world.other_facility, world.other_device)) == 1
