"""Export endpoints: start an export of what is on screen, follow a job's progress, download its file."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from egsu.access import audit as audit_log
from egsu.access.audit import Event
from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.cabinet.readings_selection import PeriodForm
from egsu.cabinet.views_totals import TotalsForm
from egsu.monitoring.forms import ArrivalsForm
from egsu.points.filters import PointFilter
from egsu.reports import services
from egsu.reports.models import ExportJob

# Filters a screen may pass on: those of the point filter and of the period, and the point of a
# point's page; anything else in the form (csrf, buttons) is not a filter.
FILTER_NAMES = frozenset({
    *PointFilter.base_filters, *PeriodForm.base_fields, *TotalsForm.base_fields, *ArrivalsForm.base_fields, "point",
})  # fmt: skip


@require_POST
@cabinet_view(Module.REPORTS)
def export_start(request):
    what, fmt = request.POST.get("what", ""), request.POST.get("format", "")
    params = {name: value for name, value in request.POST.items() if name in FILTER_NAMES and value != ""}
    result = services.start_export(request.user, request.scope, what, fmt, params, request=request)
    if isinstance(result, ExportJob):
        return redirect("reports:job", pk=result.pk)
    response = HttpResponse(result.content, content_type=result.content_type)
    response["Content-Disposition"] = f'attachment; filename="{result.file_name}"'
    return response


def _job_for(request, pk: int) -> ExportJob:
    job = get_object_or_404(ExportJob, pk=pk)
    if not services.may_download(request.scope, job):
        raise Http404("no such export")  # someone else's job does not exist for you
    return job


@require_GET
@cabinet_view(Module.REPORTS)
def job_detail(request, pk: int):
    return render(request, "reports/job.html", {"job": _job_for(request, pk)})


@require_GET
@cabinet_view(Module.REPORTS)
def job_status(request, pk: int):
    job = _job_for(request, pk)
    body = {
        "status": job.status,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "percent": job.percent,
        "download_url": reverse("reports:download", args=[job.pk]) if job.status == job.Status.DONE else None,
    }
    return JsonResponse(body)


@require_GET
@cabinet_view(Module.REPORTS)
def job_download(request, pk: int):
    job = _job_for(request, pk)
    path = services.job_path(job) if job.file_name else None
    if job.status != ExportJob.Status.DONE or path is None or not path.is_file():
        raise Http404("the file is not ready")
    audit_log.audit(Event.EXPORT, obj=job, request=request, summary=f"downloaded {job.file_name}")
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=job.file_name.split("-", 1)[1],
        content_type=services.CONTENT_TYPES[job.format],
    )
