"""The correction rules without Django: states, typed values and periods, the act source (ANA-09)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egsu.quality.rules import (
    ActState,
    PeriodSyntaxError,
    ValueSyntaxError,
    act_number_from_source,
    act_source,
    may_move,
    parse_period,
    parse_value,
)
from egsu_core.clock import ASTANA


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        pytest.param("proposed", "agreed", True, id="agree"),
        pytest.param("proposed", "refused", True, id="refuse"),
        pytest.param("proposed", "withdrawn", True, id="withdraw"),
        pytest.param("agreed", "applied", True, id="apply-after-agreement"),
        pytest.param("proposed", "applied", False, id="never-applied-without-agreement"),
        pytest.param("refused", "agreed", False, id="refused-is-final"),
        pytest.param("withdrawn", "agreed", False, id="withdrawn-is-final"),
        pytest.param("applied", "withdrawn", False, id="applied-is-final"),
    ],
)
def test_transitions(current, target, allowed):
    assert may_move(current, target) is allowed


def test_every_final_state_has_no_way_out():
    finals = [s for s in ActState if not any(may_move(s, t) for t in ActState)]
    assert finals == [ActState.REFUSED, ActState.APPLIED, ActState.WITHDRAWN]


@given(st.text(alphabet="0123456789-", min_size=1, max_size=20))
def test_act_source_round_trip(number):
    assert act_number_from_source(act_source(number)) == number


@pytest.mark.parametrize("source", ["", "act:", "msg-123", "ACT:1"])
def test_sources_that_are_not_acts(source):
    assert act_number_from_source(source) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1234.5", Decimal("1234.5"), id="point"),
        pytest.param("1234,5", Decimal("1234.5"), id="decimal-comma"),
        pytest.param("1 234,5", Decimal("1234.5"), id="spaced-thousands"),
        pytest.param("1\u00a0234.5", Decimal("1234.5"), id="nbsp"),
        pytest.param("-0.25", Decimal("-0.25"), id="negative"),
        pytest.param(" 7 ", Decimal("7"), id="padded"),
    ],
)
def test_values_people_type(text, expected):
    assert parse_value(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("abc", id="letters"),
        pytest.param("1,234.5", id="mixed-separators"),
        pytest.param("1e5", id="exponent"),
        pytest.param("NaN", id="nan"),
        pytest.param("1.1234567890123", id="too-many-decimals"),
        pytest.param("1234567890123456", id="too-many-digits"),
    ],
)
def test_values_refused(text):
    with pytest.raises(ValueSyntaxError):
        parse_value(text)


@given(st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=6, allow_nan=False))
def test_any_storable_value_survives_typing(value):
    assert parse_value(format(value, "f")) == value
    assert parse_value(format(value, "f").replace(".", ",")) == value


# hypothesis bounds are naive by its API; the drawn values are aware (timezones=UTC)
@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)))  # noqa: DTZ001
def test_aware_periods_are_taken_as_given(moment):
    assert parse_period(moment.isoformat()) == moment
    assert parse_period(moment.astimezone(ASTANA).isoformat()) == moment


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "2025-06-01T02:00", datetime(2025, 5, 31, 21, tzinfo=UTC), id="local-after-2024-is-utc+5"
        ),
        pytest.param(
            "2024-01-10T02:00", datetime(2024, 1, 9, 20, tzinfo=UTC), id="local-before-march-2024-is-utc+6"
        ),
        pytest.param("2025-06-01T02:00:00Z", datetime(2025, 6, 1, 2, tzinfo=UTC), id="zulu"),
        pytest.param(
            "2025-06-01T02:00:00 05:00", datetime(2025, 5, 31, 21, tzinfo=UTC), id="plus-decoded-as-space"
        ),
        pytest.param("2025-06-01 02:00", datetime(2025, 5, 31, 21, tzinfo=UTC), id="space-separator"),
    ],
)
def test_periods(text, expected):
    assert parse_period(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2025-13-01T00:00", "01.06.2025 02:00"])
def test_periods_refused(text):
    with pytest.raises(PeriodSyntaxError):
        parse_period(text)


def test_a_period_and_its_astana_rendering_agree():
    moment = datetime(2025, 6, 1, 2, tzinfo=ASTANA)
    assert parse_period(moment.strftime("%Y-%m-%dT%H:%M")) == moment.astimezone(UTC)
    assert parse_period((moment + timedelta(hours=2)).isoformat()) - parse_period(
        moment.isoformat()
    ) == timedelta(hours=2)
