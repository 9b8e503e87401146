"""Workbook import/export: every row checked, all or nothing, round trips through xlsx and CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook

from egsu.registry.demo import load_demo_registry
from egsu.registry.models import ConnectedSystem, Device, Facility, Pipeline, ProductType, Subject
from egsu.registry.workbook import RowError, export_workbook, import_workbook
from egsu.registry.workbook.rows import SOURCES
from tests.registry.factories import make_device, make_facility, make_subject

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, list[dict]]:
    """The whole registry as workbook rows."""
    return {name: [to_row(obj) for obj in queryset()] for name, (queryset, to_row) in SOURCES.items()}


def wipe_registry() -> None:
    ConnectedSystem.objects.all().delete()
    Device.objects.all().delete()
    Facility.objects.all().delete()
    Subject.objects.all().delete()
    ProductType.objects.all().delete()
    Pipeline.objects.all().delete()


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize(
    "target", ["registry.xlsx", "registry.zip", "registry-csv"], ids=["xlsx", "zip", "folder"]
)
def test_export_then_import_on_an_empty_registry_reproduces_it(tmp_path, target):
    # given the demo registry, exported
    load_demo_registry(password="Demo-password-1")
    before = snapshot()
    counts = export_workbook(tmp_path / target)
    assert counts == {name: len(rows) for name, rows in before.items()}
    # when the registry is emptied and the export imported
    wipe_registry()
    report = import_workbook(tmp_path / target)
    # then every row is back, exactly
    assert report.errors == []
    assert snapshot() == before
    assert report.counts["devices"] == {"created": len(before["devices"]), "updated": 0, "unchanged": 0}
    # and the password, never exported, has to be set again
    assert report.warnings == [
        RowError("connected_systems", 2, "password", "no password: the system cannot log in until one is set")
    ]
    assert ConnectedSystem.objects.get().has_usable_password is False


def test_reimporting_an_export_changes_nothing(tmp_path):
    load_demo_registry(password="Demo-password-1")
    export_workbook(tmp_path / "registry.xlsx")
    report = import_workbook(tmp_path / "registry.xlsx")
    assert report.errors == []
    assert {counts["created"] + counts["updated"] for counts in report.counts.values()} == {0}
    assert ConnectedSystem.objects.get().check_password("Demo-password-1")


def test_export_never_writes_a_password(tmp_path):
    load_demo_registry(password="Demo-password-1")
    export_workbook(tmp_path / "csv")
    with (tmp_path / "csv" / "connected_systems.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {
            "sender_id": "demo-isun",
            "subject_bin": "240540000115",
            "services": "ISUN_Service2",
            "contour": "test",
            "active": "yes",
            "require_business_signature": "no",
            "allowed_policy_oids": "",
            "allowed_eku_oids": "",
            "password": "",
        }
    ]
    assert "Demo-password-1" not in "".join(
        p.read_text(encoding="utf-8-sig") for p in (tmp_path / "csv").iterdir()
    )


GOOD_SHEETS = {
    "product_types": [["id", "name"], [1, "Crude oil"]],
    "pipelines": [["id", "name"], [3, "Atasu - Alashankou"]],
    "subjects": [["bin", "name", "email"], ["020240000555", "KMG", "info@kmg.kz"]],
    "facilities": [
        ["object_id", "kind", "subject_bin", "name"],
        ["407001", "1.3", "020240000555", "SIKN"],
        ["407004", "1.2", "020240000555", "Tank"],
    ],
    "devices": [
        [
            "object_id",
            "device_id",
            "device_type_id",
            "product_type_id",
            "pipeline_id",
            "commercial",
            "allowed_operations",
        ],
        ["407001", "1", 2, 1, 3, "yes", "3"],
        ["407004", "2", 1, 1, None, "no", "7"],
    ],
    "connected_systems": [
        ["sender_id", "subject_bin", "services", "contour", "password"],
        ["kmg-isun", "020240000555", "ISUN_Service2", "production", "Initial-Pass-1"],
    ],
}


def test_a_clean_workbook_is_imported(tmp_path):
    report = import_workbook(write_xlsx(tmp_path / "r.xlsx", GOOD_SHEETS))
    assert report.errors == [] and report.warnings == []
    assert report.counts == {
        "product_types": {"created": 1, "updated": 0, "unchanged": 0},
        "pipelines": {"created": 1, "updated": 0, "unchanged": 0},
        "subjects": {"created": 1, "updated": 0, "unchanged": 0},
        "facilities": {"created": 2, "updated": 0, "unchanged": 0},
        "devices": {"created": 2, "updated": 0, "unchanged": 0},
        "connected_systems": {"created": 1, "updated": 0, "unchanged": 0},
    }
    system = ConnectedSystem.objects.get(sender_id="kmg-isun")
    assert system.check_password("Initial-Pass-1")
    assert system.contour == "production"
    assert list(system.services.values_list("service_id", flat=True)) == ["ISUN_Service2"]
    device = Device.objects.get(facility__object_id="407001", device_id="1")
    assert (device.device_type_id, device.pipeline_id, device.commercial) == (2, 3, True)
    assert list(device.allowed_operations.values_list("id", flat=True)) == [3]


def test_several_bad_rows_are_each_reported_and_nothing_is_written(tmp_path):
    sheets = {
        "product_types": [["id", "name"], [1, "Crude oil"], [1, "Again"], [0, "Zero"]],
        "subjects": [
            ["bin", "name", "email"],
            ["020240000555", "KMG", "not-an-email"],
            ["020240000556", "Typo", ""],
        ],
        "facilities": [
            ["object_id", "kind", "subject_bin", "name"],
            ["407001", "1.3", "020240000555", "SIKN"],
            ["407002", "2.1", "020240000555", "Bad kind"],
            ["407003", "1.2", "990140000483", "Unknown subject"],
            ["4070-04", "1.2", "020240000555", "Bad id"],
        ],
        "devices": [
            [
                "object_id",
                "device_id",
                "device_type_id",
                "product_type_id",
                "pipeline_id",
                "allowed_operations",
                "commercial",
            ],
            ["407001", "1", 10, 1, 3, "3", "yes"],
            ["407001", "2", 2, 9, 7, "3,7", "maybe"],
            ["407001", "3", 2, 1, None, "3, 9", "no"],
            ["407003", "1", 1, 1, 3, "7", "no"],
            ["999999", "1", 1, 1, None, "", "no"],
            ["407001", "1", 2, 1, 3, "3", "yes"],
        ],
        "connected_systems": [
            ["sender_id", "subject_bin", "services", "contour"],
            ["kmg isun", "020240000555", "ISUN_Service2, NOPE", "staging"],
        ],
    }
    report = import_workbook(write_xlsx(tmp_path / "bad.xlsx", sheets))
    assert report.errors == [
        RowError("product_types", 3, "id", "1 is already given in row 2"),
        RowError("product_types", 4, "id", "the code must be a positive whole number"),
        RowError("subjects", 2, "email", "'not-an-email' is not an e-mail address"),
        RowError("subjects", 3, "bin", "020240000556 fails the BIN check digit (the 12th digit should be 5)"),
        RowError(
            "facilities",
            3,
            "kind",
            "unknown facility kind '2.1': use one of 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9",
        ),
        RowError("facilities", 4, "subject_bin", "no subject with BIN 990140000483"),
        RowError(
            "facilities", 5, "object_id", "object ID must be 1-50 Latin letters or digits, got '4070-04'"
        ),
        RowError(
            "devices",
            2,
            "device_type_id",
            "device type 10 is not allowed on a facility of kind 1.3 (use 1, 2)",
        ),
        RowError("devices", 2, "pipeline_id", "no pipeline 3"),
        RowError("devices", 3, "commercial", "expected yes or no, got 'maybe'"),
        RowError("devices", 4, "allowed_operations", "no operation type 9"),
        RowError("devices", 5, "pipeline_id", "no pipeline 3"),
        RowError("devices", 6, "object_id", "no facility with object ID 999999"),
        RowError("devices", 7, "device_id", "407001/1 is already given in row 2"),
        RowError(
            "connected_systems",
            2,
            "sender_id",
            "sender login must be 1-50 letters, digits or . @ + - _, got 'kmg isun'",
        ),
        RowError("connected_systems", 2, "services", "no service NOPE"),
        RowError("connected_systems", 2, "contour", "contour must be one of test, production"),
    ]
    assert report.written is False
    assert (
        Subject.objects.count(),
        Facility.objects.count(),
        Device.objects.count(),
        ProductType.objects.count(),
    ) == (
        0,
        0,
        0,
        0,
    )


def test_operations_and_pipeline_are_checked_against_the_kind(tmp_path):
    sheets = {
        **GOOD_SHEETS,
        "devices": [
            ["object_id", "device_id", "device_type_id", "pipeline_id", "allowed_operations"],
            ["407004", "2", 1, 3, "7,3"],
        ],
    }
    report = import_workbook(write_xlsx(tmp_path / "r.xlsx", sheets))
    assert report.errors == [
        RowError("devices", 2, "pipeline_id", "a pipeline only applies to facilities of kind 1.3, not 1.2"),
        RowError(
            "devices",
            2,
            "allowed_operations",
            "operation type(s) 3 not allowed on a facility of kind 1.2 (allowed: 7)",
        ),
    ]


@pytest.mark.parametrize(
    ("sheets", "error"),
    [
        pytest.param(
            {"device": [["object_id"], ["1"]]},
            RowError(
                "device",
                0,
                "",
                "unknown sheet 'device': the sheets are product_types, pipelines, subjects, facilities, devices, "
                "connected_systems",
            ),
            id="unknown-sheet",
        ),
        pytest.param(
            {"subjects": [["bin", "name", "emial"], ["020240000555", "KMG", "x@y.kz"]]},
            RowError(
                "subjects",
                1,
                "emial",
                "unknown column 'emial': the columns are bin, name, short_name, region, address, email, phone, active",
            ),
            id="unknown-column",
        ),
        pytest.param(
            {"subjects": [["bin"], ["020240000555"]]},
            RowError("subjects", 1, "name", "required column 'name' is missing"),
            id="missing-column",
        ),
        pytest.param(
            {"subjects": [["bin", "name"], ["020240000555", None]]},
            RowError("subjects", 2, "name", "name is required"),
            id="blank-required",
        ),
        pytest.param(
            {"product_types": [["id", "name"], ["one", "Crude"]]},
            RowError("product_types", 2, "id", "expected a whole number, got 'one'"),
            id="not-a-number",
        ),
        pytest.param(
            {
                "devices": [
                    ["object_id", "device_id", "device_type_id", "installed_at"],
                    ["1", "1", 1, "02.05.2024"],
                ]
            },
            RowError("devices", 2, "installed_at", "expected a date as YYYY-MM-DD, got '02.05.2024'"),
            id="bad-date",
        ),
    ],
)
def test_malformed_workbooks_are_explained(tmp_path, sheets, error):
    report = import_workbook(write_xlsx(tmp_path / "r.xlsx", sheets))
    assert report.errors == [error]


def test_an_unreadable_file_is_an_error_not_an_exception(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip")
    report = import_workbook(path)
    assert len(report.errors) == 1
    assert report.errors[0].sheet == "" and report.errors[0].row == 0
    assert report.errors[0].message.startswith(f"{path}: not a readable xlsx workbook")


def test_an_unexpected_failure_while_writing_rolls_everything_back(tmp_path, monkeypatch):
    def explode(self):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("egsu.registry.workbook.importer._Import.write_connected_systems", explode)
    with pytest.raises(RuntimeError, match="disk on fire"):
        import_workbook(write_xlsx(tmp_path / "r.xlsx", GOOD_SHEETS))
    assert (Subject.objects.count(), Facility.objects.count(), Device.objects.count()) == (0, 0, 0)


def test_dry_run_counts_but_writes_nothing(tmp_path):
    report = import_workbook(write_xlsx(tmp_path / "r.xlsx", GOOD_SHEETS), dry_run=True)
    assert report.errors == []
    assert report.counts["facilities"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert report.written is False
    assert Facility.objects.count() == 0


def test_left_out_columns_keep_stored_values_and_blank_cells_clear_them(tmp_path):
    # given a device with a serial number and a model
    facility = make_facility("407001", kind="1.3", subject=make_subject(bin="020240000555"))
    make_device(facility, "1", device_type_id=2, serial_number="SN-1", model_name="Promass", commercial=True)
    # when a sheet gives only the key, the type and a blank model
    sheets = {"devices": [["object_id", "device_id", "device_type_id", "model"], ["407001", "1", 2, None]]}
    report = import_workbook(write_xlsx(tmp_path / "r.xlsx", sheets))
    # then the serial and commercial flag stay, the model is cleared
    assert report.errors == []
    assert report.counts == {"devices": {"created": 0, "updated": 1, "unchanged": 0}}
    device = Device.objects.get()
    assert (device.serial_number, device.commercial, device.model_name) == ("SN-1", True, "")


def test_references_may_come_from_the_database(tmp_path):
    make_subject(bin="020240000555")
    sheets = {
        "facilities": [
            ["object_id", "kind", "subject_bin", "name"],
            ["407001", "1.3", "020240000555", "SIKN"],
        ]
    }
    report = import_workbook(write_xlsx(tmp_path / "r.xlsx", sheets))
    assert report.errors == []
    assert Facility.objects.get().subject.bin == "020240000555"


def test_a_kind_change_must_suit_the_stored_devices(tmp_path):
    facility = make_facility("407001", kind="1.3", subject=make_subject(bin="020240000555"))
    make_device(facility, "1", device_type_id=2, operations=[3])
    sheets = {
        "facilities": [
            ["object_id", "kind", "subject_bin", "name"],
            ["407001", "1.8", "020240000555", "SIKN"],
        ]
    }
    report = import_workbook(write_xlsx(tmp_path / "r.xlsx", sheets))
    assert report.errors == [
        RowError(
            "facilities",
            2,
            "kind",
            "stored device 1: device type 2 is not allowed on a facility of kind 1.8 (use 10, 11)",
        ),
        RowError(
            "facilities",
            2,
            "kind",
            "stored device 1: operation type(s) 3 not allowed on a facility of kind 1.8 (allowed: 12, 13, 14, 15, 16, 19)",
        ),
    ]
    assert Facility.objects.get().kind == "1.3"


def test_numbers_typed_into_a_spreadsheet_are_read_as_codes(tmp_path):
    # a BIN typed as a number loses its leading zeros; an object ID arrives as a float
    sheets = {
        "subjects": [["bin", "name"], [740001307, "Zeros LLP"]],
        "facilities": [["object_id", "kind", "subject_bin", "name"], [407001.0, "1.3", 740001307, "SIKN"]],
    }
    report = import_workbook(write_xlsx(tmp_path / "r.xlsx", sheets))
    assert report.errors == []
    assert Facility.objects.get().object_id == "407001"
    assert Subject.objects.get().bin == "000740001307"


def test_a_single_csv_sheet_is_imported(tmp_path):
    path = tmp_path / "subjects.csv"
    path.write_text("bin,name,active\r\n020240000555,KMG,no\r\n", encoding="utf-8")
    report = import_workbook(path)
    assert report.errors == []
    assert Subject.objects.get().active is False


def test_a_new_password_in_the_workbook_replaces_the_old_one(tmp_path):
    import_workbook(write_xlsx(tmp_path / "r.xlsx", GOOD_SHEETS))
    sheets = {
        "connected_systems": [
            ["sender_id", "subject_bin", "password"],
            ["kmg-isun", "020240000555", "Rotated-2"],
        ]
    }
    report = import_workbook(write_xlsx(tmp_path / "p.xlsx", sheets))
    assert report.counts == {"connected_systems": {"created": 0, "updated": 1, "unchanged": 0}}
    system = ConnectedSystem.objects.get()
    assert system.check_password("Rotated-2") and not system.check_password("Initial-Pass-1")


def test_progress_is_reported(tmp_path):
    seen = []
    import_workbook(write_xlsx(tmp_path / "r.xlsx", GOOD_SHEETS), progress=lambda *args: seen.append(args))
    assert seen[-1] == ("write", 8, 8)
    assert ("check", 8, 8) in seen


def test_policy_and_eku_oids_round_trip_and_bad_ones_are_refused(tmp_path):
    # given a connected system whose signing certificates are limited (SIG-12)
    load_demo_registry(password="Demo-password-1")
    ConnectedSystem.objects.update(
        allowed_policy_oids="1.2.398.3.3.2.1", allowed_eku_oids="1.2.398.3.3.4.1.2.1"
    )
    export_workbook(tmp_path / "csv")
    path = tmp_path / "csv" / "connected_systems.csv"
    text = path.read_text(encoding="utf-8-sig")
    assert "1.2.398.3.3.2.1" in text and "1.2.398.3.3.4.1.2.1" in text
    # when the operator edits the EKUs in the workbook, one of them mistyped
    path.write_text(
        text.replace("1.2.398.3.3.4.1.2.1", "1.2.398.3.3.4.1.2.1; 1.2.398.3.3.4.1.2.2"), encoding="utf-8-sig"
    )
    report = import_workbook(tmp_path / "csv")
    assert report.errors == []
    assert ConnectedSystem.objects.get().allowed_ekus == {"1.2.398.3.3.4.1.2.1", "1.2.398.3.3.4.1.2.2"}
    path.write_text(text.replace("1.2.398.3.3.4.1.2.1", "first-head"), encoding="utf-8-sig")
    report = import_workbook(tmp_path / "csv")
    assert [(e.column, e.message) for e in report.errors] == [("allowed_eku_oids", "not an OID: first-head")]
