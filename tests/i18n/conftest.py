"""The cabinet's test world, shared: two subjects, their devices and readings, a user per role."""

from __future__ import annotations

from tests.cabinet import conftest as cabinet

world = cabinet.world
client_for = cabinet.client_for
