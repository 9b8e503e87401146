"""National totals (issue 5 "Done when": the analyst views the sector at a glance): per day, product and quantity.

A day is an Astana day (INT-37). The newest revision of every value counts, so an agreed correction
(Rules §53) changes the totals. Everything comes through the permission gate: a national role sees
the whole country, any other role only the subjects in its scope (the page says which).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.access.scope import Scope
from egsu.cabinet.readings_selection import INTERVALS, Selection, latest_readings
from egsu.clock import ASTANA, astana_date, utcnow
from egsu.isun.tables import QUANTITIES
from egsu.readings.store import Quality, tidy_value

DEFAULT_DAYS = 7
MAX_DAYS = 366


class TotalsForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    interval = forms.ChoiceField(label=_("Interval"), required=False, choices=INTERVALS)
    quantity = forms.ChoiceField(
        label=_("Quantity"), required=False, choices=[("", _("all"))] + [(q, q) for q in QUANTITIES]
    )

    def clean(self):
        data = super().clean()
        today = astana_date(utcnow())
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if end < start:
            raise forms.ValidationError(_("The end date is before the start date."))
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(_("Choose a period of at most one year."))
        data.update(start=start, end=end, interval=data.get("interval") or "PT2H")
        return data


@dataclass(frozen=True)
class TotalRow:
    day: date
    product: str
    quantity: str
    unit: str
    total: Decimal
    values: int
    estimated: int = 0  # of `values`, how many a head-end substituted (AMI-16)


def daily_totals(
    scope: Scope, *, start: date, end: date, interval: str, quantity: str = ""
) -> list[TotalRow]:
    """Sum of the newest values per Astana day, product and quantity, over the readings the scope sees."""
    selection = Selection(start_date=start, end_date=end, interval=interval, quantity=quantity)
    device = gate.devices(scope).filter(
        facility__object_id=OuterRef("object_id"), device_id=OuterRef("device_id")
    )
    grouped = (
        latest_readings(scope, selection)
        .order_by()
        .annotate(
            day=TruncDate("period_start", tzinfo=ASTANA),
            product_id=Subquery(device.values("product_type_id")[:1]),
            product_name=Subquery(device.values("product_type__name")[:1]),
        )
        .values("day", "product_id", "product_name", "quantity", "unit")
        .annotate(
            total=Sum("value"), n=Count("id"), estimated=Count("id", filter=Q(quality=Quality.ESTIMATED))
        )
    )
    rows = [
        TotalRow(
            day=g["day"],
            product=f"{g['product_id']} {g['product_name']}" if g["product_id"] else str(_("unknown")),
            quantity=g["quantity"],
            unit=g["unit"],
            total=tidy_value(Decimal(g["total"])),
            values=g["n"],
            estimated=g["estimated"],
        )
        for g in grouped
    ]
    return sorted(rows, key=lambda r: (r.day, r.product, r.quantity, r.unit))


def _charts(rows: list[TotalRow]) -> list[dict]:
    """One chart per quantity and unit, one line per product (the table holds the same numbers)."""
    charts: dict[tuple[str, str], dict[str, dict]] = {}
    for row in rows:
        series = charts.setdefault((row.quantity, row.unit), {}).setdefault(row.product, {"x": [], "y": []})
        series["x"].append(row.day.isoformat())
        series["y"].append(float(row.total))
    return [
        {"id": f"totals-chart-{n}", "quantity": quantity, "unit": unit,
         "series": [{"name": product, **points} for product, points in sorted(lines.items())]}
        for n, ((quantity, unit), lines) in enumerate(sorted(charts.items()))
    ]  # fmt: skip


@cabinet_view(Module.OIL_GAS)
def totals(request):
    scope = request.scope
    form = TotalsForm(request.GET)
    if not form.is_valid():
        return render(request, "cabinet/totals.html", {"form": form, "rows": []}, status=400)
    data = form.cleaned_data
    rows = daily_totals(
        scope, start=data["start"], end=data["end"], interval=data["interval"], quantity=data["quantity"]
    )
    return render(
        request,
        "cabinet/totals.html",
        {"form": form, "data": data, "rows": rows, "charts": _charts(rows), "national": scope.all_subjects},
    )
