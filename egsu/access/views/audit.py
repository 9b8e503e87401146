"""The audit log page and its CSV download (DIG-21: events kept at least 12 months)."""

from __future__ import annotations

import csv
import json

from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render

from egsu.access import audit as trail
from egsu.access import scope as gate
from egsu.access.audit import Event
from egsu.access.decorators import cabinet_view
from egsu.access.forms import AuditFilterForm
from egsu.access.roles import Module
from egsu.spreadsheets import csv_cell
from egsu_core.clock import format_astana

PAGE_SIZE = 50
CSV_HEADER = ["time (Astana)", "event", "actor", "object type", "object id", "summary", "address", "source",
              "before", "after"]  # fmt: skip


def _filtered(request):
    form = AuditFilterForm(request.GET or None)
    events = gate.audit_events(request.scope)
    if form.is_bound:
        events = trail.search(events, **form.search_kwargs()) if form.is_valid() else events.none()
    return form, events


@cabinet_view(Module.AUDIT, edit=True)
def audit_list(request):
    form, events = _filtered(request)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "access/audit_list.html", {"form": form, "page": page, "query": query.urlencode()})


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (user names and summaries are user input)."""
    return csv_cell("" if value is None else str(value))


class _Echo:
    def write(self, value):
        return value


def _rows(events):
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(CSV_HEADER)  # BOM: spreadsheets then read UTF-8 (Kazakh, Russian)
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow([_cell(v) for v in (
            format_astana(event.occurred_at), event.event, event.actor_name, event.object_type, event.object_id,
            event.summary, event.remote_addr, event.source,
            "" if event.before is None else json.dumps(event.before, ensure_ascii=False, sort_keys=True),
            "" if event.after is None else json.dumps(event.after, ensure_ascii=False, sort_keys=True),
        )])  # fmt: skip


@cabinet_view(Module.AUDIT, edit=True)
def audit_export(request):
    """The filtered audit as CSV, all rows; the download itself is audited as an export."""
    form, events = _filtered(request)
    filters = {k: v for k, v in request.GET.items() if k != "page" and v}
    trail.audit(
        Event.EXPORT, request=request, object_type="access.auditevent",
        summary=f"audit log CSV, {events.count()} events", after={"filters": filters},
    )  # fmt: skip
    response = StreamingHttpResponse(_rows(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit.csv"'
    return response
