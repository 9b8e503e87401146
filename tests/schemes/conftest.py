"""The cabinet's world plus NCA-shaped key stores from the stand's test CAs (RSA and GOST)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from egsu import calendar_kz
from egsu.access.roles import Role
from egsu.access.scope import scope_for
from egsu.points.models import MeteringPoint
from egsu.schemes import services
from egsu.schemes.models import Metrology
from egsu.signatures.services import test_ca
from tests.cabinet import conftest as cabinet

world = cabinet.world
client_for = cabinet.client_for
KEY_PASSWORD = "Key-store-1"
NODES = "W1; well; Well 101\nU1; preparation_unit; Preparation unit\nD1; delivery_point; Pipeline acceptance point"


@pytest.fixture(autouse=True)
def _fresh_calendar():
    calendar_kz.invalidate()  # a rolled-back test's transfers must not stay in the cache
    yield
    calendar_kz.invalidate()


@dataclass(frozen=True)
class KeyStore:
    data: bytes
    password: str
    bin: str


def key_store(bin_: str, person: str, key_type: str = "rsa") -> KeyStore:
    ca = test_ca(key_type)
    issued = ca.issue_subject(bin_, "Test organisation", person, "900101300123")
    return KeyStore(issued.p12(KEY_PASSWORD), KEY_PASSWORD, bin_)


@pytest.fixture
def keys(world):
    """Key stores: the subject's head (its BIN, RSA) and the authorized body's reviewer (GOST)."""
    return {
        Role.SUBJECT: key_store(world.own.bin, "Subjectov Aidar"),
        Role.AUTHORITY: key_store("000740000777", "Reviewerova Dana", "gost2004"),
    }


def identity(store: KeyStore):
    return services.identity_from_key_store(store.data, store.password)


def flows_for(world) -> str:
    own = MeteringPoint.objects.get(device=world.own_device)
    other = MeteringPoint.objects.get(device=world.other_device)  # another company's delivery-point device
    return f"W1; U1; liquid; input; {own.object_code}/{own.store_device_id}\nU1; D1; crude_oil; output; {other.object_code}/{other.store_device_id}"


@pytest.fixture
def approved_types(world):
    for device in (world.own_device, world.other_device):
        point = MeteringPoint.objects.get(device=device)
        Metrology.objects.create(point=point, type_register_no="KZ.02.03.12345-2020", method_ref="MVI 8.587")


@pytest.fixture
def drafted(world, approved_types):
    subject = world.users[Role.SUBJECT]
    scope = scope_for(subject)
    version = services.create_scheme(scope, subject, world.own_facility)
    return services.save_draft(scope, subject, version, NODES, flows_for(world))
