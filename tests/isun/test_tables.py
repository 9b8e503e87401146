"""The App.2 layouts and §13.2 catalogues as plain data (FMT-01, FMT-06, FMT-07, FMT-08)."""

from __future__ import annotations

import pytest

from egsu_core.isun.tables import (
    DEVICE_TYPES,
    FACILITY_KINDS,
    KNOWN_FIELDS,
    OPERATION_TYPES,
    QUANTITIES,
    TABLES,
    operation_kinds,
)

ALL_KINDS = ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9"]


def test_every_table_and_kind_is_defined():
    assert list(TABLES) == ALL_KINDS
    assert list(FACILITY_KINDS) == ALL_KINDS
    assert all(en and kk for en, kk in FACILITY_KINDS.values())


def test_device_type_catalogue_is_the_printed_one():  # §13.2, FMT-06
    assert DEVICE_TYPES == {
        1: ("Preparation, storage", "Дайындау, сақтау"),
        2: ("Acceptance/delivery", "Қабылдау/тапсыру"),
        10: ("Preparation, storage", "Дайындау, сақтау"),
        11: ("Acceptance/delivery", "Қабылдау/тапсыру"),
    }


def test_operation_catalogue_has_the_printed_ids_and_names():  # §13.2
    assert sorted(OPERATION_TYPES) == [1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15, 16, 17, 18, 19]
    assert OPERATION_TYPES[8] == ("Acceptance from oil terminals", "Мұнай терминалдарынан қабылдау", {"1.3"})
    assert OPERATION_TYPES[17][2] == {"1.4", "1.5", "1.6", "1.7"}
    assert OPERATION_TYPES[19] == ("Flare output", "Алау шығысы", {"1.8"})


@pytest.mark.parametrize(
    ("kind", "operations", "devices"),
    [
        ("1.1", {6}, {1, 2}),
        ("1.2", {7}, {1, 2}),
        ("1.3", {1, 2, 3, 4, 5, 8}, {1, 2}),
        ("1.4", {17}, {10, 11}),
        ("1.5", {17}, {10, 11}),
        ("1.6", {17}, {10, 11}),
        ("1.7", {17}, {10, 11}),
        ("1.8", {12, 13, 14, 15, 16, 19}, {10, 11}),
        ("1.9", {18}, {10, 11}),
    ],
    ids=ALL_KINDS,
)
def test_allowed_codes_per_table(kind, operations, devices):  # FMT-06, FMT-07
    assert TABLES[kind].operation_types == operations
    assert TABLES[kind].device_types == devices


def test_operation_kinds_agree_with_the_tables():
    for operation in OPERATION_TYPES:
        assert operation_kinds(operation) == {k for k, t in TABLES.items() if operation in t.operation_types}
    assert operation_kinds(9) == frozenset()


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        (
            "1.1",
            (
                "ID",
                "datetime",
                "deviceTypeId",
                "operationTypeId",
                "deviceNameId",
                "productTypeId",
                "tankLevel",
                "volume",
                "isDaily",
                "deviceStatus",
            ),
        ),
        (
            "1.2",
            (
                "ID",
                "datetime",
                "regdatetime",
                "deviceTypeId",
                "operationTypeId",
                "deviceId",
                "productTypeId",
                "tankLevel",
                "volume",
                "isDaily",
                "deviceStatus",
            ),
        ),
        (
            "1.3",
            (
                "ID",
                "datetime",
                "regdatetime",
                "deviceId",
                "operationTypeId",
                "deviceNameId",
                "productTypeId",
                "pipelineId",
                "volume",
                "massflowbegin",
                "massflowend",
                "mass",
                "isDaily",
                "deviceStatus",
            ),
        ),
        (
            "1.4",
            (
                "ID",
                "datetime",
                "regdatetime",
                "deviceTypeId",
                "operationTypeId",
                "deviceNameId",
                "productTypeId",
                "temperature",
                "volume",
                "pressure",
                "isDaily",
                "deviceStatus",
            ),
        ),
        (
            "1.8",
            (
                "ID",
                "datetime",
                "regdatetime",
                "deviceId",
                "operationTypeId",
                "deviceNameId",
                "productTypeId",
                "temperature",
                "volume",
                "pressure",
                "isDaily",
                "deviceStatus",
            ),
        ),
        (
            "1.9",
            (
                "ID",
                "datetime",
                "regdatetime",
                "deviceTypeId",
                "operationTypeId",
                "deviceId",
                "productId",
                "density",
                "temperature",
                "volume",
                "pressure",
                "isDaily",
                "deviceStatus",
            ),
        ),
    ],
    ids=["1.1", "1.2", "1.3", "1.4", "1.8", "1.9"],
)
def test_printed_fields_follow_the_presence_matrix(kind, fields):  # §13.3, FMT-08
    assert TABLES[kind].fields == fields


@pytest.mark.parametrize(
    ("kind", "means"),
    [("1.1", None), ("1.2", "number"), ("1.3", "type"), ("1.5", None), ("1.8", "type"), ("1.9", "number")],
    ids=["1.1", "1.2", "1.3", "1.5", "1.8", "1.9"],
)
def test_what_a_bare_device_id_means(kind, means):  # FMT-08 (a), (b)
    assert TABLES[kind].device_id_means == means


def test_every_printed_field_is_known():
    assert set(QUANTITIES) <= KNOWN_FIELDS
    for layout in TABLES.values():
        assert set(layout.fields) <= KNOWN_FIELDS
        assert layout.name_en == FACILITY_KINDS[layout.kind][0]
    assert "id" in KNOWN_FIELDS and "tenkLevel" not in KNOWN_FIELDS
