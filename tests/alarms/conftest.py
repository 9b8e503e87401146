"""The alarms' test world: the cabinet's (two oil and gas subjects, one user per role) plus a
utility with AMI meters, and the real SMTP server on loopback."""

from __future__ import annotations

import pytest

from tests.cabinet.conftest import client_for, world  # noqa: F401 - the cabinet's test world
from tests.mail.conftest import mail_to_smtp, point_mail_at, smtp  # noqa: F401 - real SMTP on loopback


@pytest.fixture
def ami(db):
    from tests.ami.conftest import make_world

    return make_world(2)


@pytest.fixture(autouse=True)
def _no_urgent_reports(settings):
    """Critical alarms start urgent reports (tested once on its own); the rest of the tests skip them."""
    settings.EGSU_ALARM_URGENT_REPORTS = False
