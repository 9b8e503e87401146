"""Sign-in auditing and the lock-out counter (issue 5: lock-out after repeated failures)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from egsu.access import throttle
from egsu.access.audit import Event, audit


@receiver(user_logged_in)
def _signed_in(sender, request, user, **kwargs):
    throttle.succeeded(user.get_username())
    audit(Event.SIGN_IN, actor=user, obj=user, request=request)


@receiver(user_logged_out)
def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        audit(Event.SIGN_OUT, actor=user, obj=user, request=request)


@receiver(user_login_failed)
def _failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username", "")[:150]
    locked = throttle.failed(username)
    audit(
        Event.SIGN_IN_LOCKED if locked else Event.SIGN_IN_FAILED,
        object_type="auth.user",
        object_id=username,
        summary=f"failed sign-in for {username!r}",
        request=request,
    )
