"""Totals: how much of each energy, per Astana day, nationally or per region, subject or product (ANA-04..07).

The analyst's first question about the sector. Everything comes from the readings store's
aggregates over the newest revisions (an agreed correction, Rules §53, changes the totals), on
every backend, through the permission gate: a national role sees the whole country, any other role
only the points in its scope (the page says which). Only summable quantities are totalled.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.access.scope import Scope
from egsu.cabinet.views_readings import DATA_MODULES
from egsu.choices import energy_choices, interval_choices, label
from egsu.quantities import quantities_of, summable, unit_of
from egsu.readings.services import get_store
from egsu.readings.store import Quality, ReadingQuery
from egsu_core.clock import astana_date, astana_midnight, to_astana, utcnow
from egsu_core.vocabulary import Energy, Interval

DEFAULT_DAYS = 7
MAX_DAYS = 366
GROUPS = [("", _("none")), ("region", _("region")), ("subject", _("subject")), ("product", _("product"))]
# Oil and gas records come as 2-hourly and daily records of the same flows: total one of them.
DEFAULT_INTERVAL = {Energy.OIL_GAS: Interval.TWO_HOURS}


class TotalsForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    energy = forms.ChoiceField(label=_("Energy"), required=False, choices=energy_choices())
    interval = forms.ChoiceField(
        label=_("Interval"), required=False, choices=[("", _("all")), *interval_choices()]
    )
    quantity = forms.CharField(label=_("Quantity"), required=False, max_length=32)
    group = forms.ChoiceField(label=_("Group by"), required=False, choices=GROUPS)

    def __init__(self, scope: Scope, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scope = scope
        self.fields["energy"].choices = [c for c in energy_choices() if c[0] in gate.energies(scope)]

    def clean(self):
        data = super().clean()
        today = astana_date(utcnow())
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if end < start:
            raise forms.ValidationError(_("The end date is before the start date."))
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(_("Choose a period of at most one year."))
        energy = data.get("energy") or (self.fields["energy"].choices or [("", "")])[0][0]
        interval = data.get("interval")
        if not self.data.get("interval"):
            interval = DEFAULT_INTERVAL.get(energy, "")
        data.update(start=start, end=end, energy=energy, interval=interval or "")
        return data


@dataclass(frozen=True)
class TotalRow:
    day: date
    group: str  # a region, a subject or a product; "" without grouping
    quantity: str
    unit: str
    total: Decimal
    values: int
    estimated: int = 0  # of `values`, how many a head-end substituted (AMI-16)


def daily_totals(
    scope: Scope,
    *,
    start: date,
    end: date,
    energy: str,
    interval: str = "",
    quantity: str = "",
    group: str = "",
) -> list[TotalRow]:
    """Sum of the newest values per Astana day (and group) and summable quantity, over what the scope sees."""
    if energy not in gate.energies(scope):
        return []
    codes = [q for q in quantities_of(energy) if summable(q) and (not quantity or q == quantity)]
    if not codes:
        return []
    points = gate.points(scope).filter(energy=energy)
    query = ReadingQuery(
        quantities=codes,
        interval=interval or None,
        start=astana_midnight(start),
        end=astana_midnight(end + timedelta(days=1)),
        series=None if scope.all_subjects else gate.series(scope, points),  # national: the codes say it
    )
    store = get_store()
    labels = point_labels(points, group) if group else None
    grouping = "label" if group else "quantity"
    # sums and counts only: nationally the store answers them from its day totals (ClickHouse)
    rows = store.aggregate(query, bucket="P1D", group=grouping, labels=labels, measures="sums")
    flagged = store.aggregate(
        replace(query, qualities=(Quality.ESTIMATED.value,)),
        bucket="P1D",
        group=grouping,
        labels=labels,
        measures="sums",
    )
    estimated = {(r.label or "", r.quantity, r.bucket_start): r.count for r in flagged}
    found = [
        TotalRow(
            day=astana_date(r.bucket_start),
            group=r.label or "",
            quantity=r.quantity,
            unit=unit_of(r.quantity),
            total=r.sum,
            values=r.count,
            estimated=estimated.get((r.label or "", r.quantity, r.bucket_start), 0),
        )
        for r in rows
    ]
    return sorted(found, key=lambda r: (r.day, r.group, r.quantity))


# A grouping's label of each point: its region, its subject (by name on pages, by BIN in the API) …
LABEL_FIELDS = {
    "region": "region",
    "subject": "subject__name",
    "subject_bin": "subject__bin",
    "product": "product",
}


class PointLabels(Mapping):
    """(object_id, device_id) → the group's label of these points, read from the registry only when asked.

    `stored_key` names this exact question (the points' SQL and parameters, the group) at the
    registry's current change stamp (egsu.registry.stamp): a readings store that keeps labels
    (ClickHouse, `_stored_labels`) reuses the ones it built under the same key and never reads
    these from the registry; any other use reads them once (`_load`). The stamp is read before
    the labels, so labels read after a change are at worst kept under the older key, which
    the next read no longer asks for."""

    def __init__(self, points, group: str) -> None:
        from egsu.registry.stamp import registry_stamp

        field = LABEL_FIELDS[group]
        rows = points.order_by().values_list("object_code", "store_device_id", field)
        self._db, self._rows, self._loaded, self._any = rows.db, rows, None, None
        try:
            self._sql = rows.query.sql_with_params()
        except EmptyResultSet:  # a filter that can match nothing (none(), pk__in=[]): no SQL to run
            self._sql, self._loaded = None, {}
        self.stored_key = (
            None
            if self._sql is None
            else hashlib.sha256(repr((registry_stamp(self._db), *self._sql, group)).encode()).hexdigest()[:32]
        )

    def _load(self) -> dict[tuple[str, str], str]:
        """Unordered: a mapping needs no order, and the points' own ordering would make the database
        sort a region's 100,000 points for nothing (issue 11). The ORM's SQL run on a plain cursor and
        fetched in one round trip: three text columns need no model conversion, and the ORM's row
        iterator and a server-side cursor's pages cost more than the query itself (issue 13: 0.11 →
        0.05 s for a region's 100,000 points)."""
        if self._loaded is None:
            with connections[self._db].cursor() as cursor:
                cursor.execute(*self._sql)
                self._loaded = {(code, device): value or "—" for code, device, value in cursor.fetchall()}
        return self._loaded

    def __bool__(self) -> bool:
        """Whether any point is labelled: one EXISTS, remembered (a store may ask again on another thread)."""
        if self._any is None:
            self._any = bool(self._loaded) if self._loaded is not None else self._rows.exists()
        return self._any

    def __getitem__(self, pair):
        return self._load()[pair]

    def get(self, pair, default=None):
        return self._load().get(pair, default)

    def __iter__(self):
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def keys(self):
        return self._load().keys()

    def items(self):
        return self._load().items()

    def values(self):
        return self._load().values()


def point_labels(points, group: str) -> PointLabels:
    """The group's label of each of these points, for the store's group "label" (totals page, read API)."""
    return PointLabels(points, group)


def _charts(rows: list[TotalRow]) -> list[dict]:
    """One chart per quantity and unit, one line per group (the table holds the same numbers)."""
    charts: dict[tuple[str, str], dict[str, dict]] = {}
    for row in rows:
        series = charts.setdefault((row.quantity, row.unit), {}).setdefault(
            row.group or "", {"x": [], "y": []}
        )
        series["x"].append(row.day.isoformat())
        series["y"].append(float(row.total))
    return [
        {"id": f"totals-chart-{n}", "quantity": quantity, "unit": unit,
         "series": [{"name": name, **points} for name, points in sorted(lines.items())]}
        for n, ((quantity, unit), lines) in enumerate(sorted(charts.items()))
    ]  # fmt: skip


@cabinet_view(any_of=DATA_MODULES)
def totals(request):
    scope = request.scope
    form = TotalsForm(scope, request.GET)
    if not form.is_valid():
        return render(request, "cabinet/totals.html", {"form": form, "rows": []}, status=400)
    data = form.cleaned_data
    rows = daily_totals(
        scope,
        start=data["start"],
        end=data["end"],
        energy=data["energy"],
        interval=data["interval"],
        quantity=data["quantity"],
        group=data["group"],
    )
    sums: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        sums[(row.quantity, row.unit)] = sums.get((row.quantity, row.unit), Decimal(0)) + row.total
    return render(
        request,
        "cabinet/totals.html",
        {
            "form": form,
            "data": data,
            "rows": rows,
            "charts": _charts(rows),
            "sums": [{"quantity": q, "unit": u, "total": t} for (q, u), t in sorted(sums.items())],
            "energy_label": label(data["energy"]) if data["energy"] else "",
            "interval_label": label(data["interval"]) if data["interval"] else "",
            "national": scope.all_subjects,
            "generated": to_astana(utcnow()),
            "can_export": scope.has(Module.REPORTS),
            "export_params": {k: str(v) for k, v in data.items() if v not in ("", None)},
        },
    )
