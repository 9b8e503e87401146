"""The cabinet world, with devices installed on 2025-06-01, and helpers that fake record verdicts."""

from __future__ import annotations

from datetime import date

import pytest

from egsu_core.isun.records import RawRecord
from egsu_core.isun.verdicts import Interval, RecordStatus, ValidRecord, Verdict
from tests.cabinet.conftest import ROLES, World, client_for, world  # noqa: F401 - fixtures reused

INSTALLED = date(2025, 6, 1)


@pytest.fixture
def mworld(request) -> World:
    given = request.getfixturevalue("world")
    for device in (given.own_device, given.other_device):
        device.installed_at = INSTALLED
        device.save(update_fields=["installed_at"])
    return given


def accepted(device, interval, period_start, *, status=RecordStatus.ACCEPTED, position=1) -> Verdict:
    """The verdict intake gives a valid record of this device and slot."""
    facility = device.facility
    record = ValidRecord(
        object_id=facility.object_id, device_id=device.device_id, facility_kind=facility.kind,
        device_type_id=device.device_type_id, operation_type_id=1, product_type_id=1, pipeline_id=None,
        period_start=period_start, interval=Interval(interval), is_daily=interval == "P1D", device_ok=True,
        registered_at=None, commercial=device.commercial, values={},
    )  # fmt: skip
    return Verdict(position, facility.object_id, device.device_id, status, record=record)


def rejected(
    object_id, device_id, *, when: str, is_daily: str = "no", position=1
) -> tuple[Verdict, RawRecord]:
    """A rejected verdict with the raw record it came from (its period read best effort)."""
    fields = {"ID": object_id or "", "datetime": when, "isDaily": is_daily}
    verdict = Verdict(
        position,
        object_id,
        device_id,
        RecordStatus.REJECTED,
        code="VALUE_INVALID",
        reason="volume is negative",
    )
    return verdict, RawRecord(position=position, fields=fields)
