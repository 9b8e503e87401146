"""Shared test setup: where the real third-party artefacts live, and small helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Properties are about behaviour, not speed (speed lives in benchmarks/): on a loaded 2-core machine
# generation may be slow, and that must not fail a test.
hypothesis_settings.register_profile("egsu", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("egsu")

ROOT = Path(__file__).resolve().parent.parent
# ../shared beside the checkout; EGSU_SHARED_DIR names it for a checkout elsewhere (a git worktree)
SHARED = Path(os.environ.get("EGSU_SHARED_DIR") or ROOT.parent / "shared")
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


@pytest.fixture(autouse=True)
def _fresh_service_windows():
    """Replacement windows are cached per process; a rolled-back test's must not reach the next one."""
    from egsu.points import lineage

    lineage.invalidate()
    yield
    lineage.invalidate()


# The ClickHouse pass of `make test` (scripts/test-all): EGSU_TEST_READINGS_BACKEND=clickhouse runs the
# tests of every page, export and API answer against a fresh ClickHouse database each, so what works
# on SQL works on ClickHouse through the same read path (the store interface).
READ_PATH_DIRECTORIES = frozenset(
    {"cabinet", "points", "reports", "api", "quality", "alarms", "vee", "balances", "schemes", "analytics"}
)


@pytest.fixture(autouse=True)
def _readings_backend_of_the_pass(request):
    import os

    if os.environ.get("EGSU_TEST_READINGS_BACKEND", "sql") != "clickhouse" or not (
        READ_PATH_DIRECTORIES & set(request.node.path.parts)
    ):
        yield
        return
    import uuid

    from django.test import override_settings

    from egsu.readings import services as readings
    from tests.readings import store_backends

    server = store_backends._server_url()  # skips loudly when no server can be started
    url = f"{server.rsplit('/', 1)[0]}/egsu_pass_{uuid.uuid4().hex[:12]}"
    with override_settings(READINGS_BACKEND="clickhouse", CLICKHOUSE_URL=url):
        readings._store.cache_clear()
        store = readings.get_store()
        # every labelled read through labels kept in the engine (in production: large selections only)
        store.backend.stored_labels_min = 1
        try:
            yield store
        finally:
            store_backends.drop_database(store)
            readings._store.cache_clear()
