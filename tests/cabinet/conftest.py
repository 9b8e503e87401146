"""A small world for cabinet tests: two subjects with facilities, devices and readings, and one
user per role (own = subject A, other = subject B). Authorization matrices are built on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from egsu.access.models import Profile
from egsu.access.roles import Role
from egsu.readings.services import get_store
from egsu.readings.store import ReadingRow, SeriesKey
from egsu.registry.services import load_dictionaries
from tests.registry.factories import make_device, make_facility, make_product_type, make_subject

PASSWORD = "cabinet-Password-123"
START = datetime(2025, 6, 1, tzinfo=UTC) - timedelta(hours=5)  # 2025-06-01 00:00 in Astana (UTC+5)


@dataclass
class World:
    own: object  # Subject A
    other: object  # Subject B
    own_facility: object
    other_facility: object
    own_device: object
    other_device: object
    users: dict  # role name → User ("anonymous" absent)


def _user(username: str, role: str | None, subjects=()) -> User:
    user = User.objects.create_user(username, f"{username}@example.kz", PASSWORD)
    if role is not None:
        profile = Profile.objects.create(user=user, role=role)
        profile.subjects.set(subjects)
    return user


def _readings(facility, device, *, days: int = 3, base: str = "100.0") -> None:
    rows = []
    for step in range(days * 12):
        start = START + timedelta(hours=2 * step)
        for quantity, unit in (("volume", "m3"), ("tankLevel", "cm")):
            rows.append(ReadingRow(
                key=SeriesKey(facility.object_id, device.device_id, quantity), interval="PT2H",
                period_start=start, value=Decimal(base) + step, unit=unit, quality="good",
                source="test", commercial=device.commercial,
            ))  # fmt: skip
    get_store().write(rows)


@pytest.fixture
def world(db) -> World:
    load_dictionaries()  # a transactional test before this one (a live server) flushed the seeded rows
    make_product_type()
    own, other = (
        make_subject(name="Own Oil LLP", region="Atyrau"),
        make_subject(name="Other Gas JSC", region="Mangystau"),
    )
    own_facility = make_facility("A100", kind="1.2", subject=own, name="Own tank farm", region="Atyrau")
    other_facility = make_facility(
        "B200", kind="1.2", subject=other, name="Other tank farm", region="Mangystau"
    )
    own_device = make_device(
        own_facility, "1", device_type_id=1, product_type_id=1, serial_number="SN-A-1", commercial=True
    )
    other_device = make_device(
        other_facility, "1", device_type_id=1, product_type_id=1, serial_number="SN-B-1"
    )
    _readings(own_facility, own_device)
    _readings(other_facility, other_device, base="500.0")
    users = {
        Role.AUTHORITY: _user("analyst", Role.AUTHORITY),
        Role.OPERATOR: _user("operator", Role.OPERATOR),
        Role.SUBJECT: _user("subject-a", Role.SUBJECT, [own]),
        Role.STATE_BODY: _user("state-body", Role.STATE_BODY, [own]),
        Role.SUBSCRIBER: _user("subscriber", Role.SUBSCRIBER),
        "no-role": _user("no-role", None),
    }
    return World(own, other, own_facility, other_facility, own_device, other_device, users)


@pytest.fixture
def client_for(world):
    """client_for(role) → a Client signed in as that role's user; client_for('anonymous') → signed out."""

    def make(role: str) -> Client:
        client = Client()
        if role != "anonymous":
            client.force_login(world.users[role])
        return client

    return make


ROLES = [
    "anonymous",
    "no-role",
    Role.AUTHORITY,
    Role.OPERATOR,
    Role.SUBJECT,
    Role.STATE_BODY,
    Role.SUBSCRIBER,
]
