"""Lock a name after repeated failures, for a while (brute force protection).

The cabinet's sign-in keys by user name; the gateway (egsu.intake.limits) keys by
``shep-password:<senderId>`` and ``shep-signature:<senderId>`` (a colon never occurs in a
user name, so the keys cannot collide).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.backends import ModelBackend
from django.db import transaction

from egsu.access.models import LoginThrottle
from egsu_core.clock import utcnow

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)


def is_locked(username: str) -> bool:
    return locked_until(username) is not None


def locked_until(username: str):
    """Until when the name is locked, or None."""
    row = LoginThrottle.objects.filter(username=username).first()
    if row is not None and row.locked_until is not None and row.locked_until > utcnow():
        return row.locked_until
    return None


def failed(username: str, *, max_failures: int = MAX_FAILURES, lock_for: timedelta = LOCK_FOR) -> bool:
    """Count a failure; True when the name is (now) locked."""
    now = utcnow()
    with transaction.atomic():
        row, _ = LoginThrottle.objects.select_for_update().get_or_create(username=username)
        if row.locked_until is not None and row.locked_until <= now:
            row.failures = 0
            row.locked_until = None
        row.failures += 1
        row.last_failure_at = now
        if row.failures >= max_failures:
            row.locked_until = now + lock_for
        row.save()
        return row.locked_until is not None


def succeeded(username: str) -> None:
    LoginThrottle.objects.filter(username=username).delete()


class ThrottledModelBackend(ModelBackend):
    """Django's backend, refusing a locked name even with the right password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is not None and is_locked(username):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
