"""Which aggregate cells may be made public (ACC-14, PRC-08): never one subject's commercial figures.

Plain Python. A family is the cells that add up to one national figure: every region's cell of one
period, energy, product and quantity, plus the national cell. A cell made up of fewer than
MIN_SUBJECTS subjects is withheld (primary suppression). Then, because national minus the published
regions gives the sum of the withheld ones, more cells are withheld until the withheld cells
together are made up of at least MIN_SUBJECTS subjects (complementary suppression) — or, when no
region is left to withhold, the national cell itself is withheld.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

MIN_SUBJECTS = 3
NATIONAL = ""  # the member name of the national cell in a family


@dataclass
class Member:
    name: str  # a region, or NATIONAL
    value: Decimal
    subjects: frozenset[str]
    withheld: bool = False
    why: str = ""  # "primary" (too few subjects) or "complementary" (would reveal a withheld cell)


@dataclass
class Family:
    members: dict[str, Member] = field(default_factory=dict)

    @property
    def national(self) -> Member | None:
        return self.members.get(NATIONAL)

    def regions(self) -> list[Member]:
        return [m for name, m in self.members.items() if name != NATIONAL]


def protect(family: Family, minimum: int = MIN_SUBJECTS) -> Family:
    """Mark the cells to withhold, in place; returns the family."""
    for member in family.members.values():
        if len(member.subjects) < minimum:
            member.withheld, member.why = True, "primary"
    national = family.national
    if national is None or national.withheld:
        # Without a published total, the regions cannot be differenced against it; but two published
        # regions never reveal a third. Nothing more to do.
        return family
    while True:
        hidden = [m for m in family.regions() if m.withheld]
        covered: set[str] = set().union(*(m.subjects for m in hidden)) if hidden else set()
        if not hidden or len(covered) >= minimum:
            return family
        shown = sorted((m for m in family.regions() if not m.withheld),
                       key=lambda m: (len(m.subjects), m.value, m.name))  # fmt: skip
        if not shown:
            national.withheld, national.why = True, "complementary"
            return family
        shown[0].withheld, shown[0].why = True, "complementary"


def protect_all(families: Iterable[Family], minimum: int = MIN_SUBJECTS) -> list[Family]:
    return [protect(f, minimum) for f in families]
