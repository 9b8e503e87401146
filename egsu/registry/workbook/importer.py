"""Import a registry workbook: check every row first, then write all of it or nothing.

Every problem becomes a ``RowError(sheet, row, column, message)``; one error anywhere
means nothing is written. Rows are upserted by natural key. A column left out of a
sheet keeps the stored value; a blank cell in a present column means "empty" (or the
default for yes/no columns). A blank password never clears one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from egsu.registry import rules
from egsu.registry.bin import bin_problem
from egsu.registry.models import (
    ConnectedSystem,
    Contour,
    Device,
    DeviceType,
    Facility,
    OperationType,
    Pipeline,
    ProductType,
    Service,
    Subject,
)
from egsu.registry.models.systems import oid_list_problem
from egsu.registry.workbook.columns import SHEETS, CellError, Column
from egsu.registry.workbook.files import Sheet, WorkbookFormatError, read_sheets
from egsu.registry.workbook.rows import SOURCES

Progress = Callable[[str, int, int], None]
_CHUNK = 500

DEFAULTS: dict[str, dict[str, object]] = {
    "product_types": {"name": "", "active": True},
    "pipelines": {"name": "", "active": True},
    "subjects": {
        "name": "",
        "short_name": "",
        "region": "",
        "address": "",
        "email": "",
        "phone": "",
        "active": True,
    },
    "facilities": {"kind": "", "subject_bin": "", "name": "", "region": "", "active": True},
    "devices": {
        "device_type_id": None,
        "product_type_id": None,
        "pipeline_id": None,
        "commercial": False,
        "serial_number": "",
        "model": "",
        "allowed_operations": [],
        "installed_at": None,
        "removed_at": None,
        "active": True,
    },
    "connected_systems": {
        "subject_bin": "",
        "services": [],
        "contour": Contour.TEST.value,
        "active": True,
        "require_business_signature": True,
        "allowed_policy_oids": [],
        "allowed_eku_oids": [],
    },
}
KEYS: dict[str, tuple[str, ...]] = {
    "product_types": ("id",),
    "pipelines": ("id",),
    "subjects": ("bin",),
    "facilities": ("object_id",),
    "devices": ("object_id", "device_id"),
    "connected_systems": ("sender_id",),
}


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int  # spreadsheet row number (header = 1); 0 for the file as a whole
    column: str
    message: str


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # sheet → created/updated/unchanged
    rows: int = 0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run


@dataclass
class _Row:
    number: int
    given: dict[str, object]  # only the columns the sheet has
    final: dict[str, object] = field(default_factory=dict)  # stored values overlaid with the given ones
    existing: object | None = None


class _DryRun(Exception):
    """Raised inside the transaction to undo a dry run's writes."""


def import_workbook(
    path: str | Path, *, dry_run: bool = False, progress: Progress | None = None, actor=None, source: str = ""
) -> ImportReport:
    """Check and upsert a whole workbook in one transaction; any error (or a dry run) writes nothing.

    Every created or changed row is audited (before/after of what changed), and the import itself.
    """
    report = ImportReport(dry_run=dry_run)
    try:
        sheets = read_sheets(Path(path))
    except (WorkbookFormatError, OSError, UnicodeDecodeError) as exc:
        report.errors.append(RowError("", 0, "", str(exc)))
        return report
    try:
        with transaction.atomic():
            importer = _Import(report, progress)
            importer.run(sheets)
            if report.errors or dry_run:
                raise _DryRun
            importer.audit(actor=actor, source=source or f"workbook {Path(path).name}")
    except _DryRun:
        pass
    report.errors.sort(key=_reading_order)
    report.warnings.sort(key=_reading_order)
    return report


def _reading_order(error: RowError) -> tuple[int, int]:
    """Sheet by sheet in workbook order, row by row, as an operator fixes them."""
    order = list(SHEETS)
    return (order.index(error.sheet) if error.sheet in order else -1, error.row)


