"""What each report says: its sections (tables and a chart each), computed once and kept as data.

Numbers come from egsu.reporting.figures (the readings store) and egsu.monitoring.summaries (the
arrivals rollups), through the gate of the scope the report is built with. Titles and column names
are English source strings marked here and translated when a file is drawn in a language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from egsu.access.scope import Scope
from egsu.monitoring.summaries import arrivals_summary
from egsu.registry.models import Subject
from egsu.reporting import figures
from egsu.reporting.definitions import BREAKDOWN, KIND_ENERGIES, Kind, Level, Period, bucket_for
from egsu_core.vocabulary import Energy, gettext_noop

BREAKDOWN_TITLES = {
    "region": gettext_noop("Region"),
    "subject": gettext_noop("Subject"),
    "object": gettext_noop("Object"),
}
# A chart shows one quantity (units differ): mass first for oil and gas, else the first summable one.
PREFERRED = ("mass", "volume")


@dataclass
class Section:
    title: list[str]  # English source parts, joined with " · " once translated
    columns: list[tuple[str, bool]]  # (English title, numeric)
    rows: list[list] = field(default_factory=list)  # numbers as strings (exact decimals)
    chart: dict | None = None
    note: str = ""

    def as_dict(self) -> dict:
        return {"title": self.title, "columns": [list(c) for c in self.columns], "rows": self.rows,
                "chart": self.chart, "note": self.note}  # fmt: skip


def _num(value) -> str | None:
    return None if value is None else format(Decimal(value), "f")


def _chart_quantity(cells: list[figures.Cell]) -> str | None:
    present = {c.quantity for c in cells}
    for quantity in PREFERRED:
        if quantity in present:
            return quantity
    return sorted(present)[0] if present else None


def _bar(cells: list[figures.Cell], category, series, title: str) -> dict | None:
    """A bar chart of one quantity: categories on x, one bar series per `series(cell)`."""
    quantity = _chart_quantity(cells)
    if quantity is None:
        return None
    chosen = [c for c in cells if c.quantity == quantity]
    categories = sorted({category(c) for c in chosen})
    names = sorted({series(c) for c in chosen})
    values = {(category(c), series(c)): float(c.total) for c in chosen}
    return {"type": "bar", "title": title, "quantity": quantity, "unit": chosen[0].unit, "categories": categories,
            "series": [{"name": n, "values": [values.get((cat, n), 0.0) for cat in categories]} for n in names]}  # fmt: skip


def _line(cells: list[figures.Cell], title: str) -> dict | None:
    chart = _bar(cells, lambda c: c.bucket.isoformat(), lambda c: c.product or c.quantity, title)
    if chart is not None:
        chart["type"] = "line"
    return chart


def _area(level: str, area: str) -> dict:
    if level == Level.REGIONAL:
        return {"region": area}
    if level == Level.LOCAL:
        return {"subject_bin": area}
    return {}


def energy_sections(scope: Scope, energy: str, level: str, area: str, period: Period) -> list[Section]:
    """Totals of one energy: by product (oil and gas), by the level's breakdown, and by day or month."""
    breakdown = BREAKDOWN[Level(level)]
    name = Energy(energy).label
    oil = energy == "oil_gas"
    by_group = figures.sums(scope, energy=energy, start=period.start, end=period.end, group=breakdown,
                            **_area(level, area))  # fmt: skip
    if not by_group:
        return [
            Section(
                [name],
                [(gettext_noop("Quantity"), False)],
                note=gettext_noop("No values arrived for this period."),
            )
        ]
    totals = figures.roll_up(by_group, by_bucket=False)
    head = [(gettext_noop("Product"), False)] if oil else []
    sections = [
        Section(
            [gettext_noop("Totals"), name],
            [*head, (gettext_noop("Quantity"), False), (gettext_noop("Unit"), False), (gettext_noop("Total"), True), (gettext_noop("Values"), True)],
            [[*([c.product] if oil else []), c.quantity, c.unit, _num(c.total), c.values] for c in totals],
            _bar(totals, lambda c: c.product or name, lambda c: c.quantity, gettext_noop("Totals")),
        ),
        Section(
            [gettext_noop("By group"), name],
            [(BREAKDOWN_TITLES[breakdown], False), *head, (gettext_noop("Quantity"), False), (gettext_noop("Unit"), False),
             (gettext_noop("Total"), True)],
            [[c.group, *([c.product] if oil else []), c.quantity, c.unit, _num(c.total)] for c in by_group],
            _bar(by_group, lambda c: c.group, lambda c: c.product or c.quantity, BREAKDOWN_TITLES[breakdown]),
        ),
    ]  # fmt: skip
    bucket = bucket_for(period)
    if bucket:
        by_time = figures.roll_up(
            figures.sums(
                scope, energy=energy, start=period.start, end=period.end, bucket=bucket, **_area(level, area)
            )
        )
        sections.append(Section(
            [gettext_noop("By day") if bucket == "P1D" else gettext_noop("By month"), name],
            [(gettext_noop("Day") if bucket == "P1D" else gettext_noop("Month"), False), *head, (gettext_noop("Quantity"), False), (gettext_noop("Unit"), False),
             (gettext_noop("Total"), True)],
            [[c.bucket.isoformat(), *([c.product] if oil else []), c.quantity, c.unit, _num(c.total)] for c in by_time],
            _line(by_time, gettext_noop("By day") if bucket == "P1D" else gettext_noop("By month")),
        ))  # fmt: skip
    return sections


