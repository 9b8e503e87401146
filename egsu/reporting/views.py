"""The reports library (by period and level), downloads in the reader's language, subscriptions, urgent reports."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from egsu.access import audit as audit_log
from egsu.access import scope as gate
from egsu.access.audit import Event
from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.reporting import render as drawing
from egsu.reporting import services
from egsu.reporting.forms import LibraryForm, ReportChoiceForm, SubscriptionForm
from egsu.reporting.models import Report, Subscription
from egsu_core.clock import utcnow

PAGE_SIZE = 50


@require_GET
@cabinet_view(Module.REPORTS)
def library(request):
    scope = request.scope
    form = LibraryForm(request.GET)
    found = gate.reports(scope).filter(status=Report.Status.BUILT)
    if form.is_valid():
        data = form.cleaned_data
        for name in ("level", "frequency", "kind"):
            if data[name]:
                found = found.filter(**{name: data[name]})
        if data["month"]:
            year, month = data["month"]
            found = found.filter(period_start__year=year, period_start__month=month)
    page = Paginator(found.order_by("-period_start", "level", "kind", "area"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "reporting/library.html", {
        "form": form, "page": page, "may_urgent": scope.can_edit,
        "urgent_form": ReportChoiceForm(scope) if scope.can_edit else None,
        "query": _without_page(request.GET),
    })  # fmt: skip


def _without_page(query) -> str:
    """The filters of the current address, for the pager's links."""
    kept = query.copy()
    kept.pop("page", None)
    return kept.urlencode()


def _report(request, pk: int) -> Report:
    report = gate.reports(request.scope).filter(pk=pk, status=Report.Status.BUILT).first()
    if report is None:
        raise Http404("no such report")  # out of scope is the same as absent
    return report


@require_GET
@cabinet_view(Module.REPORTS)
def report_detail(request, pk: int):
    report = _report(request, pk)
    sections = [
        {**s, "title_text": drawing.title_of(s["title"]), "id": f"report-chart-{n}"}
        for n, s in enumerate(report.figures.get("sections", []))
    ]
    charts = [{"id": s["id"], **s["chart"], "title": _(s["chart"]["title"]),
               "series": [{**x, "name": _(x["name"])} for x in s["chart"]["series"]]}
              for s in sections if s.get("chart")]  # fmt: skip
    return render(request, "reporting/report.html", {
        "report": report, "lines": drawing.header_lines(report), "sections": sections, "charts": charts,
    })  # fmt: skip


@require_GET
@cabinet_view(Module.REPORTS)
def report_download(request, pk: int, fmt: str):
    report = _report(request, pk)
    if fmt not in services.FORMATS:
        raise Http404("no such format")
    row = services.file_for(report, translation.get_language() or "kk", fmt)
    audit_log.audit(Event.EXPORT, request=request, obj=report, summary=f"report {report} as {fmt}")
    response = FileResponse((services.reports_dir() / row.file_name).open("rb"),
                            content_type=services.FORMATS[fmt][0], as_attachment=True,
                            filename=row.file_name.rpartition("/")[2])  # fmt: skip
    return response


@require_POST
@cabinet_view(Module.REPORTS, edit=True)
def urgent_start(request):
    form = ReportChoiceForm(request.scope, request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("reporting:library")
    data = form.cleaned_data
    report = services.urgent(data["kind"], data["level"], data["area"],
                             reason=_("asked for by %(user)s") % {"user": request.user.get_username()})  # fmt: skip
    audit_log.audit(Event.REPORT_URGENT, request=request, obj=report, summary=f"urgent report {report}")
    messages.success(
        request, _("The urgent report is being built; it appears in the library within a minute.")
    )
    return redirect("reporting:library")


@cabinet_view(Module.REPORTS)
def subscriptions(request):
    scope = request.scope
    form = SubscriptionForm(scope, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        subscription, created = Subscription.objects.get_or_create(
            user=request.user, kind=data["kind"], frequency=data["frequency"], level=data["level"],
            area=data["area"], defaults={"created_at": utcnow()},
        )  # fmt: skip
        if created:
            audit_log.audit(Event.REPORT_SUBSCRIBED, request=request, obj=subscription,
                            after={k: data[k] for k in ("kind", "frequency", "level", "area")})  # fmt: skip
        messages.success(request, _("Subscribed. Each new report of this kind is e-mailed to you."))
        return redirect("reporting:subscriptions")
    own = Subscription.objects.filter(user=request.user).order_by("kind", "frequency", "level", "area")
    return render(request, "reporting/subscriptions.html", {
        "form": form, "subscriptions": own, "has_email": bool(request.user.email),
    }, status=400 if request.method == "POST" else 200)  # fmt: skip


@require_POST
@cabinet_view(Module.REPORTS)
def subscription_delete(request, pk: int):
    subscription = get_object_or_404(Subscription, pk=pk, user=request.user)
    audit_log.audit(Event.REPORT_UNSUBSCRIBED, request=request, obj=subscription,
                    before={"kind": subscription.kind, "frequency": subscription.frequency,
                            "level": subscription.level, "area": subscription.area})  # fmt: skip
    subscription.delete()
    messages.success(request, _("Unsubscribed."))
    return redirect("reporting:subscriptions")
