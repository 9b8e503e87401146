"""Who may manage which accounts, and grant what (ACC-12, issue 5: no escalation by the cabinet).

The rules, in one place:
- only roles that may edit data (authorized body, data operator) with the USERS module manage users;
- the authorized body manages everyone except the system administrators (superusers without a
  profile, who are managed from the shell: `egsu set-password`, the admin site);
- a data operator manages only the roles below its own (subject users, state bodies,
  subscribers, and accounts without a role yet): it neither creates nor edits authorized-body or
  operator accounts, nor raises anyone to them;
- nobody grants a module it does not hold itself, and USERS/AUDIT go only to editing roles;
- nobody changes their own account here (role, scope, status): a user cannot widen its own rights.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from egsu.access.roles import EDITING_ROLES, Module, Role
from egsu.access.scope import Scope

# Rank of each role for the "not above your own" rule; every other role (and no role) ranks 0.
RANK: dict[str, int] = {Role.AUTHORITY: 2, Role.OPERATOR: 1}

# Modules that only make sense for the editing roles (the pages behind them require editing rights).
EDITOR_ONLY_MODULES = frozenset({Module.USERS, Module.AUDIT})


def rank(role: str | None) -> int:
    return RANK.get(role or "", 0)


def target_role(user) -> str | None:
    profile = getattr(user, "profile", None)
    return profile.role if profile is not None else None


def manages_users(scope: Scope) -> bool:
    return scope.can_edit and scope.has(Module.USERS)


def assignable_roles(scope: Scope) -> list[str]:
    """Roles this actor may give: the authorized body any; an operator only those below its own."""
    if not manages_users(scope):
        return []
    if scope.role == Role.AUTHORITY:
        return list(Role.values)
    return [role for role in Role.values if rank(role) < rank(scope.role)]


def can_manage(scope: Scope, user) -> bool:
    """May this actor edit, deactivate or reactivate `user` at all?"""
    if not manages_users(scope) or user.pk == scope.user_id:
        return False
    if user.is_superuser and getattr(user, "profile", None) is None:
        return False  # the system administrator: shell and admin site only
    if scope.role == Role.AUTHORITY:
        return True
    return rank(target_role(user)) < rank(scope.role)


def grantable_modules(scope: Scope) -> list[str]:
    """Modules this actor may hand out: only those it holds itself, in the catalogue's order."""
    return [m for m in Module.values if m in scope.modules]


def module_problems(scope: Scope, role: str, modules: set[str]) -> list[str]:
    """Why this set of modules may not be given to this role by this actor (empty: fine)."""
    problems = []
    beyond = sorted(modules - set(scope.modules))
    if beyond:
        problems.append(
            _("You may not grant modules you do not hold: %(modules)s.") % {"modules": ", ".join(beyond)}
        )
    if role not in EDITING_ROLES and modules & EDITOR_ONLY_MODULES:
        problems.append(
            _("User management and the audit log are only for the authorized body and the data operator.")
        )
    return problems


def require_manage(scope: Scope, user) -> None:
    if not can_manage(scope, user):
        raise PermissionDenied("you may not manage this account")


def require_assign(scope: Scope, role: str) -> None:
    if role not in assignable_roles(scope):
        raise PermissionDenied(f"you may not give the role {role}")
