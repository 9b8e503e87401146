"""CSV cells a spreadsheet will not run as formulas: every CSV the system writes goes through here."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str | int | float:
    """Text that starts like a formula is quoted with a leading apostrophe; numbers stay numbers.

    A number (int, float, or a number's text such as "-12.5") is written as it is: a spreadsheet reads
    it as a number, never as a formula.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text.lower() not in (
        "nan",
        "inf",
        "-inf",
        "+inf",
        "infinity",
        "-infinity",
    )
