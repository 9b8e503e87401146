"""Metering points in the cabinet: one list and one page for oil and gas devices and AMI meters alike.

The list answers "which points, in what state": filters (PointFilter), status and last value (from
the readings store, for the page on screen), group counts and exports. A point's page answers
"what did it measure and is it well": key facts and charts above the fold, the attributes in a
grid, then its values, its arrivals and, for a meter, its events.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.cabinet.readings_selection import selection_from
from egsu.cabinet.views_readings import DATA_MODULES, query_without_page, readings_context
from egsu.choices import label
from egsu.clock import astana_date
from egsu.monitoring.models import PointDay
from egsu.points.filters import GROUPS, PointFilter
from egsu.points.status import statuses
from egsu.quantities import info as quantity_info
from egsu.vocabulary import Energy, Interval

PAGE_SIZE = 50
EVENTS_SHOWN = 20


def energy_links(scope, current: str) -> list[dict]:
    """The energy switch: all points, then every energy whose points the scope may see."""
    shown = gate.energies(scope)
    links = [{"energy": e, "label": label(e), "current": e == current} for e in shown]
    if len(shown) > 1:
        links.insert(0, {"energy": "", "label": gettext("All energies"), "current": not current})
    return links


def group_counts(points, group: str) -> list[dict]:
    """Per group: how many points, how many active (AMI-10 statistics of meters)."""
    if not group:
        return []
    key, name = GROUPS[group]
    rows = (
        points.order_by()
        .values(key, name)
        .annotate(total=Count("pk"), active_count=Count("pk", filter=Q(active=True)))
        .order_by(key)
    )
    return [{"key": r[key], "label": _group_label(group, r[name]), "total": r["total"], "active": r["active_count"]}
            for r in rows]  # fmt: skip


def _group_label(group: str, value) -> str:
    if group == "energy":
        return label(value)
    if isinstance(value, bool):
        return str(_yes_no(value))
    return value if value not in ("", None) else "—"


def _yes_no(value: bool) -> str:
    return gettext("yes") if value else gettext("no")


@cabinet_view(any_of=DATA_MODULES)
def point_list(request):
    scope = request.scope
    found = PointFilter.for_scope(scope, request.GET)
    points = found.points()
    group = found.grouping
    page = Paginator(points, PAGE_SIZE).get_page(request.GET.get("page"))
    on_page = list(page.object_list)
    status = statuses(on_page)
    key = GROUPS[group][1] if group else None
    items = [
        {
            "point": point,
            "status": status[point.pk],
            "group_label": _group_label(group, _path(point, key)) if key else None,
        }
        for point in on_page
    ]
    energy = request.GET.get("energy", "")
    return render(
        request,
        "points/list.html",
        {
            "filter": found,
            "page": page,
            "items": items,
            "group": group,
            "groups": group_counts(points, group),
            "query": query_without_page(request),
            "energies": energy_links(scope, energy),
            "energy": energy,
            "export_params": {k: v for k, v in request.GET.items() if k != "page"},
            "can_export": scope.has(Module.REPORTS),
        },
    )


def _path(obj, path: str):
    for part in path.split("__"):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


@cabinet_view(any_of=DATA_MODULES)
def point_detail(request, pk: int):
    scope = request.scope
    point = get_object_or_404(
        gate.points(scope).select_related("subject", "supplier", "meter", "device"), pk=pk
    )
    status = statuses([point])[point.pk]
    data = request.GET.copy()
    if (
        not data.get("end") and status.last_period is not None
    ):  # open on the newest data, not on an empty today
        data["end"] = astana_date(status.last_period).isoformat()
    # its own reporting interval: daily records are not summed in with the 2-hourly ones
    if "interval" not in data and point.intervals:
        data["interval"] = min(point.intervals, key=lambda code: Interval(code).step)
    selection, _points, period = selection_from(scope, data, point=point)
    context = readings_context(scope, selection, request.GET.get("page"))
    newest: dict[str, object] = {}  # one key fact per quantity: its newest value at the page's interval
    for row in status.last_rows:
        if selection.interval and row.interval != selection.interval:
            continue
        if row.key.quantity not in newest or row.period_start > newest[row.key.quantity].period_start:
            newest[row.key.quantity] = row
    last_values = [{"row": row, "label": _quantity_label(code)} for code, row in sorted(newest.items())]
    context.update(
        {
            "point": point,
            "status": status,
            "last_values": last_values,
            "form": period,
            "query": query_without_page(request),
            "intervals": [label(code) for code in point.intervals],
            "arrivals": _arrivals(point, selection.start_date, selection.end_date),
            "events": _events(point),
            "energy_label": label(point.energy),
            "verification": _verification(point),
        }
    )
    return render(request, "points/detail.html", context)


def _verification(point):
    """OGM-09: a device past its verification date is flagged on its values (egsu.schemes.registers)."""
    from egsu.schemes.registers import verification_state

    return verification_state(point)


def _quantity_label(code: str) -> str:
    found = quantity_info(code)
    return gettext(found.label) if found else code


def _arrivals(point, start, end) -> dict:
    """What arrived for this point in the period, from its daily rollup (on time, late, rejected)."""
    sums = PointDay.objects.filter(point=point, day__gte=start, day__lte=end).aggregate(
        on_time=Sum("on_time"), late=Sum("late"), rejected=Sum("rejected")
    )
    return {name: value or 0 for name, value in sums.items()}


def _events(point) -> list:
    """A meter's newest events and alarms (MTR-06..10); oil and gas devices have none."""
    if point.meter_id is None:
        return []
    return list(point.meter.events.order_by("-occurred_at")[:EVENTS_SHOWN])


# ---------------------------------------------------------------- the old addresses, kept working


@cabinet_view(any_of=DATA_MODULES)
def device_redirect(request, pk: int):
    point = get_object_or_404(gate.points(request.scope), device_id=pk)
    return redirect("cabinet:point", pk=point.pk)


@cabinet_view(any_of=DATA_MODULES)
def meter_redirect(request, pk: int):
    point = get_object_or_404(gate.points(request.scope), meter_id=pk)
    return redirect("cabinet:point", pk=point.pk)


@cabinet_view(any_of=DATA_MODULES)
def devices_redirect(request):
    """/cabinet/devices/?energy=… was two lists; it is the one list of metering points now."""
    query = request.GET.copy()
    if query.get("energy") is None:
        query["energy"] = Energy.OIL_GAS
    return redirect(f"{_list_url()}?{query.urlencode()}")


def _list_url() -> str:
    return reverse("cabinet:points")
