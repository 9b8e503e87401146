"""The cabinet world (two subjects, their oil and gas devices, one user per role) plus AMI meters.

Oil and gas devices and AMI meters are both metering points: every test here runs against both.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from egsu.access.roles import Role
from egsu.ami.models import Channel, Meter, MeteringObject
from egsu.readings.services import get_store
from egsu.readings.store import ReadingRow, SeriesKey
from tests.cabinet.conftest import START, client_for, world  # noqa: F401 - shared fixtures

QUARTER = START  # 2025-06-01 00:00 Astana

# The authorization matrix of metering points, shared by the pages (tests/points) and the read API
# (tests/api): who is refused, what each role lists, and whose point each role may open.
PAGE_REFUSED = {"anonymous": 302, "no-role": 403, Role.STATE_BODY: 403}
# What each role lists: a subject its own device and meter, a subscriber its own meter (by supplier
# and account), the national roles everything.
LISTED = {
    Role.AUTHORITY: ["A100/1", "B200/1", "E-OTH-1", "E-OWN-1"],
    Role.OPERATOR: ["A100/1", "B200/1", "E-OTH-1", "E-OWN-1"],
    Role.SUBJECT: ["A100/1", "E-OWN-1"],
    Role.SUBSCRIBER: ["E-OWN-1"],
}


def point_expected(role: str, whose: str, kind: str, refused: dict) -> int:
    """The status of one point's page or API answer: `refused` roles, else 200 in scope, 404 outside."""
    if role in refused:
        return refused[role]
    if role in (Role.AUTHORITY, Role.OPERATOR):
        return 200
    if role == Role.SUBSCRIBER:  # its own meter only; no oil and gas module
        return 200 if (whose, kind) == ("own", "meter") else 404
    return 200 if whose == "own" else 404


def make_meter(subject, code, serial, account, address, counterparty, *, energy="electricity"):
    place = MeteringObject.objects.create(
        code=code, kind="transformer_point", name=f"Point {code}", region=subject.region, subject=subject
    )
    meter = Meter.objects.create(
        subject=subject, metering_object=place, energy=energy, meter_type="1P", model="CE-102",
        serial_number=serial, account=account, address=address, counterparty=counterparty,
    )  # fmt: skip
    Channel.objects.create(meter=meter, code="A+", unit="kWh", obis="1-0:1.8.0*255", interval="PT15M")
    return meter


@pytest.fixture
def meters(world):  # noqa: F811 - the shared fixture
    own = make_meter(world.own, "TP-OWN", "E-OWN-1", "ACC-100", "Abay avenue 10", "Kazyna LLP")
    other = make_meter(world.other, "TP-OTH", "E-OTH-1", "ACC-200", "Dostyk street 5", "Baiterek JSC")
    profile = world.users[Role.SUBSCRIBER].profile
    profile.meter_accounts = [[world.own.bin, "ACC-100"]]  # AMI-08: (supplier, account)
    profile.save()
    get_store().write([
        ReadingRow(SeriesKey("TP-OWN", str(own.pk), "A+"), "PT15M", QUARTER + timedelta(minutes=15 * n),
                   Decimal("1.5") + n, "kWh", "good", "ami:hes:b1", True)
        for n in range(4)
    ])  # fmt: skip
    return {"own": own, "other": other}
