"""Attach the request's Scope (egsu.access.scope) once, lazily, for views and templates."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from egsu.access.scope import scope_for


class ScopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.scope = SimpleLazyObject(lambda: scope_for(request.user))
        chosen = self._profile_language(request)
        response = self.get_response(request)
        if chosen:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, chosen, samesite="Lax")
        return response

    @staticmethod
    def _profile_language(request) -> str | None:
        """A signed-in user without a language cookie gets the language of its profile."""
        if settings.LANGUAGE_COOKIE_NAME in request.COOKIES or not request.user.is_authenticated:
            return None
        profile = getattr(request.user, "profile", None)
        if profile is None or not profile.language:
            return None
        translation.activate(profile.language)
        request.LANGUAGE_CODE = profile.language
        return profile.language
