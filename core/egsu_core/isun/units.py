"""App.3 units of the measured fields and the physical limits a value must respect.

How the text of a value is read is in formats.py; this module says what the
number means and whether it can be true.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# App.3 rows 2–7 (UNIT-02..07); the totalisers have no printed unit, tonnes per UNIT-08.
UNITS: dict[str, str] = {
    "density": "kg/m³",  # UNIT-02
    "tankLevel": "cm",  # UNIT-03
    "temperature": "°C",  # UNIT-04
    "volume": "m³",  # UNIT-05
    "mass": "t",  # UNIT-06
    "pressure": "kPa",  # UNIT-07
    "massflowbegin": "t",  # UNIT-08 (interpretation)
    "massflowend": "t",  # UNIT-08 (interpretation)
}


@dataclass(frozen=True)
class Plausibility:
    """Physical limits (inclusive) for each App.3 quantity, in App.3 units.

    Zero is plausible everywhere: idle meters send zeros (see the real ISUN
    example). Volumes, masses, levels and densities cannot be negative.
    """

    density: tuple[Decimal, Decimal] = (Decimal(0), Decimal(1500))  # kg/m³: gas ~0.7, heavy oil ~1000
    tank_level: tuple[Decimal, Decimal] = (Decimal(0), Decimal(3000))  # cm: tanks up to 30 m high
    temperature: tuple[Decimal, Decimal] = (Decimal(-70), Decimal(200))  # °C
    volume: tuple[Decimal, Decimal] = (Decimal(0), Decimal("1e9"))  # m³
    mass: tuple[Decimal, Decimal] = (Decimal(0), Decimal("1e8"))  # t
    pressure: tuple[Decimal, Decimal] = (Decimal(0), Decimal(100000))  # kPa (100 MPa)
    mass_totaliser: tuple[Decimal, Decimal] = (Decimal(0), Decimal("1e12"))  # t, massflowbegin/massflowend
    # Table 1.3 two-hourly: how far `mass` may stray from massflowend − massflowbegin before a warning.
    mass_balance_abs: Decimal = Decimal("0.5")  # t
    mass_balance_rel: Decimal = Decimal("0.02")  # of the totaliser difference

    def limits(self, quantity: str) -> tuple[Decimal, Decimal]:
        by_field = {
            "density": self.density,
            "tankLevel": self.tank_level,
            "temperature": self.temperature,
            "volume": self.volume,
            "mass": self.mass,
            "pressure": self.pressure,
            "massflowbegin": self.mass_totaliser,
            "massflowend": self.mass_totaliser,
        }
        return by_field[quantity]

    def problem(self, quantity: str, value: Decimal) -> str | None:
        """Why the value is implausible, or None when it is plausible."""
        if not value.is_finite():
            return f"{quantity} {value} is not a finite number"
        low, high = self.limits(quantity)
        if value < low or value > high:
            return f"{quantity} {value} {UNITS[quantity]} is outside the plausible range {low}…{high}"
        return None

    def mass_balance_gap(self, begin: Decimal, end: Decimal, mass: Decimal) -> Decimal | None:
        """How far mass strays from end − begin, when beyond the tolerance; else None."""
        moved = end - begin
        gap = abs(mass - moved)
        allowed = max(self.mass_balance_abs, abs(moved) * self.mass_balance_rel)
        return gap if gap > allowed else None
