"""BIN check digit (Kazakhstan IIN/BIN algorithm)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egsu.registry.bin import bin_problem, check_digit, is_valid_bin, make_bin

eleven_digits = st.text(alphabet="0123456789", min_size=11, max_size=11)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("020240000555", id="first-weights"),
        pytest.param("990140000483", id="first-weights-2"),
        pytest.param("000740001307", id="leading-zeros"),
        # 1*1 + 2*10 = 21 ≡ 10 (mod 11) → second weights: 1*3 + 2*1 = 5
        pytest.param("100000000205", id="second-weights"),
    ],
)
def test_valid_bins_are_accepted(value):
    # given a BIN whose 12th digit is its check digit / when checked / then it is valid
    assert is_valid_bin(value) is True
    assert bin_problem(value) is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        pytest.param(
            "020240000556",
            "020240000556 fails the BIN check digit (the 12th digit should be 5)",
            id="wrong-check",
        ),
        pytest.param(
            "100000000204",
            "100000000204 fails the BIN check digit (the 12th digit should be 5)",
            id="wrong-2nd",
        ),
        # both weightings give 10: 1+20+88=109≡10, 3+2+16=21≡10
        pytest.param(
            "100000000280",
            "100000000280 cannot be a BIN: its first 11 digits admit no check digit",
            id="none",
        ),
        pytest.param("02024000055", "a BIN has exactly 12 digits, got '02024000055'", id="short"),
        pytest.param("0202400005551", "a BIN has exactly 12 digits, got '0202400005551'", id="long"),
        pytest.param("02024000055a", "a BIN has exactly 12 digits, got '02024000055a'", id="letter"),
        pytest.param(
            "０２０２４００００５５５",
            "a BIN has exactly 12 digits, got '０２０２４００００５５５'",
            id="fullwidth",
        ),
        pytest.param("", "a BIN has exactly 12 digits, got ''", id="empty"),
    ],
)
def test_invalid_bins_are_explained(value, problem):
    assert is_valid_bin(value) is False
    assert bin_problem(value) == problem


def test_non_text_is_refused():
    assert bin_problem(20240000555) == "a BIN is text of 12 digits, got int"


def test_make_bin_refuses_a_prefix_without_check_digit():
    with pytest.raises(ValueError, match="no check digit makes '10000000028' a valid BIN"):
        make_bin("10000000028")


def test_make_bin_completes_a_prefix():
    assert make_bin("10000000020") == "100000000205"


@given(eleven_digits)
def test_make_bin_gives_a_valid_bin_or_refuses(prefix):
    if check_digit(prefix) is None:
        with pytest.raises(ValueError):
            make_bin(prefix)
        return
    made = make_bin(prefix)
    assert made[:11] == prefix
    assert is_valid_bin(made)


@given(eleven_digits, st.integers(min_value=1, max_value=9))
def test_any_other_last_digit_is_invalid(prefix, shift):
    if check_digit(prefix) is None:
        return
    made = make_bin(prefix)
    wrong = made[:11] + str((int(made[11]) + shift) % 10)
    assert not is_valid_bin(wrong)


@given(st.text(max_size=20))
def test_bin_problem_never_raises(value):
    problem = bin_problem(value)
    assert problem is None or isinstance(problem, str)
