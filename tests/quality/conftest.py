"""The cabinet test world (two subjects, a user per role) and small act factories."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from egsu.access.roles import Role
from egsu.access.scope import scope_for
from egsu.quality import services
from tests.cabinet import conftest as cabinet
from tests.cabinet.conftest import START

# The cabinet's world and signed-in clients, shared rather than copied.
world = cabinet.world
client_for = cabinet.client_for

SLOT = START + timedelta(hours=2)  # the second 2-hourly slot: volume 101 in A100, 501 in B200


def line_for(facility, device, *, quantity="volume", at=SLOT, value="111.5") -> services.LineProposal:
    return services.LineProposal(facility.object_id, device.device_id, quantity, "PT2H", at, Decimal(value))


@pytest.fixture
def propose_act(world):
    """propose_act('own'|'other', **line) → an act the operator proposed on that subject's device."""

    def make(which: str = "own", *, reason: str = "Meter drift found by the commission", **line):
        facility = world.own_facility if which == "own" else world.other_facility
        device = world.own_device if which == "own" else world.other_device
        operator = world.users[Role.OPERATOR]
        return services.propose(scope_for(operator), operator, [line_for(facility, device, **line)], reason)

    return make
