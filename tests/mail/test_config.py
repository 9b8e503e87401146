"""EGSU_EMAIL_URL and EGSU_EMAIL_FROM, and the other settings of this work parsed in egsu/conf.py."""

from __future__ import annotations

import pytest

from egsu import conf
from egsu.conf import ConfigError, EmailSettings, email_from_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", EmailSettings("console")),
        ("console://", EmailSettings("console")),
        ("smtp://mail.example.kz", EmailSettings("smtp", "mail.example.kz", 25)),
        ("smtp://127.0.0.1:2525", EmailSettings("smtp", "127.0.0.1", 2525)),
        ("smtp+tls://u%40x.kz:p%3Ass@mail.example.kz", EmailSettings("smtp", "mail.example.kz", 587, "u@x.kz", "p:ss", use_tls=True)),
        ("smtp+ssl://mail.example.kz:4650", EmailSettings("smtp", "mail.example.kz", 4650, use_ssl=True)),
    ],
    ids=["unset", "console", "smtp-default-port", "smtp-port", "starttls-with-login", "ssl"],
)  # fmt: skip
def test_the_email_url_is_parsed(url, expected):
    assert email_from_url(url) == expected


@pytest.mark.parametrize(
    "url", ["http://mail.example.kz", "smtp://", "smtp://host:port"], ids=["scheme", "no-host", "port"]
)
def test_a_malformed_email_url_is_refused(url):
    with pytest.raises(ConfigError, match="EGSU_EMAIL_URL"):
        email_from_url(url)


def test_the_password_never_shows_in_the_description():
    described = email_from_url("smtp+tls://user:secret@mail.example.kz").describe()
    assert described == {"backend": "smtp", "host": "mail.example.kz", "port": 587, "security": "starttls"}


def test_production_needs_an_email_url_and_a_sender(monkeypatch):
    monkeypatch.delenv("EGSU_EMAIL_URL", raising=False)
    monkeypatch.delenv("EGSU_EMAIL_FROM", raising=False)
    with pytest.raises(ConfigError, match="EGSU_EMAIL_URL must be set"):
        conf._email(production=True)
    monkeypatch.setenv("EGSU_EMAIL_URL", "smtp://mail.example.kz")
    with pytest.raises(ConfigError, match="EGSU_EMAIL_FROM must be set"):
        conf._email(production=True)
    monkeypatch.setenv("EGSU_EMAIL_FROM", "egsu@energo.gov.kz")
    assert conf._email(production=True)[1] == "egsu@energo.gov.kz"
    monkeypatch.setenv("EGSU_EMAIL_FROM", "not an address")
    with pytest.raises(ConfigError, match="EGSU_EMAIL_FROM"):
        conf._email(production=False)


def test_the_embedded_default_mails_to_the_console(monkeypatch, tmp_path):
    monkeypatch.setenv("EGSU_VAR_DIR", str(tmp_path))
    for name in ("EGSU_EMAIL_URL", "EGSU_EMAIL_FROM", "EGSU_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    config = conf.load()
    assert (config.email.backend, config.email_from) == ("console", "egsu@localhost")
    assert (config.jobs_heartbeat_s, config.jobs_lease_s, config.journal_retention_days) == (10.0, 60.0, 1096)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("EGSU_JOURNAL_RETENTION_DAYS", "1095", "at least 1096 days"),
        ("EGSU_AUDIT_RETENTION_DAYS", "365", "at least 366 days"),
        ("EGSU_JOBS_LEASE_S", "15", "at least twice"),
        ("EGSU_JOBS_POLL_S", "0", "must be positive"),
    ],
    ids=["journal-under-3-years", "audit-under-12-months", "lease-too-short", "poll-zero"],
)
def test_unsafe_settings_fail_loudly(monkeypatch, tmp_path, name, value, message):
    monkeypatch.setenv("EGSU_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("EGSU_DATABASE_URL", raising=False)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        conf.load()
