"""Feedback: the control on every cabinet page posts here; the operators' register; one's own messages."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.feedback import services
from egsu.feedback.forms import AnswerForm, FeedbackForm
from egsu.feedback.models import Feedback, MonthlySummary


def _back(request, page: str) -> str:
    return page if url_has_allowed_host_and_scheme(page, allowed_hosts={request.get_host()}) else "/cabinet/"


@require_POST
@cabinet_view()
def send(request):
    form = FeedbackForm(request.POST)
    page = request.POST.get("page", "/cabinet/")
    if not form.is_valid():
        messages.error(request, _("Write what you want to tell us, and choose a topic."))
        return redirect(_back(request, page))
    data = form.cleaned_data
    parts = urlsplit(data["page"])
    services.submit(request.user, page=parts.path, page_title=data["page_title"], query=parts.query,
                    topic=data["topic"], text=data["text"], snapshot=data["snapshot"] if data["attach"] else "",
                    language=translation.get_language() or "", request=request)  # fmt: skip
    messages.success(
        request, _("Thank you: your message reached the operators. Their answer will be under My feedback.")
    )
    return redirect(_back(request, data["page"]))


@require_GET
@cabinet_view()
def mine(request):
    found = gate.feedback(request.scope).filter(author=request.user)
    return render(request, "feedback/mine.html", {"items": found[:200]})


@require_GET
@cabinet_view()
def register(request):
    scope = request.scope
    if not gate.may_answer_feedback(scope):
        raise PermissionDenied("the feedback register is the operators'")
    found = gate.feedback(scope)
    status = request.GET.get("status", "")
    if status in Feedback.Status.values:
        found = found.filter(status=status)
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    return render(request, "feedback/register.html", {
        "page": page, "status": status, "statuses": Feedback.Status.choices,
        "summaries": MonthlySummary.objects.all()[:12],
    })  # fmt: skip


def _item(request, pk: int) -> Feedback:
    found = gate.feedback(request.scope).filter(pk=pk).first()
    if found is None:
        raise Http404("no such feedback")
    return found


@cabinet_view()
def detail(request, pk: int):
    scope = request.scope
    found = _item(request, pk)
    answering = gate.may_answer_feedback(scope)
    form = (
        AnswerForm(request.POST or None, initial={"status": found.status, "answer": found.answer})
        if answering
        else None
    )
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("only the operators answer feedback")
        if form.is_valid():
            services.answer(scope, request.user, found, status=form.cleaned_data["status"],
                            text=form.cleaned_data["answer"], request=request)  # fmt: skip
            messages.success(request, _("Saved; the author is told by e-mail when there is a new answer."))
            return redirect("feedback:detail", pk=found.pk)
    return render(request, "feedback/detail.html", {"found": found, "form": form})


@require_GET
@cabinet_view()
def snapshot(request, pk: int):
    """The page as the author saw it: served as plain text, never rendered (no script of it runs here)."""
    if not gate.may_answer_feedback(request.scope):
        raise PermissionDenied("the feedback register is the operators'")
    found = _item(request, pk)
    response = HttpResponse(found.snapshot, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="feedback-{found.pk}-page.html.txt"'
    return response
