"""Lock a user name after repeated failed sign-ins, for a while (brute force protection)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.backends import ModelBackend
from django.db import transaction

from egsu.access.models import LoginThrottle
from egsu.clock import utcnow

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)


def is_locked(username: str) -> bool:
    row = LoginThrottle.objects.filter(username=username).first()
    return row is not None and row.locked_until is not None and row.locked_until > utcnow()


def failed(username: str) -> bool:
    """Count a failure; True when the name is (now) locked."""
    now = utcnow()
    with transaction.atomic():
        row, _ = LoginThrottle.objects.select_for_update().get_or_create(username=username)
        if row.locked_until is not None and row.locked_until <= now:
            row.failures = 0
            row.locked_until = None
        row.failures += 1
        row.last_failure_at = now
        if row.failures >= MAX_FAILURES:
            row.locked_until = now + LOCK_FOR
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
