"""The registry workbook's sheets and columns, and how one cell becomes a value.

Natural keys, never database ids: a subject by its BIN, a facility by its object ID, a
device by (object ID, device ID), dictionaries by their codes, a system by its login.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime


class CellError(ValueError):
    """A cell that cannot be read as its column's type; the message is shown to the operator."""


def _integral(value: float) -> int:
    if not value.is_integer():
        raise CellError(f"expected a whole number, got {value}")
    return int(value)


def parse_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        raise CellError(f"expected text, got {value}")
    if isinstance(value, float):
        return str(_integral(value))
    if isinstance(value, datetime | date):
        raise CellError(f"expected text, got a date {value}")
    return str(value).strip()


def parse_code(value: object) -> str:
    """Identifiers typed into a spreadsheet may arrive as numbers: 407001.0 still means "407001"."""
    return parse_text(value)


def parse_bin(value: object) -> str:
    """A BIN typed as a number loses its leading zeros; put them back (the check digit still decides)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = _integral(float(value)) if isinstance(value, float) else value
        return str(number).zfill(12) if 0 <= number < 10**12 else str(number)
    return parse_text(value)


def parse_int(value: object) -> int | None:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if isinstance(value, bool):
        raise CellError(f"expected a whole number, got {value}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return _integral(value)
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d+(\.0+)?", text):
        raise CellError(f"expected a whole number, got {text!r}")
    return int(text.split(".")[0])


_TRUE = {"1", "true", "yes", "y", "t", "да", "иә"}
_FALSE = {"0", "false", "no", "n", "f", "нет", "жоқ"}


def parse_bool(value: object) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if value in (0, 1):
            return bool(value)
        raise CellError(f"expected yes or no, got {value}")
    text = str(value).strip().lower()
    if text == "":
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(f"expected yes or no, got {value!r}")


def parse_date(value: object) -> date | None:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ]00:00(:00)?)?", text):
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            pass
    raise CellError(f"expected a date as YYYY-MM-DD, got {text!r}")


def parse_secret(value: object) -> str:
    """Passwords are taken exactly as typed: no trimming."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(_integral(value))
    return str(value)


def parse_int_list(value: object) -> list[int]:
    if value is None:
        return []
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [parse_int(value)]
    items = [item for item in re.split(r"[,;\s]+", str(value).strip()) if item]
    return [parse_int(item) for item in items]


def parse_text_list(value: object) -> list[str]:
    if value is None:
        return []
    return [item.strip() for item in re.split(r"[,;]", str(value)) if item.strip()]


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[object], object]
    required: bool = False  # the header must be present and every cell filled
    max_length: int | None = None
    text: bool = False  # written as text so spreadsheets keep leading zeros


def _c(
    name: str, parse=parse_text, *, required: bool = False, max_length: int | None = None, text: bool = False
):
    return Column(name, parse, required, max_length, text)


# Sheets in the order they are written: a sheet only refers to sheets before it.
SHEETS: dict[str, tuple[Column, ...]] = {
    "product_types": (
        _c("id", parse_int, required=True),
        _c("name", required=True, max_length=200),
        _c("active", parse_bool),
    ),
    "pipelines": (
        _c("id", parse_int, required=True),
        _c("name", required=True, max_length=200),
        _c("active", parse_bool),
    ),
    "subjects": (
        _c("bin", parse_bin, required=True, max_length=12, text=True),
        _c("name", required=True, max_length=300),
        _c("short_name", max_length=100),
        _c("region", max_length=100),
        _c("address", max_length=500),
        _c("email", max_length=254),
        _c("phone", max_length=50, text=True),
        _c("active", parse_bool),
    ),
    "facilities": (
        _c("object_id", parse_code, required=True, max_length=50, text=True),
        _c("kind", parse_text, required=True, max_length=3, text=True),
        _c("subject_bin", parse_bin, required=True, max_length=12, text=True),
        _c("name", required=True, max_length=300),
        _c("region", max_length=100),
        _c("active", parse_bool),
    ),
    "devices": (
        _c("object_id", parse_code, required=True, max_length=50, text=True),
        _c("device_id", parse_code, required=True, max_length=50, text=True),
        _c("device_type_id", parse_int, required=True),
        _c("product_type_id", parse_int),
        _c("pipeline_id", parse_int),
        _c("commercial", parse_bool),
        _c("serial_number", parse_code, max_length=100, text=True),
        _c("model", max_length=200),
        _c("allowed_operations", parse_int_list, text=True),
        _c("installed_at", parse_date),
        _c("removed_at", parse_date),
        _c("active", parse_bool),
    ),
    "connected_systems": (
        _c("sender_id", parse_code, required=True, max_length=50, text=True),
        _c("subject_bin", parse_bin, required=True, max_length=12, text=True),
        _c("services", parse_text_list),
        _c("contour", max_length=10),
        _c("active", parse_bool),
        _c("require_business_signature", parse_bool),
        _c("allowed_policy_oids", parse_text_list),
        _c("allowed_eku_oids", parse_text_list),
        _c("password", parse_secret, max_length=200),  # import only: ALWAYS blank on export
    ),
}
