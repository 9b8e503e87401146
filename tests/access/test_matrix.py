"""Authorization matrix: every access page × every role × a target account of the own/other subject.

Anonymous → 302 to the sign-in page; no role, subject user, state body, subscriber → 403;
authorized body and data operator → allowed. A refused change leaves the database as it was.
"""

from __future__ import annotations

import pytest

from egsu.access.roles import Role
from tests.access.conftest import PASSWORD, ROLES, accounts_state

MANAGERS = {Role.AUTHORITY, Role.OPERATOR}
TARGETS = ["own", "other"]


def _expect_refused(response, role):
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    else:
        assert response.status_code == 403


def _edit_post(target) -> dict:
    return {
        "username": target.username, "first_name": "Changed", "last_name": "", "email": target.email,
        "role": Role.SUBJECT, "organisation": "Changed LLP", "phone": "", "language": "kk",
        "subjects": [s.pk for s in target.profile.subjects.all()], "modules": ["oil_gas", "reports"],
        "meter_accounts": "",
    }  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", ["/cabinet/access/users/", "/cabinet/access/users/add/",
                                 "/cabinet/access/audit/", "/cabinet/access/audit/export.csv"],
                         ids=["users", "user-add", "audit", "audit-export"])  # fmt: skip
def test_reading_the_management_pages(client_for, role, url):
    response = client_for(role).get(url)
    if role in MANAGERS:
        assert response.status_code == 200
    else:
        _expect_refused(response, role)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("page", ["user-edit", "user-deactivate"])
def test_reading_an_account_page(client_for, targets, role, target, page):
    account = getattr(targets, target)
    suffix = "" if page == "user-edit" else "status/"
    response = client_for(role).get(f"/cabinet/access/users/{account.pk}/{suffix}")
    if role in MANAGERS:
        assert response.status_code == 200
        assert account.username in response.content.decode()
    else:
        _expect_refused(response, role)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", TARGETS)
def test_adding_an_account(client_for, world, role, target):
    # given a new subject user for the own or the other subject
    subject = world.own if target == "own" else world.other
    client = client_for(role)
    before = accounts_state()
    # when the role posts the add form
    response = client.post("/cabinet/access/users/add/", {
        "username": "new-user", "email": "new@example.kz", "role": Role.SUBJECT, "language": "ru",
        "subjects": [subject.pk], "modules": ["oil_gas", "reports"], "generate_password": "on",
    })  # fmt: skip
    # then managers create it, everyone else is refused and nothing changes
    if role in MANAGERS:
        assert response.status_code == 200 and "new-user" in accounts_state()["users"]
    else:
        _expect_refused(response, role)
        assert accounts_state() == before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", TARGETS)
def test_editing_an_account(client_for, targets, role, target):
    account = getattr(targets, target)
    client = client_for(role)
    before = accounts_state()
    response = client.post(f"/cabinet/access/users/{account.pk}/", _edit_post(account))
    if role in MANAGERS:
        assert response.status_code == 302
        account.profile.refresh_from_db()
        assert account.profile.organisation == "Changed LLP"
    else:
        _expect_refused(response, role)
        assert accounts_state() == before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", TARGETS)
def test_deactivating_an_account(client_for, targets, role, target):
    account = getattr(targets, target)
    client = client_for(role)
    before = accounts_state()
    response = client.post(f"/cabinet/access/users/{account.pk}/status/", {"active": "0"})
    account.refresh_from_db()
    if role in MANAGERS:
        assert response.status_code == 302 and account.is_active is False
    else:
        _expect_refused(response, role)
        assert account.is_active is True
        assert accounts_state() == before


@pytest.mark.parametrize("role", ROLES)
def test_the_password_page_is_for_every_signed_in_user(client_for, role):
    response = client_for(role).get("/cabinet/access/password/")
    if role == "anonymous":
        _expect_refused(response, role)
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_changing_the_own_password(client_for, world, role):
    client = client_for(role)
    before = accounts_state()
    response = client.post("/cabinet/access/password/", {
        "old_password": PASSWORD, "new_password1": "A-new-Pass-4567", "new_password2": "A-new-Pass-4567",
    })  # fmt: skip
    if role == "anonymous":
        _expect_refused(response, role)
        assert accounts_state() == before
    else:
        assert response.status_code == 302
        user = world.users[role]
        user.refresh_from_db()
        assert user.check_password("A-new-Pass-4567")
