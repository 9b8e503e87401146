"""Bearer auth of /api/v1/: a personal token stands for its user, with the user's role and scope."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from egsu.access.scope import scope_for
from egsu.api import tokens


class TokenBearer(HttpBearer):
    """Authorization: Bearer egsu_…; a revoked or expired token, or a deactivated user's, is a 401."""

    def authenticate(self, request: HttpRequest, token: str):
        found = tokens.authenticate(token)
        if found is None:
            return None
        request.user = found.user
        request.scope = scope_for(found.user)
        request.api_token = found
        return found
