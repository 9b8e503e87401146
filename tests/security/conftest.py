"""The demo stand of the gateway tests (tests/intake/conftest.py), for the security tests."""

from tests.intake.conftest import identity, stand  # noqa: F401 - fixtures
