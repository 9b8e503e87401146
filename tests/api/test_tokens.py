"""Personal API tokens: made, listed and revoked in the cabinet, shown once, stored hashed, audited,
and refused with 401 once revoked or expired (ACC-10..18)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from egsu.access.models import AuditEvent
from egsu.access.roles import Role
from egsu.api import tokens
from egsu.api.models import ApiToken
from egsu_core.clock import utcnow
from tests.api.conftest import ROLES, body

pytestmark = pytest.mark.django_db
PAGE = "/cabinet/api-tokens/"
PAGE_STATUS = {"anonymous": 302, "no-role": 403, Role.STATE_BODY: 403}  # no module the API answers


@pytest.fixture
def client_for(world):
    from django.test import Client

    def make(role):
        client = Client()
        if role != "anonymous":
            client.force_login(world.users[role])
        return client

    return make


@pytest.mark.parametrize("role", ROLES)
def test_the_token_page_matrix(client_for, role):
    response = client_for(role).get(PAGE)
    assert response.status_code == PAGE_STATUS.get(role, 200)
    menu = [item["name"] for item in response.context["menu"]] if response.status_code == 200 else []
    assert ("api:tokens" in menu) == (response.status_code == 200)


def test_a_token_is_shown_once_stored_hashed_audited_and_opens_the_api(client_for, world, meters):
    client = client_for(Role.SUBJECT)
    # when the subject user makes a token
    response = client.post(PAGE, {"name": "ERP import", "lifetime": "30"})
    made = response.context["made"]
    # then it is shown this once, kept only as its hash, and the making is audited
    assert response.status_code == 200 and made.startswith("egsu_") and made in response.content.decode()
    found = ApiToken.objects.get(user=world.users[Role.SUBJECT])
    assert found.token_hash == hashlib.sha256(made.encode()).hexdigest() and found.prefix == made[:12]
    assert timedelta(days=29) < found.expires_at - utcnow() <= timedelta(days=30)
    assert made not in client.get(PAGE).content.decode()
    event = AuditEvent.objects.get(event="api.token_created")
    assert event.actor == world.users[Role.SUBJECT] and made not in str(event.after)
    # and it opens the API with the user's own scope, noting when it was last used
    answer = client.get("/api/v1/points", HTTP_AUTHORIZATION=f"Bearer {made}")
    assert sorted(p["name"] for p in body(answer)["data"]) == ["A100/1", "E-OWN-1"]
    found.refresh_from_db()
    assert found.last_used_at is not None
    assert "ERP import" in client.get(PAGE).content.decode()


def test_a_revoked_token_is_refused_and_only_its_owner_revokes_it(client_for, world, meters):
    found, made = tokens.create_token(world.users[Role.SUBJECT], "script")
    # another user cannot revoke it (it does not exist for them), and nothing changes
    assert client_for(Role.OPERATOR).post(f"{PAGE}{found.pk}/revoke/").status_code == 404
    assert client_for("anonymous").post(f"{PAGE}{found.pk}/revoke/").status_code == 302
    found.refresh_from_db()
    assert found.revoked_at is None and not AuditEvent.objects.filter(event="api.token_revoked").exists()
    # its owner revokes it: audited, and the API refuses it at once
    assert client_for(Role.SUBJECT).post(f"{PAGE}{found.pk}/revoke/").status_code == 302
    assert AuditEvent.objects.filter(event="api.token_revoked", object_id=str(found.pk)).count() == 1
    from django.test import Client

    assert Client().get("/api/v1/points", HTTP_AUTHORIZATION=f"Bearer {made}").status_code == 401


@pytest.mark.parametrize("case", ["expired", "user deactivated", "garbage", "head-end token", "no header"])
def test_tokens_that_open_nothing(world, meters, case):
    from django.test import Client

    user = world.users[Role.OPERATOR]
    found, made = tokens.create_token(user, "script", days=30)
    if case == "expired":
        ApiToken.objects.filter(pk=found.pk).update(expires_at=utcnow() - timedelta(seconds=1))
    elif case == "user deactivated":
        user.is_active = False
        user.save()
    elif case == "garbage":
        made = made[:-3] + "xyz"
    elif case == "head-end token":
        made = "ami_" + made[5:]
    headers = {} if case == "no header" else {"HTTP_AUTHORIZATION": f"Bearer {made}"}
    assert Client().get("/api/v1/points", **headers).status_code == 401


def test_a_token_follows_its_users_role_and_scope(api_for, world):
    # given the subject user's token works for its own subject
    caller = api_for(Role.SUBJECT)
    assert {p["subject"] for p in body(caller.get("/api/v1/points"))["data"]} == {world.own.bin}
    # when the user is moved to the other subject, the same token sees that one instead
    world.users[Role.SUBJECT].profile.subjects.set([world.other])
    assert {p["subject"] for p in body(caller.get("/api/v1/points"))["data"]} == {world.other.bin}
