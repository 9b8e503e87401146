"""Scheme pages: the list, a version (diagram, check, history, the next step), downloads.

Edges only: parse the request, call one service, render. Refusals: 403 (role) or 404 (not in scope).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.schemes import graph, services
from egsu.schemes.diagram import svg
from egsu.schemes.document import vocabulary_labels
from egsu.schemes.models import OPEN_FOR_REVIEW, SchemeStep, StepAction, VersionStatus
from egsu.schemes.services import WorkflowError


def _problem_text(problem: graph.Problem) -> str:
    return f"{problem.where}: {_(problem.text) % problem.params}"


@require_GET
@cabinet_view(Module.OIL_GAS)
def scheme_list(request):
    scope = request.scope
    day = services.today()
    rows = []
    for scheme in services.schemes(scope).prefetch_related("versions"):
        latest = scheme.versions.all()[0] if scheme.versions.all() else None
        approved = next((v for v in scheme.versions.all() if v.status == VersionStatus.APPROVED), None)
        left = (
            services.working_days_left(latest.deadline, day)
            if latest and latest.status in OPEN_FOR_REVIEW
            else None
        )
        rows.append({"scheme": scheme, "latest": latest, "approved": approved, "left": left})
    drawn = services.schemes(scope).values("facility_id")
    facilities = (
        gate.facilities(scope).exclude(pk__in=drawn).order_by("object_id")[:500]
        if services.may_draft(scope)
        else []
    )
    return render(request, "schemes/list.html", {"rows": rows, "facilities": facilities})


@require_POST
@cabinet_view(Module.OIL_GAS)
def create(request):
    facility = get_object_or_404(gate.facilities(request.scope), pk=request.POST.get("facility"))
    version = services.create_scheme(request.scope, request.user, facility)
    return redirect("schemes:version", pk=version.pk)


@require_GET
@cabinet_view(Module.OIL_GAS)
def version_detail(request, pk: int, *, nodes_text=None, flows_text=None, errors=()):
    scope = request.scope
    version = get_object_or_404(services.versions(scope), pk=pk)
    scheme = graph.Scheme.from_json(version.content or {})
    words = vocabulary_labels()
    status = version.status
    open_review = status in OPEN_FOR_REVIEW
    may_review = services.may_review(scope)
    may_draft = services.may_draft(scope)
    in_progress = version.scheme.versions.filter(status__in=[VersionStatus.DRAFT, *OPEN_FOR_REVIEW]).exists()
    names = {n.key: n.name for n in scheme.nodes}
    context = {
        "version": version,
        "versions": version.scheme.versions.all(),
        # markup built with html.escape()
        "diagram": mark_safe(svg(scheme, words, title=str(version.scheme.facility)) if scheme.nodes else ""),  # noqa: S308 (built with escape())  # nosec B703 B308
        "nodes": [{"node": n, "kind": words[f"kind:{n.kind.value}"]} for n in scheme.nodes],
        "flows": [
            {
                "flow": f,
                "source": names.get(f.source, f.source),
                "target": names.get(f.target, f.target),
                "medium": words[f"medium:{f.medium.value}"],
                "direction": words[f"direction:{f.direction.value}"],
            }
            for f in scheme.flows
        ],  # fmt: skip
        "problems": [_problem_text(p) for p in services.problems(version)],
        "steps": version.steps.select_related("actor"),
        "left": services.working_days_left(version.deadline, services.today()) if open_review else None,
        "unconfirmed_years": services.unconfirmed_calendar(version),
        "editable": may_draft and status == VersionStatus.DRAFT,
        "may_take": may_review and status == VersionStatus.SUBMITTED,
        "may_decide": may_review and open_review,
        "may_restart": may_draft
        and status in (VersionStatus.REFUSED, VersionStatus.APPROVED)
        and not in_progress,
        "nodes_text": scheme.nodes_text() if nodes_text is None else nodes_text,
        "flows_text": scheme.flows_text() if flows_text is None else flows_text,
        "errors": errors,
        "kinds": [(k.value, words[f"kind:{k.value}"]) for k in graph.NodeKind],
        "media": [(m.value, words[f"medium:{m.value}"]) for m in graph.Medium],
        "directions": [(d.value, words[f"direction:{d.value}"]) for d in graph.Direction],
    }
    return render(request, "schemes/version.html", context)


@require_POST
@cabinet_view(Module.OIL_GAS)
def save(request, pk: int):
    version = get_object_or_404(services.versions(request.scope), pk=pk)
    nodes_text, flows_text = request.POST.get("nodes", ""), request.POST.get("flows", "")
    upload = request.FILES.get("drawing")
    try:
        services.save_draft(request.scope, request.user, version, nodes_text, flows_text,
                            drawing=(upload.name, upload.read()) if upload else None)  # fmt: skip
    except graph.SchemeSyntaxError as exc:
        return version_detail.__wrapped__(request, pk, nodes_text=nodes_text, flows_text=flows_text,
                                          errors=[_problem_text(p) for p in exc.problems])  # fmt: skip
    except WorkflowError as exc:
        messages.error(request, exc.message)
        return redirect("schemes:version", pk=pk)
    messages.success(request, _("The scheme is saved."))
    return redirect("schemes:version", pk=pk)


@require_POST
@cabinet_view(Module.OIL_GAS)
def step(request, pk: int, action: str):
    scope = request.scope
    version = get_object_or_404(services.versions(scope), pk=pk)
    key_store = request.FILES.get("key_store")
    try:
        if key_store is None:
            raise WorkflowError(_("Choose your key store (PKCS#12 file) to sign this step."))
        identity = services.identity_from_key_store(key_store.read(), request.POST.get("password", ""))
        if action == StepAction.SUBMIT:
            services.submit(scope, request.user, version, identity, request=request)
            messages.success(request, _("The scheme is signed and submitted for agreement."))
        elif action == StepAction.TAKE:
            services.take(scope, request.user, version, identity, request=request)
            messages.success(request, _("The scheme is taken into review."))
        elif action == StepAction.APPROVE:
            services.approve(scope, request.user, version, identity, request=request)
            messages.success(request, _("The scheme is approved; the signed decision is ready."))
        elif action == StepAction.REFUSE:
            services.refuse(
                scope, request.user, version, identity, request.POST.get("reasons", ""), request=request
            )
            messages.success(request, _("The scheme is refused; the subject is told the reasons."))
        else:
            raise PermissionDenied("unknown step")
    except WorkflowError as exc:
        messages.error(request, exc.message)
    return redirect("schemes:version", pk=pk)


@require_POST
@cabinet_view(Module.OIL_GAS)
def new_version(request, pk: int):
    version = get_object_or_404(services.versions(request.scope), pk=pk)
    try:
        fresh = services.new_version(request.scope, request.user, version)
    except WorkflowError as exc:
        messages.error(request, exc.message)
        return redirect("schemes:version", pk=pk)
    messages.success(request, format_html(_("Version {} is a new draft."), fresh.number))
    return redirect("schemes:version", pk=fresh.pk)


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, name)
    return response


@require_GET
@cabinet_view(Module.OIL_GAS)
def decision_pdf(request, pk: int):
    version = get_object_or_404(services.versions(request.scope).exclude(decision_sha256=""), pk=pk)
    return _pdf(
        bytes(version.decision_pdf),
        f"scheme-{version.scheme.facility.object_id}-v{version.number}-decision.pdf",
    )


@require_GET
@cabinet_view(Module.OIL_GAS)
def drawing(request, pk: int):
    version = get_object_or_404(services.versions(request.scope).exclude(drawing_sha256=""), pk=pk)
    return _pdf(bytes(version.drawing), version.drawing_name or "drawing.pdf")


@require_GET
@cabinet_view(Module.OIL_GAS)
def step_signature(request, pk: int):
    found = get_object_or_404(SchemeStep.objects.filter(version__in=services.versions(request.scope)), pk=pk)
    response = HttpResponse(bytes(found.signed_xml), content_type="application/xml")
    response["Content-Disposition"] = content_disposition_header(True, f"step-{found.pk}-{found.action}.xml")
    return response