class _Import:
    def __init__(self, report: ImportReport, progress: Progress | None) -> None:
        self.report = report
        self.progress = progress
        self.rows: dict[str, dict[tuple, _Row]] = {name: {} for name in SHEETS}
        self.present: dict[str, set[str]] = {name: set() for name in SHEETS}
        self.changes: list[tuple[str, str, str, dict | None, dict]] = []  # (type, id, label, before, after)
        self.password_changes: list[ConnectedSystem] = []

    def audit(self, *, actor, source: str) -> None:
        """The import, then each created or changed row (bulk: an import may touch thousands of rows)."""
        from egsu.access.audit import Event, audit
        from egsu.access.models import AuditEvent
        from egsu_core.clock import utcnow

        audit(
            Event.REGISTRY_IMPORTED,
            actor=actor,
            object_type="registry.workbook",
            summary=f"registry workbook imported: {len(self.changes)} row(s) created or changed",
            after=self.report.counts,
            source=source,
        )
        now, name = utcnow(), actor.get_username() if actor is not None else ""
        events = [
            AuditEvent(
                occurred_at=now,
                actor=actor,
                actor_name=name,
                event=str(Event.REGISTRY_CREATED if before is None else Event.REGISTRY_CHANGED),
                object_type=object_type,
                object_id=object_id,
                summary=label[:300],
                before=before,
                after=after,
                source=source[:120],
            )  # fmt: skip
            for object_type, object_id, label, before, after in self.changes
        ]
        events += [
            AuditEvent(
                occurred_at=now,
                actor=actor,
                actor_name=name,
                event=str(Event.SYSTEM_PASSWORD_CHANGED),
                object_type="registry.connectedsystem",
                object_id=str(system.pk),
                summary=f"password of connected system {system.sender_id} changed",
                source=source[:120],
            )  # fmt: skip
            for system in self.password_changes
        ]
        AuditEvent.objects.bulk_create(events, batch_size=1000)

    def error(self, sheet: str, row: int, column: str, message: str) -> None:
        self.report.errors.append(RowError(sheet, row, column, message))

    def warn(self, sheet: str, row: int, column: str, message: str) -> None:
        self.report.warnings.append(RowError(sheet, row, column, message))

    # reading -----------------------------------------------------------------------------------

    def run(self, sheets: list[Sheet]) -> None:
        by_name: dict[str, Sheet] = {}
        for sheet in sheets:
            name = sheet.name.strip().lower()
            if name not in SHEETS:
                known = ", ".join(SHEETS)
                self.error(sheet.name, 0, "", f"unknown sheet {sheet.name!r}: the sheets are {known}")
            elif name in by_name:
                self.error(sheet.name, 0, "", f"sheet {name!r} appears twice")
            else:
                by_name[name] = sheet
        self.report.rows = sum(len(sheet.rows) for sheet in by_name.values())
        done = 0
        for name, sheet in by_name.items():
            self.read_sheet(name, sheet)
            done += len(sheet.rows)
            if self.progress:
                self.progress("check", done, self.report.rows)
        self.load_existing()
        self.check_product_types_and_pipelines()
        self.check_subjects()
        self.check_facilities()
        self.check_devices()
        self.check_connected_systems()
        if not self.report.errors:
            self.write()

    def read_sheet(self, name: str, sheet: Sheet) -> None:
        columns = {column.name: column for column in SHEETS[name]}
        index: dict[str, int] = {}
        header_ok = True
        for position, header in enumerate(sheet.headers):
            if header == "":
                continue
            if header not in columns:
                self.error(
                    name, 1, header, f"unknown column {header!r}: the columns are {', '.join(columns)}"
                )
                header_ok = False
            elif header in index:
                self.error(name, 1, header, f"column {header!r} appears twice")
                header_ok = False
            else:
                index[header] = position
        for column in columns.values():
            if column.required and column.name not in index:
                self.error(name, 1, column.name, f"required column {column.name!r} is missing")
                header_ok = False
        if not header_ok:
            return
        self.present[name] = set(index)
        keys = KEYS[name]
        for number, cells in sheet.rows:
            given: dict[str, object] = {}
            row_ok = True
            for header, position in index.items():
                raw = cells[position] if position < len(cells) else None
                value = self.read_cell(name, number, columns[header], raw)
                if value is _BAD:
                    row_ok = False
                    continue
                given[header] = value
            if not row_ok:
                continue
            key = tuple(given[k] for k in keys)
            if key in self.rows[name]:
                first = self.rows[name][key].number
                label = "/".join(str(k) for k in key)
                self.error(name, number, keys[-1], f"{label} is already given in row {first}")
                continue
            self.rows[name][key] = _Row(number, given)

    def read_cell(self, sheet: str, number: int, column: Column, raw: object) -> object:
        try:
            value = column.parse(raw)
        except CellError as exc:
            self.error(sheet, number, column.name, str(exc))
            return _BAD
        if column.required and (value is None or value == "" or value == []):
            self.error(sheet, number, column.name, f"{column.name} is required")
            return _BAD
        if column.max_length and isinstance(value, str) and len(value) > column.max_length:
            self.error(sheet, number, column.name, f"longer than {column.max_length} characters")
            return _BAD
        return value

    # what is stored ----------------------------------------------------------------------------

    def load_existing(self) -> None:
        """Read the stored objects the workbook names, and lay each row's values over them."""
        self.existing: dict[str, dict[tuple, object]] = {}
        for name in SHEETS:
            keys = list(self.rows[name])
            self.existing[name] = self._stored(name, keys)
        # Facilities and subjects the devices and systems refer to but the workbook does not list.
        referenced_objects = {key[0] for key in self.rows["devices"]} - {
            k[0] for k in self.rows["facilities"]
        }
        self.db_facilities = {
            f.object_id: f
            for f in _in_chunks(Facility.objects.select_related("subject"), "object_id", referenced_objects)
        }
        referenced_bins = {
            row.given["subject_bin"]
            for name in ("facilities", "connected_systems")
            for row in self.rows[name].values()
        } - {k[0] for k in self.rows["subjects"]}
        self.db_subjects = set(
            Subject.objects.filter(bin__in=list(referenced_bins)).values_list("bin", flat=True)
        )
        self.db_product_types = set(ProductType.objects.values_list("id", flat=True))
        self.db_pipelines = set(Pipeline.objects.values_list("id", flat=True))
        self.db_device_types = set(DeviceType.objects.values_list("id", flat=True))
        self.db_operation_types = set(OperationType.objects.values_list("id", flat=True))
        self.db_services = set(Service.objects.values_list("service_id", flat=True))
        for name, rows in self.rows.items():
            _, to_row = SOURCES[name]
            for key, row in rows.items():
                row.existing = self.existing[name].get(key)
                base = to_row(row.existing) if row.existing is not None else dict(DEFAULTS[name])
                base.update({k: v for k, v in zip(KEYS[name], key, strict=True)})
                for column, value in row.given.items():
                    if column == "password":
                        continue
                    base[column] = DEFAULTS[name].get(column) if value is None else value
                row.final = base

    def _stored(self, name: str, keys: list[tuple]) -> dict[tuple, object]:
        queryset, _ = SOURCES[name]
        if name in {"product_types", "pipelines"}:
            return {(obj.id,): obj for obj in _in_chunks(queryset(), "id", [k[0] for k in keys])}
        if name == "subjects":
            return {(obj.bin,): obj for obj in _in_chunks(queryset(), "bin", [k[0] for k in keys])}
        if name == "facilities":
            return {
                (obj.object_id,): obj for obj in _in_chunks(queryset(), "object_id", [k[0] for k in keys])
            }
        if name == "connected_systems":
            return {
                (obj.sender_id,): obj for obj in _in_chunks(queryset(), "sender_id", [k[0] for k in keys])
            }
        object_ids = {k[0] for k in keys}
        wanted = set(keys)
        return {
            (obj.facility.object_id, obj.device_id): obj
            for obj in _in_chunks(queryset(), "facility__object_id", object_ids)
            if (obj.facility.object_id, obj.device_id) in wanted
        }

    # checks ------------------------------------------------------------------------------------

    def check_product_types_and_pipelines(self) -> None:
        for name in ("product_types", "pipelines"):
            for row in self.rows[name].values():
                if row.final["id"] <= 0:
                    self.error(name, row.number, "id", "the code must be a positive whole number")
                if not row.final["name"]:
                    self.error(name, row.number, "name", "name is required")

    def check_subjects(self) -> None:
        for (bin_,), row in self.rows["subjects"].items():
            if problem := bin_problem(bin_):
                self.error("subjects", row.number, "bin", problem)
            if row.final["email"]:
                try:
                    validate_email(row.final["email"])
                except ValidationError:
                    self.error(
                        "subjects", row.number, "email", f"{row.final['email']!r} is not an e-mail address"
                    )

    def subject_known(self, bin_: str) -> bool:
        return (bin_,) in self.rows["subjects"] or bin_ in self.db_subjects

    def check_facilities(self) -> None:
        for (object_id,), row in self.rows["facilities"].items():
            if problem := rules.object_id_problem(object_id):
                self.error("facilities", row.number, "object_id", problem)
            if problem := rules.kind_problem(row.final["kind"]):
                self.error("facilities", row.number, "kind", problem)
            if not self.subject_known(row.final["subject_bin"]):
                self.error(
                    "facilities", row.number, "subject_bin", f"no subject with BIN {row.final['subject_bin']}"
                )
            if row.existing is not None and row.existing.kind != row.final["kind"]:
                self.check_kind_change(row)

    def check_kind_change(self, row: _Row) -> None:
        """Devices the workbook does not list stay on the facility: they must fit its new kind too."""
        facility = row.existing
        kind = row.final["kind"]
        listed = {key[1] for key in self.rows["devices"] if key[0] == facility.object_id}
        for device in facility.devices.prefetch_related("allowed_operations"):
            if device.device_id in listed:
                continue
            ops = [op.id for op in device.allowed_operations.all()]
            for problem in (
                rules.device_type_problem(kind, device.device_type_id),
                rules.pipeline_problem(kind, device.pipeline_id),
                rules.operations_problem(kind, ops),
            ):
                if problem:
                    self.error(
                        "facilities", row.number, "kind", f"stored device {device.device_id}: {problem}"
                    )

    def facility_kind(self, object_id: str) -> str | None:
        row = self.rows["facilities"].get((object_id,))
        if row is not None:
            return row.final["kind"] if rules.kind_problem(row.final["kind"]) is None else None
        facility = self.db_facilities.get(object_id)
        return facility.kind if facility else None

    def check_devices(self) -> None:
        sheet = "devices"
        for (object_id, device_id), row in self.rows[sheet].items():
            final = row.final
            if problem := rules.device_id_problem(device_id):
                self.error(sheet, row.number, "device_id", problem)
            known_facility = (object_id,) in self.rows["facilities"] or object_id in self.db_facilities
            if not known_facility:
                self.error(sheet, row.number, "object_id", f"no facility with object ID {object_id}")
            kind = self.facility_kind(object_id)
            type_id = final["device_type_id"]
            if type_id not in self.db_device_types:
                self.error(sheet, row.number, "device_type_id", f"no device type {type_id}")
            elif kind and (problem := rules.device_type_problem(kind, type_id)):
                self.error(sheet, row.number, "device_type_id", problem)
            product = final["product_type_id"]
            if (
                product is not None
                and product not in self.db_product_types
                and (product,) not in self.rows["product_types"]
            ):
                self.error(sheet, row.number, "product_type_id", f"no product type {product}")
            pipeline = final["pipeline_id"]
            if pipeline is not None:
                if pipeline not in self.db_pipelines and (pipeline,) not in self.rows["pipelines"]:
                    self.error(sheet, row.number, "pipeline_id", f"no pipeline {pipeline}")
                elif kind and (problem := rules.pipeline_problem(kind, pipeline)):
                    self.error(sheet, row.number, "pipeline_id", problem)
            ops = final["allowed_operations"]
            unknown = sorted(set(ops) - self.db_operation_types)
            if unknown:
                listed = ", ".join(str(op) for op in unknown)
                self.error(sheet, row.number, "allowed_operations", f"no operation type {listed}")
            elif kind and (problem := rules.operations_problem(kind, ops)):
                self.error(sheet, row.number, "allowed_operations", problem)
            installed, removed = final["installed_at"], final["removed_at"]
            if installed and removed and removed < installed:
                self.error(sheet, row.number, "removed_at", "removed before it was installed")

    def check_connected_systems(self) -> None:
        sheet = "connected_systems"
        for (sender_id,), row in self.rows[sheet].items():
            final = row.final
            if problem := rules.sender_id_problem(sender_id):
                self.error(sheet, row.number, "sender_id", problem)
            if not self.subject_known(final["subject_bin"]):
                self.error(sheet, row.number, "subject_bin", f"no subject with BIN {final['subject_bin']}")
            unknown = sorted(set(final["services"]) - self.db_services)
            if unknown:
                self.error(sheet, row.number, "services", f"no service {', '.join(unknown)}")
            if final["contour"] not in Contour.values:
                self.error(
                    sheet, row.number, "contour", f"contour must be one of {', '.join(Contour.values)}"
                )
            for column in ("allowed_policy_oids", "allowed_eku_oids"):
                if problem := oid_list_problem(",".join(final[column])):
                    self.error(sheet, row.number, column, problem)
            if row.existing is None and not row.given.get("password"):
                self.warn(
                    sheet, row.number, "password", "no password: the system cannot log in until one is set"
                )

    # writing -----------------------------------------------------------------------------------

    def write(self) -> None:
        total = sum(len(rows) for rows in self.rows.values())
        self.done = 0
        self.total = total
        self.write_plain("product_types", ProductType, {"name": "name", "active": "active"})
        self.write_plain("pipelines", Pipeline, {"name": "name", "active": "active"})
        fields = {name: name for name in DEFAULTS["subjects"]}
        self.write_plain("subjects", Subject, fields)
        self.write_facilities()
        self.write_devices()
        self.write_connected_systems()

    def tick(self) -> None:
        self.done += 1
        if self.progress and (self.done % 200 == 0 or self.done == self.total):
            self.progress("write", self.done, self.total)

    def created(self, sheet: str, key: object, values: dict) -> None:
        from egsu.registry.audit import json_safe

        safe = {k: json_safe(v) for k, v in values.items() if k != "password"}
        self.changes.append(
            (f"registry.{sheet}", str(key), f"{sheet} {key} created by the workbook", None, safe)
        )
        self.count(sheet, "created")

    def count(self, sheet: str, outcome: str) -> None:
        counts = self.report.counts.setdefault(sheet, {"created": 0, "updated": 0, "unchanged": 0})
        counts[outcome] += 1
        self.tick()

    def _apply(self, obj, values: dict[str, object]) -> bool:
        from egsu.registry.audit import json_safe

        before, after = {}, {}
        for field_name, value in values.items():
            if getattr(obj, field_name) != value:
                before[field_name], after[field_name] = json_safe(getattr(obj, field_name)), json_safe(value)
                setattr(obj, field_name, value)
        if after:
            label = f"{obj._meta.verbose_name} {obj} changed by the workbook"
            self.changes.append((obj._meta.label_lower, str(obj.pk), label, before, after))
        return bool(after)

    def write_plain(self, sheet: str, model, fields: dict[str, str]) -> None:
        key_field = KEYS[sheet][0]
        for (key,), row in self.rows[sheet].items():
            values = {model_field: row.final[column] for column, model_field in fields.items()}
            if row.existing is None:
                model.objects.create(**{key_field: key}, **values)
                self.created(sheet, key, values)
            elif self._apply(row.existing, values):
                row.existing.save()
                self.count(sheet, "updated")
            else:
                self.count(sheet, "unchanged")

    def subject_ids(self, bins: Iterable[str]) -> dict[str, int]:
        return dict(Subject.objects.filter(bin__in=list(set(bins))).values_list("bin", "id"))

    def write_facilities(self) -> None:
        sheet = "facilities"
        subject_ids = self.subject_ids(row.final["subject_bin"] for row in self.rows[sheet].values())
        for (object_id,), row in self.rows[sheet].items():
            final = row.final
            values = {
                "kind": final["kind"],
                "subject_id": subject_ids[final["subject_bin"]],
                "name": final["name"],
                "region": final["region"],
                "active": final["active"],
            }
            if row.existing is None:
                Facility.objects.create(object_id=object_id, **values)
                self.created(sheet, object_id, values)
            elif self._apply(row.existing, values):
                row.existing.save()
                self.count(sheet, "updated")
            else:
                self.count(sheet, "unchanged")

    def write_devices(self) -> None:
        sheet = "devices"
        object_ids = {key[0] for key in self.rows[sheet]}
        facility_ids = dict(
            _in_chunks(Facility.objects.values_list("object_id", "id"), "object_id", object_ids)
        )
        for (object_id, device_id), row in self.rows[sheet].items():
            final = row.final
            values = {
                "facility_id": facility_ids[object_id],
                "device_type_id": final["device_type_id"],
                "product_type_id": final["product_type_id"],
                "pipeline_id": final["pipeline_id"],
                "commercial": final["commercial"],
                "serial_number": final["serial_number"],
                "model_name": final["model"],
                "installed_at": final["installed_at"],
                "removed_at": final["removed_at"],
                "active": final["active"],
            }
            operations = sorted(set(final["allowed_operations"]))
            if row.existing is None:
                device = Device.objects.create(device_id=device_id, **values)
                if operations:
                    device.allowed_operations.set(operations)
                self.created(sheet, f"{object_id}/{device_id}", {**values, "allowed_operations": operations})
                continue
            device = row.existing
            changed = self._apply(device, values)
            if changed:
                device.save()
            if sorted(op.id for op in device.allowed_operations.all()) != operations:
                device.allowed_operations.set(operations)
                changed = True
            self.count(sheet, "updated" if changed else "unchanged")

    def write_connected_systems(self) -> None:
        sheet = "connected_systems"
        subject_ids = self.subject_ids(row.final["subject_bin"] for row in self.rows[sheet].values())
        services = dict(Service.objects.values_list("service_id", "id"))
        for (sender_id,), row in self.rows[sheet].items():
            final = row.final
            values = {
                "subject_id": subject_ids[final["subject_bin"]],
                "contour": final["contour"],
                "active": final["active"],
                "require_business_signature": final["require_business_signature"],
                "allowed_policy_oids": ",".join(final["allowed_policy_oids"]),
                "allowed_eku_oids": ",".join(final["allowed_eku_oids"]),
            }
            wanted = sorted(final["services"])
            password = row.given.get("password") or None
            if row.existing is None:
                system = ConnectedSystem(sender_id=sender_id, **values)
                system.set_password(password)
                system.save()
                system.services.set([services[s] for s in wanted])
                self.created(sheet, sender_id, {**values, "services": wanted})
                continue
            system = row.existing
            changed = self._apply(system, values)
            if password and not system.check_password(password):
                system.set_password(password)
                self.password_changes.append(system)
                changed = True
            if changed:
                system.save()
            if sorted(s.service_id for s in system.services.all()) != wanted:
                system.services.set([services[s] for s in wanted])
                changed = True
            self.count(sheet, "updated" if changed else "unchanged")


_BAD = object()


def _in_chunks(queryset, field_name: str, values: Iterable) -> list:
    values = list(values)
    found: list = []
    for start in range(0, len(values), _CHUNK):
        found.extend(queryset.filter(**{f"{field_name}__in": values[start : start + _CHUNK]}))
    return found
