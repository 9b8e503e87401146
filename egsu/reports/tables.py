"""What an export holds: the screen's rows (ALL of them) with a header block and totals.

Built from the same selections as the cabinet pages (egsu.cabinet.readings_selection,
egsu.cabinet.device_list), through the same gate, so the file and the screen agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.http import QueryDict
from django.utils.translation import gettext as _

from egsu.access.scope import Scope
from egsu.cabinet.device_list import DeviceFilterForm, device_status, filtered_devices, group_counts
from egsu.cabinet.readings_selection import latest_readings, selection_from, summarize, table_rows
from egsu.clock import to_astana, utcnow


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
    """Issue 5 item 4: the readings screen's table and summary (Http404 for a selection out of scope)."""
    selection, _form = selection_from(scope, as_query(params))
    rows = latest_readings(scope, selection)
    _summary, stats = summarize(scope, selection)

    def cells() -> Iterator[tuple]:
        for row in table_rows(rows):
            quality = _("corrected") if row.corrected else _("estimated") if row.estimated else row.quality
            yield (row.period_start, row.object_id, row.device_id, row.quantity, row.value, row.unit,
                   quality, row.revision)  # fmt: skip

    return ExportTable(
        title=_("Readings"),
        header=_header(user, scope, at or utcnow(), selection.labels),
        columns=[
            Column(_("Time"), width=1.3),
            Column(_("Facility")),
            Column(_("Device"), width=0.6),
            Column(_("Quantity")),
            Column(_("Value"), numeric=True, width=1.2),
            Column(_("Unit"), width=0.6),
            Column(_("Quality")),
            Column(_("Revision"), numeric=True, width=0.6),
        ],
        rows=cells,
        row_count=rows.count(),
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


def devices_table(scope: Scope, user, params: dict, at: datetime | None = None) -> ExportTable:
    """Issue 5 item 3: the device list as filtered, with status and last update, and group counts."""
    form = DeviceFilterForm(scope, as_query(params))
    devices = filtered_devices(scope, form)
    filters = {}
    if form.is_valid():
        for name, value in form.cleaned_data.items():
            if value not in ("", None):
                choices = dict(getattr(form.fields[name], "choices", []) or [])
                filters[str(form.fields[name].label)] = str(choices.get(value, value))
    now = at or utcnow()

    def cells() -> Iterator[tuple]:
        for d in devices.iterator(chunk_size=1000):
            status = device_status(d, now)
            yield (f"{d.facility.object_id}/{d.device_id}", d.facility.name, d.facility.kind,
                   f"{d.facility.subject.name} ({d.facility.subject.bin})", d.facility.region, d.device_type_id,
                   d.product_type_id, d.serial_number, _("yes") if d.commercial else _("no"), status.label,
                   status.last_period)  # fmt: skip

    group = form.cleaned_data.get("group", "") if form.is_valid() else ""
    groups = group_counts(devices, group)
    total = devices.count()
    active = devices.filter(active=True).count()
    totals = [(str(g["label"]), g["total"], g["active"]) for g in groups]
    totals.append((_("All devices"), total, active))
    return ExportTable(
        title=_("Devices"),
        header=_header(user, scope, now, filters),
        columns=[
            Column(_("Device"), width=0.8),
            Column(_("Facility"), width=1.4),
            Column(_("Kind"), width=0.4),
            Column(_("Subject"), width=1.8),
            Column(_("Region")),
            Column(_("Type"), numeric=True, width=0.4),
            Column(_("Product"), numeric=True, width=0.5),
            Column(_("Serial number")),
            Column(_("Commercial"), width=0.7),
            Column(_("Status"), width=0.6),
            Column(_("Last reading"), width=1.1),
        ],
        rows=cells,
        row_count=total,
        totals_columns=[
            Column(_("Group"), width=2),
            Column(_("Devices"), numeric=True),
            Column(_("Active"), numeric=True),
        ],
        totals=totals,
    )


BUILDERS: dict[str, Callable[..., ExportTable]] = {"readings": readings_table, "devices": devices_table}
