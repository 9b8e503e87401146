"""Check raw ISUN records against the order and the registry: one Verdict per record.

Mixed-message policy: records are judged one by one. Good records are
accepted (and stored by the caller), bad ones are rejected individually with
a stable machine ``code`` (see REASONS) and a ``reason`` naming the field and
value; every record is reported back in the receipt, in message order. Only
a message with no records at all fails as a whole (records.parse_records).

Policies decided here (cite these when answering integrators):
- Object ID is ``ID`` (as printed) or ``id`` (real clients); both given must agree.
- FMT-08 / §18 A4 field-name variants: device type from ``deviceTypeId``,
  device number from ``deviceNameId``, product from ``productTypeId`` or
  ``productId``. ``deviceId`` fills whichever of type/number the record does
  not otherwise give (type when only deviceNameId is present, number when only
  deviceTypeId is present); when it is the only device field it means what the
  facility's table prints it for (type in 1.3/1.8, number in 1.2/1.9, number
  elsewhere); when both deviceTypeId and deviceNameId are present it must
  agree with the one it stands for in that table.
- isDaily absent = the legacy real-client profile (clients that send once a
  day and never heard of the flag): the record is a DAILY record, with a
  warning naming the day used (FMT-04, COL-08).
- Daily record: the reporting day is the Astana calendar date of ``datetime``
  (or the date itself); the period starts at 00:00 Astana of that day
  (INT-33, INT-37). An explicit daily record with another time is accepted
  with a warning. Two-hourly record: ``datetime`` is the start of the period
  and must be an even Astana hour (INT-34).
- A missing product or pipeline is taken from the device's registration,
  with a warning. Quantities that the facility's table does not print are
  stored with a warning (real tank records carry temperature, density and
  mass). Unknown fields are ignored with a warning, never silently.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from egsu_core.clock import astana_date, astana_midnight
from egsu_core.isun.formats import Moment, parse_flag, parse_moment, parse_number
from egsu_core.isun.records import RawRecord
from egsu_core.isun.registry_view import DeviceInfo, FacilityInfo, RegistryView
from egsu_core.isun.tables import KNOWN_FIELDS, QUANTITIES, TABLES, TableLayout
from egsu_core.isun.units import Plausibility
from egsu_core.isun.verdicts import Interval, RecordStatus, ValidRecord, Verdict

# Stable machine codes of rejected records (the receipt carries them; never rename one).
REASONS: dict[str, str] = {
    "MALFORMED_RECORD": "the record element is not a flat list of fields",
    "DUPLICATE_FIELD": "a field is given more than once in one record",
    "FIELD_MISSING": "a required field is absent or empty",
    "FIELD_INVALID": "an identifier or flag is not in the expected form",
    "FIELD_CONFLICT": "two names for the same field carry different values (FMT-08)",
    "OBJECT_UNKNOWN": "no facility is registered under this object ID (FMT-02)",
    "OBJECT_NOT_OWNED": "the facility belongs to another subject than the sender",
    "OBJECT_INACTIVE": "the facility is no longer active in the registry",
    "OBJECT_KIND_UNKNOWN": "the facility's registered kind is not one of the tables 1.1–1.9",
    "DEVICE_UNKNOWN": "no such device is installed on the facility (FMT-02)",
    "DEVICE_INACTIVE": "the device is no longer active in the registry",
    "DEVICE_TYPE_NOT_ALLOWED": "the device type is not allowed for the facility's table (FMT-06)",
    "DEVICE_TYPE_MISMATCH": "the device type differs from the registered one",
    "OPERATION_NOT_ALLOWED": "the operation type is not allowed for the facility's table (FMT-07)",
    "OPERATION_NOT_ALLOWED_FOR_DEVICE": "the operation type is not allowed for this device",
    "PRODUCT_UNKNOWN": "the product type is not in the reference dictionary",
    "PRODUCT_MISMATCH": "the product type differs from the device's registered product",
    "PIPELINE_UNKNOWN": "the pipeline is not in the reference dictionary",
    "PIPELINE_MISMATCH": "the pipeline differs from the device's registered pipeline, or it has none",
    "DATETIME_INVALID": "datetime or regdatetime is not a valid date or date-time (UNIT-01)",
    "PERIOD_NOT_ALIGNED": "a two-hourly period does not start at an even Astana hour (INT-34)",
    "PERIOD_IN_FUTURE": "the reporting period has not started yet",
    "VALUE_INVALID": "a measured value is not a decimal number",
    "VALUE_IMPLAUSIBLE": "a measured value is outside its physical range",
    "NO_VALUES": "the record carries no measured value",
    "MASSFLOW_DECREASING": "massflowend is below massflowbegin in a two-hourly record (table 1.3)",
}

FUTURE_TOLERANCE = timedelta(minutes=10)  # clock skew allowed for a two-hourly period start
_SHOWN_CHARS = 40


class _Reject(Exception):
    def __init__(self, code: str, reason: str):
        assert code in REASONS, code
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _show(text: str) -> str:
    """A sender's value quoted for a reason, cut short so a receipt never echoes a huge payload."""
    if len(text) > _SHOWN_CHARS:
        text = text[:_SHOWN_CHARS] + "…"
    return f"'{text}'"


