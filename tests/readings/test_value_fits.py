"""Which values every backend stores exactly, and that they do come back unchanged."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egsu.readings.claims import canonical
from egsu.readings.store import ReadingQuery, fitting_text, value_fits
from tests.readings.factories import make_row


@pytest.mark.parametrize(
    ("value", "fits"),
    [
        pytest.param("0.0001220703", True, id="real-tiny-mass"),
        pytest.param("132936.6", True, id="real-totaliser"),
        pytest.param("1E+9", True, id="a-billion"),
        pytest.param("1E+14", True, id="15-integer-digits"),
        pytest.param("1E+15", False, id="16-integer-digits"),
        pytest.param("1E-12", True, id="12-decimals"),
        pytest.param("1E-13", False, id="13-decimals"),
        pytest.param("1.00000000000000000000000000001", False, id="beyond-context-precision"),
        pytest.param("1.50000000000000000000000", True, id="padding-zeros-do-not-count"),
        pytest.param("123456.123456789", True, id="15-significant"),
        pytest.param("123456.1234567891", False, id="16-significant"),
        pytest.param("-0", True, id="negative-zero"),
        pytest.param("NaN", False, id="nan"),
        pytest.param("-Infinity", False, id="infinity"),
    ],
)
def test_value_fits(value, fits):
    assert value_fits(Decimal(value)) is fits


def _fits_by_counting_digits(value: Decimal) -> bool:
    """The definition, digit by digit: at most 15 significant, 12 decimal and 15 integer digits."""
    if not value.is_finite():
        return False
    if value.is_zero():
        return True
    _sign, digits, exponent = value.as_tuple()
    while len(digits) > 1 and digits[-1] == 0:  # trailing zeros are not significant
        digits, exponent = digits[:-1], exponent + 1
    return len(digits) <= 15 and -exponent <= 12 and len(digits) + exponent <= 15


@settings(max_examples=2000, deadline=None)
@given(
    digits=st.lists(st.integers(0, 9), min_size=1, max_size=40),
    exponent=st.integers(-45, 30),
    negative=st.booleans(),
)
def test_value_fits_is_the_digit_count_definition(digits, exponent, negative):
    # given any finite decimal, also longer than the context precision / then value_fits counts as defined
    value = Decimal((int(negative), tuple(digits), exponent))
    assert value_fits(value) is _fits_by_counting_digits(value)


@settings(max_examples=2000, deadline=None)
@given(
    digits=st.lists(st.integers(0, 9), min_size=1, max_size=40),
    exponent=st.integers(-45, 30),
    negative=st.booleans(),
)
def test_fitting_text_is_the_canonical_text_of_a_fitting_value(digits, exponent, negative):
    # given any finite decimal / then the intake's one-pass check gives its canonical text exactly when it fits
    value = Decimal((int(negative), tuple(digits), exponent))
    assert fitting_text(value) == (canonical(value) if value_fits(value) else None)


@pytest.mark.parametrize("value", ["NaN", "-Infinity", "1E+15", "1E-13", "123456.1234567891"])
def test_fitting_text_refuses_what_does_not_fit(value):
    assert fitting_text(Decimal(value)) is None


@pytest.mark.parametrize(
    ("value", "text"), [("1.50", "1.5"), ("1E+3", "1000"), ("-0.000", "-0"), ("0.0001220703", "0.0001220703")]
)
def test_fitting_text_writes_the_canonical_text(value, text):
    assert fitting_text(Decimal(value)) == text


def test_value_fits_refuses_non_decimals():
    assert value_fits(1.5) is False  # type: ignore[arg-type]


_fitting = st.builds(
    lambda digits, places, negative: Decimal((int(negative), tuple(digits), -places)),
    st.lists(st.integers(0, 9), min_size=1, max_size=15),
    st.integers(-5, 12),
    st.booleans(),
).filter(value_fits)
_keys = itertools.count()


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_fitting)
def test_every_fitting_value_round_trips_exactly(store, value):
    # given any value that fits, under a key of its own
    object_id = f"hyp-{next(_keys)}"
    # when stored and read back
    store.write([make_row(value, object_id=object_id)])
    (row,) = store.latest(ReadingQuery(object_ids=[object_id]))
    # then it is numerically identical, and a re-send is a duplicate
    assert row.value == value
    assert store.write([make_row(value, object_id=object_id)]) == ["DUPLICATE"]
