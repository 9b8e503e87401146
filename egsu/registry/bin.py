"""Business identification numbers (BIN) of Kazakhstan: twelve digits, the last a check digit.

The check digit follows the national IIN/BIN algorithm: weights 1..11 over the first
eleven digits, sum mod 11; a result of 10 retries with weights 3..11,1,2; a second 10
means the number can never be valid. Subjects are keyed by BIN (GEN, FMT-02), so a typo
caught here never becomes a phantom company.
"""

from __future__ import annotations

_FIRST_WEIGHTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def check_digit(first11: str) -> int | None:
    """The check digit for eleven digits, or None when no digit can make them valid."""
    if len(first11) != 11 or not first11.isascii() or not first11.isdigit():
        raise ValueError(f"expected eleven ASCII digits, got {first11!r}")
    digits = [int(ch) for ch in first11]
    for weights in (_FIRST_WEIGHTS, _SECOND_WEIGHTS):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if remainder != 10:
            return remainder
    return None


def bin_problem(value: object) -> str | None:
    """Why ``value`` is not a valid BIN, in a sentence an operator can act on; None when it is valid."""
    if not isinstance(value, str):
        return f"a BIN is text of 12 digits, got {type(value).__name__}"
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        return f"a BIN has exactly 12 digits, got {value!r}"
    expected = check_digit(value[:11])
    if expected is None:
        return f"{value} cannot be a BIN: its first 11 digits admit no check digit"
    if expected != int(value[11]):
        return f"{value} fails the BIN check digit (the 12th digit should be {expected})"
    return None


def is_valid_bin(value: str) -> bool:
    return bin_problem(value) is None


def make_bin(prefix11: str) -> str:
    """Complete eleven digits into a valid BIN (demo and test data); ValueError when impossible."""
    digit = check_digit(prefix11)
    if digit is None:
        raise ValueError(f"no check digit makes {prefix11!r} a valid BIN")
    return prefix11 + str(digit)
