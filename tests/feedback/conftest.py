"""The cabinet test world and its users (tests/cabinet/conftest.py)."""

from tests.cabinet.conftest import client_for, world  # noqa: F401
