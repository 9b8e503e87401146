"""Gas at standard conditions: GERG-2008 Z from pyaga8 against NIST's reference values."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egsu.ami import gas

# The 21-component test gas and results printed by NIST's AGA8 code (GERG2008 main program),
# which pyaga8's Rust port reproduces: 400 K, 50,000 kPa.
NIST_GAS = {
    "methane": 0.77824, "nitrogen": 0.02, "carbon_dioxide": 0.06, "ethane": 0.08, "propane": 0.03,
    "isobutane": 0.0015, "n_butane": 0.003, "isopentane": 0.0005, "n_pentane": 0.00165, "hexane": 0.00215,
    "heptane": 0.00088, "octane": 0.00024, "nonane": 0.00015, "decane": 0.00009, "hydrogen": 0.004,
    "oxygen": 0.005, "carbon_monoxide": 0.002, "water": 0.0001, "hydrogen_sulfide": 0.0025, "helium": 0.007,
    "argon": 0.001,
}  # fmt: skip
NIST_Z = 1.174690666383717
NIST_MOLAR_DENSITY = 12.79828626082062  # mol/l


def test_gerg2008_compressibility_matches_nist():
    assert gas.compressibility(50000.0, 400.0, NIST_GAS) == pytest.approx(NIST_Z, abs=1e-12)


def test_gerg2008_density_matches_nist():
    import pyaga8

    mixture = pyaga8.Composition()
    for name, share in NIST_GAS.items():
        setattr(mixture, name, share)
    gerg = pyaga8.Gerg2008()
    gerg.set_composition(mixture)
    gerg.pressure, gerg.temperature = 50000.0, 400.0
    gerg.calc_density(0)
    assert gerg.d == pytest.approx(NIST_MOLAR_DENSITY, abs=1e-10)


def test_gas_at_standard_conditions_keeps_its_volume():
    # 20 °C and 101.325 kPa are the GOST 2939 standard conditions themselves
    assert gas.standard_volume(Decimal("123.456"), Decimal("101.325"), Decimal("20")) == Decimal("123.456")


def test_natural_gas_at_standard_conditions_is_nearly_ideal():
    assert 0.995 < gas.standard_compressibility(gas.DEFAULT_COMPOSITION) < 0.999


def test_standard_volume_of_a_known_case():
    # 100 m³ at 601.325 kPa absolute and 5 °C: the ideal-gas ratio is 6.256; Z_std / Z_op adds about 1 %
    volume = gas.standard_volume(Decimal(100), Decimal("601.325"), Decimal(5))
    ideal = Decimal(100) * Decimal("601.325") / Decimal("101.325") * Decimal("293.15") / Decimal("278.15")
    assert volume == Decimal("633.504")
    assert Decimal("1.000") < volume / ideal < Decimal("1.02")


@pytest.mark.parametrize(
    ("composition", "message"),
    [
        ({"methane": 0.9}, "add up to"),
        ({"methane": 1.1, "ethane": -0.1}, "negative"),
        ({"methane": 0.5, "unobtainium": 0.5}, "unknown components"),
    ],
    ids=["sum", "negative", "unknown"],
)
def test_bad_compositions_are_refused(composition, message):
    assert message in gas.composition_problem(composition)
    with pytest.raises(ValueError, match=message):
        gas.standard_volume(Decimal(1), Decimal(500), Decimal(10), composition)


@given(
    st.decimals(min_value=0, max_value=10000, places=3),
    st.decimals(min_value=100, max_value=7500, places=3),
    st.decimals(min_value=-30, max_value=60, places=2),
)
def test_standard_volume_grows_with_pressure_and_is_never_negative(v_op, p_op, t_op):
    volume = gas.standard_volume(v_op, p_op, t_op)
    higher = gas.standard_volume(v_op, p_op + 100, t_op)
    assert volume >= 0
    assert higher >= volume