def _int(name: str, text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise _Reject("FIELD_INVALID", f"{name} {_show(text)} is not a whole number")
    return int(text)


class _RecordCheck:
    """The rules for one record; attributes fill in as they become known, for the verdict."""

    def __init__(
        self,
        raw: RawRecord,
        registry: RegistryView,
        sender_bin: str,
        now: datetime,
        plausibility: Plausibility,
    ):
        self.raw = raw
        self.registry = registry
        self.sender_bin = sender_bin
        self.now = now
        self.plausibility = plausibility
        self.warnings: list[str] = list(raw.warnings)
        self.object_id: str | None = None
        self.device_id: str | None = None
        self.layout: TableLayout | None = None

    def text(self, name: str) -> str | None:
        """A field's stripped text; None when absent or empty."""
        value = self.raw.fields.get(name)
        return (value.strip() or None) if value else None

    # --- identification -------------------------------------------------------------------

    def object_identity(self) -> str:
        upper, lower = self.text("ID"), self.text("id")
        if upper and lower and upper != lower:
            raise _Reject("FIELD_CONFLICT", f"ID {_show(upper)} and id {_show(lower)} disagree")
        object_id = upper or lower
        if object_id is None:
            raise _Reject("FIELD_MISSING", "object ID (field ID or id) is missing")
        self.object_id = object_id
        return object_id

    def facility(self, object_id: str) -> tuple[FacilityInfo, TableLayout]:
        facility = self.registry.facility(object_id)
        if facility is None:
            raise _Reject("OBJECT_UNKNOWN", f"object ID {_show(object_id)} is not registered")
        if facility.subject_bin != self.sender_bin:
            raise _Reject("OBJECT_NOT_OWNED", f"object ID {_show(object_id)} belongs to another subject")
        if not facility.active:
            raise _Reject("OBJECT_INACTIVE", f"object ID {_show(object_id)} is not active")
        layout = TABLES.get(facility.kind)
        if layout is None:
            raise _Reject(
                "OBJECT_KIND_UNKNOWN", f"object ID {_show(object_id)} has kind {_show(facility.kind)}"
            )
        self.layout = layout
        return facility, layout

    def device_fields(
        self, layout: TableLayout | None
    ) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
        """FMT-08: ((field, text) for the device type, (field, text) for the device number)."""
        type_text, name_text, bare = (
            self.text("deviceTypeId"),
            self.text("deviceNameId"),
            self.text("deviceId"),
        )
        type_field = ("deviceTypeId", type_text) if type_text else None
        number_field = ("deviceNameId", name_text) if name_text else None
        means = (layout.device_id_means if layout else None) or "number"
        if bare is None:
            return type_field, number_field
        if type_field and number_field:
            if means == "type":
                if _same_code(bare, type_text or ""):
                    return type_field, number_field
                raise _Reject(
                    "FIELD_CONFLICT",
                    f"deviceId {_show(bare)} (the device type in this table) "
                    f"disagrees with deviceTypeId {_show(type_text or '')}",
                )
            if bare == name_text:
                return type_field, number_field
            raise _Reject(
                "FIELD_CONFLICT",
                f"deviceId {_show(bare)} (device number) disagrees with deviceNameId {_show(name_text or '')}",
            )
        if type_field:
            return type_field, ("deviceId", bare)
        if number_field:
            return ("deviceId", bare), number_field
        return (("deviceId", bare), None) if means == "type" else (None, ("deviceId", bare))

    def device(self, facility: FacilityInfo, layout: TableLayout) -> tuple[DeviceInfo, int]:
        type_field, number_field = self.device_fields(layout)
        if number_field is None:
            raise _Reject("FIELD_MISSING", f"device number ({layout.device_number_field}) is missing")
        self.device_id = number_field[1]
        if type_field is None:
            raise _Reject("FIELD_MISSING", f"device type ({layout.device_type_field}) is missing")
        device_type = _int(type_field[0], type_field[1])
        device = facility.devices.get(self.device_id)
        if device is None:
            raise _Reject(
                "DEVICE_UNKNOWN",
                f"{number_field[0]} {_show(self.device_id)} is not a device of object {_show(facility.object_id)}",
            )
        if not device.active:
            raise _Reject("DEVICE_INACTIVE", f"device {_show(self.device_id)} is not active")
        if device_type not in layout.device_types:  # FMT-06
            raise _Reject(
                "DEVICE_TYPE_NOT_ALLOWED",
                f"{type_field[0]} {device_type} is not allowed in table {layout.kind} "
                f"(allowed: {_listed(layout.device_types)})",
            )
        if device_type != device.device_type_id:
            raise _Reject(
                "DEVICE_TYPE_MISMATCH",
                f"{type_field[0]} {device_type} differs from the registered type {device.device_type_id} "
                f"of device {_show(self.device_id)}",
            )
        return device, device_type

    def best_effort_identity(self) -> None:
        """Fill object and device id for a record rejected before the rules could find them."""
        self.object_id = self.object_id or self.text("ID") or self.text("id")
        if self.device_id is None:
            try:
                layout = self.layout
                if layout is None and self.object_id:
                    facility = self.registry.facility(self.object_id)
                    layout = TABLES.get(facility.kind) if facility else None
                _, number_field = self.device_fields(layout)
            except _Reject:
                number_field = None
            self.device_id = number_field[1] if number_field else None

    # --- codes ---------------------------------------------------------------------------------

    def operation(self, device: DeviceInfo, layout: TableLayout) -> int:
        text = self.text("operationTypeId")
        if text is None:
            raise _Reject("FIELD_MISSING", "operationTypeId is missing")
        operation = _int("operationTypeId", text)
        if operation not in layout.operation_types:  # FMT-07
            raise _Reject(
                "OPERATION_NOT_ALLOWED",
                f"operationTypeId {operation} is not allowed in table {layout.kind} "
                f"(allowed: {_listed(layout.operation_types)})",
            )
        if device.allowed_operations and operation not in device.allowed_operations:
            raise _Reject(
                "OPERATION_NOT_ALLOWED_FOR_DEVICE",
                f"operationTypeId {operation} is not allowed for device {_show(device.device_id)} "
                f"(allowed: {_listed(device.allowed_operations)})",
            )
        return operation

    def product(self, device: DeviceInfo, layout: TableLayout) -> int:
        by_type, by_id = self.text("productTypeId"), self.text("productId")
        if by_type and by_id and not _same_code(by_type, by_id):
            raise _Reject(
                "FIELD_CONFLICT", f"productTypeId {_show(by_type)} and productId {_show(by_id)} disagree"
            )
        field_name = "productTypeId" if by_type else "productId"
        text = by_type or by_id
        if text is None:
            if device.product_type_id is None:
                raise _Reject("FIELD_MISSING", f"product ({layout.product_field}) is missing")
            self.warnings.append(
                f"{layout.product_field} is missing: the device's registered product {device.product_type_id} used"
            )
            return device.product_type_id
        product = _int(field_name, text)
        if not self.registry.product_type_exists(product):
            raise _Reject("PRODUCT_UNKNOWN", f"{field_name} {product} is not a known product type")
        if device.product_type_id is not None and product != device.product_type_id:
            raise _Reject(
                "PRODUCT_MISMATCH",
                f"{field_name} {product} differs from the registered product {device.product_type_id} "
                f"of device {_show(device.device_id)}",
            )
        return product

    def pipeline(self, device: DeviceInfo, layout: TableLayout) -> int | None:
        text = self.text("pipelineId")
        if text is None:
            if layout.has_pipeline and device.pipeline_id is not None:
                self.warnings.append(
                    f"pipelineId is missing: the device's registered pipeline {device.pipeline_id} used"
                )
            return device.pipeline_id
        pipeline = _int("pipelineId", text)
        if device.pipeline_id is None:
            raise _Reject(
                "PIPELINE_MISMATCH",
                f"pipelineId {pipeline} given, but device {_show(device.device_id)} has no pipeline",
            )
        if not self.registry.pipeline_exists(pipeline):
            raise _Reject("PIPELINE_UNKNOWN", f"pipelineId {pipeline} is not a known pipeline")
        if pipeline != device.pipeline_id:
            raise _Reject(
                "PIPELINE_MISMATCH",
                f"pipelineId {pipeline} differs from the registered pipeline {device.pipeline_id} "
                f"of device {_show(device.device_id)}",
            )
        return pipeline

    def flag(self, name: str) -> bool | None:
        text = self.text(name)
        if text is None:
            return None
        try:
            return parse_flag(text)
        except ValueError:
            raise _Reject("FIELD_INVALID", f"{name} {_show(text)} is not yes/no") from None

    # --- time ----------------------------------------------------------------------------------

    def moment(self, name: str) -> Moment | None:
        text = self.text(name)
        if text is None:
            return None
        try:
            return parse_moment(text)
        except ValueError:
            raise _Reject(
                "DATETIME_INVALID", f"{name} {_show(text)} is not YYYY-MM-DD or an ISO 8601 date-time"
            ) from None

    def period(self, is_daily_flag: bool | None) -> tuple[datetime, Interval]:
        moment = self.moment("datetime")
        if moment is None:
            raise _Reject("FIELD_MISSING", "datetime is missing")
        if is_daily_flag is False:
            return self.two_hour_period(moment), Interval.TWO_HOURS
        return self.daily_period(moment, legacy=is_daily_flag is None), Interval.DAY

    def daily_period(self, moment: Moment, *, legacy: bool) -> datetime:
        day: date = moment.local.date()  # INT-33, INT-37: the Astana calendar day
        if day > astana_date(self.now):
            raise _Reject("PERIOD_IN_FUTURE", f"datetime {day.isoformat()} is a day that has not begun")
        if legacy:
            self.warnings.append(
                f"isDaily is absent: read as the daily record of {day.isoformat()} (Astana day)"
            )
        elif not moment.date_only and moment.local.time() != time(0, 0):
            self.warnings.append(
                f"datetime {moment.local.isoformat()} of a daily record is not 00:00 Astana: "
                f"read as the day {day.isoformat()}"
            )
        return astana_midnight(day)

    def two_hour_period(self, moment: Moment) -> datetime:
        local = moment.local
        if local.hour % 2 or local.minute or local.second or local.microsecond:  # INT-34
            raise _Reject(
                "PERIOD_NOT_ALIGNED",
                f"datetime {local.isoformat()} (Astana) is not the start of a two-hour period "
                "(00:00, 02:00, … 22:00)",
            )
        if moment.instant > self.now + FUTURE_TOLERANCE:
            raise _Reject("PERIOD_IN_FUTURE", f"datetime {local.isoformat()} (Astana) has not begun")
        return moment.instant

    # --- values ----------------------------------------------------------------------------------

    def values(self, layout: TableLayout, interval: Interval) -> dict[str, Decimal]:
        values: dict[str, Decimal] = {}
        for quantity in QUANTITIES:
            if quantity not in self.raw.fields:
                continue
            text = self.text(quantity)
            if text is None:
                self.warnings.append(f"{quantity} is empty: ignored")
                continue
            try:
                parsed = parse_number(text)
            except ValueError:
                raise _Reject("VALUE_INVALID", f"{quantity} {_show(text)} is not a decimal number") from None
            if parsed.decimal_comma:
                self.warnings.append(f"{quantity} {_show(text)}: decimal comma read as a point")
            problem = self.plausibility.problem(quantity, parsed.value)
            if problem:
                raise _Reject("VALUE_IMPLAUSIBLE", problem)
            if quantity not in layout.quantities:
                self.warnings.append(f"{quantity} is not printed in table {layout.kind}: stored anyway")
            values[quantity] = parsed.value
        if not values:
            raise _Reject("NO_VALUES", f"no measured value ({', '.join(layout.quantities)}) is given")
        if layout.kind == "1.3" and interval is Interval.TWO_HOURS:
            self.mass_flow(values)
        return values

    def mass_flow(self, values: dict[str, Decimal]) -> None:
        begin, end = values.get("massflowbegin"), values.get("massflowend")
        if begin is None or end is None:
            return
        if end < begin:
            raise _Reject("MASSFLOW_DECREASING", f"massflowend {end} t is below massflowbegin {begin} t")
        mass = values.get("mass")
        if mass is not None and (gap := self.plausibility.mass_balance_gap(begin, end, mass)) is not None:
            self.warnings.append(
                f"mass {mass} t differs by {gap} t from massflowend − massflowbegin = {end - begin} t"
            )

    # --- the whole record ----------------------------------------------------------------------

    def run(self) -> ValidRecord:
        if self.raw.problems:
            code = "DUPLICATE_FIELD" if self.raw.duplicates else "MALFORMED_RECORD"
            raise _Reject(code, "; ".join(self.raw.problems))
        object_id = self.object_identity()
        facility, layout = self.facility(object_id)
        device, device_type = self.device(facility, layout)
        operation = self.operation(device, layout)
        product = self.product(device, layout)
        pipeline = self.pipeline(device, layout)
        is_daily_flag = self.flag("isDaily")  # FMT-04; None = legacy profile, read as daily
        device_ok = self.flag("deviceStatus")  # FMT-05
        period_start, interval = self.period(is_daily_flag)
        registered = self.moment("regdatetime")
        values = self.values(layout, interval)
        return ValidRecord(
            object_id=object_id,
            device_id=self.device_id or device.device_id,
            facility_kind=layout.kind,
            device_type_id=device_type,
            operation_type_id=operation,
            product_type_id=product,
            pipeline_id=pipeline,
            period_start=period_start,
            interval=interval,
            is_daily=interval is Interval.DAY,
            device_ok=device_ok,
            registered_at=registered.instant if registered else None,
            commercial=device.commercial,
            values=values,
        )

    def unknown_field_warnings(self) -> list[str]:
        where = f"table {self.layout.kind}" if self.layout else "any ISUN table"
        return [
            f"field {name} is not part of {where}; ignored"
            for name in self.raw.fields
            if name not in KNOWN_FIELDS
        ]


def _same_code(left: str, right: str) -> bool:
    """Two texts of one numeric code agree ("02" and "2" do); non-numbers must match exactly."""
    if left.isascii() and right.isascii() and left.isdigit() and right.isdigit():
        return int(left) == int(right)
    return left == right


def _listed(codes: frozenset[int]) -> str:
    return ", ".join(str(code) for code in sorted(codes))


def check_record(
    raw: RawRecord,
    registry: RegistryView,
    *,
    sender_bin: str,
    now: datetime,
    plausibility: Plausibility = Plausibility(),  # noqa: B008 - frozen, shared safely
) -> Verdict:
    """Judge one record; never raises for anything the sender wrote."""
    check = _RecordCheck(raw, registry, sender_bin, now, plausibility)
    try:
        record = check.run()
    except _Reject as rejection:
        check.best_effort_identity()
        return Verdict(
            position=raw.position,
            object_id=check.object_id,
            device_id=check.device_id,
            status=RecordStatus.REJECTED,
            code=rejection.code,
            reason=rejection.reason,
            warnings=check.warnings + check.unknown_field_warnings(),
        )
    return Verdict(
        position=raw.position,
        object_id=record.object_id,
        device_id=record.device_id,
        status=RecordStatus.ACCEPTED,
        warnings=check.warnings + check.unknown_field_warnings(),
        record=record,
    )


def check_records(
    raw: list[RawRecord],
    registry: RegistryView,
    *,
    sender_bin: str,
    now: datetime,
    plausibility: Plausibility = Plausibility(),  # noqa: B008 - frozen, shared safely
) -> list[Verdict]:
    """One Verdict per raw record, in message order (mixed-message policy in the module docstring)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return [
        check_record(record, registry, sender_bin=sender_bin, now=now, plausibility=plausibility)
        for record in raw
    ]


__all__ = ["REASONS", "FUTURE_TOLERANCE", "check_record", "check_records"]
