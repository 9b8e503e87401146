"""Shared test setup: where the real third-party artefacts live, and small helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SHEP = SHARED / "shep"


def shared_path(*parts: str) -> Path:
    """A file under ../shared, read in place; skip with a reason when that folder is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"{path} is absent: ../shared (third-party schemas, examples and NCA test certs) "
            "is not next to this checkout, so this compatibility test cannot run"
        )
    return path


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """The production algorithm with fewer rounds, so password checks do not dominate the suite."""

    iterations = 1_000


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["tests.conftest.FastPBKDF2PasswordHasher"]


INLINE_TASKS = {
    "default": {"BACKEND": "egsu.jobs.backend.QueueBackend", "QUEUES": [], "OPTIONS": {"INLINE": True}}
}


@pytest.fixture(autouse=True)
def _jobs_run_inline(request, settings):
    """Jobs run in the test's process as they are queued (same claim/run/settle path as a worker).

    Tests of the queue itself, and those that start real `egsu worker` processes, ask for the
    `real_queue` fixture (tests/jobs/conftest.py) and get the queue as production has it.
    """
    if "real_queue" not in request.fixturenames:
        settings.TASKS = INLINE_TASKS


def pytest_collection_modifyitems(config, items):
    """`postgres` tests run in the PostgreSQL pass of `make test` (scripts/test-all) and skip on SQLite."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" in engine:
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL: runs in the PostgreSQL pass of `make test` "
        "(EGSU_DATABASE_URL=postgresql://…); this pass is on SQLite"
    )
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


def pytest_configure(config):
    # Build the Kazakh and Russian catalogues before Django loads (and caches) any of them.
    from egsu.catalogs import compile_catalogs

    compile_catalogs()
    config.addinivalue_line(
        "markers",
        "product_language: keep the product's default language (Kazakh) instead of the tests' English",
    )


@pytest.fixture(autouse=True)
def _tests_read_english(request, settings, monkeypatch):
    """Tests assert the English source strings; the product itself speaks Kazakh by default.

    So outside the language tests (marker `product_language`, tests/i18n) and the browser walk-through
    (which sees the system as a visitor does), the default language is English and every test
    client carries the English language cookie, which also outranks a profile's language.
    """
    if request.node.get_closest_marker("product_language") or "browser" in request.node.path.parts:
        return
    settings.LANGUAGE_CODE = "en"
    from django.test import Client

    plain_init = Client.__init__

    def english_client(self, *args, **kwargs):
        plain_init(self, *args, **kwargs)
        self.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    monkeypatch.setattr(Client, "__init__", english_client)


@pytest.fixture(autouse=True)
def _fresh_revocation_cache():
    """The revocation cache lives for the process (one per server); each test starts with an empty one."""
    yield
    from egsu.signatures import services as signatures

    signatures.revocation_cache.cache_clear()
