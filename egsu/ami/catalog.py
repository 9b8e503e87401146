"""What an AMI channel may measure: quantity codes, units, plausible ranges, intervals.

Plain Python (no Django): the intake, the registry models and the docs read the same table.
The codes are the wire names of `ami/1` (docs/ami-intake.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from egsu_core.vocabulary import Energy, Interval  # meters measure electricity, heat and gas (METER_ENERGIES)


@dataclass(frozen=True)
class Quantity:
    code: str
    energy: Energy
    unit: str
    label: str
    low: Decimal  # plausible range per value, inclusive
    high: Decimal
    cumulative: bool = True  # an amount per interval (summable), not a level such as a temperature


def _electricity() -> list[Quantity]:
    # MTR-02/MTR-15: A+, A−, R+, R− by at least four tariffs and in total. ASCII minus on the wire.
    names = {"A+": "active energy import", "A-": "active energy export"}
    names |= {"R+": "reactive energy import", "R-": "reactive energy export"}
    quantities = []
    for base, label in names.items():
        unit = "kWh" if base.startswith("A") else "kvarh"
        for tariff in ("", "T1", "T2", "T3", "T4"):
            suffix = f", tariff {tariff}" if tariff else ", total"
            # 1e7 kWh in a quarter hour is a 40 GW source: more than the country's installed power.
            quantities.append(
                Quantity(base + tariff, Energy.ELECTRICITY, unit, label + suffix, Decimal(0), Decimal("1e7"))
            )
    return quantities


QUANTITIES: dict[str, Quantity] = {
    q.code: q
    for q in [
        *_electricity(),
        # MTR-33: heat energy, heat-carrier volume and mass, temperatures and pressures (HM rows 13, 15).
        Quantity("Q", Energy.HEAT, "Gcal", "heat energy", Decimal(0), Decimal("1e5")),
        Quantity("V", Energy.HEAT, "m³", "heat-carrier volume", Decimal(0), Decimal("1e6")),
        Quantity("M", Energy.HEAT, "t", "heat-carrier mass", Decimal(0), Decimal("1e6")),
        Quantity("Tsup", Energy.HEAT, "°C", "flow (supply) temperature", Decimal(-40), Decimal(200), False),
        Quantity("Tret", Energy.HEAT, "°C", "return temperature", Decimal(-40), Decimal(200), False),
        Quantity("Psup", Energy.HEAT, "MPa", "flow (supply) pressure", Decimal(0), Decimal(10), False),
        Quantity("Pret", Energy.HEAT, "MPa", "return pressure", Decimal(0), Decimal(10), False),
        # AMI-45: flow, pressure, temperature and the volume at standard conditions.
        Quantity("Vop", Energy.GAS, "m³", "gas volume at operating conditions", Decimal(0), Decimal("1e8")),
        Quantity("Vstd", Energy.GAS, "m³", "gas volume at standard conditions", Decimal(0), Decimal("1e9")),
        Quantity("Pabs", Energy.GAS, "kPa", "gas absolute pressure", Decimal(0), Decimal(100000), False),
        Quantity("Tgas", Energy.GAS, "°C", "gas temperature", Decimal(-60), Decimal(100), False),
    ]
}

# Register readings (MTR-04 daily and monthly snapshots) are stored under this prefix + the code.
REGISTER_PREFIX = "reg:"
REGISTER_HIGH = Decimal("1e12")  # a cumulative register may hold decades of a large feeder


def plausibility_problem(code: str, value: Decimal) -> str | None:
    """Why a value cannot be true for this quantity, or None."""
    quantity = QUANTITIES[code]
    if not quantity.low <= value <= quantity.high:
        return f"{code} {value} {quantity.unit} is outside {quantity.low}..{quantity.high}"
    return None


class GasBand(StrEnum):
    """Consumption band of a gas meter, which sets how often it reports (Tech.req. §31, AMI-44)."""

    LOW = "low"  # below 500 m³/h: at least daily
    MEDIUM = "medium"  # 500 to 2,000 m³/h: at least hourly
    HIGH = "high"  # above 2,000 m³/h: at least every 10 minutes


GAS_BAND_INTERVALS: dict[GasBand, Interval] = {
    GasBand.LOW: Interval.DAY,
    GasBand.MEDIUM: Interval.HOUR,
    GasBand.HIGH: Interval.TEN_MINUTES,
}

# COL-05 / AMI-41: electricity and heat every 15 minutes.
ENERGY_INTERVAL: dict[Energy, Interval] = {
    Energy.ELECTRICITY: Interval.QUARTER_HOUR,
    Energy.HEAT: Interval.QUARTER_HOUR,
}


def gas_band(max_flow_m3h: Decimal) -> GasBand:
    """The band of a meter by its maximum consumption (AMI-44): exactly 500 and 2,000 m³/h report hourly."""
    if max_flow_m3h < 0:
        raise ValueError("a consumption cannot be negative")
    if max_flow_m3h < 500:
        return GasBand.LOW
    if max_flow_m3h <= 2000:
        return GasBand.MEDIUM
    return GasBand.HIGH


def channel_interval(energy: Energy, band: GasBand | None = None) -> Interval:
    """The interval a channel's values cover: PT15M for electricity and heat, by band for gas."""
    if energy is Energy.GAS:
        if band is None:
            raise ValueError("a gas channel's interval follows the meter's consumption band; none is set")
        return GAS_BAND_INTERVALS[band]
    return ENERGY_INTERVAL[energy]
