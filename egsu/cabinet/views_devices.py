"""Device pages (issue 5 item 3): the list with status and last update, and one device's readings."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.cabinet.device_list import (
    GROUPS,
    PAGE_SIZE,
    DeviceFilterForm,
    device_status,
    filtered_devices,
    group_counts,
    with_last_reading,
)
from egsu.cabinet.readings_selection import selection_from
from egsu.cabinet.views_readings import query_without_page, readings_context
from egsu.clock import utcnow


@cabinet_view(Module.OIL_GAS)
def device_list(request):
    scope = request.scope
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
