"""Registry rules that the admin forms, model ``clean()`` and the workbook importer share.

Plain Python over the App.2 catalogues in :mod:`egsu_core.isun.tables`, so each rule is
written once (FMT-06, FMT-07) and reads the same everywhere it is applied.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from egsu_core.isun.tables import FACILITY_KINDS, TABLES

# Only Table 1.3 carries pipelineId (§13.3 presence matrix).
PIPELINE_KINDS = frozenset(kind for kind, layout in TABLES.items() if layout.has_pipeline)

OBJECT_ID_RE = re.compile(r"^[0-9A-Za-z]{1,50}$")
DEVICE_ID_RE = re.compile(r"^[0-9A-Za-z]{1,50}$")
SENDER_ID_RE = re.compile(r"^[\w.@+-]{1,50}$", re.ASCII)


def kind_choices() -> list[tuple[str, str]]:
    """Choices for a facility's kind: "1.1" … "1.9" named as the App.2 tables name them."""
    return [(code, f"{code} {names[0]}") for code, names in sorted(FACILITY_KINDS.items())]


def device_types_for_kind(kind: str) -> frozenset[int]:
    """FMT-06: oil tables 1.1–1.3 take device types 1/2, gas tables 1.4–1.9 take 10/11."""
    layout = TABLES.get(kind)
    return layout.device_types if layout else frozenset()


def operations_for_kind(kind: str) -> frozenset[int]:
    """FMT-07: the operationTypeId values a facility of this kind may report."""
    layout = TABLES.get(kind)
    return layout.operation_types if layout else frozenset()


def kind_problem(kind: str) -> str | None:
    if kind not in FACILITY_KINDS:
        return f"unknown facility kind {kind!r}: use one of {', '.join(sorted(FACILITY_KINDS))}"
    return None


def object_id_problem(object_id: str) -> str | None:
    if not OBJECT_ID_RE.match(object_id or ""):
        return f"object ID must be 1-50 Latin letters or digits, got {object_id!r}"
    return None


def device_id_problem(device_id: str) -> str | None:
    if not DEVICE_ID_RE.match(device_id or ""):
        return f"device ID must be 1-50 Latin letters or digits, got {device_id!r}"
    return None


def sender_id_problem(sender_id: str) -> str | None:
    if not SENDER_ID_RE.match(sender_id or ""):
        return f"sender login must be 1-50 letters, digits or . @ + - _, got {sender_id!r}"
    return None


def device_type_problem(kind: str, device_type_id: int) -> str | None:
    """FMT-06: a facility of an oil table takes device types 1/2, a gas table 10/11."""
    allowed = device_types_for_kind(kind)
    if device_type_id not in allowed:
        listed = ", ".join(str(code) for code in sorted(allowed))
        return f"device type {device_type_id} is not allowed on a facility of kind {kind} (use {listed})"
    return None


def operations_problem(kind: str, operation_ids: Iterable[int]) -> str | None:
    """FMT-07: a device may only be allowed operations that its facility's kind allows."""
    allowed = operations_for_kind(kind)
    wrong = sorted(set(operation_ids) - allowed)
    if wrong:
        listed = ", ".join(str(code) for code in sorted(allowed))
        bad = ", ".join(str(code) for code in wrong)
        return f"operation type(s) {bad} not allowed on a facility of kind {kind} (allowed: {listed})"
    return None


def pipeline_problem(kind: str, pipeline_id: int | None) -> str | None:
    if pipeline_id is not None and kind not in PIPELINE_KINDS:
        listed = ", ".join(sorted(PIPELINE_KINDS))
        return f"a pipeline only applies to facilities of kind {listed}, not {kind}"
    return None
