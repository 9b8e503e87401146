"""Arrivals pages: the national/regional/subject picture and one subject's "what it still owes"."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module, Role
from egsu.alarms.models import ACTIVE_STATES
from egsu.monitoring import owed as owed_slots
from egsu.monitoring import summaries
from egsu.monitoring.forms import ArrivalsForm, PeriodForm
from egsu.registry.models import Subject

PAGE_SIZE = 50
OWED_SHOWN = 300
ALARMS_SHOWN = 10


def _sorted(rows, sort: str):
    if sort == "name":
        return sorted(rows, key=lambda r: str(r.label).lower())
    if sort == "missing":
        return sorted(rows, key=lambda r: (-r.missing, str(r.label).lower()))
    reverse = sort.startswith("-")
    fill = -1.0 if reverse else 101.0  # nothing expected sorts last either way
    return sorted(
        rows,
        key=lambda r: (r.completeness if r.completeness is not None else fill, str(r.label).lower()),
        reverse=reverse,
    )


@cabinet_view(Module.MONITORING)
@require_GET
def arrivals(request):
    scope = request.scope
    if scope.role == Role.SUBJECT and len(scope.subject_bins) == 1 and not request.GET:
        # A subject user lands on its own page: "what I still owe".
        return redirect("monitoring:subject", bin=next(iter(scope.subject_bins)))
    form = ArrivalsForm(request.GET)
    if not form.is_valid():
        return render(request, "monitoring/arrivals.html", {"form": form, "rows": []}, status=400)
    data = form.cleaned_data
    rows = summaries.arrivals_summary(
        scope, start=data["start"], end=data["end"], group_by=data["group"], energy=data.get("energy") or None
    )
    rows = _sorted(rows, data["sort"])
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = {k: v for k, v in data.items() if k in ("start", "end", "group", "sort", "energy")}
    chart = [
        {"label": str(r.label), "completeness": r.completeness, "timeliness": r.timeliness}
        for r in page.object_list
    ]
    totals = summaries.SummaryRow(key="total", label="")
    for r in rows:
        totals.expected += r.expected
        totals.on_time += r.on_time
        totals.late += r.late
        totals.rejected += r.rejected
    return render(request, "monitoring/arrivals.html", {
        "form": form, "data": data, "page": page, "rows": page.object_list, "chart": chart,
        "totals": totals, "group": data["group"],
        "can_export": scope.has(Module.REPORTS),
        "export_params": {k: str(v) for k, v in query.items() if v not in ("", None)},
        "query": urlencode({k: str(v) for k, v in query.items()}),
        "period_query": urlencode({"start": str(data["start"]), "end": str(data["end"])}),
        "sort_links": {
            name: "?" + urlencode({**{k: str(v) for k, v in query.items()}, "sort": key})
            for name, key in (("completeness", "completeness"), ("desc", "-completeness"), ("missing", "missing"),
                              ("name", "name"))
        },
    })  # fmt: skip


def period_score(scope, found, start, end) -> dict | None:
    """The subject's data-quality score over the period (egsu.vee: values not flagged, weighted)."""
    from django.db.models import Sum

    from egsu.access import scope as gate

    sums = (
        gate.quality_days(scope)
        .filter(subject=found, day__gte=start, day__lte=end)
        .aggregate(checked=Sum("checked"), flagged=Sum("flagged"), findings=Sum("findings"))
    )
    if not sums["checked"]:
        return None
    score = 100.0 * (sums["checked"] - (sums["flagged"] or 0)) / sums["checked"]
    return {"score": score, "findings": sums["findings"] or 0}


@cabinet_view(Module.MONITORING)
@require_GET
def subject(request, bin):  # noqa: A002 - the URL names it so
    scope = request.scope
    try:
        found = owed_slots.visible_subject(scope, bin)
    except Subject.DoesNotExist:
        raise Http404("no such subject in your scope") from None
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return render(request, "monitoring/subject.html", {"form": form, "subject": found}, status=400)
    data = form.cleaned_data
    start, end = data["start"], data["end"]
    summary = summaries.arrivals_summary(scope, start=start, end=end, group_by="subject", subject=found)
    devices = sorted(
        summaries.arrivals_summary(scope, start=start, end=end, group_by="device", subject=found),
        key=lambda r: r.label,
    )
    from egsu.schemes.registers import overdue_point_ids

    overdue = overdue_point_ids([row.key for row in devices])  # OGM-09: flagged in the arrivals
    for row in devices:
        row.extra["verification_overdue"] = row.key in overdue
    owed = owed_slots.owed(scope, found, start=start, end=end, limit=OWED_SHOWN + 1)
    back = reverse("monitoring:arrivals") + "?" + urlencode({"start": str(start), "end": str(end)})
    return render(request, "monitoring/subject.html", {
        "form": form, "subject": found, "data": data,
        "summary": summary[0] if summary else summaries.SummaryRow(key=found.pk, label=str(found)),
        "devices": devices, "owed": owed[:OWED_SHOWN], "owed_more": len(owed) > OWED_SHOWN,
        "back": back if scope.all_subjects or len(scope.subject_bins) > 1 else "",
        "alarm_rows": [{"alarm": a} for a in gate.alarms(scope).filter(subject=found, state__in=ACTIVE_STATES)
                       .select_related("subject", "point").order_by("-last_seen")[:ALARMS_SHOWN]],
        "quality": period_score(scope, found, start, end),
    })  # fmt: skip
