"""Demo users and their personal API tokens for `make demo`: the manifest's `api` part.

One user per demo role: the data operator, a subject user of the first subject (which owns the demo
head-end's meters), a subject user of another subject, and a subscriber holding the first demo
meter's (supplier, account). Every run revokes the demo tokens it made before and makes new ones
(a token is known only when made), so the manifest is always right.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from egsu.access.models import Profile
from egsu.access.roles import Role
from egsu.api import tokens
from egsu.registry.models import Subject

TOKEN_NAME = "egsu demo"


def _user(username: str, role: str, subjects=(), meter_accounts=()) -> User:
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": f"{username}@egsu.demo.kz"}
    )
    if created:
        user.set_unusable_password()  # signs in after `egsu set-password`; the API needs only the token
        user.save()
    profile, _ = Profile.objects.update_or_create(
        user=user,
        defaults={"role": role, "language": "ru", "meter_accounts": [list(p) for p in meter_accounts]},
    )
    profile.subjects.set(subjects)
    return user


@transaction.atomic
def load_demo_api(subjects: list[Subject], *, base: str, subscriber_account: tuple[str, str]) -> dict:
    """{base, tokens: {role name: token}} for operator, subject (first), other_subject, subscriber."""
    users = {
        "operator": _user("demo-operator", Role.OPERATOR),
        "subject": _user("demo-subject", Role.SUBJECT, [subjects[0]]),
        "other_subject": _user("demo-other-subject", Role.SUBJECT, [subjects[1]]),
        "subscriber": _user("demo-subscriber", Role.SUBSCRIBER, meter_accounts=[subscriber_account]),
    }
    made = {}
    for role, user in users.items():
        for old in tokens.tokens_of(user).filter(name=TOKEN_NAME, revoked_at__isnull=True):
            tokens.revoke_token(old, actor=user)
        made[role] = tokens.create_token(user, TOKEN_NAME, days=None)[1]
    return {"base": f"{base}/api/v1/", "docs": f"{base}/api/v1/docs", "tokens": made}
