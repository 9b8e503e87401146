"""Balances (Tech.req. §7, AMI-12, AMI-17; issue 14 item 6) as plain Python: which App.2 table feeds
which line of the oil and gas balance, and the arithmetic of both balances. No Django.

Oil and gas, per subject, product line and day (the registry has no site that groups facilities;
a subject's oil facilities — tables 1.1–1.3 — or gas facilities — 1.4–1.9 — are one balance, each
facility a line of it): production + receipt − shipment − own use − flaring − reinjection − losses
against the change in stock, in m³ (every table prints `volume`). It is the stock balance
begin + in − out = end of egsu.vee.rules.balance, with the VEE rule TANK_BALANCE's tolerance.

Electricity and heat, per metering object (substation, feeder, transformer point, heat point) and
day: the input measured on the object against the sum of the outputs measured on its child
objects; the losses in percent of the input against the allowed imbalance (ENERGY_BALANCE).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from egsu.vee.rules import balance
from egsu_core.vocabulary import gettext_noop


class Line(StrEnum):
    PRODUCTION = "production"
    RECEIPT = "receipt"
    SHIPMENT = "shipment"
    OWN_USE = "own_use"
    FLARING = "flaring"
    REINJECTION = "reinjection"
    LOSSES = "losses"
    STOCK = "stock"


LINE_LABELS = {
    Line.PRODUCTION: gettext_noop("production"),
    Line.RECEIPT: gettext_noop("receipt"),
    Line.SHIPMENT: gettext_noop("shipment"),
    Line.OWN_USE: gettext_noop("own use"),
    Line.FLARING: gettext_noop("flaring"),
    Line.REINJECTION: gettext_noop("reinjection"),
    Line.LOSSES: gettext_noop("losses"),
    Line.STOCK: gettext_noop("stock"),
}
INFLOWS = (Line.PRODUCTION, Line.RECEIPT)
OUTFLOWS = (Line.SHIPMENT, Line.OWN_USE, Line.FLARING, Line.REINJECTION, Line.LOSSES)

OIL_KINDS = ("1.1", "1.2", "1.3")
GAS_KINDS = ("1.4", "1.5", "1.6", "1.7", "1.8", "1.9")
PRODUCTS = {"oil": OIL_KINDS, "gas": GAS_KINDS}
PRODUCT_LABELS = {"oil": gettext_noop("oil and gas condensate"), "gas": gettext_noop("raw and commodity gas")}

# The line of a table with one purpose (App.2 titles, §13.2 operation types).
_BY_KIND = {
    "1.1": Line.PRODUCTION,  # preparation and pumping shop (operation 6)
    "1.2": Line.STOCK,  # tank farm
    "1.4": Line.PRODUCTION,  # raw-gas complex preparation (17)
    "1.5": Line.FLARING,  # flare unit
    "1.6": Line.OWN_USE,  # own technological needs
    "1.7": Line.REINJECTION,  # reinjection unit
    "1.9": Line.STOCK,  # underground gas storage
}
# Acceptance-delivery points (1.3, 1.8): the device's operations say which way the product moves.
_BY_OPERATION = {
    1: Line.RECEIPT, 5: Line.RECEIPT, 8: Line.RECEIPT, 2: Line.SHIPMENT, 3: Line.SHIPMENT, 4: Line.SHIPMENT,
    12: Line.RECEIPT, 16: Line.RECEIPT, 13: Line.SHIPMENT, 14: Line.SHIPMENT, 15: Line.SHIPMENT,
    19: Line.FLARING,
}  # fmt: skip


def line_of(kind: str, operations: frozenset[int] | set[int]) -> Line | None:
    """The balance line of a device: by its facility's table, or for 1.3/1.8 by its operations.

    A delivery point device registered for operations of both directions (or none) cannot be
    placed: None, and the page says so rather than guessing.
    """
    if kind in _BY_KIND:
        return _BY_KIND[kind]
    lines = {_BY_OPERATION[op] for op in operations if op in _BY_OPERATION}
    return lines.pop() if len(lines) == 1 else None


@dataclass
class OilGasDay:
    """One day of an oil or gas balance; flows in m³, stock at the end of the day before and of the day."""

    flows: dict[Line, float] = field(default_factory=dict)
    stock_begin: float = 0.0
    stock_end: float = 0.0
    imbalance: float = 0.0
    relative: float = 0.0
    violated: bool = False

    @property
    def inflow(self) -> float:
        return sum(self.flows.get(line, 0.0) for line in INFLOWS)

    @property
    def outflow(self) -> float:
        return sum(self.flows.get(line, 0.0) for line in OUTFLOWS)


def settle_oil_gas(days: list[OilGasDay], *, tolerance_abs: float, tolerance_rel: float,
                   losses_rel: float = 0.0) -> list[OilGasDay]:  # fmt: skip
    """Fill each day's normative losses (a share of the inflow), imbalance and verdict, column-wise."""
    for day in days:
        day.flows[Line.LOSSES] = day.flows.get(Line.LOSSES, 0.0) + losses_rel * day.inflow
    if not days:
        return days
    flagged, imbalance, relative = balance(
        [d.stock_begin for d in days], [d.inflow for d in days], [d.outflow for d in days],
        [d.stock_end for d in days], tolerance_abs, tolerance_rel,
    )  # fmt: skip
    for day, bad, gap, share in zip(
        days, flagged.tolist(), imbalance.tolist(), relative.tolist(), strict=True
    ):
        day.imbalance, day.relative, day.violated = gap, share, bad
    return days


@dataclass(frozen=True)
class EnergyDay:
    input: float
    outputs: float

    @property
    def losses(self) -> float:
        return self.input - self.outputs

    @property
    def loss_pct(self) -> float | None:
        return 100.0 * self.losses / self.input if self.input else None

    def violated(self, allowed_loss_pct: float) -> bool:
        """Losses above the allowed imbalance, or outputs above the input by more than it (a meter wrong)."""
        pct = self.loss_pct
        if pct is None:
            return self.outputs > 0
        return abs(pct) > allowed_loss_pct
