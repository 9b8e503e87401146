"""Arrivals and balances read the APPROVED scheme version in force (OGM-04): a facility's devices count
from the approval day of a version they are on; a submitted, refused or draft version is ignored. Runs on
SQLite and, in the ClickHouse pass, on ClickHouse."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from egsu.balances.services import oil_gas_balance
from egsu.monitoring.expectations import expected_slots
from egsu.points.models import MeteringPoint
from egsu.points.services import refresh_all
from egsu.readings.services import get_store
from egsu.readings.store import ReadingRow, SeriesKey
from egsu.schemes import services
from egsu.schemes.models import Scheme, SchemeVersion, VersionStatus
from tests.cabinet.conftest import START
from tests.registry.factories import make_device

V2_DAY = date(2025, 6, 2)


def _version(scheme, number, status, points, decided=None, user=None):
    version = SchemeVersion.objects.create(
        scheme=scheme, number=number, status=status, content={}, created_by=user,
        created_at=datetime(2025, 4, 1, tzinfo=UTC), received_on=date(2025, 4, 1), deadline=date(2025, 5, 15),
        decided_at=decided, decided_by=user if decided else None, reasons="no" if status == "refused" else "",
    )  # fmt: skip
    version.points.set(points)
    return version


@pytest.fixture
def schemes(world):
    """Tank farm A100 has devices 1 (the world's values) and 2 (values 1000+step on all three days).
    v1, approved 1 May, meters the tank with device 1; v2, approved 2 June (Astana), with device 2;
    a refused v3 and a submitted v4 name both devices: neither is ever in force."""
    from egsu.registry.models import Device

    Device.objects.filter(pk=world.own_device.pk).update(installed_at=date(2025, 1, 1))
    make_device(world.own_facility, "2", device_type_id=1, product_type_id=1, serial_number="SN-A-2",
                installed_at=date(2025, 5, 1))  # fmt: skip
    get_store().write([
        ReadingRow(SeriesKey("A100", "2", quantity), "PT2H", START + timedelta(hours=2 * step), Decimal(1000 + step),
                   unit, "good", "test")
        for step in range(36) for quantity, unit in (("volume", "m3"), ("tankLevel", "cm"))
    ])  # fmt: skip
    one = MeteringPoint.objects.get(object_code="A100", store_device_id="1")
    two = MeteringPoint.objects.get(object_code="A100", store_device_id="2")
    user = world.users["authority"]
    scheme = Scheme.objects.create(facility=world.own_facility, subject=world.own)
    _version(scheme, 1, VersionStatus.SUPERSEDED, [one], datetime(2025, 5, 1, 6, tzinfo=UTC), user)
    _version(
        scheme, 2, VersionStatus.APPROVED, [two], datetime(2025, 6, 1, 20, tzinfo=UTC), user
    )  # 2 June, Astana
    _version(scheme, 3, VersionStatus.REFUSED, [one, two], datetime(2025, 6, 2, 8, tzinfo=UTC), user)
    _version(scheme, 4, VersionStatus.SUBMITTED, [one, two], user=user)
    refresh_all()
    return MeteringPoint.objects.get(pk=one.pk), MeteringPoint.objects.get(pk=two.pk)


def test_the_version_in_force_is_the_approved_one_from_its_approval_day(schemes, world):
    spans = services.in_force([world.own_facility.pk])[world.own_facility.pk]
    assert [(s.start, s.end, s.keys and sorted(s.keys)) for s in spans] == [
        (None, date(2025, 5, 1), None),
        (date(2025, 5, 1), V2_DAY, [("A100", "1")]),
        (V2_DAY, None, [("A100", "2")]),  # neither the refused v3 nor the submitted v4
    ]


def test_arrivals_expect_what_the_version_in_force_meters(schemes):
    one, two = schemes
    assert one.owes_until == V2_DAY - timedelta(days=1)  # dropped by v2: owed until the day before
    assert two.owes_from == V2_DAY  # added by v2 (installed 1 May, not on v1): owed from its approval
    now = datetime(2025, 6, 10, tzinfo=UTC)
    assert len(expected_slots(one, "PT2H", date(2025, 6, 1), date(2025, 6, 3), now=now)) == 12
    assert len(expected_slots(two, "PT2H", date(2025, 6, 1), date(2025, 6, 3), now=now)) == 24


def test_the_balance_counts_the_tank_by_the_version_in_force(schemes, world):
    found = oil_gas_balance(world.own, "oil", date(2025, 6, 2), date(2025, 6, 3))
    stocks = [(day, round(d.stock_begin, 3), round(d.stock_end, 3)) for day, d in found.days]
    # 1 June by v1: device 1's last level 111; from 2 June by v2: device 2's 1023 and 1035 — never both
    assert stocks == [(V2_DAY, 111.0, 1023.0), (date(2025, 6, 3), 1023.0, 1035.0)]


def test_without_an_approved_version_the_registry_decides(world, schemes):
    SchemeVersion.objects.filter(status__in=["approved", "superseded"]).update(
        status="refused", reasons="test"
    )
    refresh_all()
    found = oil_gas_balance(world.own, "oil", V2_DAY, V2_DAY)
    assert round(found.days[0][1].stock_end, 3) == 123.0 + 1023.0  # both devices of the tank farm
    one = MeteringPoint.objects.get(object_code="A100", store_device_id="1")
    assert one.owes_until is None
