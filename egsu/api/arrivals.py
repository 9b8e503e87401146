"""/api/v1/arrivals: what each subject or region owed, what arrived, on time or late (MON-01/02, INT-33/34).

The arrivals summaries of egsu.monitoring (the same rows as the arrivals page), through the gate:
the MONITORING module, as for the page.
"""

from __future__ import annotations

from ninja import Query, Router, Schema
from ninja.errors import HttpError

from egsu.access.roles import Module
from egsu.api import pages
from egsu.monitoring.forms import ArrivalsForm
from egsu.monitoring.summaries import arrivals_summary

router = Router(tags=["arrivals"])
COLUMNS = ("key", "label", "bin", "region", "expected", "arrived", "on_time", "late", "missing", "rejected",
           "completeness", "timeliness")  # fmt: skip


class ArrivalParams(Schema):
    start: str | None = None
    end: str | None = None
    energy: str | None = None
    group: str = "subject"
    cursor: str | None = None
    limit: int | None = None
    format: str | None = None


@router.get("", summary="Arrivals per subject, region or the whole country over Astana days start..end")
def arrivals(request, params: Query[ArrivalParams]):
    scope = pages.scope_of(request, any_of=(Module.MONITORING,))
    data = pages.filter_data(request)
    data["group"] = request.GET.get("group") or "subject"
    form = ArrivalsForm(data)
    if not form.is_valid():
        raise HttpError(400, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    chosen = form.cleaned_data
    cursor = pages.cursor_of(request)
    if cursor is not None and (len(cursor) != 1 or not isinstance(cursor[0], str)):
        raise HttpError(400, "the cursor is not one this API gave")
    rows = arrivals_summary(scope, start=chosen["start"], end=chosen["end"], group_by=chosen["group"],
                            energy=chosen.get("energy") or None)  # fmt: skip
    rows = sorted(
        (row for row in rows if cursor is None or str(row.key) > cursor[0]), key=lambda r: str(r.key)
    )
    return pages.answer(request, items=iter(rows), key=lambda row: (str(row.key),), row=lambda row: row.as_dict(),
                        columns=COLUMNS, name="arrivals")  # fmt: skip