def arrivals_sections(scope: Scope, level: str, area: str, period: Period) -> list[Section]:
    """Expected, arrived, late, missing and rejected slots per region, subject or object (MON-01/02)."""
    if level == Level.NATIONAL:
        rows = arrivals_summary(scope, start=period.start, end=period.end, group_by="region")
    elif level == Level.REGIONAL:
        rows = [r for r in arrivals_summary(scope, start=period.start, end=period.end, group_by="subject")
                if r.region == area]  # fmt: skip
    else:
        subject = Subject.objects.filter(bin=area).first()
        rows = (
            []
            if subject is None
            else arrivals_summary(
                scope, start=period.start, end=period.end, group_by="facility", subject=subject
            )
        )
    rows = sorted(rows, key=lambda r: str(r.label))
    columns = [(BREAKDOWN_TITLES[BREAKDOWN[Level(level)]], False), (gettext_noop("Expected"), True), (gettext_noop("Arrived"), True),
               (gettext_noop("On time"), True), (gettext_noop("Late"), True), (gettext_noop("Missing"), True), (gettext_noop("Rejected"), True),
               (gettext_noop("Completeness, %"), True)]  # fmt: skip
    table = [[str(r.label), r.expected, r.arrived, r.on_time, r.late, r.missing, r.rejected,
              None if r.completeness is None else f"{r.completeness:.1f}"] for r in rows]  # fmt: skip
    chart = None
    if rows:
        chart = {"type": "bar", "title": gettext_noop("Completeness, %"), "quantity": "", "unit": "%",
                 "categories": [str(r.label) for r in rows],
                 "series": [{"name": gettext_noop("Completeness, %"), "values": [round(r.completeness or 0.0, 1) for r in rows]}]}  # fmt: skip
    return [Section([gettext_noop("Arrivals")], columns, table, chart,
                    "" if rows else gettext_noop("Nothing was owed in this period."))]  # fmt: skip


def build_contents(scope: Scope, kind: str, level: str, area: str, period: Period) -> dict:
    """The report's sections and key figures, as JSON-ready data."""
    if kind == Kind.ARRIVALS:
        sections = arrivals_sections(scope, level, area, period)
    else:
        sections = [
            s
            for energy in KIND_ENERGIES[Kind(kind)]
            for s in energy_sections(scope, energy, level, area, period)
        ]
    return {
        "sections": [s.as_dict() for s in sections],
        "period": [period.start.isoformat(), period.end.isoformat()],
    }


def period_of(report) -> Period:
    return Period(report.period_start, report.period_end)


def parse_day(text: str) -> date:
    return date.fromisoformat(text)
