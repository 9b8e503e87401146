"""Managing accounts: create, edit, deactivate, passwords — each change checked and audited once.

Views and the CLI call these; the escalation rules live in egsu.access.grants and are enforced
here again (not only in the form), so no edge can skip them (style.md: each rule once).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from egsu.access import grants
from egsu.access.audit import Event, audit
from egsu.access.models import Profile
from egsu.access.roles import DEFAULT_MODULES
from egsu.access.scope import Scope


@dataclass
class AccountData:
    """What the user form collects; `subjects` are registry Subjects already scoped by the caller."""

    username: str
    role: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    organisation: str = ""
    phone: str = ""
    subjects: list = field(default_factory=list)
    modules: list[str] = field(default_factory=list)
    meter_accounts: list[list[str]] = field(default_factory=list)  # [supplier BIN, account]
    language: str = "kk"


def snapshot(user) -> dict:
    """The audited state of an account: who it is, its role, scope, modules and status."""
    profile = getattr(user, "profile", None)
    return {
        "username": user.get_username(),
        "name": user.get_full_name(),
        "email": user.email,
        "active": user.is_active,
        "role": profile.role if profile else None,
        "subjects": sorted(profile.subjects.values_list("bin", flat=True)) if profile else [],
        "modules": sorted(profile.granted_modules) if profile else [],
        "meter_accounts": list(profile.meter_accounts) if profile else [],
        "organisation": profile.organisation if profile else "",
        "language": profile.language if profile else "",
    }


def generate_password() -> str:
    """A random password that passes the configured validators (shown once, never stored in clear)."""
    while True:
        candidate = secrets.token_urlsafe(12)
        try:
            validate_password(candidate)
        except ValidationError:
            continue
        return candidate


def _check(scope: Scope, data: AccountData) -> None:
    grants.require_assign(scope, data.role)
    problems = grants.module_problems(scope, data.role, set(data.modules))
    if problems:
        raise PermissionDenied(" ".join(problems))


def _stored_modules(role: str, modules: list[str]) -> list[str]:
    """Empty means the role's defaults (Profile.granted_modules), so defaults are kept as []."""
    chosen = set(modules)
    return [] if chosen == set(DEFAULT_MODULES[role]) else sorted(chosen)


def _apply(user, data: AccountData) -> None:
    user.username = data.username
    user.first_name = data.first_name
    user.last_name = data.last_name
    user.email = data.email
    user.save()
    profile = getattr(user, "profile", None) or Profile(user=user)
    profile.role = data.role
    profile.organisation = data.organisation
    profile.phone = data.phone
    profile.modules = _stored_modules(data.role, data.modules)
    profile.meter_accounts = list(data.meter_accounts)
    profile.language = data.language
    profile.save()
    profile.subjects.set(data.subjects)
    user.profile = profile


@transaction.atomic
def create_account(scope: Scope, actor, data: AccountData, password: str, *, request=None):
    """ACC-12: a new account with a role and scope; the password must already have passed validation."""
    _check(scope, data)  # refuses anyone who may not manage users at all
    user = get_user_model()(is_active=True)
    user.set_password(password)
    _apply(user, data)
    audit(
        Event.USER_CREATED, actor=actor, obj=user, request=request,
        summary=f"account {user.get_username()} created as {data.role}", after=snapshot(user),
    )  # fmt: skip
    return user


@transaction.atomic
def update_account(scope: Scope, actor, user, data: AccountData, *, request=None):
    grants.require_manage(scope, user)
    _check(scope, data)
    before = snapshot(user)
    _apply(user, data)
    after = snapshot(user)
    if before != after:
        changed = sorted(key for key in after if before.get(key) != after[key])
        audit(
            Event.USER_CHANGED, actor=actor, obj=user, request=request,
            summary=f"account {user.get_username()}: " + ", ".join(changed), before=before, after=after,
        )  # fmt: skip
    return user


@transaction.atomic
def set_active(scope: Scope, actor, user, active: bool, *, request=None) -> bool:
    """Deactivate or reactivate (accounts are never deleted: the audit trail keeps naming them)."""
    grants.require_manage(scope, user)
    if user.is_active == active:
        return False
    before = snapshot(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit(
        Event.USER_REACTIVATED if active else Event.USER_DEACTIVATED, actor=actor, obj=user, request=request,
        summary=f"account {user.get_username()} {'reactivated' if active else 'deactivated'}",
        before=before, after=snapshot(user),
    )  # fmt: skip
    return True


@transaction.atomic
def reset_password(scope: Scope, actor, user, *, request=None) -> str:
    """A new generated password for someone else's account, to hand over once."""
    grants.require_manage(scope, user)
    password = generate_password()
    user.set_password(password)
    user.save(update_fields=["password"])
    audit(
        Event.PASSWORD_RESET, actor=actor, obj=user, request=request,
        summary=f"password of {user.get_username()} reset",
    )  # fmt: skip
    return password


@transaction.atomic
def change_own_password(user, password: str, *, request=None) -> None:
    """The signed-in user's own password; the caller validated it (old password and validators)."""
    user.set_password(password)
    user.save(update_fields=["password"])
    audit(
        Event.PASSWORD_CHANGED, actor=user, obj=user, request=request,
        summary=f"{user.get_username()} changed their password",
    )  # fmt: skip
