"""Information request pages: the list (the authorized body: all; a state body: its own), filing,
a request's page with the decision or the package, and the package download."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from egsu.access import audit as audit_log
from egsu.access import scope as gate
from egsu.access.audit import Event
from egsu.access.decorators import cabinet_view
from egsu.inforequests import services
from egsu.inforequests.forms import DecisionForm, RequestForm


def _allowed(request) -> None:
    scope = request.scope
    if not (gate.may_file_info_request(scope) or gate.may_decide_info_request(scope)):
        raise PermissionDenied("information requests are the state bodies' and the authorized body's")


@require_GET
@cabinet_view()
def request_list(request):
    _allowed(request)
    scope = request.scope
    return render(request, "inforequests/list.html", {
        "requests": gate.info_requests(scope).prefetch_related("subjects")[:200],
        "may_file": gate.may_file_info_request(scope), "deciding": gate.may_decide_info_request(scope),
    })  # fmt: skip


@cabinet_view()
def request_new(request):
    scope = request.scope
    if not gate.may_file_info_request(scope):
        raise PermissionDenied("only a state body's user files information requests (ACC-16)")
    profile = getattr(request.user, "profile", None)
    form = RequestForm(request.POST or None, initial={"organisation": getattr(profile, "organisation", "")})
    if request.method == "POST" and form.is_valid():
        try:
            found = services.file_request(scope, request.user, **form.cleaned_data, request=request)
        except services.RequestError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Your request was filed; the authorized body will decide on it."))
            return redirect("inforequests:detail", pk=found.pk)
    return render(request, "inforequests/new.html", {"form": form}, status=400 if form.errors else 200)


def _found(request, pk: int):
    found = gate.info_requests(request.scope).filter(pk=pk).first()
    if found is None:
        raise Http404("no such request")
    return found


@cabinet_view()
def request_detail(request, pk: int):
    _allowed(request)
    scope = request.scope
    found = _found(request, pk)
    deciding = gate.may_decide_info_request(scope) and found.status == found.Status.SUBMITTED
    form = DecisionForm(request.POST or None) if deciding else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("only the authorized body decides a submitted request (ACC-16)")
        if form.is_valid():
            try:
                services.decide(scope, request.user, found, approve=form.cleaned_data["decision"] == "approve",
                                reasons=form.cleaned_data["reasons"], request=request)  # fmt: skip
            except services.RequestError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("The decision was recorded and the requester told."))
                return redirect("inforequests:detail", pk=found.pk)
    return render(request, "inforequests/detail.html", {
        "found": found, "form": form, "is_requester": found.requester_id == scope.user_id,
    }, status=400 if form is not None and form.errors else 200)  # fmt: skip


@require_GET
@cabinet_view()
def package_download(request, pk: int, fmt: str):
    _allowed(request)
    found = _found(request, pk)
    path = services.package_path(request.scope, found, fmt)
    audit_log.audit(Event.INFO_REQUEST_DOWNLOADED, request=request, obj=found, summary=f"package as {fmt}")
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)
