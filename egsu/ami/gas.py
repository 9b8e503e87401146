"""Gas volume at standard conditions, with the compressibility factor from GERG-2008 (AMI-45).

Plain Python. The compressibility factor Z comes from pyaga8 (the Rust port of NIST's AGA8
code: GERG-2008, ISO 20765-2), never from a formula of our own; tests check it against the
reference values NIST publishes with that code.

Reduction (ideal-gas law corrected by Z at both states):

    V_std = V_op · (p_op / p_std) · (T_std / T_op) · (Z_std / Z_op)

Standard conditions are those of GOST 2939-63: 20 °C (293.15 K) and 101.325 kPa, which
GOST 30319.1-2015 also takes as the standard conditions for natural gas (docs/ami-intake.md).
Pressure is absolute, in kPa; temperature in °C.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache

import pyaga8

STANDARD_PRESSURE_KPA = 101.325  # GOST 2939
STANDARD_TEMPERATURE_K = 293.15  # GOST 2939: 20 °C
KELVIN_OFFSET = 273.15
VOLUME_STEP = Decimal("0.001")  # a litre: finer than any gas meter's resolution

# The 21 GERG-2008 components by the names pyaga8 uses.
COMPONENTS: tuple[str, ...] = (
    "methane", "nitrogen", "carbon_dioxide", "ethane", "propane", "isobutane", "n_butane",
    "isopentane", "n_pentane", "hexane", "heptane", "octane", "nonane", "decane", "hydrogen",
    "oxygen", "carbon_monoxide", "water", "hydrogen_sulfide", "helium", "argon",
)  # fmt: skip

# Used when a gas distribution point has no composition of its own: a dry pipeline gas
# (mole fractions). Operators should configure the measured composition per point.
DEFAULT_COMPOSITION: dict[str, float] = {
    "methane": 0.940,
    "ethane": 0.030,
    "propane": 0.008,
    "isobutane": 0.001,
    "n_butane": 0.002,
    "nitrogen": 0.012,
    "carbon_dioxide": 0.007,
}

Composition = Mapping[str, float]


def composition_problem(composition: Composition) -> str | None:
    """Why a composition cannot be used (unknown component, negative share, sum ≠ 1), or None."""
    unknown = sorted(set(composition) - set(COMPONENTS))
    if unknown:
        return f"unknown components: {', '.join(unknown)} (known: {', '.join(COMPONENTS)})"
    if any(float(share) < 0 for share in composition.values()):
        return "mole fractions cannot be negative"
    total = sum(float(share) for share in composition.values())
    if abs(total - 1.0) > 1e-4:
        return f"mole fractions add up to {total:.6f}, not 1"
    return None


def _key(composition: Composition) -> tuple[tuple[str, float], ...]:
    problem = composition_problem(composition)
    if problem:
        raise ValueError(problem)
    return tuple(sorted((name, float(share)) for name, share in composition.items() if float(share) > 0))


@lru_cache(maxsize=1024)
def _z(key: tuple[tuple[str, float], ...], pressure_kpa: float, temperature_k: float) -> float:
    mixture = pyaga8.Composition()
    for name, share in key:
        setattr(mixture, name, share)
    gerg = pyaga8.Gerg2008()
    gerg.set_composition(mixture)
    gerg.pressure = pressure_kpa
    gerg.temperature = temperature_k
    gerg.calc_density(0)  # 0: the strict solver of the NIST code
    gerg.calc_properties()
    return float(gerg.z)


def compressibility(pressure_kpa: float, temperature_k: float, composition: Composition) -> float:
    """Z = p / (ρ R T) of the mixture by GERG-2008 at an absolute pressure (kPa) and temperature (K)."""
    if pressure_kpa <= 0 or temperature_k <= 0:
        raise ValueError("absolute pressure and temperature must be positive")
    return _z(_key(composition), float(pressure_kpa), float(temperature_k))


def standard_compressibility(composition: Composition) -> float:
    """Z at GOST 2939 standard conditions (20 °C, 101.325 kPa)."""
    return compressibility(STANDARD_PRESSURE_KPA, STANDARD_TEMPERATURE_K, composition)


def standard_volume(
    v_op: Decimal, p_op: Decimal, t_op: Decimal, composition: Composition | None = None
) -> Decimal:
    """Volume at standard conditions (m³, to the litre) from operating volume (m³),
    absolute pressure (kPa) and temperature (°C)."""
    composition = DEFAULT_COMPOSITION if composition is None else composition
    if v_op < 0:
        raise ValueError("a volume cannot be negative")
    t_op_k = float(t_op) + KELVIN_OFFSET
    z_op = compressibility(float(p_op), t_op_k, composition)
    z_std = standard_compressibility(composition)
    factor = (float(p_op) / STANDARD_PRESSURE_KPA) * (STANDARD_TEMPERATURE_K / t_op_k) * (z_std / z_op)
    return (v_op * Decimal(repr(factor))).quantize(VOLUME_STEP)
