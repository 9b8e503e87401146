"""The readings page: every energy's values, trends and totals (AMI-09, DIG-14), through the store."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render

from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.access.scope import Scope
from egsu.cabinet.readings_selection import Selection, StoreRows, chart_bucket, reading_query, selection_from
from egsu.cabinet.readings_stats import quantity_stats
from egsu.choices import label
from egsu.readings.services import get_store
from egsu_core.clock import to_astana

PAGE_SIZE = 100
# Any energy's module opens the readings page; what it shows is the scope's (egsu.access.scope.points).
DATA_MODULES = (Module.OIL_GAS, Module.POWER, Module.HEAT)


def readings_context(scope: Scope, selection: Selection, page_number) -> dict:
    """What the table, the charts, the summary and the export buttons need; shared with the point page."""
    store = get_store()
    query = reading_query(scope, selection)
    previous = reading_query(scope, selection.previous())
    page = Paginator(StoreRows(query, store), PAGE_SIZE).get_page(page_number)
    stats, trends = quantity_stats(store, query, previous, chart_bucket(selection))
    units = {s.quantity: s.unit for s in stats}
    charts = [
        {
            "id": f"chart-{index}",
            "quantity": quantity,
            "unit": units[quantity],
            "x": [to_astana(row.bucket_start).strftime("%Y-%m-%d %H:%M") for row in rows],
            "y": [float(row.sum) for row in rows],
        }
        for index, (quantity, rows) in enumerate(sorted(trends.items()))
    ]
    return {
        "selection": selection,
        "page": page,
        "rows": page.object_list,
        "stats": stats,
        "charts": charts,
        "bucket_label": label(chart_bucket(selection)),
        "export_params": selection.as_params(),
        "can_export": scope.has(Module.REPORTS),
    }


def query_without_page(request) -> str:
    """The current filters as a query string, for the pager's links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@cabinet_view(any_of=DATA_MODULES)
def reading_list(request):
    selection, points, period = selection_from(request.scope, request.GET)
    context = readings_context(request.scope, selection, request.GET.get("page"))
    context.update({"filter": points, "form": period, "query": query_without_page(request)})
    return render(request, "cabinet/readings/list.html", context)
