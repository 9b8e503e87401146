"""The cabinet test world, shared with the export tests."""

from tests.cabinet.conftest import client_for, world  # noqa: F401
