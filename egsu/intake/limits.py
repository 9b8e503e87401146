"""Per-sender limits at the gateway: failed passwords (SCE002) and failed signatures.

* ``EGSU_SHEP_MAX_PASSWORD_FAILURES`` (default 5) wrong passwords in a row lock the senderId for
  ``EGSU_SHEP_LOCK_MINUTES`` (default 15): meanwhile a new password is not even tried (SCE002), while
  a password this process already verified for the sender still passes, so a stranger who knows a
  senderId cannot lock the real system out.
* ``EGSU_SHEP_MAX_SIGNATURE_FAILURES`` (default 10) refused signatures (SCE005–SCE007) in a row make
  the gateway check that sender's password *before* any signature work for the same time, so a
  forger costs one password check and then runs into the password lock.

Both counters reset on success. Stored in the same table as the cabinet's sign-in throttle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from egsu.access import throttle
from egsu.access.models import LoginThrottle
from egsu_core.clock import utcnow


def _password_key(sender_id: str) -> str:
    return f"shep-password:{sender_id}"[:150]


def _signature_key(sender_id: str) -> str:
    return f"shep-signature:{sender_id}"[:150]


@dataclass(frozen=True)
class SenderState:
    password_locked_until: datetime | None
    password_first: bool  # too many signature failures: the password is checked before the signature
    has_rows: bool


def state(sender_id: str) -> SenderState:
    """One query: what the limits say about this sender now."""
    now = utcnow()
    rows = {
        row.username: row
        for row in LoginThrottle.objects.filter(
            username__in=[_password_key(sender_id), _signature_key(sender_id)]
        )
    }
    password = rows.get(_password_key(sender_id))
    signature = rows.get(_signature_key(sender_id))
    locked = (
        password.locked_until if password and password.locked_until and password.locked_until > now else None
    )
    strict = bool(signature and signature.locked_until and signature.locked_until > now)
    return SenderState(locked, strict, bool(rows))


def _lock_for() -> timedelta:
    return timedelta(minutes=settings.CONFIG.shep_lock_minutes)


def password_failed(sender_id: str) -> bool:
    return throttle.failed(
        _password_key(sender_id),
        max_failures=settings.CONFIG.shep_max_password_failures,
        lock_for=_lock_for(),
    )


def signature_failed(sender_id: str) -> bool:
    return throttle.failed(
        _signature_key(sender_id),
        max_failures=settings.CONFIG.shep_max_signature_failures,
        lock_for=_lock_for(),
    )


def succeeded(sender_id: str, current: SenderState) -> None:
    """A fully verified, authenticated message: both counters start again (no query when there are none)."""
    if current.has_rows:
        LoginThrottle.objects.filter(
            username__in=[_password_key(sender_id), _signature_key(sender_id)]
        ).delete()
