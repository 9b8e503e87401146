"""What an export holds: the screen's rows (ALL of them) with a header block and totals.

Built from the same selections as the cabinet pages (egsu.cabinet.readings_selection,
egsu.points.filters), through the same gate and the readings store, so the file and the screen agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.http import Http404, QueryDict
from django.utils.translation import gettext as _

from egsu.access.roles import Module
from egsu.access.scope import Scope, require
from egsu.cabinet.readings_selection import chart_bucket, reading_query, selection_from, table_rows
from egsu.cabinet.readings_stats import quantity_stats
from egsu.cabinet.views_totals import TotalsForm, daily_totals
from egsu.choices import label
from egsu.monitoring.forms import ArrivalsForm
from egsu.monitoring.summaries import arrivals_summary
from egsu.points.filters import PointFilter
from egsu.points.status import statuses
from egsu.points.views import group_counts
from egsu.readings.services import get_store
from egsu_core.clock import to_astana, utcnow


@dataclass(frozen=True)
class Column:
    label: str
    numeric: bool = False
    width: float = 1.0  # relative width in the PDF


@dataclass
class ExportTable:
    title: str
    header: list[tuple[str, str]]  # who, when, and every filter chosen
    columns: list[Column]
    rows: Callable[[], Iterator[tuple]]  # cells: str, int, Decimal, aware datetime or None
    row_count: int
    totals_columns: list[Column] = field(default_factory=list)
    totals: list[tuple] = field(default_factory=list)


def as_query(params: dict) -> QueryDict:
    query = QueryDict(mutable=True)
    for name, value in params.items():
        query[name] = str(value)
    return query


def _header(user, scope: Scope, at: datetime, filters: dict[str, str]) -> list[tuple[str, str]]:
    who = user.get_full_name() or user.get_username()
    return [
        (_("Exported by"), f"{who} ({scope.role})"),
        (_("Exported at (Astana time)"), to_astana(at).strftime("%Y-%m-%d %H:%M")),
        *filters.items(),
    ]


def readings_table(scope: Scope, user, params: dict, at: datetime | None = None) -> ExportTable:
    """The readings screen's table and summary, for any energy (Http404 for a selection out of scope)."""
    selection, _points, _period = selection_from(scope, as_query(params))
    store = get_store()
    query = reading_query(scope, selection)
    stats, _trends = quantity_stats(
        store, query, reading_query(scope, selection.previous()), chart_bucket(selection)
    )

    def cells() -> Iterator[tuple]:
        for row in table_rows(query, store):
            quality = _("corrected") if row.corrected else _("estimated") if row.estimated else row.quality
            yield (row.period_start, row.object_id, row.device_id, row.quantity, row.value, row.unit,
                   quality, row.revision)  # fmt: skip

    return ExportTable(
        title=_("Readings"),
        header=_header(user, scope, at or utcnow(), selection.labels),
        columns=[
            Column(_("Time"), width=1.3),
            Column(_("Object")),
            Column(_("Metering point"), width=0.6),
            Column(_("Quantity")),
            Column(_("Value"), numeric=True, width=1.2),
            Column(_("Unit"), width=0.6),
            Column(_("Quality")),
            Column(_("Revision"), numeric=True, width=0.6),
        ],
        rows=cells,
        row_count=store.count(query),
        totals_columns=[
            Column(_("Quantity")),
            Column(_("Unit"), width=0.6),
            Column(_("Values"), numeric=True, width=0.7),
            Column(_("Total"), numeric=True, width=1.2),
            Column(_("Maximum"), numeric=True),
            Column(_("Minimum"), numeric=True),
            Column(_("Change, first to last, %"), numeric=True),
            Column(_("Previous period total"), numeric=True, width=1.2),
            Column(_("Change vs previous period, %"), numeric=True),
            Column(_("Estimated values"), numeric=True, width=0.7),  # AMI-16: substituted by a head-end
        ],
        totals=[
            (
                s.quantity,
                s.unit,
                s.count,
                s.total,
                s.maximum,
                s.minimum,
                s.change_percent,
                s.previous_total,
                s.previous_change_percent,
                s.estimated,
            )
            for s in stats
        ],  # fmt: skip
    )


