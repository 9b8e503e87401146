"""Correction pages: the list, the proposal form, the act with its decision, the act PDF.

Edges only: parse the request, call one service, render. Data comes through the gate
(services.acts, services.current_readings); refusals become 403 (role) or 404 (not in scope).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.quality import services
from egsu.quality.errors import CorrectionError
from egsu.quality.models import ActStatus
from egsu.quality.rules import PeriodSyntaxError, ValueSyntaxError, parse_period, parse_value
from egsu.readings.store import KNOWN_INTERVALS, tidy_value
from egsu_core.clock import to_astana
from egsu_core.vocabulary import Interval

PAGE_SIZE = 50


@require_GET
@cabinet_view(Module.CORRECTIONS)
def correction_list(request):
    scope = request.scope
    status = request.GET.get("status", "")
    rows = services.acts(scope)
    if status in ActStatus.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "quality/list.html",
        {
            "awaiting": list(services.awaiting_decision(scope)[:PAGE_SIZE]),
            "page": page,
            "status": status,
            "statuses": ActStatus.choices,
            "can_propose": scope.can_propose_corrections,
        },
    )


@require_http_methods(["GET", "POST"])
@cabinet_view(Module.CORRECTIONS)
def propose(request):
    scope = request.scope
    if not scope.can_propose_corrections:
        raise PermissionDenied("only the data operator or the authorized body proposes corrections")
    source = request.POST if request.method == "POST" else request.GET
    query, errors = _selection(source)
    readings = []
    if query and not errors:
        readings = services.current_readings(scope, **query)
        if not readings:
            errors.append(_("No readings of this device in your scope for this period."))
    entered: dict[str, str] = {}
    reason = ""
    if request.method == "POST" and readings:
        reason = request.POST.get("reason", "")
        lines = []
        for index, reading in enumerate(readings):
            text = request.POST.get(f"corrected-{index}", "").strip()
            entered[str(index)] = text
            if not text:
                continue
            try:
                value = parse_value(text)
            except ValueSyntaxError:
                errors.append(_("Row %(row)s: enter a number, for example 1234.5.") % {"row": index + 1})
                continue
            lines.append(
                services.LineProposal(
                    reading.object_id,
                    reading.device_id,
                    reading.quantity,
                    reading.interval,
                    reading.period_start,
                    value,
                )
            )
        if not errors:
            try:
                act = services.propose(scope, request.user, lines, reason, request=request)
            except CorrectionError as exc:
                errors.append(exc.message)
            else:
                messages.success(
                    request, _("Act %(number)s was proposed to the subject.") % {"number": act.number}
                )
                return redirect("quality:act", pk=act.pk)
    return render(
        request,
        "quality/propose.html",
        {
            "facilities": gate.facilities(scope).only("object_id", "name").order_by("object_id")[:2000],
            "intervals": [i.value for i in Interval if i.stored],
            "form": source,
            "rows": [
                {
                    "index": str(i),
                    "reading": r,
                    "value": format(tidy_value(r.value), "f"),
                    "entered": entered.get(str(i), ""),
                }
                for i, r in enumerate(readings)
            ],
            "reason": reason,
            "errors": errors,
            "start_local": _local(query["start"]) if query else "",
            "end_local": _local(query["end"]) if query else "",
        },
    )


@require_GET
@cabinet_view(Module.CORRECTIONS)
def act_detail(request, pk: int):
    scope = request.scope
    act = get_object_or_404(services.acts(scope), pk=pk)
    is_open = act.status == ActStatus.PROPOSED
    return render(
        request,
        "quality/act.html",
        {
            "act": act,
            "lines": act.lines.order_by("period_start", "quantity"),
            "may_decide": is_open and scope.can_agree_corrections,
            "may_withdraw": is_open
            and scope.can_propose_corrections
            and act.proposed_by_id == request.user.pk,
        },
    )


def _decision(request, pk: int, step):
    act = get_object_or_404(services.acts(request.scope), pk=pk)
    try:
        step(act)
    except CorrectionError as exc:
        messages.error(request, exc.message)
        return redirect("quality:act", pk=act.pk)
    return redirect("quality:act", pk=act.pk)


@require_POST
@cabinet_view(Module.CORRECTIONS)
def agree(request, pk: int):
    def step(act):
        act = services.agree(request.scope, request.user, act, request=request)
        messages.success(
            request, _("Act %(number)s is agreed and the corrections are applied.") % {"number": act.number}
        )

    return _decision(request, pk, step)


@require_POST
@cabinet_view(Module.CORRECTIONS)
def refuse(request, pk: int):
    def step(act):
        act = services.refuse(
            request.scope, request.user, act, request.POST.get("reason", ""), request=request
        )
        messages.success(request, _("Act %(number)s is refused.") % {"number": act.number})

    return _decision(request, pk, step)


@require_POST
@cabinet_view(Module.CORRECTIONS)
def withdraw(request, pk: int):
    def step(act):
        act = services.withdraw(request.scope, request.user, act, request=request)
        messages.success(request, _("Act %(number)s is withdrawn.") % {"number": act.number})

    return _decision(request, pk, step)


@require_GET
@cabinet_view(Module.CORRECTIONS)
def act_pdf(request, pk: int):
    act = get_object_or_404(services.acts(request.scope), pk=pk)
    data, draft = services.act_pdf(request.scope, request.user, act, request=request)
    name = f"act-{act.number}{'-draft' if draft else ''}.pdf"
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, name)
    if act.pdf_sha256 and not draft:
        response["X-Content-SHA256"] = act.pdf_sha256
    return response


def _local(moment) -> str:
    """An instant as a datetime-local input shows it: Astana wall-clock time."""
    return to_astana(moment).strftime("%Y-%m-%dT%H:%M")


def _selection(params) -> tuple[dict | None, list[str]]:
    """Which values the proposal is about: object, device, interval, quantity and period range."""
    object_id = params.get("object_id", "").strip()
    device_id = params.get("device_id", "").strip()
    if not object_id or not device_id or not params.get("period_start"):
        return None, []
    errors: list[str] = []
    interval = params.get("interval", "PT2H")
    if interval not in KNOWN_INTERVALS:
        errors.append(_("Choose a known interval."))
        return None, errors
    try:
        start = parse_period(params["period_start"])
        end = (
            parse_period(params["period_end"])
            if params.get("period_end")
            else start + Interval(interval).step  # a proposal without an end covers one period
        )
    except PeriodSyntaxError:
        errors.append(_("Enter the period as a date and time, for example 2025-06-01T02:00."))
        return None, errors
    if end <= start:
        errors.append(_("The end of the period must be after its start."))
        return None, errors
    quantity = params.get("quantity", "").strip()
    query = {
        "object_id": object_id,
        "device_id": device_id,
        "interval": interval,
        "start": start,
        "end": end,
        "quantities": [quantity] if quantity else None,
    }
    return query, errors
