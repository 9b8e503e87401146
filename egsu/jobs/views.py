"""The operations page of the queue: workers alive, periodic jobs, recent jobs; a failed job queued again."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.jobs import services
from egsu.jobs.models import Job, Worker
from egsu.jobs.registry import load_schedule

PAGE_SIZE = 50


@cabinet_view(Module.OPERATIONS, edit=True)
def job_list(request):
    jobs = gate.jobs(request.scope)
    status = request.GET.get("status", "")
    if status in Job.Status.values:
        jobs = jobs.filter(status=status)
    runs = services.last_runs()
    periodic = [(entry, runs.get(entry.name)) for entry in load_schedule()]
    alive = set(services.live_workers().values_list("pk", flat=True))
    workers = [(w, w.pk in alive) for w in Worker.objects.filter(stopped_at__isnull=True)[:50]]
    return render(request, "jobs/jobs.html", {
        "health": services.health(), "periodic": periodic, "workers": workers, "status": status,
        "statuses": Job.Status.choices, "page": Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": f"status={status}" if status else "",
    })  # fmt: skip


@require_POST
@cabinet_view(Module.OPERATIONS, edit=True)
def job_retry(request, pk: int):
    job = get_object_or_404(gate.jobs(request.scope), pk=pk)
    try:
        services.retry(job, request=request, source="cabinet")
    except services.NotRetriable:
        messages.error(request, _("Only a failed job can be run again."))
    else:
        messages.success(request, _("The job is queued again."))
    return redirect("jobs:jobs")
