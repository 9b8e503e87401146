"""Connection pages: the applications, a new application (Table 1), one application with its steps."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.connections import fields as table1
from egsu.connections import services
from egsu.schemes.services import WorkflowError, identity_from_key_store


def _sections() -> list[dict]:
    sections: dict[str, list] = {}
    for field in table1.FIELDS:
        sections.setdefault(field.section, []).append(field)
    return [{"title": _(title), "fields": [{"field": f, "label": _(f.label)} for f in items]}
            for title, items in sections.items()]  # fmt: skip


@require_GET
@cabinet_view(Module.OIL_GAS)
def application_list(request):
    scope = request.scope
    return render(request, "connections/list.html", {
        "applications": services.applications(scope), "may_file": services.may_file(scope),
    })  # fmt: skip


@require_http_methods(["GET", "POST"])
@cabinet_view(Module.OIL_GAS)
def new(request):
    scope = request.scope
    if not services.may_file(scope):
        raise PermissionDenied("only a subject files an application")
    subjects = gate.subjects(scope)
    values = {f.code: f.default for f in table1.FIELDS}
    if request.method == "POST":
        values = {f.code: request.POST.get(f.code, "") for f in table1.FIELDS}
        subject = get_object_or_404(subjects, pk=request.POST.get("subject"))
        try:
            certificate, key_store = request.FILES.get("certificate"), request.FILES.get("key_store")
            if certificate is None or key_store is None:
                raise WorkflowError(_("Attach the transport certificate and choose your key store."))
            identity = identity_from_key_store(key_store.read(), request.POST.get("password", ""))
            app = services.file(scope, request.user, subject, values, test_password=request.POST.get("test_password", ""),
                                production_password=request.POST.get("production_password", ""),
                                certificate=certificate.read(), identity=identity)  # fmt: skip
        except WorkflowError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The application is signed and filed."))
            return redirect("connections:application", pk=app.pk)
    return render(
        request, "connections/new.html", {"sections": _sections(), "values": values, "subjects": subjects}
    )


@require_GET
@cabinet_view(Module.OIL_GAS)
def application(request, pk: int):
    scope = request.scope
    app = get_object_or_404(services.applications(scope), pk=pk)
    labels = {f.code: _(f.label) for f in table1.FIELDS}
    return render(request, "connections/application.html", {
        "app": app, "rows": [(labels[code], value) for code, value in app.fields.items() if code in labels],
        "steps": app.steps.select_related("actor"), "operate": services.may_operate(scope),
        "file": services.may_file(scope), "exchange": services.exchange(app) if app.test_from else None,
        "service_key": table1.SERVICE_KEY,
    })  # fmt: skip


@require_POST
@cabinet_view(Module.OIL_GAS)
def step(request, pk: int, action: str):
    scope, user = request.scope, request.user
    app = get_object_or_404(services.applications(scope), pk=pk)
    try:
        if action == "refuse":
            services.refuse(scope, user, app, request.POST.get("note", ""))
        elif action == "test_access":
            services.grant_test_access(scope, user, app)
        elif action == "go_live":
            services.go_live(scope, user, app, _date(request.POST.get("live_on")))
        elif action in ("act", "sign_act"):
            key_store = request.FILES.get("key_store")
            if key_store is None:
                raise WorkflowError(_("Choose your key store (PKCS#12 file) to sign this step."))
            identity = identity_from_key_store(key_store.read(), request.POST.get("password", ""))
            if action == "act":
                live_on = request.POST.get("live_on")
                services.draw_act(scope, user, app, identity, live_on=_date(live_on) if live_on else None)
            else:
                services.sign_act(scope, user, app, identity)
        else:
            raise PermissionDenied("unknown step")
        messages.success(request, _("Done."))
    except WorkflowError as exc:
        messages.error(request, exc.message)
    return redirect("connections:application", pk=pk)


def _date(text) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError as exc:
        raise WorkflowError(_("Enter a date, for example 2026-03-01.")) from exc


@require_GET
@cabinet_view(Module.OIL_GAS)
def act_pdf(request, pk: int):
    app = get_object_or_404(services.applications(request.scope).exclude(act_sha256=""), pk=pk)
    response = HttpResponse(bytes(app.act_pdf), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, f"testing-act-{app.login}.pdf")
    return response
