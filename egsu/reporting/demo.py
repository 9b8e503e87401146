"""The demo's report reader: an analyst of the authorized body subscribed to the daily national reports,
so that `make demo` mails one as soon as the scheduler first runs (with EGSU_EMAIL_URL set)."""

from __future__ import annotations

from django.contrib.auth.models import User

from egsu.access.models import Profile
from egsu.access.roles import Role
from egsu.reporting.definitions import Frequency, Kind, Level
from egsu.reporting.models import Subscription
from egsu_core.clock import utcnow

DEMO_READER = "demo-analyst"
DEMO_READER_EMAIL = "demo-analyst@egsu.demo.kz"


def demo_reader(email: str = DEMO_READER_EMAIL) -> User:
    """Create (or refresh) the subscriber; it has no usable password (sign in as it after `egsu set-password`)."""
    user, created = User.objects.get_or_create(
        username=DEMO_READER, defaults={"email": email, "first_name": "Demo"}
    )
    if created:
        user.set_unusable_password()
    user.email = email
    user.save()
    Profile.objects.update_or_create(user=user, defaults={"role": Role.AUTHORITY, "language": "ru"})
    for kind in (Kind.OIL_GAS_TURNOVER, Kind.ARRIVALS):
        Subscription.objects.get_or_create(user=user, kind=kind, frequency=Frequency.DAILY, level=Level.NATIONAL,
                                           area="", defaults={"created_at": utcnow()})  # fmt: skip
    return user
