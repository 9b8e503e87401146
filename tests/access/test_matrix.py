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


# ---------------------------------------------------------------- the Django admin and /test-pki/

ADMIN_URLS = [
    "/admin/",
    "/admin/registry/connectedsystem/",
    "/admin/registry/subject/add/",
    "/admin/ami/headendsystem/",
]


def _staff(world, role):
    """Ticked "staff" and given the permission to view connected systems in the admin."""
    from django.contrib.auth.models import Permission

    user = world.users[role]
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(Permission.objects.get(codename="view_connectedsystem"))
    return user


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", ADMIN_URLS, ids=["index", "systems", "subject-add", "head-ends"])
def test_the_admin_refuses_every_cabinet_role(client_for, role, url):
    # cabinet roles are not staff: the admin sends them to its own sign-in page
    response = client_for(role).get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
def test_staff_of_a_read_only_role_is_refused_the_admin_too(client_for, world, role):
    # even with "staff" ticked and a model permission, only the roles that may change data (ACC-12/13) get in
    _staff(world, role)
    response = client_for(role).get("/admin/registry/connectedsystem/")
    if role in MANAGERS:
        assert response.status_code == 200
    else:
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_system_administrator_uses_the_admin(db, client):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.kz", PASSWORD)
    client.force_login(admin)
    assert client.get("/admin/registry/connectedsystem/").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_the_test_pki_is_public_on_a_test_stand(client_for, role):
    response = client_for(role).get("/test-pki/ca.crt")
    assert response.status_code == 200 and response["Content-Type"] == "application/pkix-cert"


@pytest.mark.parametrize("role", ROLES)
def test_the_test_pki_does_not_exist_in_production(client_for, role, settings):
    import dataclasses

    settings.CONFIG = dataclasses.replace(settings.CONFIG, production=True)
    assert client_for(role).get("/test-pki/ca.crt").status_code == 404
    from django.urls import clear_url_caches

    import egsu.urls

    clear_url_caches()
    import importlib

    routes = importlib.reload(egsu.urls).urlpatterns
    assert not any("test-pki" in str(route.pattern) for route in routes)
    settings.CONFIG = dataclasses.replace(settings.CONFIG, production=False)
    importlib.reload(egsu.urls)
    clear_url_caches()
