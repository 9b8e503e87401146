"""The readings page (issue 5 item 4): tables and trend charts with totals, max, min and dynamics."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render

from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.access.scope import Scope
from egsu.cabinet.readings_selection import (
    Selection,
    as_table_row,
    latest_readings,
    row_values,
    selection_from,
    summarize,
)
from egsu.clock import to_astana

PAGE_SIZE = 100


def readings_context(scope: Scope, selection: Selection, page_number) -> dict:
    """What the readings table, the charts and the export buttons need; shared with the device page."""
    rows = latest_readings(scope, selection)
    page = Paginator(row_values(rows), PAGE_SIZE).get_page(page_number)
    summary, stats = summarize(scope, selection)
    charts = [
        {
            "id": f"chart-{index}",
            "quantity": quantity,
            "unit": unit,
            "x": [to_astana(start).strftime("%Y-%m-%d %H:%M") for start, _ in points],
            "y": [float(value) for _, value in points],
        }
        for index, ((quantity, unit), points) in enumerate(summary.trends().items())
    ]
    return {
        "selection": selection,
        "page": page,
        "rows": [as_table_row(values) for values in page.object_list],
        "stats": stats,
        "charts": charts,
        "export_params": selection.as_params(),
        "can_export": scope.has(Module.REPORTS),
    }


def query_without_page(request) -> str:
    """The current filters as a query string, for the pager's links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@cabinet_view(Module.OIL_GAS)
def reading_list(request):
    selection, form = selection_from(request.scope, request.GET)
    context = readings_context(request.scope, selection, request.GET.get("page"))
    context.update({"form": form, "query": query_without_page(request)})
    return render(request, "cabinet/readings/list.html", context)
