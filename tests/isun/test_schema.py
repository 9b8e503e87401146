"""Our XSD for ``data`` describes what real and sample clients send (documentation kept honest)."""

from __future__ import annotations

from datetime import datetime

import pytest
from lxml import etree

from egsu_core.clock import ASTANA
from egsu_core.isun.samples import records_element, sample_record
from egsu_core.isun.schema import data_errors, data_schema
from egsu_core.isun.tables import TABLES
from tests.isun.conftest import real_data

START = datetime(2024, 6, 10, 10, 0, tzinfo=ASTANA)


def test_schema_is_compiled_once():
    assert data_schema() is data_schema()


@pytest.mark.shared
def test_real_example_validates_as_sent():
    assert data_errors(real_data()) == []
    assert data_schema().is_valid(real_data())  # xsi:type="cs:Request" resolves through isun-cs-request.xsd


@pytest.mark.parametrize("daily", [True, False], ids=["daily", "two-hourly"])
@pytest.mark.parametrize("kind", list(TABLES))
def test_sample_records_validate(kind, daily):
    data = records_element([sample_record(kind, "OBJ", "D1", period_start=START, is_daily=daily)])
    assert data_errors(data) == []


def test_undeclared_xsi_type_prefix_is_ignored():
    data = etree.fromstring(
        '<data xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="cs:Request">'
        "<events><id>1</id><tenkLevel>1,5</tenkLevel><isDaily>Иә</isDaily></events></data>"
    )
    assert data_errors(data) == []


@pytest.mark.parametrize(
    ("fields", "path", "fault"),
    [
        ("<id>1</id><colour>red</colour>", "/data/events", "Unexpected child with tag 'colour'"),
        ("<id>1</id><volume>NaN</volume>", "/data/events/volume", "value doesn't match any pattern"),
        (
            "<id>1</id><volume>1</volume><volume>2</volume>",
            "/data/events",
            "Unexpected child with tag 'volume'",
        ),
        ("<id>1</id><isDaily>maybe</isDaily>", "/data/events/isDaily", "value doesn't match any pattern"),
        ("<id>1</id><datetime>2024-13-01</datetime>", "/data/events/datetime", "Invalid datetime string"),
        ("<id>1</id><operationTypeId>x</operationTypeId>", "/data/events/operationTypeId", "doesn't match"),
    ],
    ids=["unknown-field", "nan", "duplicate", "bad-flag", "bad-date", "bad-code"],
)
def test_faults_the_schema_refuses(fields, path, fault):
    errors = data_errors(etree.fromstring(f"<data><events>{fields}</events></data>"))
    assert {error.split(": ", 1)[0] for error in errors} == {path}
    assert any(fault in error for error in errors), errors


def test_empty_data_is_refused():
    assert data_errors(etree.fromstring("<data/>")) != []
