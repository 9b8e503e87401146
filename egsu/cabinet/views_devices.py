"""Device pages (issue 5 item 3): the list with status and last update, and one device's readings."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.cabinet.device_list import (
    ENERGY_LABELS,
    GROUPS,
    METER_GROUPS,
    PAGE_SIZE,
    DeviceFilterForm,
    MeterFilterForm,
    device_status,
    filtered_devices,
    filtered_meters,
    group_counts,
    meter_group_counts,
    with_last_meter_reading,
    with_last_reading,
)
from egsu.cabinet.readings_selection import selection_from
from egsu.cabinet.views_readings import query_without_page, readings_context
from egsu.clock import astana_date, astana_midnight, to_astana, utcnow
from egsu.readings.store import Quality


def _energy_links(scope, current: str) -> list[dict]:
    """The energy switch: oil and gas devices, and the meters of each energy the scope may see."""
    shown = (["oil_gas"] if scope.has(Module.OIL_GAS) else []) + gate.meter_energies(scope)
    return [{"energy": e, "label": ENERGY_LABELS[e], "current": e == current} for e in shown]


@cabinet_view()
def device_list(request):
    """Oil and gas devices by default; ?energy=electricity|heat|gas lists that energy's AMI meters."""
    scope = request.scope
    energy = request.GET.get("energy") or "oil_gas"
    if energy in gate.METER_MODULES:
        gate.require(scope, gate.METER_MODULES[energy])
        return _meter_list(request, energy)
    gate.require(scope, Module.OIL_GAS)
    form = DeviceFilterForm(scope, request.GET or None)
    devices = filtered_devices(scope, form)
    group = form.cleaned_data.get("group", "") if form.is_bound and form.is_valid() else ""
    page = Paginator(devices, PAGE_SIZE).get_page(request.GET.get("page"))
    now = utcnow()
    items = []
    for device in page.object_list:
        label = _path_value(device, GROUPS[group][1]) if group else None
        items.append({"device": device, "status": device_status(device, now), "group_label": label})
    return render(
        request,
        "cabinet/devices/list.html",
        {
            "form": form,
            "page": page,
            "items": items,
            "group": group,
            "groups": group_counts(devices, group),
            "query": query_without_page(request),
            "export_params": {k: v for k, v in request.GET.items() if k != "page"},
            "can_export": scope.has(Module.REPORTS),
            "energies": _energy_links(scope, "oil_gas"),
        },
    )


def _meter_list(request, energy: str):
    scope = request.scope
    form = MeterFilterForm(request.GET or None)
    meters = filtered_meters(scope, energy, form)
    group = form.cleaned_data.get("group", "") if form.is_bound and form.is_valid() else ""
    page = Paginator(meters, PAGE_SIZE).get_page(request.GET.get("page"))
    now = utcnow()
    items = [
        {
            "meter": meter,
            "status": device_status(meter, now),
            "group_label": _path_value(meter, METER_GROUPS[group][1]) if group else None,
        }
        for meter in page.object_list
    ]
    return render(
        request,
        "cabinet/devices/meters.html",
        {
            "form": form,
            "energy": energy,
            "energy_label": ENERGY_LABELS[energy],
            "energies": _energy_links(scope, energy),
            "page": page,
            "items": items,
            "group": group,
            "groups": meter_group_counts(meters, group),
            "query": query_without_page(request),
        },
    )


def _path_value(obj, path: str):
    """Follow an ORM path (facility__subject__name) on a loaded object; None past a missing link."""
    for part in path.split("__"):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


@cabinet_view(Module.OIL_GAS)
def device_detail(request, pk: int):
    scope = request.scope
    devices = gate.devices(scope).select_related(
        "facility__subject", "device_type", "product_type", "pipeline"
    )
    device = get_object_or_404(with_last_reading(scope, devices), pk=pk)
    selection, form = selection_from(scope, request.GET, device=device)
    context = readings_context(scope, selection, request.GET.get("page"))
    context.update(
        {
            "device": device,
            "status": device_status(device),
            "form": form,
            "query": query_without_page(request),
        }
    )
    return render(request, "cabinet/devices/detail.html", context)


class MeterPeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


METER_PAGE_ROWS = 100
METER_MAX_DAYS = 31


@cabinet_view()
def meter_detail(request, pk: int):
    """One AMI meter: attributes, status, and its channels' values as charts and a table (AMI-07)."""
    scope = request.scope
    meters = gate.meters(scope).select_related("metering_object", "subject")
    meter = get_object_or_404(with_last_meter_reading(scope, meters), pk=pk)
    form = MeterPeriodForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    last_day = astana_date(meter.last_period) if meter.last_period else astana_date(utcnow())
    end = data.get("end") or last_day
    start = data.get("start") or end
    start = max(start, end - timedelta(days=METER_MAX_DAYS - 1))
    series = gate.meter_readings(scope).filter(object_id=meter.metering_object.code, device_id=str(meter.pk))
    newer = series.filter(
        quantity=OuterRef("quantity"),
        interval=OuterRef("interval"),
        period_start=OuterRef("period_start"),
        revision__gt=OuterRef("revision"),
    )
    rows = (
        series.filter(
            period_start__gte=astana_midnight(start),
            period_start__lt=astana_midnight(end + timedelta(days=1)),
        )
        .filter(~Exists(newer))
        .order_by("quantity", "period_start")
    )
    values = list(
        rows.values_list("quantity", "unit", "interval", "period_start", "value", "quality", "revision")
    )
    charts: dict[tuple[str, str], dict] = {}
    for quantity, unit, _interval, start_at, value, _quality, _revision in values:
        chart = charts.setdefault(
            (quantity, unit),
            {"id": f"chart-{len(charts)}", "quantity": quantity, "unit": unit, "x": [], "y": []},
        )
        chart["x"].append(to_astana(start_at).strftime("%Y-%m-%d %H:%M"))
        chart["y"].append(float(value))
    page = Paginator(values, METER_PAGE_ROWS).get_page(request.GET.get("page"))
    estimated = sum(1 for *_, quality, _revision in values if quality == Quality.ESTIMATED)  # AMI-16
    return render(
        request,
        "cabinet/devices/meter.html",
        {
            "meter": meter,
            "status": device_status(meter),
            "channels": meter.channels.order_by("code"),
            "form": form,
            "start": start,
            "end": end,
            "charts": list(charts.values()),
            "page": page,
            "rows": page.object_list,
            "estimated": estimated,
            "query": query_without_page(request),
        },
    )
