"""The numbers of reports and open data: sums of the newest values through the gate and the store.

Every figure comes from the readings store's aggregates (the one read path) over the metering
points a scope may see, narrowed to an area (a region, a subject). Each cell also says which
subjects made it up, so open data can withhold cells of fewer than three (ACC-14).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from egsu.access import scope as gate
from egsu.access.scope import Scope
from egsu.quantities import quantities_of, summable, unit_of
from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery
from egsu_core.clock import astana_date, astana_midnight
from egsu_core.vocabulary import Energy, Interval

# Oil and gas come as 2-hourly and daily records of the same flows (INT-33/34): reports and open data
# take the daily records, the day's official figures. Meters: every interval (one per quantity).
REPORT_INTERVAL: dict[str, str | None] = {Energy.OIL_GAS: Interval.DAY.value}
GROUP_FIELDS = {"": None, "region": "region", "subject": "subject__name", "object": "object_name"}
_SEP = "\x1f"


@dataclass
class Cell:
    """One sum: per bucket (None: the whole period), group, product and quantity."""

    bucket: date | None
    group: str
    product: str
    quantity: str
    unit: str
    total: Decimal = Decimal(0)
    values: int = 0
    subjects: set[str] = field(default_factory=set)  # BINs whose values are in the sum


def area_points(scope: Scope, energy: str, *, region: str = "", subject_bin: str = ""):
    """The metering points of one energy that the scope sees, in a region or of a subject (or all)."""
    points = gate.points(scope).filter(energy=energy)
    if region:
        points = points.filter(region=region)
    if subject_bin:
        points = points.filter(subject__bin=subject_bin)
    return points


def sums(
    scope: Scope, *, energy: str, start: date, end: date, group: str = "", region: str = "",
    subject_bin: str = "", bucket: str | None = None,
) -> list[Cell]:  # fmt: skip
    """Sums of the summable quantities of one energy over Astana days start..end (inclusive).

    `group` (region, subject, object, or "") cuts the area; oil and gas are always cut by product too.
    `bucket` (P1D, P1M) cuts the period; None gives one cell for the whole period.
    """
    if energy not in gate.energies(scope):
        return []
    codes = [q for q in quantities_of(energy) if summable(q)]
    points = area_points(scope, energy, region=region, subject_bin=subject_bin)
    group_field = GROUP_FIELDS[group]
    fields = ["object_code", "store_device_id", "subject__bin", "product"] + (
        [group_field] if group_field else []
    )
    labels = {}
    for row in points.values_list(*fields).iterator(chunk_size=10000):
        code, device, bin_, product = row[:4]
        name = (row[4] or "—") if group_field else ""
        labels[(code, device)] = _SEP.join((name, product if energy == Energy.OIL_GAS else "", bin_))
    if not labels:
        return []
    query = ReadingQuery(
        quantities=codes, interval=REPORT_INTERVAL.get(energy), start=astana_midnight(start),
        end=astana_midnight(end + timedelta(days=1)), series=gate.series(scope, points),
    )  # fmt: skip
    cells: dict[tuple, Cell] = {}
    for row in get_store().aggregate(
        query, bucket=bucket or "P1D", group="label", labels=labels, measures="sums"
    ):  # sums and counts only
        name, product, bin_ = (row.label or "").split(_SEP)
        day = astana_date(row.bucket_start) if bucket else None
        key = (day, name, product, row.quantity)
        cell = cells.get(key) or cells.setdefault(
            key, Cell(day, name, product, row.quantity, unit_of(row.quantity))
        )
        cell.total += row.sum
        cell.values += row.count
        if row.count:
            cell.subjects.add(bin_)
    return sorted(cells.values(), key=lambda c: (c.bucket or date.min, c.group, c.product, c.quantity))


def regions(scope: Scope) -> list[str]:
    """The regions of the metering points in scope (the areas of regional reports and open data)."""
    return sorted(
        {r for r in gate.points(scope).exclude(region="").values_list("region", flat=True).distinct()}
    )


def roll_up(cells: list[Cell], *, by_bucket: bool = True) -> list[Cell]:
    """Cells summed over their groups: per (bucket, product, quantity)."""
    out: dict[tuple, Cell] = {}
    for c in cells:
        key = (c.bucket if by_bucket else None, c.product, c.quantity)
        total = out.get(key) or out.setdefault(key, Cell(key[0], "", c.product, c.quantity, c.unit))
        total.total += c.total
        total.values += c.values
        total.subjects |= c.subjects
    return sorted(out.values(), key=lambda c: (c.bucket or date.min, c.product, c.quantity))