def points_table(scope: Scope, user, params: dict, at: datetime | None = None) -> ExportTable:
    """The metering-point list as filtered, with status and last update, and the group counts."""
    found = PointFilter.for_scope(scope, as_query(params))
    points = found.points()
    filters = {}
    if found.is_bound and found.is_valid():
        for name, value in found.form.cleaned_data.items():
            if value not in ("", None):
                field = found.form.fields[name]
                filters[str(field.label)] = str(dict(getattr(field, "choices", []) or []).get(value, value))
    now = at or utcnow()

    def cells() -> Iterator[tuple]:
        batch: list = []
        for point in points.select_related("subject").iterator(chunk_size=500):
            batch.append(point)
            if len(batch) == 500:
                yield from _point_cells(batch, now)
                batch = []
        yield from _point_cells(batch, now)

    groups = group_counts(points, found.grouping)
    total = points.count()
    totals = [(str(g["label"]), g["total"], g["active"]) for g in groups]
    totals.append((_("All metering points"), total, points.filter(active=True).count()))
    return ExportTable(
        title=_("Metering points"),
        header=_header(user, scope, now, filters),
        columns=[
            Column(_("Metering point"), width=1.0),
            Column(_("Energy"), width=0.7),
            Column(_("Object"), width=1.4),
            Column(_("Subject"), width=1.8),
            Column(_("Region")),
            Column(_("Serial number")),
            Column(_("Account"), width=0.8),
            Column(_("Commercial"), width=0.7),
            Column(_("Status"), width=0.6),
            Column(_("Last reading"), width=1.1),
        ],
        rows=cells,
        row_count=total,
        totals_columns=[
            Column(_("Group"), width=2),
            Column(_("Metering points"), numeric=True),
            Column(_("Active"), numeric=True),
        ],  # fmt: skip
        totals=totals,
    )


def _point_cells(batch: list, now: datetime) -> Iterator[tuple]:
    status = statuses(batch, now)
    for p in batch:
        yield (p.name, label(p.energy), f"{p.object_code} {p.object_name}".strip(),
               f"{p.subject.name} ({p.subject.bin})", p.region, p.serial_number, p.account,
               _("yes") if p.commercial else _("no"), status[p.pk].label, status[p.pk].last_period)  # fmt: skip


def _form_filters(form) -> dict[str, str]:
    """What a validated form chose, as (label → shown value), for an export's header."""
    shown = {}
    for name, value in form.cleaned_data.items():
        if value not in ("", None):
            field = form.fields[name]
            shown[str(field.label)] = str(dict(getattr(field, "choices", []) or []).get(value, value))
    return shown


def totals_table(scope: Scope, user, params: dict, at: datetime | None = None) -> ExportTable:
    """The totals screen: per Astana day (and group) and summable quantity, as on screen."""
    form = TotalsForm(scope, as_query(params))
    if not form.is_valid():
        raise Http404("these totals cannot be made: " + "; ".join(form.non_field_errors()))
    data = form.cleaned_data
    rows = daily_totals(scope, start=data["start"], end=data["end"], energy=data["energy"],
                        interval=data["interval"], quantity=data["quantity"], group=data["group"])  # fmt: skip
    return ExportTable(
        title=_("Totals"),
        header=_header(user, scope, at or utcnow(), _form_filters(form)),
        columns=[
            Column(_("Day")),
            Column(_("Group"), width=1.6),
            Column(_("Quantity")),
            Column(_("Unit"), width=0.6),
            Column(_("Total"), numeric=True, width=1.3),
            Column(_("Values"), numeric=True, width=0.7),
            Column(_("Estimated values"), numeric=True, width=0.7),
        ],  # fmt: skip
        rows=lambda: ((r.day, r.group, r.quantity, r.unit, r.total, r.values, r.estimated) for r in rows),
        row_count=len(rows),
    )


def arrivals_table(scope: Scope, user, params: dict, at: datetime | None = None) -> ExportTable:
    """The arrivals screen: expected, arrived, on time, late, missing, rejected per group (MON-01/02)."""
    require(scope, Module.MONITORING)
    form = ArrivalsForm(as_query(params))
    if not form.is_valid():
        raise Http404("this period cannot be shown: " + "; ".join(form.non_field_errors()))
    data = form.cleaned_data
    rows = arrivals_summary(scope, start=data["start"], end=data["end"], group_by=data["group"],
                            energy=data.get("energy") or None)  # fmt: skip
    return ExportTable(
        title=_("Arrivals"),
        header=_header(user, scope, at or utcnow(), _form_filters(form)),
        columns=[
            Column(_("Group"), width=2),
            Column(_("BIN")),
            Column(_("Region")),
            Column(_("Expected"), numeric=True),
            Column(_("Arrived"), numeric=True),
            Column(_("On time"), numeric=True),
            Column(_("Late"), numeric=True),
            Column(_("Missing"), numeric=True),
            Column(_("Rejected"), numeric=True),
            Column(_("Completeness, %"), numeric=True),
        ],  # fmt: skip
        rows=lambda: (
            (
                str(r.label),
                r.bin,
                r.region,
                r.expected,
                r.arrived,
                r.on_time,
                r.late,
                r.missing,
                r.rejected,
                None if r.completeness is None else round(r.completeness, 1),
            )
            for r in sorted(rows, key=lambda r: str(r.label).lower())
        ),  # fmt: skip
        row_count=len(rows),
    )


BUILDERS: dict[str, Callable[..., ExportTable]] = {
    "totals": totals_table,
    "arrivals": arrivals_table,
    "readings": readings_table,
    "points": points_table,
    "devices": points_table,  # the address of the first exports, kept
}
