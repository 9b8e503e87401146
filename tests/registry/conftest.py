"""Registry test setup: a cheap PBKDF2 so password tests stay fast (same algorithm, fewer rounds)."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1_000


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["tests.registry.conftest.FastPBKDF2PasswordHasher"]
