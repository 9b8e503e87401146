"""Valid ISUN records and matching registry entries for any table, for tests, benchmarks and the demo.

Each record uses the field names its own App.2 table prints (FMT-08), so a
record for table 1.3 names the device type ``deviceId`` and one for 1.9 the
product ``productId``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from lxml import etree

from egsu_core.clock import astana_midnight, format_astana, to_astana
from egsu_core.isun.registry_view import DeviceInfo, FacilityInfo
from egsu_core.isun.tables import TABLES

# Plausible values per quantity, in App.3 units (the first real tank and flow records inspired them).
SAMPLE_VALUES: dict[str, Decimal] = {
    "tankLevel": Decimal("124.9048"),
    "density": Decimal("709.065"),
    "temperature": Decimal("12.5"),
    "volume": Decimal("106.7144"),
    "pressure": Decimal("350.25"),
    "massflowbegin": Decimal("132856.1"),
    "massflowend": Decimal("132936.6"),
    "mass": Decimal("80.5"),
}


def default_device_type(kind: str) -> int:
    """Acceptance/delivery for delivery points (1.3, 1.8), preparation/storage elsewhere (FMT-06)."""
    oil = kind in {"1.1", "1.2", "1.3"}
    delivery = kind in {"1.3", "1.8"}
    return (2 if delivery else 1) if oil else (11 if delivery else 10)


def default_operation_type(kind: str) -> int:
    return min(TABLES[kind].operation_types)


def default_pipeline(kind: str) -> int | None:
    return 3 if TABLES[kind].has_pipeline else None


def sample_record(
    kind: str,
    object_id: str,
    device_id: str,
    *,
    period_start: datetime,
    is_daily: bool,
    device_type_id: int | None = None,
    operation_type_id: int | None = None,
    product_type_id: int = 1,
    pipeline_id: int | None = None,
    values: Mapping[str, Decimal | str] | None = None,
    device_ok: bool | None = True,
    registered_at: datetime | None = None,
) -> dict[str, str]:
    """A record for table ``kind`` in that table's own field names and row order.

    ``period_start`` is an aware instant; a daily record is dated 00:00 Astana
    of its Astana day. Values default to every quantity the table prints.
    """
    layout = TABLES[kind]
    if is_daily:
        period_start = astana_midnight(to_astana(period_start).date())
    record: dict[str, str] = {"ID": object_id, "datetime": format_astana(period_start)}
    if layout.has_regdatetime:
        record["regdatetime"] = format_astana(registered_at or period_start)
    record[layout.device_type_field] = str(device_type_id or default_device_type(kind))
    record["operationTypeId"] = str(operation_type_id or default_operation_type(kind))
    record[layout.device_number_field] = device_id
    record[layout.product_field] = str(product_type_id)
    if layout.has_pipeline:
        record["pipelineId"] = str(pipeline_id or default_pipeline(kind))
    chosen = values if values is not None else {name: SAMPLE_VALUES[name] for name in layout.quantities}
    record.update({name: str(value) for name, value in chosen.items()})
    record["isDaily"] = "yes" if is_daily else "no"
    if device_ok is not None:
        record["deviceStatus"] = "yes" if device_ok else "no"
    return record


def sample_facility(
    kind: str,
    object_id: str,
    device_id: str,
    *,
    subject_bin: str,
    device_type_id: int | None = None,
    product_type_id: int | None = 1,
    pipeline_id: int | None = None,
    commercial: bool = True,
    allowed_operations: frozenset[int] = frozenset(),
) -> FacilityInfo:
    """A registered facility with one device that sample_record's defaults satisfy."""
    device = DeviceInfo(
        device_id=device_id,
        device_type_id=device_type_id or default_device_type(kind),
        product_type_id=product_type_id,
        pipeline_id=pipeline_id if pipeline_id is not None else default_pipeline(kind),
        commercial=commercial,
        allowed_operations=allowed_operations,
    )
    return FacilityInfo(object_id=object_id, kind=kind, subject_bin=subject_bin, devices={device_id: device})


def records_element(records: list[Mapping[str, str]], *, tag: str = "events") -> etree._Element:
    """A ``<data>`` element holding one ``<events>`` child per record, fields unqualified as real clients send."""
    data = etree.Element("data")
    for record in records:
        event = etree.SubElement(data, tag)
        for name, value in record.items():
            etree.SubElement(event, name).text = value
    return data
