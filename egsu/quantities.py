"""Every quantity the readings store holds, with its energy, unit and whether it may be summed.

Plain Python (no Django). The tables themselves stay where the order defines them (App.3 for
oil and gas in egsu_core.isun; the ami/1 catalogue in egsu.ami.catalog); this is the one place that
joins them, so a page, a total or an export asks one function for a unit or a label.

A quantity is *summable* when each value is an amount per period (a volume, a mass, energy):
totals add them up. Levels, temperatures, pressures, densities and counter readings
(totalisers, register snapshots) are shown, never summed.
"""

from __future__ import annotations

from dataclasses import dataclass

from egsu.ami import catalog
from egsu_core.isun.tables import QUANTITIES as ISUN_QUANTITIES
from egsu_core.isun.units import UNITS as ISUN_UNITS
from egsu_core.vocabulary import Energy, gettext_noop

_ISUN_SUMMABLE = frozenset({"volume", "mass"})
_ISUN_LABELS = {
    "tankLevel": gettext_noop("tank level"),
    "density": gettext_noop("density"),
    "temperature": gettext_noop("temperature"),
    "volume": gettext_noop("volume"),
    "pressure": gettext_noop("pressure"),
    "massflowbegin": gettext_noop("mass totaliser at the start"),
    "massflowend": gettext_noop("mass totaliser at the end"),
    "mass": gettext_noop("mass"),
}


@dataclass(frozen=True)
class QuantityInfo:
    code: str  # the store's quantity: an App.3 field name, an ami/1 code, or reg:<code>
    energy: Energy
    unit: str
    label: str  # English; translated by the web layer
    summable: bool


def _all() -> dict[str, QuantityInfo]:
    found = {
        code: QuantityInfo(code, Energy.OIL_GAS, ISUN_UNITS[code], _ISUN_LABELS[code], code in _ISUN_SUMMABLE)
        for code in ISUN_QUANTITIES
    }
    for quantity in catalog.QUANTITIES.values():
        energy = Energy(quantity.energy)
        found[quantity.code] = QuantityInfo(
            quantity.code, energy, quantity.unit, quantity.label, quantity.cumulative
        )
        if quantity.cumulative:  # MTR-04 daily and monthly register snapshots: counter readings
            register = catalog.REGISTER_PREFIX + quantity.code
            found[register] = QuantityInfo(
                register, energy, quantity.unit, f"{quantity.label} (register)", False
            )
    return found


QUANTITIES: dict[str, QuantityInfo] = _all()


def info(code: str) -> QuantityInfo | None:
    return QUANTITIES.get(code)


def unit_of(code: str) -> str:
    found = QUANTITIES.get(code)
    return found.unit if found else ""


def quantities_of(energy: Energy | str) -> list[str]:
    """The quantity codes of one energy, in the catalogue's order."""
    return [code for code, found in QUANTITIES.items() if found.energy == energy]


def summable(code: str) -> bool:
    found = QUANTITIES.get(code)
    return bool(found and found.summable)
