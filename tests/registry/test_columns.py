"""Workbook cell parsers: what a spreadsheet or CSV cell may hold, read back exactly."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egsu.registry.workbook.columns import (
    CellError,
    parse_bin,
    parse_bool,
    parse_date,
    parse_int,
    parse_int_list,
    parse_text,
    parse_text_list,
)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_whole_numbers_read_back_from_int_float_and_text(number):
    assert parse_int(number) == parse_int(float(number)) == parse_int(str(number)) == number


@given(
    st.lists(st.integers(min_value=0, max_value=10**6), max_size=20), st.sampled_from([",", ", ", ";", " "])
)
def test_int_lists_read_back_with_any_separator(numbers, separator):
    assert parse_int_list(separator.join(str(n) for n in numbers)) == numbers


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_a_bin_typed_as_a_number_gets_its_zeros_back(bin_):
    assert parse_bin(int(bin_)) == bin_
    assert parse_bin(float(int(bin_))) == bin_
    assert parse_bin(bin_) == bin_


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters=",;"), max_size=10))
def test_text_lists_never_raise(value):
    assert all(item == item.strip() and item for item in parse_text_list(value))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("yes", True, id="yes"),
        pytest.param("No", False, id="No"),
        pytest.param(" TRUE ", True, id="TRUE"),
        pytest.param("0", False, id="zero"),
        pytest.param(1, True, id="int-1"),
        pytest.param(True, True, id="bool"),
        pytest.param("иә", True, id="kazakh-yes"),
        pytest.param("нет", False, id="russian-no"),
        pytest.param("", None, id="blank"),
        pytest.param(None, None, id="empty-cell"),
    ],
)
def test_yes_no_cells(raw, expected):
    assert parse_bool(raw) is expected


@pytest.mark.parametrize(
    ("parse", "raw", "message"),
    [
        pytest.param(parse_bool, "maybe", "expected yes or no, got 'maybe'", id="bool-word"),
        pytest.param(parse_bool, 2, "expected yes or no, got 2", id="bool-number"),
        pytest.param(parse_int, 1.5, "expected a whole number, got 1.5", id="int-fraction"),
        pytest.param(parse_int, True, "expected a whole number, got True", id="int-bool"),
        pytest.param(
            parse_date, "2024-02-30", "expected a date as YYYY-MM-DD, got '2024-02-30'", id="date-invalid"
        ),
        pytest.param(
            parse_date,
            "2024-05-01T13:00",
            "expected a date as YYYY-MM-DD, got '2024-05-01T13:00'",
            id="date-time",
        ),
        pytest.param(parse_text, date(2024, 5, 1), "expected text, got a date 2024-05-01", id="text-date"),
    ],
)
def test_bad_cells_are_explained(parse, raw, message):
    with pytest.raises(CellError) as caught:
        parse(raw)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("2024-05-01", date(2024, 5, 1), id="iso"),
        pytest.param(datetime(2024, 5, 1, 0, 0), date(2024, 5, 1), id="xlsx-datetime"),  # noqa: DTZ001
        pytest.param(date(2024, 5, 1), date(2024, 5, 1), id="date"),
        pytest.param("2024-05-01 00:00:00", date(2024, 5, 1), id="midnight"),
        pytest.param(" ", None, id="blank"),
    ],
)
def test_date_cells(raw, expected):
    assert parse_date(raw) == expected
