"""Reading numbers, flags and dates (UNIT-01, UNIT-08, FMT-04/05) and the plausibility limits (App.3)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egsu_core.isun.formats import parse_flag, parse_moment, parse_number
from egsu_core.isun.units import UNITS, Plausibility


@pytest.mark.parametrize(
    ("text", "value", "comma"),
    [
        ("80.46875", Decimal("80.46875"), False),
        ("0", Decimal("0"), False),
        ("-3", Decimal("-3"), False),
        ("+.5", Decimal("0.5"), False),
        ("12.", Decimal("12"), False),
        ("1.0E-4", Decimal("0.0001"), False),
        ("1.220703e-04", Decimal("0.0001220703"), False),
        ("12,5", Decimal("12.5"), True),
    ],
    ids=[
        "plain",
        "zero",
        "negative",
        "leading-point",
        "trailing-point",
        "java-exponent",
        "go-exponent",
        "comma",
    ],
)
def test_numbers_that_are_read(text, value, comma):
    # when
    parsed = parse_number(text)
    # then
    assert (parsed.value, parsed.decimal_comma) == (value, comma)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        "1e400",
        "1 000",
        "1_000",
        "1,000.5",
        "١٢",
        "0x10",
        "1.2.3",
        "--1",
        "e5",
    ],
    ids=[
        "empty",
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        "huge-exponent",
        "space",
        "underscore",
        "thousands",
        "arabic-digits",
        "hex",
        "two-points",
        "two-signs",
        "no-mantissa",
    ],
)
def test_numbers_that_are_refused(text):
    with pytest.raises(ValueError):
        parse_number(text)


@given(st.text(max_size=30))
def test_number_parser_either_refuses_or_gives_a_finite_decimal(text):
    try:
        parsed = parse_number(text)
    except ValueError:
        return
    assert parsed.value.is_finite()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", True),
        ("No", False),
        ("TRUE", True),
        ("false", False),
        ("1", True),
        ("0", False),
        ("Да", True),
        ("нет", False),
        ("ИӘ", True),
        ("жоқ", False),
        (" yes ", True),
    ],
    ids=["yes", "No", "TRUE", "false", "1", "0", "Да", "нет", "ИӘ", "жоқ", "padded"],
)
def test_flags(text, value):  # FMT-04, FMT-05
    assert parse_flag(text) is value


@pytest.mark.parametrize(
    "text", ["", "y", "2", "oui", "yes please"], ids=["empty", "y", "2", "oui", "phrase"]
)
def test_flags_refused(text):
    with pytest.raises(ValueError):
        parse_flag(text)


@pytest.mark.parametrize(
    ("text", "instant", "date_only"),
    [
        ("2024-01-11T13:00:00.000+00:00", datetime(2024, 1, 11, 13, 0, tzinfo=UTC), False),
        ("2024-01-11T00:00:00.000+06:00", datetime(2024, 1, 10, 18, 0, tzinfo=UTC), False),
        ("2024-01-11T06:00:00Z", datetime(2024, 1, 11, 6, 0, tzinfo=UTC), False),
        ("2024-01-11T06:00:00", datetime(2024, 1, 11, 0, 0, tzinfo=UTC), False),  # Astana, UTC+6 then
        ("2024-03-02T06:00:00", datetime(2024, 3, 2, 1, 0, tzinfo=UTC), False),  # Astana, UTC+5 since 1 March
        ("2024-01-11T13:00:00.1234567+00:00", datetime(2024, 1, 11, 13, 0, 0, 123456, tzinfo=UTC), False),
        ("2024-01-11", datetime(2024, 1, 10, 18, 0, tzinfo=UTC), True),
        ("2024-03-01", datetime(2024, 2, 29, 19, 0, tzinfo=UTC), True),
    ],
    ids=[
        "real-utc",
        "real-astana",
        "zulu",
        "naive-utc6",
        "naive-utc5",
        "nanoseconds",
        "date-utc6",
        "date-utc5",
    ],
)
def test_moments(text, instant, date_only):  # UNIT-01, INT-37
    # when
    moment = parse_moment(text)
    # then
    assert (moment.instant, moment.date_only) == (instant, date_only)
    assert moment.instant.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "2024-13-01",
        "2024-02-30",
        "2024-01-11T24:00:00",
        "2024-01-11 13:00:00",
        "11.01.2024",
        "2024-01-11T13:00",
        "1999-12-31",
        "2024-01-11T13:00:00+15:00",
        "2024-01-11+06:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31",
    ],
    ids=[
        "month-13",
        "feb-30",
        "hour-24",
        "space",
        "dotted",
        "no-seconds",
        "before-2000",
        "offset-15h",
        "date-with-offset",
        "year-1",
        "year-9999",
    ],
)
def test_moments_refused(text):
    with pytest.raises(ValueError):
        parse_moment(text)


@given(st.text(max_size=40))
def test_moment_parser_either_refuses_or_gives_an_aware_instant(text):
    try:
        moment = parse_moment(text)
    except ValueError:
        return
    assert moment.instant.utcoffset().total_seconds() == 0


def test_every_quantity_has_an_app3_unit():  # UNIT-02..08
    assert UNITS == {
        "density": "kg/m³",
        "tankLevel": "cm",
        "temperature": "°C",
        "volume": "m³",
        "mass": "t",
        "pressure": "kPa",
        "massflowbegin": "t",
        "massflowend": "t",
    }


@pytest.mark.parametrize(
    ("quantity", "value", "plausible"),
    [
        ("volume", Decimal(0), True),
        ("volume", Decimal("-0.001"), False),
        ("mass", Decimal("1e8"), True),
        ("mass", Decimal("100000000.1"), False),
        ("density", Decimal(1500), True),
        ("density", Decimal(1501), False),
        ("tankLevel", Decimal(3001), False),
        ("temperature", Decimal(-70), True),
        ("temperature", Decimal(-71), False),
        ("pressure", Decimal(100000), True),
        ("massflowend", Decimal("1e12"), True),
        ("massflowbegin", Decimal(-1), False),
        ("volume", Decimal("NaN"), False),
        ("volume", Decimal("Infinity"), False),
    ],
    ids=[
        "zero",
        "negative-volume",
        "mass-max",
        "mass-over",
        "density-max",
        "density-over",
        "level-over",
        "cold",
        "too-cold",
        "pressure-max",
        "totaliser-max",
        "negative-totaliser",
        "nan",
        "infinity",
    ],
)
def test_plausibility(quantity, value, plausible):
    assert (Plausibility().problem(quantity, value) is None) is plausible


def test_implausible_reason_names_field_value_unit_and_range():
    assert (
        Plausibility().problem("volume", Decimal(-5)) == "volume -5 m³ is outside the plausible range 0…1E+9"
    )


@pytest.mark.parametrize(
    ("begin", "end", "mass", "gap"),
    [
        ("100", "180.5", "80.5", None),
        ("100", "180.5", "80.9", None),
        ("100", "180.5", "90", "9.5"),
        ("100000", "110000", "10150", None),
        ("100000", "110000", "10300", "300"),
    ],
    ids=["exact", "within-abs", "beyond", "within-rel", "beyond-rel"],
)
def test_mass_balance_gap(begin, end, mass, gap):
    result = Plausibility().mass_balance_gap(Decimal(begin), Decimal(end), Decimal(mass))
    assert result == (Decimal(gap) if gap else None)
