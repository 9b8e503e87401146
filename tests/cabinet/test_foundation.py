"""The cabinet's foundation: the permission gate and the overview page for every role."""

from __future__ import annotations

import pytest

from egsu.access import scope as gate
from egsu.access.models import Profile
from egsu.access.roles import Role
from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery
from tests.cabinet.conftest import ROLES


@pytest.mark.parametrize("role", ROLES)
def test_the_overview_by_role(client_for, role):
    response = client_for(role).get("/cabinet/")
    expected = {"anonymous": 302, "no-role": 403}.get(role, 200)
    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role", "sees_own", "sees_other"),
    [
        (Role.AUTHORITY, True, True),
        (Role.OPERATOR, True, True),
        (Role.SUBJECT, True, False),
        (Role.STATE_BODY, True, False),  # only the subjects it was granted (ACC-16)
        (Role.SUBSCRIBER, False, False),
        ("no-role", False, False),
    ],
)
def test_the_gate_scopes_readings_by_subject(world, role, sees_own, sees_other):
    if role == Role.STATE_BODY:  # a state body reads only the modules granted to it (nothing by default)
        Profile.objects.filter(user=world.users[role]).update(modules=["oil_gas"])
    scope = gate.scope_for(type(world.users[role]).objects.get(pk=world.users[role].pk))
    # what the readings store returns through the gate's series for this scope
    series = gate.series(scope)
    rows = get_store().rows(ReadingQuery(series=series)) if scope.role else []
    objects = {row.key.object_id for row in rows}
    assert ("A100" in objects, "B200" in objects) == (sees_own, sees_other)
    assert scope.can_edit == (role in {Role.AUTHORITY, Role.OPERATOR})


def test_lock_out_after_repeated_failures(world):
    from django.test import Client

    from egsu.access.models import AuditEvent

    client = Client()
    for _ in range(5):
        assert (
            client.post("/accounts/login/", {"username": "operator", "password": "wrong"}).status_code == 200
        )
    # then even the right password is refused for a while
    response = client.post("/accounts/login/", {"username": "operator", "password": "cabinet-Password-123"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(event="auth.locked", object_id="operator").exists()
