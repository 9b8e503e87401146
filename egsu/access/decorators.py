"""View guards: signed in, and the module granted (the rest is the scope's querysets)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from egsu.access.scope import require


def cabinet_view(module: str | None = None, *, edit: bool = False, any_of: tuple[str, ...] = ()):
    """Sign-in required; then the module, or one of `any_of` (and, for changes, the editing right)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            scope = request.scope
            if scope.role is None:
                raise PermissionDenied("this account has no role yet; ask the data operator")
            if module is not None:
                require(scope, module)
            if any_of and not any(scope.has(m) for m in any_of):
                raise PermissionDenied(f"none of the modules {', '.join(any_of)} is granted")
            if edit and not scope.can_edit:
                raise PermissionDenied("this role may read but not change data (ACC-13)")
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
