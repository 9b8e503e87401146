"""Conversion of device units to the App.3 units the System expects (UNIT-02..08).

Meters report level in metres, pressure in MPa or bar, mass in kilograms,
temperature in kelvin; the order wants cm, kPa, t, °C. Every conversion is
``value × factor + offset`` in Decimal, so averages commute with it.
"""

from __future__ import annotations

from decimal import Decimal

from egsu_core.isun.units import UNITS

# Quantity → its physical dimension (the App.3 unit of that dimension is UNITS[quantity]).
DIMENSIONS: dict[str, str] = {
    "tankLevel": "length",  # UNIT-03: cm
    "volume": "volume",  # UNIT-05: m³
    "mass": "mass",  # UNIT-06: t
    "massflowbegin": "mass",  # UNIT-08 (interpretation): t
    "massflowend": "mass",
    "temperature": "temperature",  # UNIT-04: °C
    "pressure": "pressure",  # UNIT-07: kPa
    "density": "density",  # UNIT-02: kg/m³
}

_ONE = Decimal(1)
_ZERO = Decimal(0)

# Dimension → accepted spelling → (factor, offset) into the App.3 unit.
CONVERSIONS: dict[str, dict[str, tuple[Decimal, Decimal]]] = {
    "length": {
        "cm": (_ONE, _ZERO),
        "m": (Decimal(100), _ZERO),
        "mm": (Decimal("0.1"), _ZERO),
    },
    "volume": {
        "m3": (_ONE, _ZERO),
        "m³": (_ONE, _ZERO),
        "l": (Decimal("0.001"), _ZERO),
        "dm3": (Decimal("0.001"), _ZERO),
        "thousand m3": (Decimal(1000), _ZERO),
    },
    "mass": {
        "t": (_ONE, _ZERO),
        "kg": (Decimal("0.001"), _ZERO),
    },
    "temperature": {
        "C": (_ONE, _ZERO),
        "°C": (_ONE, _ZERO),
        "degC": (_ONE, _ZERO),
        "K": (_ONE, Decimal("-273.15")),
    },
    "pressure": {
        "kPa": (_ONE, _ZERO),
        "Pa": (Decimal("0.001"), _ZERO),
        "MPa": (Decimal(1000), _ZERO),
        "bar": (Decimal(100), _ZERO),
        "kgf/cm2": (Decimal("98.0665"), _ZERO),
    },
    "density": {
        "kg/m3": (_ONE, _ZERO),
        "kg/m³": (_ONE, _ZERO),
        "g/cm3": (Decimal(1000), _ZERO),
        "t/m3": (Decimal(1000), _ZERO),
        "g/l": (_ONE, _ZERO),
    },
}


class UnitError(ValueError):
    """A unit that does not measure the quantity it is configured for."""


def accepted_units(quantity: str) -> tuple[str, ...]:
    return tuple(CONVERSIONS[DIMENSIONS[quantity]])


def check_unit(quantity: str, unit: str) -> None:
    """Raise UnitError naming the accepted spellings when ``unit`` cannot be converted for ``quantity``."""
    if quantity not in DIMENSIONS:
        raise UnitError(f"{quantity!r} is not an App.3 quantity ({', '.join(DIMENSIONS)})")
    if unit not in CONVERSIONS[DIMENSIONS[quantity]]:
        raise UnitError(
            f"{unit!r} is not a {DIMENSIONS[quantity]} unit; use one of {', '.join(accepted_units(quantity))} "
            f"(sent as {UNITS[quantity]})"
        )


def to_app3(quantity: str, value: Decimal, unit: str) -> Decimal:
    """The value in the App.3 unit of ``quantity``."""
    check_unit(quantity, unit)
    factor, offset = CONVERSIONS[DIMENSIONS[quantity]][unit]
    return value * factor + offset


def from_app3(quantity: str, value: Decimal, unit: str) -> Decimal:
    """The inverse of to_app3 (for tests and the README's worked examples)."""
    check_unit(quantity, unit)
    factor, offset = CONVERSIONS[DIMENSIONS[quantity]][unit]
    return (value - offset) / factor
