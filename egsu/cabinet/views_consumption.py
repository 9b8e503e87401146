"""A subscriber's own consumption: by day and by month, next to the same period a year earlier.

The subscriber's first question is "how much did I use, and is it more than last year?" Its
meters are the metering points its scope holds (supplier and account, AMI-08); the numbers come
from the readings store's aggregates of the summable quantities (Tech.req. §4 8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.cabinet.readings_stats import percent_change
from egsu.choices import label
from egsu.quantities import info as quantity_info
from egsu.quantities import summable, unit_of
from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery, series_of
from egsu_core.clock import astana_date, astana_midnight, utcnow
from egsu_core.vocabulary import METER_ENERGIES

EVENTS_SHOWN = 10


class MonthForm(forms.Form):
    month = forms.DateField(
        label=_("Month"),
        required=False,
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}),
    )


@dataclass
class Line:
    """One quantity of one meter over one kind of period: the values now and a year earlier."""

    quantity: str
    label: str
    unit: str
    periods: list[tuple[date, Decimal | None, Decimal | None]]  # (start, this year, a year earlier)

    @property
    def total(self) -> Decimal:
        return sum((now for _, now, _ in self.periods if now is not None), Decimal(0))

    @property
    def total_before(self) -> Decimal | None:
        values = [before for *_, before in self.periods if before is not None]
        return sum(values, Decimal(0)) if values else None

    @property
    def change_percent(self) -> Decimal | None:
        return percent_change(self.total_before, self.total)


def _year_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _sums(point, start: date, end: date, bucket: str) -> dict[tuple[str, date], Decimal]:
    """(quantity, Astana day of the bucket) → sum, over [start, end] of the point's summable values."""
    query = ReadingQuery(
        series=series_of([point.store_key]),
        start=astana_midnight(start),
        end=astana_midnight(end + timedelta(days=1)),
    )
    found = {}
    for row in get_store().aggregate(query, bucket=bucket, group="quantity"):
        if summable(row.quantity):
            found[(row.quantity, astana_date(row.bucket_start))] = row.sum
    return found


def _lines(point, starts: list[date], end: date, bucket: str) -> list[Line]:
    now = _sums(point, starts[0], end, bucket)
    before = _sums(point, _year_back(starts[0]), _year_back(end), bucket)
    quantities = sorted({q for q, _ in now} | {q for q, _ in before})
    lines = []
    for quantity in quantities:
        found = quantity_info(quantity)
        periods = [(s, now.get((quantity, s)), before.get((quantity, _year_back(s)))) for s in starts]
        lines.append(Line(quantity, gettext(found.label) if found else quantity, unit_of(quantity), periods))
    return lines


def _month_starts(month: date) -> tuple[list[date], date]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return [first + timedelta(days=n) for n in range((following - first).days)], following - timedelta(days=1)


@cabinet_view(any_of=(Module.POWER, Module.HEAT))
def consumption(request):
    scope = request.scope
    form = MonthForm(request.GET or None)
    today = astana_date(utcnow())
    month = (form.cleaned_data.get("month") if form.is_valid() else None) or today
    days, month_end = _month_starts(month)
    year_months = [date(month.year, m, 1) for m in range(1, 13)]
    points = gate.points(scope).filter(energy__in=METER_ENERGIES).select_related("meter").order_by("name")
    meters = []
    for point in points[:50]:
        daily = _lines(point, days, month_end, "P1D")
        monthly = _lines(point, year_months, date(month.year, 12, 31), "P1M")
        events = list(point.meter.events.order_by("-occurred_at")[:EVENTS_SHOWN]) if point.meter_id else []
        meters.append(
            {
                "point": point,
                "energy": label(point.energy),
                "daily": daily,
                "monthly": monthly,
                "events": events,
                "month_start": days[0],
                "month_end": month_end,
                "chart": {
                    "id": f"consumption-{point.pk}",
                    "before_label": gettext("a year earlier"),
                    "x": [d.isoformat() for d in days],
                    "series": [
                        {
                            "name": f"{line.label} ({line.unit})",
                            "now": [_f(v) for _, v, _ in line.periods],
                            "before": [_f(b) for *_, b in line.periods],
                        }
                        for line in daily
                    ],
                },  # fmt: skip
            }
        )
    return render(
        request,
        "cabinet/consumption.html",
        {
            "form": form,
            "month": month,
            "meters": meters,
            "can_export": scope.has(Module.REPORTS),
            "charts": [m["chart"] for m in meters if m["daily"]],
        },
    )


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
