"""Text a spreadsheet will show, never run: the one rule for every CSV and Excel file we write.

Names, addresses, reasons and summaries are typed by people outside the operator (a subject named
`=HYPERLINK("http://…")`); a spreadsheet that opens our export must show that text, not follow it.
Plain Python (no Django): exports, reports, information-request packages and the audit CSV use it.
"""

from __future__ import annotations

# What makes Excel, LibreOffice and Google Sheets read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: object) -> str | int | float:
    """A CSV cell: text that would run as a formula gets a leading apostrophe; numbers stay numbers.

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
    return text.strip() == text and text.lower() not in {
        "nan",
        "inf",
        "-inf",
        "+inf",
        "infinity",
        "-infinity",
    }


def as_text(cell):
    """An openpyxl cell whose string value is stored as text even when it starts like a formula.

    openpyxl turns any string that starts with "=" into a formula; the cell type set back to
    string keeps it a literal, shown as typed, in every spreadsheet program.
    """
    if looks_like_formula(cell.value):
        cell.data_type = "s"
    return cell
