"""A real SMTP server on loopback for the mail tests, and Django's mail pointed at it."""

from __future__ import annotations

import dataclasses

import pytest

from tests.jobs.conftest import effect_tables, real_queue, workers  # noqa: F401 - shared fixtures
from tests.smtp import SmtpSink


@pytest.fixture
def smtp():
    sink = SmtpSink(refuse=frozenset({"nobody@example.kz"})).start()
    yield sink
    sink.stop()


def point_mail_at(settings, port: int, **config) -> None:
    """Django's SMTP connection to 127.0.0.1:port (pytest-django otherwise keeps mail in memory)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "egsu@energo.gov.kz"
    if config:
        settings.CONFIG = dataclasses.replace(settings.CONFIG, **config)


@pytest.fixture
def mail_to_smtp(settings, smtp):
    point_mail_at(settings, smtp.port)
    return smtp
