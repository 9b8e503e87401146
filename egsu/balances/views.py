"""The balance page: pick an oil or gas balance (a subject's product) or an electricity or heat object,
and a period; a chart per day and the table behind it (Tech.req. §7)."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.balances import services
from egsu.balances.core import INFLOWS, LINE_LABELS, OUTFLOWS, PRODUCT_LABELS, PRODUCTS
from egsu.cabinet.views_readings import DATA_MODULES
from egsu_core.clock import astana_date, utcnow
from egsu_core.vocabulary import Energy

MAX_DAYS = 92


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and (end < start or (end - start).days > MAX_DAYS):
            raise forms.ValidationError(_("Choose a period of at most 92 days, the end after the start."))
        return data

    def period(self) -> tuple[date, date]:
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("end") or astana_date(utcnow()) - timedelta(days=1)
        return data.get("start") or end - timedelta(days=6), end


def _oil_gas_choices(scope) -> list[tuple[str, str]]:
    if not scope.has(Module.OIL_GAS):
        return []
    seen = set(gate.subjects(scope).values_list("pk", flat=True))
    return [
        (f"{product}:{subject.bin}", f"{subject.short_name or subject.name} — {gettext(PRODUCT_LABELS[product])}")
        for subject, product in services.oil_gas_nodes() if subject.pk in seen
    ]  # fmt: skip


def _energy_objects(scope):
    energies = gate.meter_energies(scope)
    found = services.energy_objects()
    if Energy.HEAT not in energies:
        found = found.exclude(kind="heat_point")
    if Energy.ELECTRICITY not in energies:
        found = found.filter(kind="heat_point")
    if not scope.all_subjects:
        found = found.filter(subject__bin__in=scope.subject_bins)
    return found


@cabinet_view(any_of=DATA_MODULES)
def balance_page(request):
    scope = request.scope
    form = PeriodForm(request.GET or None)
    start, end = form.period()
    nodes = _oil_gas_choices(scope)
    objects = {obj.code: obj for obj in _energy_objects(scope)}
    choices = nodes + [
        (f"object:{code}", f"{code} {obj.name} ({obj.get_kind_display()})") for code, obj in objects.items()
    ]
    chosen = request.GET.get("balance") or (choices[0][0] if choices else "")
    context = {"form": form, "choices": choices, "chosen": chosen, "start": start, "end": end}
    kind, _sep, name = chosen.partition(":")
    if kind in PRODUCTS and f"{kind}:{name}" in dict(nodes):
        subject = gate.subjects(scope).get(bin=name)
        context |= _oil_gas_context(services.oil_gas_balance(subject, kind, start, end))
    elif kind == "object" and name in objects:
        context |= _energy_context(services.energy_balance(objects[name], start, end))
    return render(request, "balances/page.html", context)


def _oil_gas_context(found) -> dict:
    labels = {line: gettext(text) for line, text in LINE_LABELS.items()}
    days = [d.isoformat() for d, _ in found.days]
    series = [{"name": labels[line], "x": days, "y": [round(day.flows.get(line, 0.0), 3) for _, day in found.days],
               "type": "bar"} for line in INFLOWS]  # fmt: skip
    series += [{"name": labels[line], "x": days, "y": [-round(day.flows.get(line, 0.0), 3) for _, day in found.days],
                "type": "bar"} for line in OUTFLOWS]  # fmt: skip
    series.append({"name": gettext("change in stock"), "x": days, "type": "scatter", "mode": "lines+markers",
                   "y": [round(day.stock_end - day.stock_begin, 3) for _, day in found.days]})  # fmt: skip
    series.append({"name": gettext("imbalance"), "x": days, "type": "scatter", "mode": "lines+markers",
                   "y": [round(day.imbalance, 3) for _, day in found.days]})  # fmt: skip
    return {
        "oil_gas": found, "unit": "m³", "lines": [labels[line] for line in (*INFLOWS, *OUTFLOWS)],
        "rows": [{"day": d, "flows": [day.flows.get(line, 0.0) for line in (*INFLOWS, *OUTFLOWS)], "b": day}
                 for d, day in found.days],
        "line_labels": labels,
        "chart": {"series": series, "unit": "m³", "barmode": "relative"},
    }  # fmt: skip


def _energy_context(found) -> dict:
    days = [d.isoformat() for d, _ in found.days]
    series = [
        {"name": gettext("input"), "x": days, "y": [round(day.input, 3) for _, day in found.days], "type": "bar"},
        {"name": gettext("sum of outputs"), "x": days, "y": [round(day.outputs, 3) for _, day in found.days],
         "type": "bar"},
        {"name": gettext("losses, %"), "x": days, "yaxis": "y2", "type": "scatter", "mode": "lines+markers",
         "y": [None if day.loss_pct is None else round(day.loss_pct, 2) for _, day in found.days]},
    ]  # fmt: skip
    unit = "Gcal" if found.energy == Energy.HEAT else "kWh"
    return {
        "energy": found, "unit": unit,
        "rows": [{"day": d, "b": day, "violated": found.violated_on(day)} for d, day in found.days],
        "chart": {"series": series, "unit": unit, "barmode": "group", "y2": gettext("losses, %"),
                  "allowed": found.allowed_loss_pct},
    }  # fmt: skip
