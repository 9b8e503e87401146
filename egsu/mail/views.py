"""The outbox page: failed deliveries first in view for the operator, and a failed message sent again."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.mail import outbox
from egsu.mail.models import Mail

PAGE_SIZE = 50


@cabinet_view(Module.OPERATIONS, edit=True)
def mail_list(request):
    mails = gate.mails(request.scope)
    status = request.GET.get("status", "")
    if status in Mail.Status.values:
        mails = mails.filter(status=status)
    failed = gate.mails(request.scope).filter(status=Mail.Status.FAILED).count()
    return render(request, "mail/outbox.html", {
        "page": Paginator(mails, PAGE_SIZE).get_page(request.GET.get("page")), "status": status,
        "statuses": Mail.Status.choices, "failed": failed, "query": f"status={status}" if status else "",
    })  # fmt: skip


@require_POST
@cabinet_view(Module.OPERATIONS, edit=True)
def mail_retry(request, pk: int):
    mail = get_object_or_404(gate.mails(request.scope), pk=pk)
    try:
        outbox.retry(mail, request=request, source="cabinet")
    except outbox.NotRetriable:
        messages.error(request, _("Only a message that could not be delivered can be sent again."))
    else:
        messages.success(request, _("The message will be sent again."))
    return redirect("mail:outbox")
