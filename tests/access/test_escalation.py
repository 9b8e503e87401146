"""Escalation rules (egsu.access.grants): nobody widens their own or anyone's rights beyond their own."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from hypothesis import given
from hypothesis import strategies as st

from egsu.access import grants, services
from egsu.access.models import Profile
from egsu.access.roles import DEFAULT_MODULES, Module, Role
from egsu.access.scope import Scope, scope_for
from tests.access.conftest import PASSWORD, accounts_state

pytestmark = pytest.mark.django_db


def _add(client, **fields):
    data = {"username": "new-user", "email": "new@example.kz", "language": "kk", "generate_password": "on"}
    data |= fields
    return client.post("/cabinet/access/users/add/", data)


def _operator_with(modules: list[str]) -> User:
    user = User.objects.create_user("narrow-operator", "n@example.kz", PASSWORD)
    Profile.objects.create(user=user, role=Role.OPERATOR, modules=modules)
    return user


def test_an_operator_may_not_create_an_authority_or_operator_account(client_for, world):
    # given the data operator
    client = client_for(Role.OPERATOR)
    # when it opens the add form, then only the roles below its own are offered
    form = client.get("/cabinet/access/users/add/").context["form"]
    assert [value for value, _ in form.fields["role"].choices] == [
        Role.SUBJECT,
        Role.STATE_BODY,
        Role.SUBSCRIBER,
    ]
    # and when it posts an authority or operator account anyway, nothing is created
    before = accounts_state()
    for role in (Role.AUTHORITY, Role.OPERATOR):
        response = _add(client, role=role, modules=["oil_gas"])
        assert response.status_code == 200 and "role" in response.context["form"].errors
    assert accounts_state() == before


def test_the_authority_creates_operator_and_authority_accounts(client_for, world):
    client = client_for(Role.AUTHORITY)
    assert _add(client, username="op2", role=Role.OPERATOR, modules=sorted(Module.values)).status_code == 200
    assert _add(client, username="auth2", role=Role.AUTHORITY, modules=["audit"]).status_code == 200
    assert User.objects.get(username="op2").profile.role == Role.OPERATOR
    assert User.objects.get(username="auth2").profile.modules == ["audit"]


@pytest.mark.parametrize("target_role", [Role.AUTHORITY, Role.OPERATOR], ids=["authority", "operator"])
@pytest.mark.parametrize("action", ["edit-get", "edit-post", "status-get", "status-post"])
def test_an_operator_may_not_touch_accounts_of_its_rank_or_above(client_for, world, target_role, action):
    # given an operator and an account of the authorized body / another operator
    target = world.users[target_role] if target_role == Role.AUTHORITY else _operator_with([])
    client = client_for(Role.OPERATOR)
    before = accounts_state()
    url = f"/cabinet/access/users/{target.pk}/" + ("status/" if action.startswith("status") else "")
    # when it opens or posts the account's pages
    if action.endswith("get"):
        response = client.get(url)
    else:
        payload = {"active": "0"} if action == "status-post" else {
            "username": target.username, "role": Role.SUBJECT, "language": "kk", "modules": ["oil_gas"],
            "subjects": [world.own.pk],
        }  # fmt: skip
        response = client.post(url, payload)
    # then it is refused and nothing changed
    assert response.status_code == 403
    assert accounts_state() == before


def test_an_operator_may_not_raise_a_subject_user_to_operator(client_for, targets):
    client = client_for(Role.OPERATOR)
    before = accounts_state()
    response = client.post(f"/cabinet/access/users/{targets.own.pk}/", {
        "username": targets.own.username, "role": Role.OPERATOR, "language": "kk", "modules": ["oil_gas"],
    })  # fmt: skip
    assert response.status_code == 200 and "role" in response.context["form"].errors
    assert accounts_state() == before


@pytest.mark.parametrize("role", [Role.AUTHORITY, Role.OPERATOR])
@pytest.mark.parametrize("suffix", ["", "status/"], ids=["edit", "status"])
def test_nobody_edits_their_own_account(client_for, world, role, suffix):
    me = world.users[role]
    client = client_for(role)
    before = accounts_state()
    assert client.get(f"/cabinet/access/users/{me.pk}/{suffix}").status_code == 403
    assert client.post(f"/cabinet/access/users/{me.pk}/{suffix}", {"active": "0"}).status_code == 403
    assert accounts_state() == before


def test_the_system_administrator_is_out_of_reach_of_the_pages(client_for, world):
    admin = User.objects.create_superuser("admin", "", PASSWORD)
    client = client_for(Role.AUTHORITY)
    assert client.get(f"/cabinet/access/users/{admin.pk}/").status_code == 403
    assert client.post(f"/cabinet/access/users/{admin.pk}/status/", {"active": "0"}).status_code == 403
    admin.refresh_from_db()
    assert admin.is_active is True


def test_nobody_grants_a_module_they_do_not_hold(client, world):
    # given an operator narrowed to user management and monitoring
    operator = _operator_with([Module.USERS, Module.MONITORING])
    client.force_login(operator)
    before = accounts_state()
    # when it grants oil and gas metering to a new subject user
    response = _add(client, role=Role.SUBJECT, subjects=[world.own.pk], modules=["oil_gas", "monitoring"])
    # then oil_gas is not even offered, and the account is not created
    assert response.status_code == 200 and "modules" in response.context["form"].errors
    assert accounts_state() == before


@pytest.mark.parametrize("module", [Module.USERS, Module.AUDIT])
@pytest.mark.parametrize("role", [Role.SUBJECT, Role.STATE_BODY, Role.SUBSCRIBER])
def test_user_management_and_audit_go_only_to_editing_roles(client_for, world, module, role):
    subjects = [world.own.pk] if role in {Role.SUBJECT, Role.STATE_BODY} else []
    response = _add(client_for(Role.AUTHORITY), role=role, subjects=subjects, modules=[module])
    assert response.status_code == 200 and response.context["form"].errors["modules"] == [
        "User management and the audit log are only for the authorized body and the data operator."
    ]
    assert not User.objects.filter(username="new-user").exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"role": Role.SUBJECT, "modules": ["oil_gas"]}, "subjects"),
        ({"role": Role.OPERATOR, "modules": ["oil_gas"], "subjects": "own"}, "subjects"),
        ({"role": Role.SUBSCRIBER, "modules": ["power"], "subjects": "own"}, "subjects"),
        ({"role": Role.SUBJECT, "modules": ["oil_gas"], "subjects": "own", "meter_accounts": "77-1"}, "meter_accounts"),
        ({"role": Role.SUBJECT, "subjects": "own"}, "modules"),
        ({"role": Role.SUBSCRIBER, "modules": ["power"], "generate_password": "",
          "password1": "short", "password2": "short"}, "password1"),
        ({"role": Role.SUBSCRIBER, "modules": ["power"], "generate_password": "",
          "password1": "A-good-Pass-123", "password2": "A-good-Pass-124"}, "password2"),
        ({"role": Role.SUBSCRIBER, "modules": ["power"], "username": "Operator"}, "username"),
    ],
    ids=["subject-needs-subject", "operator-no-subjects", "subscriber-no-subjects", "meters-only-subscriber",
         "some-module", "password-validators", "passwords-differ", "username-taken-any-case"],
)  # fmt: skip
def test_account_form_rules(client_for, world, fields, field):
    if fields.get("subjects") == "own":
        fields = fields | {"subjects": [world.own.pk]}
    before = accounts_state()
    response = _add(client_for(Role.AUTHORITY), **fields)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert accounts_state() == before


def test_the_services_refuse_escalation_even_without_the_form(world, targets):
    # given the operator's scope, calling the service directly (as a future API or CLI would)
    operator = world.users[Role.OPERATOR]
    scope = scope_for(operator)
    data = services.AccountData(username="subject-a", role=Role.AUTHORITY, subjects=[], modules=[])
    before = accounts_state()
    with pytest.raises(PermissionDenied):
        services.update_account(scope, operator, targets.own, data)
    with pytest.raises(PermissionDenied):
        services.set_active(scope, operator, world.users[Role.AUTHORITY], False)
    with pytest.raises(PermissionDenied):
        services.create_account(scope_for(world.users[Role.SUBJECT]), operator, data, "A-good-Pass-123")
    assert accounts_state() == before


def test_an_operator_without_the_users_module_is_refused(client, world):
    operator = _operator_with([Module.MONITORING])
    client.force_login(operator)
    assert client.get("/cabinet/access/users/").status_code == 403
    assert client.get("/cabinet/access/audit/").status_code == 403


# ---------------------------------------------------------------- the rules as properties

ROLE_OR_NONE = st.sampled_from([*Role.values, None])


def _scope(role, modules=None) -> Scope:
    granted = frozenset(modules) if modules is not None else (DEFAULT_MODULES[role] if role else frozenset())
    return Scope(user_id=1, role=role, all_subjects=False, subject_bins=frozenset(), modules=granted)


def _account(role, pk=2, superuser=False):
    profile = SimpleNamespace(role=role) if role else None
    return SimpleNamespace(pk=pk, is_superuser=superuser, profile=profile)


@given(actor=ROLE_OR_NONE, target=ROLE_OR_NONE, modules=st.sets(st.sampled_from(Module.values)))
def test_nobody_reaches_an_account_or_role_above_their_own(actor, target, modules):
    scope = _scope(actor, modules)
    manages = grants.can_manage(scope, _account(target))
    if manages:
        assert actor in {Role.AUTHORITY, Role.OPERATOR} and Module.USERS in modules
        assert actor == Role.AUTHORITY or grants.rank(target) < grants.rank(actor)
    for role in grants.assignable_roles(scope):
        assert actor == Role.AUTHORITY or grants.rank(role) < grants.rank(actor)
    assert set(grants.grantable_modules(scope)) <= modules
    assert not grants.can_manage(scope, _account(target, pk=scope.user_id))  # never oneself


@given(actor=ROLE_OR_NONE, role=st.sampled_from(Role.values), wanted=st.sets(st.sampled_from(Module.values)))
def test_module_grants_never_exceed_the_actor(actor, role, wanted):
    scope = _scope(actor)
    if not grants.module_problems(scope, role, wanted):
        assert wanted <= scope.modules
        assert role in {Role.AUTHORITY, Role.OPERATOR} or not wanted & {Module.USERS, Module.AUDIT}
