"""Attach the request's Scope (egsu.access.scope) once, lazily, for views and templates."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from egsu.access.scope import scope_for


class ScopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.scope = SimpleLazyObject(lambda: scope_for(request.user))
        return self.get_response(request)
