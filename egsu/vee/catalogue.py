"""The rule catalogue of data quality (VEE): codes, what each checks, defaults. Plain Python.

The database holds the same codes as data (egsu.vee.models.RuleSetting, seeded by a migration
from DEFAULTS): an operator switches a rule off or changes its parameters for all values, for a
device type, a quantity or one metering point, and the most specific setting wins. Limits of the
range rule default to the physical limits the intakes already check (egsu_core.isun.units.Plausibility
for App.3 quantities, egsu.ami.catalog for AMI channels), so a limit is written down once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from egsu.ami import catalog as ami_catalog
from egsu.quantities import info as quantity_info
from egsu_core.isun.units import UNITS as ISUN_UNITS
from egsu_core.isun.units import Plausibility
from egsu_core.vocabulary import gettext_noop


class Code(StrEnum):
    RANGE = "range"
    SPIKE = "spike"
    STUCK = "stuck"
    GAP = "gap"
    NEGATIVE = "negative"
    ROLLBACK = "rollback"
    SUM_REGISTER = "sum_register"
    MASS_DENSITY = "mass_density"
    TANK_BALANCE = "tank_balance"
    TIMESTAMP = "timestamp"
    # Balances (issue 14 item 6) keep their tolerances in the same catalogue: TANK_BALANCE is the
    # oil and gas balance of egsu.balances (in = production + receipt, out = shipment + own use +
    # flaring + reinjection + losses), ENERGY_BALANCE the losses of an electricity or heat object.
    ENERGY_BALANCE = "energy_balance"


@dataclass(frozen=True)
class RuleSpec:
    code: Code
    label: str  # English; translated by the web layer
    description: str
    params: dict = field(default_factory=dict)
    alarm: str = ""  # severity of the alarm a finding raises ("" = none)


SPECS: dict[Code, RuleSpec] = {
    spec.code: spec
    for spec in [
        RuleSpec(Code.RANGE, gettext_noop("Out of range"),
                 gettext_noop("A value outside the physical range of its quantity and unit."),
                 {}, "warning"),
        RuleSpec(Code.SPIKE, gettext_noop("Spike"),
                 gettext_noop("A value many times larger than both its neighbours."),
                 {"factor": 10.0, "floor": 1.0}),
        RuleSpec(Code.STUCK, gettext_noop("Stuck value"),
                 gettext_noop("The same non-zero value in many consecutive slots (a flat line)."),
                 {"min_run": 16, "ignore_zero": True}),
        RuleSpec(Code.GAP, gettext_noop("Gap"),
                 gettext_noop("Slots without a value between values that arrived."),
                 {"min_slots": 1}),
        RuleSpec(Code.NEGATIVE, gettext_noop("Negative consumption"),
                 gettext_noop("An amount per interval below zero."), {}, "warning"),
        RuleSpec(Code.ROLLBACK, gettext_noop("Register rollback"),
                 gettext_noop("A counter lower than its previous reading, except after a meter replacement."),
                 {}, "critical"),
        RuleSpec(Code.SUM_REGISTER, gettext_noop("Intervals against register"),
                 gettext_noop("The interval values between two register readings do not add up to their difference."),
                 {"tolerance_abs": 0.5, "tolerance_rel": 0.01}, "warning"),
        RuleSpec(Code.MASS_DENSITY, gettext_noop("Mass against volume and density"),
                 gettext_noop("Mass differs from volume × density beyond the tolerance (App.2 tables)."),
                 {"tolerance_abs": 0.1, "tolerance_rel": 0.01}, "warning"),
        RuleSpec(Code.TANK_BALANCE, gettext_noop("Stock balance"),
                 gettext_noop("Stock at the start plus what came in minus what went out differs from the stock at the end (oil and gas balance)."),
                 {"tolerance_abs": 1.0, "tolerance_rel": 0.01, "losses_rel": 0.0}, "warning"),
        RuleSpec(Code.TIMESTAMP, gettext_noop("Time stamp"),
                 gettext_noop("A value for a period in the future or before the device was installed."),
                 {"future_tolerance_s": 600}, "warning"),
        RuleSpec(Code.ENERGY_BALANCE, gettext_noop("Electricity and heat balance"),
                 gettext_noop("Losses between an object's input and the sum of its outputs above the allowed imbalance."),
                 {"allowed_loss_pct": 5.0}, "warning"),
    ]
}  # fmt: skip

# Values the estimation writes carry this source (store: source is the message or act id).
ESTIMATE_SOURCE = "vee:estimate"

# Quantities whose values are counter readings: registers (MTR-04) and the mass totalisers (1.3).
TOTALISERS = frozenset({"massflowbegin", "massflowend"})
UNIT_ALIASES = {"m3": "m³"}


def is_counter(quantity: str) -> bool:
    return quantity.startswith(ami_catalog.REGISTER_PREFIX) or quantity in TOTALISERS


def is_amount(quantity: str) -> bool:
    """An amount per interval (summable): negative, spike and sum rules apply."""
    found = quantity_info(quantity)
    return bool(found and found.summable)


def default_limits(quantity: str, unit: str) -> tuple[float, float] | None:
    """The physical range of a quantity in its own unit (the intakes' limits), or None."""
    unit = UNIT_ALIASES.get(unit, unit)
    if quantity in ISUN_UNITS:
        if unit != ISUN_UNITS[quantity]:
            return None
        low, high = Plausibility().limits(quantity)
        return float(low), float(high)
    if quantity.startswith(ami_catalog.REGISTER_PREFIX):
        base = ami_catalog.QUANTITIES.get(quantity[len(ami_catalog.REGISTER_PREFIX) :])
        if base is None or unit != base.unit:
            return None
        return 0.0, float(ami_catalog.REGISTER_HIGH)
    found = ami_catalog.QUANTITIES.get(quantity)
    if found is None or unit != found.unit:
        return None
    return float(found.low), float(found.high)
