"""A metering point's metrology, documents and failures (OGM-08/09, DIG-45/46), and the obligated
objects (OGM-07). Edges only: the gate chooses what is seen, egsu.schemes.registers changes it."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.schemes import registers
from egsu.schemes.models import Document, DocumentKind, Failure, FailureSource, ObligatedObject
from egsu.schemes.services import WorkflowError

DATA = (Module.OIL_GAS, Module.POWER, Module.HEAT)


def _date(text: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError as exc:
        raise WorkflowError(_("Enter a date, for example 2026-03-01.")) from exc


@require_http_methods(["GET", "POST"])
@cabinet_view(any_of=DATA)
def point_metrology(request, pk: int):
    scope = request.scope
    point = get_object_or_404(gate.points(scope).select_related("subject"), pk=pk)
    may_change = scope.can_edit or (scope.role is not None and scope.sees_subject(point.subject.bin))
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied("not this point's subject")
        try:
            _change(request, point)
        except WorkflowError as exc:
            messages.error(request, exc.message)
        return redirect("schemes:point-metrology", pk=pk)
    metrology = getattr(point, "metrology", None)
    return render(request, "schemes/point_metrology.html", {
        "point": point, "metrology": metrology, "state": registers.verification_state(point),
        "verifications": point.verifications.select_related("document"),
        "documents": point.documents.select_related("uploaded_by"),
        "failures": point.failures.select_related("replacement"),
        "kinds": DocumentKind.choices, "may_change": may_change,
        "open_failure": point.failures.filter(replaced_on__isnull=True).first(),
    })  # fmt: skip


def _change(request, point) -> None:
    scope, user, form = request.scope, request.user, request.POST
    what = form.get("what")
    if what == "metrology":
        until = form.get("type_approved_until", "").strip()
        registers.set_metrology(
            scope, user, point, type_register_no=form.get("type_register_no", "").strip()[:100],
            type_approved_until=_date(until) if until else None,
            method_ref=form.get("method_ref", "").strip()[:300], stated_error=form.get("stated_error", "").strip()[:100],
        )  # fmt: skip
        messages.success(request, _("The metrology is saved."))
    elif what == "verification":
        upload = request.FILES.get("certificate_file")
        document = None
        if upload is not None:
            document = registers.store_document(scope, user, point, DocumentKind.VERIFICATION, upload.name,
                                                upload.read(), upload.content_type or "")  # fmt: skip
        registers.record_verification(
            scope, user, point, verified_on=_date(form.get("verified_on")), valid_until=_date(form.get("valid_until")),
            certificate_no=form.get("certificate_no", "").strip()[:100] or "—", document=document,
        )  # fmt: skip
        messages.success(request, _("The verification is recorded."))
    elif what == "document":
        upload = request.FILES.get("file")
        if upload is None or form.get("kind") not in DocumentKind.values:
            raise WorkflowError(_("Choose the kind and the file."))
        document = registers.store_document(scope, user, point, form["kind"], upload.name, upload.read(),
                                            upload.content_type or "")  # fmt: skip
        messages.success(request, _("Stored as version %(n)s.") % {"n": document.version})
    elif what == "failure":
        registers.report_failure(scope, user, point, failed_on=_date(form.get("failed_on")),
                                 source=FailureSource.NOTICE, note=form.get("note", "")[:2000])  # fmt: skip
        messages.success(request, _("The failure is recorded; the replacement clock runs."))
    elif what == "replacement":
        failure = get_object_or_404(Failure, point=point, replaced_on__isnull=True)
        object_code, _sep, device = form.get("replacement", "").strip().partition("/")
        replacement = gate.points(scope).filter(object_code=object_code, store_device_id=device).first()
        if replacement is None:
            raise WorkflowError(
                _("No metering point %(key)s in your scope.") % {"key": form.get("replacement", "")}
            )
        registers.record_replacement(
            scope, user, failure, replacement, replaced_on=_date(form.get("replaced_on"))
        )
        messages.success(request, _("The replacement is recorded."))
    else:
        raise WorkflowError(_("Unknown change."))


@require_GET
@cabinet_view(any_of=DATA)
def document_file(request, pk: int):
    document = get_object_or_404(Document.objects.filter(point__in=gate.points(request.scope)), pk=pk)
    try:
        data = registers.read_document(document)
    except (WorkflowError, OSError) as exc:
        return HttpResponse(str(exc), status=410, content_type="text/plain; charset=utf-8")
    response = HttpResponse(data, content_type=document.content_type or "application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, document.name)
    response["X-Content-SHA256"] = document.sha256
    return response


@require_http_methods(["GET", "POST"])
@cabinet_view(Module.OIL_GAS)
def obligations(request):
    scope = request.scope
    if request.method == "POST":
        if not scope.can_edit:
            raise PermissionDenied("the list of Order No. 357 is kept by the operator")
        upload = request.FILES.get("workbook")
        if upload is None:
            messages.error(request, _("Choose the workbook."))
        else:
            stored, errors = registers.import_obligations(request.user, upload.read())
            messages.success(request, _("%(n)s rows imported.") % {"n": stored})
            for error in errors[:50]:
                messages.error(request, error)
        return redirect("schemes:obligations")
    rows = ObligatedObject.objects.select_related("subject")
    if not scope.all_subjects:
        rows = rows.filter(subject__bin__in=scope.subject_bins)
    day = registers.today()
    items = [{"row": row, "state": registers.obligation_state(row, day)} for row in rows[:2000]]
    counts = {
        state: sum(1 for i in items if i["state"] == state) for state in ("equipped", "overdue", "not_due")
    }
    return render(
        request, "schemes/obligations.html", {"items": items, "counts": counts, "may_import": scope.can_edit}
    )
