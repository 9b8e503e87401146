"""App.3 unit conversion (UNIT-02..08)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egsu_agent.units import UnitError, accepted_units, from_app3, to_app3


@pytest.mark.parametrize(
    ("quantity", "value", "unit", "expected"),
    [
        pytest.param("tankLevel", "5.25", "m", "525.00", id="level-m-to-cm"),
        pytest.param("tankLevel", "1234", "mm", "123.4", id="level-mm-to-cm"),
        pytest.param("pressure", "0.51", "MPa", "510.00", id="pressure-MPa-to-kPa"),
        pytest.param("pressure", "5.1", "bar", "510.0", id="pressure-bar-to-kPa"),
        pytest.param("pressure", "101325", "Pa", "101.325", id="pressure-Pa-to-kPa"),
        pytest.param("mass", "80468.75", "kg", "80.46875", id="mass-kg-to-t"),
        pytest.param("massflowbegin", "132856100", "kg", "132856.100", id="totaliser-kg-to-t"),
        pytest.param("temperature", "283.15", "K", "10.00", id="temperature-K-to-C"),
        pytest.param("volume", "20500", "l", "20.500", id="volume-l-to-m3"),
        pytest.param("density", "0.7091", "g/cm3", "709.1000", id="density-g/cm3-to-kg/m3"),
        pytest.param("density", "709.1", "kg/m3", "709.1", id="density-unchanged"),
    ],
)
def test_values_are_converted_to_app3_units(quantity, value, unit, expected):
    assert to_app3(quantity, Decimal(value), unit) == Decimal(expected)


@pytest.mark.parametrize(
    ("quantity", "unit"),
    [
        pytest.param("tankLevel", "kPa", id="pressure-unit-for-level"),
        pytest.param("mass", "m3", id="volume-unit-for-mass"),
        pytest.param("temperature", "F", id="unsupported-fahrenheit"),
    ],
)
def test_a_unit_of_the_wrong_dimension_is_refused_with_the_accepted_ones(quantity, unit):
    with pytest.raises(UnitError) as error:
        to_app3(quantity, Decimal(1), unit)
    assert all(accepted in str(error.value) for accepted in accepted_units(quantity))


@given(
    quantity=st.sampled_from(["tankLevel", "volume", "mass", "temperature", "pressure", "density"]),
    value=st.decimals(min_value=-1000, max_value=10**6, places=4, allow_nan=False, allow_infinity=False),
    data=st.data(),
)
def test_conversion_round_trips(quantity, value, data):
    unit = data.draw(st.sampled_from(accepted_units(quantity)))
    assert from_app3(quantity, to_app3(quantity, value, unit), unit) == value
