"""Personal API tokens: made, listed, revoked and checked here, for the cabinet page and the Bearer auth.

A token is `egsu_` and 256 random bits: a fast hash is safe (nothing to guess), and only the hash
is stored. Making and revoking one is audited (the token never is).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db.models import Q, QuerySet

from egsu.access.audit import Event, audit
from egsu.api.models import ApiToken
from egsu_core.clock import utcnow

TOKEN_PREFIX = "egsu_"
# How long a token lives when made (days; None: until revoked). The page offers these.
LIFETIMES: tuple[int | None, ...] = (30, 90, 365, None)
LAST_USED_EVERY = timedelta(minutes=1)  # last use is written at most this often per token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_of(user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def create_token(user, name: str, *, days: int | None = 90, request=None) -> tuple[ApiToken, str]:
    """A new token for `user`; the token itself is returned once and only its hash kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    found = ApiToken.objects.create(
        user=user, name=name, token_hash=token_hash(token), prefix=token[:12], created_at=now,
        expires_at=None if days is None else now + timedelta(days=days),
    )  # fmt: skip
    audit(
        Event.API_TOKEN_CREATED, actor=user, obj=found, request=request,
        summary=f"API token {found.prefix}… ({name}) made",
        after={"name": name, "prefix": found.prefix,
               "expires_at": found.expires_at.isoformat() if found.expires_at else None},
    )  # fmt: skip
    return found, token


def revoke_token(found: ApiToken, *, actor, request=None) -> None:
    """The token stops working at once; revoking a revoked token changes nothing."""
    if found.revoked_at is not None:
        return
    found.revoked_at = utcnow()
    found.save(update_fields=["revoked_at"])
    audit(
        Event.API_TOKEN_REVOKED, actor=actor, obj=found, request=request,
        summary=f"API token {found.prefix}… ({found.name}) revoked",
        before={"revoked_at": None}, after={"revoked_at": found.revoked_at.isoformat()},
    )  # fmt: skip


def authenticate(token: str | None) -> ApiToken | None:
    """The live token (not revoked, not expired, of an active user) for this Bearer value, or None."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    now = utcnow()
    found = (
        ApiToken.objects.select_related("user", "user__profile")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True, user__is_active=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )
    if found is not None and (found.last_used_at is None or now - found.last_used_at >= LAST_USED_EVERY):
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        found.last_used_at = now
    return found
