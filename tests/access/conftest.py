"""The cabinet test world (tests/cabinet/conftest.py), plus the accounts the user pages act on."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from egsu.access.models import AuditEvent, Profile
from egsu.access.roles import Role
from egsu.access.services import snapshot
from tests.cabinet.conftest import PASSWORD, ROLES, client_for, world  # noqa: F401

__all__ = ["PASSWORD", "ROLES"]


@dataclass
class Targets:
    own: User  # a subject user of the own subject ("subject-a" of the world)
    other: User  # a subject user of the other subject


@pytest.fixture
def targets(world) -> Targets:  # noqa: F811 (the fixture imported above)
    other = User.objects.create_user("subject-b", "subject-b@example.kz", PASSWORD)
    profile = Profile.objects.create(user=other, role=Role.SUBJECT, organisation="Other Gas JSC")
    profile.subjects.set([world.other])
    return Targets(own=world.users[Role.SUBJECT], other=other)


def accounts_state() -> dict:
    """Every account's audited state and the count of audit events: a refused change leaves both alone."""
    users = {u.username: snapshot(u) for u in User.objects.select_related("profile").order_by("pk")}
    passwords = dict(User.objects.values_list("username", "password"))
    return {
        "users": users,
        "passwords": passwords,
        "changes": AuditEvent.objects.exclude(event__startswith="auth.").count(),
    }
