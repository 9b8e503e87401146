"""Adding, editing, (de)activating accounts and passwords: what changes, and what the audit records."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from egsu.access.audit import Event
from egsu.access.models import AuditEvent
from egsu.access.roles import Role
from tests.access.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _generated(response) -> str:
    return re.search(r'id="new-password" readonly value="([^"]+)"', response.content.decode()).group(1)


def test_a_generated_password_is_shown_once_and_works(client_for, world):
    # given the operator adding a subject user with a generated password
    response = client_for(Role.OPERATOR).post("/cabinet/access/users/add/", {
        "username": "field-user", "first_name": "Aigerim", "last_name": "Sadykova", "email": "a@own.kz",
        "role": Role.SUBJECT, "organisation": "Own Oil LLP", "phone": "+7 701 000 0000", "language": "ru",
        "subjects": [world.own.pk], "modules": ["oil_gas", "reports"], "generate_password": "on",
    })  # fmt: skip
    # then the password is in this response only, not cacheable, and signs in
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    password = _generated(response)
    assert Client().login(username="field-user", password=password)
    # and the account holds what was entered
    user = User.objects.select_related("profile").get(username="field-user")
    assert (user.get_full_name(), user.profile.role, user.profile.language) == (
        "Aigerim Sadykova",
        "subject",
        "ru",
    )
    assert list(user.profile.subjects.all()) == [world.own]
    assert user.profile.modules == ["oil_gas", "reports"]
    # and the creation is audited with the after snapshot, never the password
    event = AuditEvent.objects.get(event=Event.USER_CREATED)
    assert (event.actor_name, event.object_type, event.object_id) == ("operator", "auth.user", str(user.pk))
    assert event.after["role"] == "subject" and event.after["subjects"] == [world.own.bin]
    assert event.after["modules"] == ["oil_gas", "reports"] and event.after["active"] is True
    assert password not in str(event.after) and event.before is None


def test_a_typed_initial_password_is_kept(client_for, world):
    response = client_for(Role.AUTHORITY).post("/cabinet/access/users/add/", {
        "username": "home-user", "role": Role.SUBSCRIBER, "language": "kk", "modules": ["power", "heat"],
        "meter_accounts": f"{world.other.bin} 77-001\n{world.other.bin} 77-002, {world.other.bin} 77-001",
        "password1": "Typed-Pass-9876", "password2": "Typed-Pass-9876",
    })  # fmt: skip
    assert response.status_code == 302 and response["Location"] == "/cabinet/access/users/"
    user = User.objects.get(username="home-user")
    assert user.check_password("Typed-Pass-9876")
    # AMI-08: a subscriber's meter is (supplier, account), never the account text alone
    assert user.profile.meter_accounts == [[world.other.bin, "77-001"], [world.other.bin, "77-002"]]
    assert user.profile.modules == []  # the role's defaults, kept as "defaults" (Profile.granted_modules)


@pytest.mark.parametrize(
    "lines",
    ["77-001", "123 77-001", "999999999999 77-001"],
    ids=["account-alone", "bad-bin", "unknown-supplier"],
)
def test_a_subscriber_account_names_its_supplier(client_for, world, lines):
    response = client_for(Role.AUTHORITY).post("/cabinet/access/users/add/", {
        "username": "home-user", "role": Role.SUBSCRIBER, "language": "kk", "modules": ["power"],
        "meter_accounts": lines, "password1": "Typed-Pass-9876", "password2": "Typed-Pass-9876",
    })  # fmt: skip
    assert response.status_code == 200 and response.context["form"].errors["meter_accounts"]
    assert not User.objects.filter(username="home-user").exists()


def test_a_role_change_is_audited_before_and_after(client_for, world, targets):
    # given a state body granted the own subject
    target = world.users[Role.STATE_BODY]
    # when the authorized body turns it into a subject user of the other subject
    response = client_for(Role.AUTHORITY).post(f"/cabinet/access/users/{target.pk}/", {
        "username": "state-body", "email": "state-body@example.kz", "role": Role.SUBJECT, "language": "kk",
        "subjects": [world.other.pk], "modules": ["monitoring"],
    })  # fmt: skip
    assert response.status_code == 302
    # then one change event holds both snapshots
    event = AuditEvent.objects.get(event=Event.USER_CHANGED)
    assert (event.before["role"], event.after["role"]) == ("state_body", "subject")
    assert (event.before["subjects"], event.after["subjects"]) == ([world.own.bin], [world.other.bin])
    assert (event.before["modules"], event.after["modules"]) == ([], ["monitoring"])
    assert event.summary == "account state-body: modules, role, subjects"


def test_saving_without_a_change_audits_nothing(client_for, targets):
    account = targets.own
    response = client_for(Role.OPERATOR).get(f"/cabinet/access/users/{account.pk}/")
    form = response.context["form"]
    data = {name: form.initial.get(name, "") for name in form.fields if name != "reset_password"}
    data["subjects"] = [s.pk for s in data["subjects"]]
    assert client_for(Role.OPERATOR).post(f"/cabinet/access/users/{account.pk}/", data).status_code == 302
    assert not AuditEvent.objects.filter(event=Event.USER_CHANGED).exists()


def test_deactivate_then_reactivate(client_for, targets):
    # given a signed-in subject user
    account = targets.own
    session = Client()
    session.force_login(account)
    operator = client_for(Role.OPERATOR)
    # when the operator confirms the deactivation
    page = operator.get(f"/cabinet/access/users/{account.pk}/status/").content.decode()
    assert 'name="active" value="0"' in page
    assert operator.post(f"/cabinet/access/users/{account.pk}/status/", {"active": "0"}).status_code == 302
    # then the account can neither sign in nor keep using its session, and still exists
    assert not Client().login(username=account.username, password=PASSWORD)
    assert session.get("/cabinet/").status_code == 302
    account.refresh_from_db()
    assert account.is_active is False
    # and a second deactivation changes and audits nothing
    operator.post(f"/cabinet/access/users/{account.pk}/status/", {"active": "0"})
    off = AuditEvent.objects.get(event=Event.USER_DEACTIVATED)
    assert (off.before["active"], off.after["active"]) == (True, False)
    # when reactivated, it signs in again
    assert operator.post(f"/cabinet/access/users/{account.pk}/status/", {"active": "1"}).status_code == 302
    assert Client().login(username=account.username, password=PASSWORD)
    on = AuditEvent.objects.get(event=Event.USER_REACTIVATED)
    assert (on.before["active"], on.after["active"], on.actor_name) == (False, True, "operator")


def test_a_password_reset_by_the_operator(client_for, targets):
    account = targets.other
    response = client_for(Role.OPERATOR).get(f"/cabinet/access/users/{account.pk}/")
    form = response.context["form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    data |= {"subjects": [s.pk for s in data["subjects"]], "reset_password": "on"}
    response = client_for(Role.OPERATOR).post(f"/cabinet/access/users/{account.pk}/", data)
    password = _generated(response)
    assert Client().login(username="subject-b", password=password)
    event = AuditEvent.objects.get(event=Event.PASSWORD_RESET)
    assert (event.actor_name, event.object_id) == ("operator", str(account.pk))


@pytest.mark.parametrize(
    ("old", "new1", "new2", "error_field"),
    [
        ("wrong-Password-1", "A-new-Pass-4567", "A-new-Pass-4567", "old_password"),
        (PASSWORD, "short", "short", "new_password2"),
        (PASSWORD, "A-new-Pass-4567", "A-new-Pass-4568", "new_password2"),
    ],
    ids=["wrong-old-password", "validators", "mismatch"],
)
def test_a_refused_own_password_change(client_for, world, old, new1, new2, error_field):
    client = client_for(Role.SUBJECT)
    response = client.post(
        "/cabinet/access/password/", {"old_password": old, "new_password1": new1, "new_password2": new2}
    )
    assert response.status_code == 200 and error_field in response.context["form"].errors
    user = world.users[Role.SUBJECT]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(event=Event.PASSWORD_CHANGED).exists()


def test_an_own_password_change_keeps_the_session_and_is_audited(client_for, world):
    client = client_for(Role.SUBSCRIBER)
    client.post("/cabinet/access/password/", {
        "old_password": PASSWORD, "new_password1": "A-new-Pass-4567", "new_password2": "A-new-Pass-4567",
    })  # fmt: skip
    assert client.get("/cabinet/").status_code == 200  # still signed in
    event = AuditEvent.objects.get(event=Event.PASSWORD_CHANGED)
    assert (event.actor_name, event.object_id) == ("subscriber", str(world.users[Role.SUBSCRIBER].pk))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["analyst", "no-role", "operator", "state-body", "subject-a", "subject-b", "subscriber"]),
        ("?role=subject", ["subject-a", "subject-b"]),
        ("?role=none", ["no-role"]),
        ("?status=inactive", ["subject-b"]),
        ("?status=active&role=subject", ["subject-a"]),
        ("?q=other+gas", ["subject-b"]),
        ("?q=STATE-BODY%40example", ["state-body"]),
    ],
    ids=["all", "by-type", "no-role", "inactive", "active-subjects", "organisation", "e-mail"],
)
def test_the_user_list_filters(client_for, targets, query, expected):
    targets.other.is_active = False
    targets.other.save()
    response = client_for(Role.OPERATOR).get("/cabinet/access/users/" + query)
    assert [row["user"].username for row in response.context["rows"]] == expected


def test_the_list_offers_edit_links_only_for_reachable_accounts(client_for, world):
    rows = client_for(Role.OPERATOR).get("/cabinet/access/users/").context["rows"]
    reachable = {row["user"].username for row in rows if row["manageable"]}
    assert reachable == {"no-role", "state-body", "subject-a", "subscriber"}
