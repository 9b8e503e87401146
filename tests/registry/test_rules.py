"""Registry rules shared by admin, models and importer (FMT-06, FMT-07)."""

from __future__ import annotations

import pytest

from egsu.registry import rules


@pytest.mark.parametrize(
    ("kind", "operations"),
    [
        pytest.param("1.1", {6}, id="1.1"),
        pytest.param("1.2", {7}, id="1.2"),
        pytest.param("1.3", {1, 2, 3, 4, 5, 8}, id="1.3"),
        pytest.param("1.4", {17}, id="1.4"),
        pytest.param("1.5", {17}, id="1.5"),
        pytest.param("1.6", {17}, id="1.6"),
        pytest.param("1.7", {17}, id="1.7"),
        pytest.param("1.8", {12, 13, 14, 15, 16, 19}, id="1.8"),
        pytest.param("1.9", {18}, id="1.9"),
    ],
)
def test_operations_per_kind_follow_fmt07(kind, operations):
    assert rules.operations_for_kind(kind) == operations


@pytest.mark.parametrize(
    ("kind", "types"),
    [pytest.param(k, {1, 2}, id=k) for k in ("1.1", "1.2", "1.3")]
    + [pytest.param(k, {10, 11}, id=k) for k in ("1.4", "1.5", "1.6", "1.7", "1.8", "1.9")],
)
def test_device_types_per_kind_follow_fmt06(kind, types):
    assert rules.device_types_for_kind(kind) == types


def test_kind_choices_list_the_nine_tables():
    assert [code for code, _label in rules.kind_choices()] == [f"1.{n}" for n in range(1, 10)]


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        pytest.param(
            lambda: rules.device_type_problem("1.4", 2),
            "device type 2 is not allowed on a facility of kind 1.4 (use 10, 11)",
            id="type",
        ),
        pytest.param(lambda: rules.device_type_problem("1.2", 1), None, id="type-ok"),
        pytest.param(
            lambda: rules.operations_problem("1.2", [7, 3, 9]),
            "operation type(s) 3, 9 not allowed on a facility of kind 1.2 (allowed: 7)",
            id="ops",
        ),
        pytest.param(lambda: rules.operations_problem("1.3", []), None, id="ops-empty"),
        pytest.param(
            lambda: rules.pipeline_problem("1.2", 3),
            "a pipeline only applies to facilities of kind 1.3, not 1.2",
            id="pipe",
        ),
        pytest.param(lambda: rules.pipeline_problem("1.3", 3), None, id="pipe-ok"),
        pytest.param(
            lambda: rules.kind_problem("2.1"),
            "unknown facility kind '2.1': use one of 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9",
            id="kind",
        ),
        pytest.param(
            lambda: rules.object_id_problem("4070-01"),
            "object ID must be 1-50 Latin letters or digits, got '4070-01'",
            id="object-id",
        ),
        pytest.param(lambda: rules.object_id_problem("A" * 50), None, id="object-id-50"),
        pytest.param(
            lambda: rules.sender_id_problem("bad login"),
            "sender login must be 1-50 letters, digits or . @ + - _, got 'bad login'",
            id="sender",
        ),
    ],
)
def test_rule_messages(call, expected):
    assert call() == expected
