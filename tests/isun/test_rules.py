"""The ISUN record rules: one verdict per record (FMT, UNIT, INT-33/34/37, COL-08)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from egsu_core.clock import ASTANA
from egsu_core.isun.records import RawRecord, parse_records
from egsu_core.isun.registry_view import DictRegistry
from egsu_core.isun.rules import REASONS, check_records
from egsu_core.isun.samples import SAMPLE_VALUES, records_element, sample_record
from egsu_core.isun.tables import KNOWN_FIELDS, TABLES
from egsu_core.isun.verdicts import Interval, RecordStatus, Verdict
from tests.isun.conftest import (
    NOW,
    OTHER_SENDER,
    SENDER,
    device_for,
    kinds_registry,
    object_for,
    real_data,
    real_registry,
)

SLOT = datetime(2024, 6, 10, 10, 0, tzinfo=ASTANA)  # a two-hour period start before NOW


def judge(
    fields: dict[str, str], registry: DictRegistry | None = None, *, now: datetime = NOW, sender: str = SENDER
) -> Verdict:
    (verdict,) = check_records(
        [RawRecord(position=1, fields=fields)], registry or kinds_registry(), sender_bin=sender, now=now
    )
    return verdict


def record(
    kind: str = "1.3", *, daily: bool = False, start: datetime = SLOT, **changes: str | None
) -> dict[str, str]:
    """A valid record for the sample facility of ``kind``; keyword changes set (or, with None, drop) fields."""
    fields = sample_record(kind, object_for(kind), device_for(kind), period_start=start, is_daily=daily)
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return fields


# --- the real example -------------------------------------------------------------------------


@pytest.mark.shared
def test_real_example_is_accepted_in_full():
    # given the real request and a registry that matches it
    raw = parse_records(real_data())
    # when it arrives a week later
    verdicts = check_records(
        raw, real_registry(), sender_bin=SENDER, now=datetime(2024, 1, 18, 12, 13, tzinfo=UTC)
    )
    # then every record is stored as the daily record of 11 January 2024 (Astana, UTC+6 then)
    assert [v.status for v in verdicts] == [RecordStatus.ACCEPTED] * 9
    assert {v.record.period_start for v in verdicts} == {datetime(2024, 1, 10, 18, 0, tzinfo=UTC)}
    assert {v.record.interval for v in verdicts} == {Interval.DAY}
    flow, tank = verdicts[0].record, verdicts[1].record
    assert dataclasses.asdict(flow) == {
        "object_id": "407001",
        "device_id": "1",
        "facility_kind": "1.3",
        "device_type_id": 2,
        "operation_type_id": 3,
        "product_type_id": 1,
        "pipeline_id": 3,
        "period_start": datetime(2024, 1, 10, 18, 0, tzinfo=UTC),
        "interval": Interval.DAY,
        "is_daily": True,
        "device_ok": None,
        "registered_at": None,
        "commercial": True,
        "values": {
            "density": Decimal("716.1492"),
            "temperature": Decimal("0"),
            "volume": Decimal("0"),
            "massflowbegin": Decimal("132856.1"),
            "massflowend": Decimal("132936.6"),
            "mass": Decimal("80.46875"),
        },
    }
    assert (tank.object_id, tank.device_id, tank.facility_kind, tank.operation_type_id) == (
        "407004",
        "2",
        "1.2",
        7,
    )
    assert tank.values == {
        "tankLevel": Decimal("124.9048"),
        "density": Decimal("709.065"),
        "temperature": Decimal("0.669922"),
        "volume": Decimal("106.7144"),
        "mass": Decimal("75.66756"),
    }
    assert verdicts[1].warnings == [
        "isDaily is absent: read as the daily record of 2024-01-11 (Astana day)",
        "density is not printed in table 1.2: stored anyway",
        "temperature is not printed in table 1.2: stored anyway",
        "mass is not printed in table 1.2: stored anyway",
    ]


# --- every table with its own field names -----------------------------------------------------


@pytest.mark.parametrize("daily", [True, False], ids=["daily", "two-hourly"])
@pytest.mark.parametrize("kind", list(TABLES))
def test_a_sample_record_of_every_table_is_accepted(kind, daily):
    # given a record in the table's own field names
    fields = record(kind, daily=daily)
    # when
    verdict = judge(fields)
    # then
    assert (verdict.status, verdict.code, verdict.warnings) == (RecordStatus.ACCEPTED, "", [])
    valid = verdict.record
    assert (valid.object_id, valid.device_id, valid.facility_kind) == (
        object_for(kind),
        device_for(kind),
        kind,
    )
    assert valid.values == {name: SAMPLE_VALUES[name] for name in TABLES[kind].quantities}
    assert valid.interval == (Interval.DAY if daily else Interval.TWO_HOURS)
    assert valid.period_start == (datetime(2024, 6, 9, 19, 0, tzinfo=UTC) if daily else SLOT.astimezone(UTC))
    assert valid.device_ok is True
    assert valid.registered_at == (None if kind == "1.1" else valid.period_start)


# --- one test per rejection code ----------------------------------------------------------------


def _registry(change: Callable[[DictRegistry], None]) -> DictRegistry:
    registry = kinds_registry()
    change(registry)
    return registry


def _replace_facility(object_id: str, **changes) -> Callable[[DictRegistry], None]:
    def change(registry: DictRegistry) -> None:
        registry.facilities[object_id] = dataclasses.replace(registry.facilities[object_id], **changes)

    return change


def _replace_device(object_id: str, device_id: str, **changes) -> Callable[[DictRegistry], None]:
    def change(registry: DictRegistry) -> None:
        facility = registry.facilities[object_id]
        devices = dict(facility.devices)
        devices[device_id] = dataclasses.replace(devices[device_id], **changes)
        registry.facilities[object_id] = dataclasses.replace(facility, devices=devices)

    return change


REJECTIONS = [
    # (id, fields, registry change, sender, code, reason)
    (
        "FIELD_MISSING-object",
        record(ID=None),
        None,
        SENDER,
        "FIELD_MISSING",
        "object ID (field ID or id) is missing",
    ),
    ("FIELD_MISSING-datetime", record(datetime=None), None, SENDER, "FIELD_MISSING", "datetime is missing"),
    (
        "FIELD_MISSING-number",
        record(deviceNameId=None),
        None,
        SENDER,
        "FIELD_MISSING",
        "device number (deviceNameId) is missing",
    ),
    (
        "FIELD_MISSING-operation",
        record(operationTypeId=None),
        None,
        SENDER,
        "FIELD_MISSING",
        "operationTypeId is missing",
    ),
    (
        "FIELD_INVALID",
        record(operationTypeId="three"),
        None,
        SENDER,
        "FIELD_INVALID",
        "operationTypeId 'three' is not a whole number",
    ),
    (
        "FIELD_INVALID-flag",
        record(isDaily="maybe"),
        None,
        SENDER,
        "FIELD_INVALID",
        "isDaily 'maybe' is not yes/no",
    ),
    (
        "FIELD_CONFLICT",
        record(id="OBJ99"),
        None,
        SENDER,
        "FIELD_CONFLICT",
        "ID 'OBJ13' and id 'OBJ99' disagree",
    ),
    (
        "OBJECT_UNKNOWN",
        record(ID="OBJ99"),
        None,
        SENDER,
        "OBJECT_UNKNOWN",
        "object ID 'OBJ99' is not registered",
    ),
    (
        "OBJECT_NOT_OWNED",
        record(),
        None,
        OTHER_SENDER,
        "OBJECT_NOT_OWNED",
        "object ID 'OBJ13' belongs to another subject",
    ),
    (
        "OBJECT_INACTIVE",
        record(),
        _replace_facility("OBJ13", active=False),
        SENDER,
        "OBJECT_INACTIVE",
        "object ID 'OBJ13' is not active",
    ),
    (
        "OBJECT_KIND_UNKNOWN",
        record(),
        _replace_facility("OBJ13", kind="2.1"),
        SENDER,
        "OBJECT_KIND_UNKNOWN",
        "object ID 'OBJ13' has kind '2.1'",
    ),
    (
        "DEVICE_UNKNOWN",
        record(deviceNameId="D99"),
        None,
        SENDER,
        "DEVICE_UNKNOWN",
        "deviceNameId 'D99' is not a device of object 'OBJ13'",
    ),
    (
        "DEVICE_INACTIVE",
        record(),
        _replace_device("OBJ13", "D13", active=False),
        SENDER,
        "DEVICE_INACTIVE",
        "device 'D13' is not active",
    ),
    (
        "DEVICE_TYPE_NOT_ALLOWED",
        record(deviceId="10"),
        None,
        SENDER,
        "DEVICE_TYPE_NOT_ALLOWED",
        "deviceId 10 is not allowed in table 1.3 (allowed: 1, 2)",
    ),
    (
        "DEVICE_TYPE_MISMATCH",
        record(deviceId="1"),
        None,
        SENDER,
        "DEVICE_TYPE_MISMATCH",
        "deviceId 1 differs from the registered type 2 of device 'D13'",
    ),
    (
        "OPERATION_NOT_ALLOWED",
        record(operationTypeId="7"),
        None,
        SENDER,
        "OPERATION_NOT_ALLOWED",
        "operationTypeId 7 is not allowed in table 1.3 (allowed: 1, 2, 3, 4, 5, 8)",
    ),
    (
        "OPERATION_NOT_ALLOWED_FOR_DEVICE",
        record(operationTypeId="1"),
        _replace_device("OBJ13", "D13", allowed_operations=frozenset({3, 5})),
        SENDER,
        "OPERATION_NOT_ALLOWED_FOR_DEVICE",
        "operationTypeId 1 is not allowed for device 'D13' (allowed: 3, 5)",
    ),
    (
        "PRODUCT_UNKNOWN",
        record(productTypeId="99"),
        None,
        SENDER,
        "PRODUCT_UNKNOWN",
        "productTypeId 99 is not a known product type",
    ),
    (
        "PRODUCT_MISMATCH",
        record(productTypeId="2"),
        None,
        SENDER,
        "PRODUCT_MISMATCH",
        "productTypeId 2 differs from the registered product 1 of device 'D13'",
    ),
    (
        "PIPELINE_UNKNOWN",
        record(pipelineId="5"),
        None,
        SENDER,
        "PIPELINE_UNKNOWN",
        "pipelineId 5 is not a known pipeline",
    ),
    (
        "PIPELINE_MISMATCH",
        record(pipelineId="4"),
        None,
        SENDER,
        "PIPELINE_MISMATCH",
        "pipelineId 4 differs from the registered pipeline 3 of device 'D13'",
    ),
    (
        "PIPELINE_MISMATCH-no-pipeline",
        record("1.2", pipelineId="3"),
        None,
        SENDER,
        "PIPELINE_MISMATCH",
        "pipelineId 3 given, but device 'D12' has no pipeline",
    ),
    (
        "DATETIME_INVALID",
        record(datetime="10.06.2024 10:00"),
        None,
        SENDER,
        "DATETIME_INVALID",
        "datetime '10.06.2024 10:00' is not YYYY-MM-DD or an ISO 8601 date-time",
    ),
    (
        "DATETIME_INVALID-regdatetime",
        record(regdatetime="yesterday"),
        None,
        SENDER,
        "DATETIME_INVALID",
        "regdatetime 'yesterday' is not YYYY-MM-DD or an ISO 8601 date-time",
    ),
    (
        "PERIOD_NOT_ALIGNED",
        record(datetime="2024-06-10T11:00:00+05:00"),
        None,
        SENDER,
        "PERIOD_NOT_ALIGNED",
        "datetime 2024-06-10T11:00:00+05:00 (Astana) is not the start of a two-hour period (00:00, 02:00, … 22:00)",
    ),
    (
        "PERIOD_IN_FUTURE",
        record(datetime="2024-06-10T14:00:00+05:00"),
        None,
        SENDER,
        "PERIOD_IN_FUTURE",
        "datetime 2024-06-10T14:00:00+05:00 (Astana) has not begun",
    ),
    (
        "PERIOD_IN_FUTURE-daily",
        record(daily=True, datetime="2024-06-11"),
        None,
        SENDER,
        "PERIOD_IN_FUTURE",
        "datetime 2024-06-11 is a day that has not begun",
    ),
    (
        "VALUE_INVALID",
        record(volume="NaN"),
        None,
        SENDER,
        "VALUE_INVALID",
        "volume 'NaN' is not a decimal number",
    ),
    (
        "VALUE_INVALID-huge",
        record(mass="1e400"),
        None,
        SENDER,
        "VALUE_INVALID",
        "mass '1e400' is not a decimal number",
    ),
    (
        "VALUE_IMPLAUSIBLE",
        record(volume="-1"),
        None,
        SENDER,
        "VALUE_IMPLAUSIBLE",
        "volume -1 m³ is outside the plausible range 0…1E+9",
    ),
    (
        "NO_VALUES",
        record(volume=None, massflowbegin=None, massflowend=None, mass=None),
        None,
        SENDER,
        "NO_VALUES",
        "no measured value (volume, massflowbegin, massflowend, mass) is given",
    ),
    (
        "MASSFLOW_DECREASING",
        record(massflowbegin="100", massflowend="90", mass="0"),
        None,
        SENDER,
        "MASSFLOW_DECREASING",
        "massflowend 90 t is below massflowbegin 100 t",
    ),
]


@pytest.mark.parametrize(
    ("fields", "change", "sender", "code", "reason"),
    [case[1:] for case in REJECTIONS],
    ids=[case[0] for case in REJECTIONS],
)
def test_rejection(fields, change, sender, code, reason):
    # given a registry (maybe changed) and a record with one fault
    registry = _registry(change) if change else kinds_registry()
    # when
    verdict = judge(fields, registry, sender=sender)
    # then
    assert (verdict.status, verdict.code, verdict.reason) == (RecordStatus.REJECTED, code, reason)
    assert verdict.record is None
    assert verdict.position == 1


def _raw_problem(xml_record: str) -> RawRecord:
    (raw,) = parse_records(etree.fromstring(f"<data>{xml_record}</data>"))
    return raw


@pytest.mark.parametrize(
    ("xml", "code", "reason"),
    [
        (
            "<events><ID>OBJ13</ID><deviceNameId>D13</deviceNameId><volume>1</volume><volume>2</volume></events>",
            "DUPLICATE_FIELD",
            "field volume is given more than once",
        ),
        (
            "<events><ID>OBJ13</ID><deviceNameId>D13</deviceNameId><volume><v>1</v></volume></events>",
            "MALFORMED_RECORD",
            "field volume holds elements instead of a value",
        ),
    ],
    ids=["DUPLICATE_FIELD", "MALFORMED_RECORD"],
)
def test_structural_rejection_keeps_object_and_device(xml, code, reason):
    # given a record the parser found faulty
    raw = _raw_problem(xml)
    # when
    (verdict,) = check_records([raw], kinds_registry(), sender_bin=SENDER, now=NOW)
    # then
    assert (verdict.status, verdict.code, verdict.reason) == (RecordStatus.REJECTED, code, reason)
    assert (verdict.object_id, verdict.device_id) == ("OBJ13", "D13")


def test_every_reason_code_has_a_test():
    tested = {case[4] for case in REJECTIONS} | {"DUPLICATE_FIELD", "MALFORMED_RECORD"}
    assert tested == set(REASONS)


def test_rejected_record_keeps_position_object_and_device():
    # given a message whose second record has a bad volume
    raws = [RawRecord(1, record()), RawRecord(2, record(volume="abc"))]
    # when
    first, second = check_records(raws, kinds_registry(), sender_bin=SENDER, now=NOW)
    # then the good one is accepted and the bad one is rejected on its own (mixed-message policy)
    assert first.status is RecordStatus.ACCEPTED
    assert (second.position, second.object_id, second.device_id, second.status, second.code) == (
        2,
        "OBJ13",
        "D13",
        RecordStatus.REJECTED,
        "VALUE_INVALID",
    )


def test_naive_now_is_a_programming_error():
    with pytest.raises(ValueError):
        check_records([], kinds_registry(), sender_bin=SENDER, now=datetime(2024, 1, 1))  # noqa: DTZ001


# --- FMT-08 field-name variants ---------------------------------------------------------------


def _device_fields(kind: str, **device: str) -> dict[str, str]:
    fields = record(kind, deviceTypeId=None, deviceNameId=None, deviceId=None)
    fields.update(device)
    return fields


@pytest.mark.parametrize(
    ("kind", "device_fields", "outcome"),
    [
        ("1.3", {"deviceId": "2", "deviceNameId": "D13"}, "D13"),
        ("1.3", {"deviceTypeId": "2", "deviceNameId": "D13"}, "D13"),
        ("1.3", {"deviceTypeId": "2", "deviceNameId": "D13", "deviceId": "2"}, "D13"),
        ("1.3", {"deviceTypeId": "2", "deviceNameId": "D13", "deviceId": "02"}, "D13"),
        ("1.3", {"deviceTypeId": "2", "deviceNameId": "D13", "deviceId": "1"}, "FIELD_CONFLICT"),
        ("1.3", {"deviceTypeId": "2", "deviceId": "D13"}, "D13"),
        ("1.3", {"deviceId": "2"}, "FIELD_MISSING"),
        ("1.8", {"deviceId": "11", "deviceNameId": "D18"}, "D18"),
        ("1.8", {"deviceTypeId": "11", "deviceId": "D18"}, "D18"),
        ("1.2", {"deviceTypeId": "1", "deviceId": "D12"}, "D12"),
        ("1.2", {"deviceTypeId": "1", "deviceNameId": "D12"}, "D12"),
        ("1.2", {"deviceTypeId": "1", "deviceNameId": "D12", "deviceId": "D12"}, "D12"),
        ("1.2", {"deviceTypeId": "1", "deviceNameId": "D12", "deviceId": "D99"}, "FIELD_CONFLICT"),
        ("1.2", {"deviceNameId": "D12", "deviceId": "1"}, "D12"),
        ("1.2", {"deviceId": "D12"}, "FIELD_MISSING"),
        ("1.9", {"deviceTypeId": "10", "deviceId": "D19"}, "D19"),
        ("1.1", {"deviceTypeId": "1", "deviceId": "D11"}, "D11"),
        ("1.1", {"deviceTypeId": "1", "deviceNameId": "D11", "deviceId": "D11"}, "D11"),
    ],
    ids=[
        "1.3-printed",
        "1.3-real-client",
        "1.3-all-agree",
        "1.3-all-agree-leading-zero",
        "1.3-conflict",
        "1.3-deviceId-as-number",
        "1.3-no-number",
        "1.8-printed",
        "1.8-deviceId-as-number",
        "1.2-printed",
        "1.2-real-client",
        "1.2-all-agree",
        "1.2-conflict",
        "1.2-deviceId-as-type",
        "1.2-no-type",
        "1.9-printed",
        "1.1-deviceId-as-number",
        "1.1-all-agree",
    ],
)
def test_device_field_variants(kind, device_fields, outcome):  # FMT-08, §18 A4
    verdict = judge(_device_fields(kind, **device_fields))
    if outcome.startswith("D"):
        assert (verdict.status, verdict.device_id) == (RecordStatus.ACCEPTED, outcome)
    else:
        assert (verdict.status, verdict.code) == (RecordStatus.REJECTED, outcome)


def test_device_conflict_reason_names_both_fields():
    verdict = judge(_device_fields("1.3", deviceTypeId="2", deviceNameId="D13", deviceId="1"))
    assert verdict.reason == "deviceId '1' (the device type in this table) disagrees with deviceTypeId '2'"


@pytest.mark.parametrize(
    ("product_fields", "outcome"),
    [
        ({"productId": "1"}, "ACCEPTED"),
        ({"productTypeId": "1"}, "ACCEPTED"),
        ({"productId": "1", "productTypeId": "1"}, "ACCEPTED"),
        ({"productId": "1", "productTypeId": "2"}, "FIELD_CONFLICT"),
    ],
    ids=["printed", "other-name", "both-agree", "both-disagree"],
)
def test_product_field_variants(product_fields, outcome):  # FMT-08 (c)
    fields = record("1.9", productId=None)
    fields.update(product_fields)
    verdict = judge(fields)
    assert (verdict.code or str(verdict.status)) == outcome


def test_missing_product_is_taken_from_the_device_with_a_warning():
    verdict = judge(record(productTypeId=None))
    assert (verdict.status, verdict.record.product_type_id) == (RecordStatus.ACCEPTED, 1)
    assert verdict.warnings == ["productTypeId is missing: the device's registered product 1 used"]


def test_missing_pipeline_in_table_1_3_is_taken_from_the_device_with_a_warning():
    verdict = judge(record(pipelineId=None))
    assert (verdict.status, verdict.record.pipeline_id) == (RecordStatus.ACCEPTED, 3)
    assert verdict.warnings == ["pipelineId is missing: the device's registered pipeline 3 used"]


def test_lower_case_id_and_equal_id_are_accepted():
    fields = record(ID=None, id="OBJ13")
    assert judge(fields).status is RecordStatus.ACCEPTED
    assert judge(record(id="OBJ13")).status is RecordStatus.ACCEPTED


# --- flags --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "interval"),
    [
        ("yes", Interval.DAY),
        ("YES", Interval.DAY),
        ("true", Interval.DAY),
        ("1", Interval.DAY),
        ("да", Interval.DAY),
        ("Иә", Interval.DAY),
        ("no", Interval.TWO_HOURS),
        ("False", Interval.TWO_HOURS),
        ("0", Interval.TWO_HOURS),
        ("НЕТ", Interval.TWO_HOURS),
        ("жоқ", Interval.TWO_HOURS),
    ],
    ids=["yes", "YES", "true", "1", "да", "Иә", "no", "False", "0", "НЕТ", "жоқ"],
)
def test_is_daily_spellings(text, interval):  # FMT-04
    fields = record(isDaily=text, datetime="2024-06-10T00:00:00+05:00")
    assert judge(fields).record.interval is interval


@pytest.mark.parametrize(
    ("text", "device_ok"),
    [("yes", True), ("нет", False), (None, None), ("", None)],
    ids=["yes", "нет", "absent", "empty"],
)
def test_device_status(text, device_ok):  # FMT-05
    assert (
        judge(record(deviceStatus=text) if text is not None else record(deviceStatus=None)).record.device_ok
        is device_ok
    )


# --- periods ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("is_daily", "text", "period_start", "warnings"),
    [
        (
            None,
            "2024-06-10T13:00:00.000+00:00",
            datetime(2024, 6, 9, 19, 0, tzinfo=UTC),
            ["isDaily is absent: read as the daily record of 2024-06-10 (Astana day)"],
        ),
        ("yes", "2024-06-10", datetime(2024, 6, 9, 19, 0, tzinfo=UTC), []),
        ("yes", "2024-06-10T00:00:00+05:00", datetime(2024, 6, 9, 19, 0, tzinfo=UTC), []),
        ("yes", "2024-06-09T19:00:00Z", datetime(2024, 6, 9, 19, 0, tzinfo=UTC), []),
        (
            "yes",
            "2024-06-10T09:30:00",
            datetime(2024, 6, 9, 19, 0, tzinfo=UTC),
            [
                "datetime 2024-06-10T09:30:00+05:00 of a daily record is not 00:00 Astana: read as the day 2024-06-10"
            ],
        ),
        (
            "yes",
            "2024-06-10T12:00:00+05:00",
            datetime(2024, 6, 9, 19, 0, tzinfo=UTC),
            [
                "datetime 2024-06-10T12:00:00+05:00 of a daily record is not 00:00 Astana: read as the day 2024-06-10"
            ],
        ),
    ],
    ids=["legacy", "date", "midnight-offset", "midnight-utc", "naive-morning", "today-noon"],
)
def test_daily_period(is_daily, text, period_start, warnings):  # INT-33, INT-37, COL-08
    fields = record(daily=True, datetime=text, isDaily=is_daily)
    verdict = judge(fields)
    assert (verdict.status, verdict.record.period_start, verdict.warnings) == (
        RecordStatus.ACCEPTED,
        period_start,
        warnings,
    )


@pytest.mark.parametrize(
    ("text", "is_daily", "expected"),
    [
        # the last two-hour slot before the change, on both clocks
        ("2024-02-29T22:00:00+06:00", "no", datetime(2024, 2, 29, 16, 0, tzinfo=UTC)),
        ("2024-02-29T22:00:00", "no", datetime(2024, 2, 29, 16, 0, tzinfo=UTC)),
        ("2024-02-29T22:00:00+05:00", "no", "PERIOD_NOT_ALIGNED"),  # 23:00 on the UTC+6 clock
        # the first slots after it
        ("2024-03-01T00:00:00+05:00", "no", datetime(2024, 2, 29, 19, 0, tzinfo=UTC)),
        ("2024-03-01T02:00:00", "no", datetime(2024, 2, 29, 21, 0, tzinfo=UTC)),
        ("2024-03-01T02:00:00+06:00", "no", "PERIOD_NOT_ALIGNED"),  # 01:00 on the UTC+5 clock
        ("2024-02-29T20:00:00Z", "no", "PERIOD_NOT_ALIGNED"),  # 01:00 Astana
        ("2024-02-29T21:00:00Z", "no", datetime(2024, 2, 29, 21, 0, tzinfo=UTC)),
        ("2024-02-28T20:00:00Z", "no", datetime(2024, 2, 28, 20, 0, tzinfo=UTC)),  # 02:00 at UTC+6
        # daily records on either side
        ("2024-02-29", "yes", datetime(2024, 2, 28, 18, 0, tzinfo=UTC)),
        ("2024-03-01", "yes", datetime(2024, 2, 29, 19, 0, tzinfo=UTC)),
        ("2024-02-29T18:30:00Z", "yes", datetime(2024, 2, 28, 18, 0, tzinfo=UTC)),  # 23:30 Feb 29 at UTC+5
        ("2024-02-29T19:00:00Z", "yes", datetime(2024, 2, 29, 19, 0, tzinfo=UTC)),  # 00:00 Mar 1 at UTC+5
    ],
    ids=[
        "before-offset",
        "before-naive",
        "before-wrong-offset",
        "after-midnight",
        "after-naive",
        "after-old-offset",
        "after-utc-odd",
        "after-utc-even",
        "before-utc-even",
        "daily-feb-29",
        "daily-mar-1",
        "daily-feb-29-late",
        "daily-mar-1-utc",
    ],
)
def test_slots_across_the_march_2024_offset_change(text, is_daily, expected):  # INT-34, INT-37
    # given data for the days around the switch from UTC+6 to UTC+5, received on 2 March
    fields = record(datetime=text, isDaily=is_daily)
    # when
    verdict = judge(fields, now=datetime(2024, 3, 2, 12, 0, tzinfo=ASTANA))
    # then
    if isinstance(expected, datetime):
        assert (verdict.status, verdict.record.period_start) == (RecordStatus.ACCEPTED, expected)
    else:
        assert (verdict.status, verdict.code) == (RecordStatus.REJECTED, expected)


@pytest.mark.parametrize(
    ("now", "status"),
    [
        (datetime(2024, 6, 10, 11, 50, tzinfo=ASTANA), RecordStatus.ACCEPTED),
        (datetime(2024, 6, 10, 11, 49, 59, tzinfo=ASTANA), RecordStatus.REJECTED),
    ],
    ids=["ten-minutes-early", "too-early"],
)
def test_two_hour_period_may_start_at_most_ten_minutes_ahead(now, status):
    fields = record(datetime="2024-06-10T12:00:00+05:00")
    assert judge(fields, now=now).status is status


def test_daily_record_of_today_is_accepted_and_of_tomorrow_rejected():
    now = datetime(2024, 6, 10, 0, 5, tzinfo=ASTANA)
    assert judge(record(daily=True, datetime="2024-06-10"), now=now).status is RecordStatus.ACCEPTED
    assert judge(record(daily=True, datetime="2024-06-11"), now=now).code == "PERIOD_IN_FUTURE"


def test_regdatetime_is_stored_in_utc():
    verdict = judge(record(regdatetime="2024-06-10T12:03:00"))
    assert verdict.record.registered_at == datetime(2024, 6, 10, 7, 3, tzinfo=UTC)


# --- values -------------------------------------------------------------------------------------


def test_decimal_comma_is_read_with_a_warning():
    verdict = judge(record(volume="12,5"))
    assert (verdict.record.values["volume"], verdict.warnings) == (
        Decimal("12.5"),
        ["volume '12,5': decimal comma read as a point"],
    )


def test_mass_far_from_the_totaliser_difference_is_a_warning_only():  # Table 1.3
    verdict = judge(record(massflowbegin="1000", massflowend="1080.5", mass="70"))
    assert verdict.status is RecordStatus.ACCEPTED
    assert verdict.warnings == ["mass 70 t differs by 10.5 t from massflowend − massflowbegin = 80.5 t"]


def test_decreasing_totaliser_in_a_daily_record_is_not_checked():
    verdict = judge(record(daily=True, massflowbegin="100", massflowend="90", mass="0"))
    assert verdict.status is RecordStatus.ACCEPTED


def test_quantity_not_in_the_table_is_stored_with_a_warning():
    verdict = judge(record("1.4", density="0.72"))
    assert verdict.record.values["density"] == Decimal("0.72")
    assert verdict.warnings == ["density is not printed in table 1.4: stored anyway"]


def test_empty_quantity_is_ignored_with_a_warning():
    verdict = judge(record(volume=""))
    assert verdict.status is RecordStatus.ACCEPTED
    assert "volume" not in verdict.record.values
    assert verdict.warnings == ["volume is empty: ignored"]


def test_unknown_field_is_ignored_with_a_warning():
    verdict = judge(record(colour="red"))
    assert (verdict.status, verdict.warnings) == (
        RecordStatus.ACCEPTED,
        ["field colour is not part of table 1.3; ignored"],
    )


def test_unknown_field_warning_survives_a_rejection():
    verdict = judge(record(ID="OBJ99", colour="red"))
    assert verdict.warnings == ["field colour is not part of any ISUN table; ignored"]


def test_tenk_level_record_is_stored_as_tank_level():
    data = records_element([{**record("1.2", tankLevel=None), "tenkLevel": "12.5"}])
    (verdict,) = check_records(parse_records(data), kinds_registry(), sender_bin=SENDER, now=NOW)
    assert verdict.record.values["tankLevel"] == Decimal("12.5")
    assert verdict.warnings == ["field tenkLevel read as tankLevel (misspelt field name)"]


def test_long_values_are_cut_short_in_reasons():
    verdict = judge(record(volume="9" * 100 + "x"))
    assert verdict.reason == "volume '" + "9" * 40 + "…' is not a decimal number"


# --- properties ---------------------------------------------------------------------------------

FIELD_NAMES = st.one_of(st.sampled_from(sorted(KNOWN_FIELDS)), st.text(min_size=1, max_size=12))
FIELD_VALUES = st.one_of(
    st.sampled_from(
        [
            "OBJ13",
            "OBJ12",
            "D13",
            "D12",
            "1",
            "2",
            "3",
            "7",
            "10",
            "yes",
            "no",
            "",
            "2024-06-10",
            "2024-06-10T10:00:00",
            "2024-02-29T23:30:00",
            "NaN",
            "1e99",
            "-0",
            "1,5",
        ]
    ),
    st.text(max_size=30),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(FIELD_NAMES, FIELD_VALUES, max_size=14))
def test_arbitrary_fields_always_get_a_verdict(fields):
    verdict = judge(fields)
    assert verdict.position == 1
    if verdict.status is RecordStatus.REJECTED:
        assert verdict.code in REASONS and verdict.reason
    else:
        assert verdict.status is RecordStatus.ACCEPTED and verdict.record is not None


def _value(quantity: str) -> st.SearchStrategy[Decimal]:
    low, high = {
        "tankLevel": (0, 3000),
        "density": (0, 1500),
        "temperature": (-70, 200),
        "volume": (0, 10**9),
        "pressure": (0, 100000),
        "massflowbegin": (0, 10**6),
        "massflowend": (10**6, 2 * 10**6),
        "mass": (0, 10**8),
    }[quantity]
    return st.decimals(min_value=low, max_value=high, places=3, allow_nan=False, allow_infinity=False)


@st.composite
def valid_records(draw):
    kind = draw(st.sampled_from(sorted(TABLES)))
    daily = draw(st.booleans())
    slot = draw(st.integers(min_value=0, max_value=12 * 800))  # two-hour slots since 2024-01-01 Astana
    start = datetime(2024, 1, 1, tzinfo=ASTANA) + timedelta(
        hours=2 * slot
    )  # wall-clock sum: an even Astana hour
    names = draw(st.lists(st.sampled_from(TABLES[kind].quantities), min_size=1, unique=True))
    values = {name: draw(_value(name)) for name in names}
    if kind == "1.3" and not daily and "massflowbegin" in values and "massflowend" in values:
        values.pop("mass", None)
    return kind, daily, start, values


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_records())
def test_valid_generated_records_are_always_accepted(case):
    # given a valid record of any table, period and set of quantities
    kind, daily, start, values = case
    fields = sample_record(
        kind, object_for(kind), device_for(kind), period_start=start, is_daily=daily, values=values
    )
    # when it arrives well after its period
    verdict = judge(fields, now=datetime(2026, 6, 1, tzinfo=UTC))
    # then
    assert (verdict.status, verdict.code, verdict.reason) == (RecordStatus.ACCEPTED, "", "")
    assert verdict.record.values == values
    assert verdict.warnings == []
