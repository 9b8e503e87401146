"""Alarms in the cabinet (MON-05..08): the list per role and scope, one alarm's page with its history
and evidence, acknowledge and close (audited), the export, the user's subscription, and notices
(INT-09..12): a subject's users file them, the operator reads the register."""

from __future__ import annotations

import csv
import io
from datetime import date

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from egsu.access import audit as trail
from egsu.access import scope as gate
from egsu.access.audit import Event
from egsu.access.decorators import cabinet_view
from egsu.alarms import services
from egsu.alarms.filters import AlarmFilter
from egsu.alarms.models import Notice, NoticeKind, Subscription
from egsu.alarms.sources import SOURCE_LABELS
from egsu.alarms.tables import alarms_table
from egsu.reports.xlsx import write_xlsx
from egsu_core.clock import astana_date, utcnow

PAGE_SIZE = 50


def query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@cabinet_view()
def alarm_list(request):
    scope = request.scope
    found = AlarmFilter.for_scope(scope, request.GET)
    page = Paginator(found.alarms(), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"alarm": a, "source": gettext(SOURCE_LABELS.get(a.source, a.source)),
             "may_handle": a.active and gate.may_handle_alarm(scope, a)} for a in page.object_list]  # fmt: skip
    return render(request, "alarms/list.html", {
        "filter": found, "page": page, "rows": rows, "query": query_without_page(request),
    })  # fmt: skip


@cabinet_view()
def alarm_detail(request, pk: int):
    scope = request.scope
    alarm = get_object_or_404(gate.alarms(scope).select_related("subject", "point", "acknowledged_by"), pk=pk)
    from egsu.schemes import registers

    failure = (
        None if alarm.point_id is None else alarm.point.failures.filter(replaced_on__isnull=True).first()
    )
    return render(request, "alarms/detail.html", {
        "alarm": alarm, "entries": alarm.entries.select_related("user"),
        "source": gettext(SOURCE_LABELS.get(alarm.source, alarm.source)),
        "evidence": sorted(alarm.evidence.items()), "may_handle": alarm.active and gate.may_handle_alarm(scope, alarm),
        "may_declare_failure": alarm.active and registers.may_declare_failure(scope, alarm),
        "failure": failure, "today": registers.today(), "first_day": astana_date(alarm.first_seen),
    })  # fmt: skip


def _handled(request, pk: int):
    alarm = get_object_or_404(gate.alarms(request.scope).select_related("subject"), pk=pk)
    if not gate.may_handle_alarm(request.scope, alarm):
        raise PermissionDenied("only the operator and the subject's users handle its alarms")
    return alarm


@require_POST
@cabinet_view()
def alarm_acknowledge(request, pk: int):
    alarm = _handled(request, pk)
    comment = request.POST.get("comment", "").strip()[:2000]
    before = alarm.state
    alarm = services.acknowledge(alarm, request.user, comment)
    trail.audit(Event.ALARM_ACKNOWLEDGED, obj=alarm, request=request, summary=f"{alarm.source} {alarm.key}",
                before={"state": before}, after={"state": alarm.state, "comment": comment})  # fmt: skip
    messages.success(request, gettext("The alarm is acknowledged."))
    return redirect("alarms:detail", pk=pk)


@require_POST
@cabinet_view()
def alarm_close(request, pk: int):
    alarm = _handled(request, pk)
    comment = request.POST.get("comment", "").strip()[:2000]
    if not comment:
        messages.error(
            request, gettext("Say why the alarm needs nothing more: a comment is required to close it.")
        )
        return redirect("alarms:detail", pk=pk)
    before = alarm.state
    alarm = services.close(alarm, request.user, comment)
    trail.audit(Event.ALARM_CLOSED, obj=alarm, request=request, summary=f"{alarm.source} {alarm.key}",
                before={"state": before}, after={"state": alarm.state, "comment": comment})  # fmt: skip
    messages.success(request, gettext("The alarm is closed."))
    return redirect("alarms:detail", pk=pk)


@require_POST
@cabinet_view()
def alarm_failure(request, pk: int):
    """Declare the alarm's device failed (DIG-45): its replacement clock starts (egsu.schemes.registers)."""
    from egsu.schemes import registers
    from egsu.schemes.services import WorkflowError

    alarm = _handled(request, pk)
    text = request.POST.get("failed_on", "").strip()
    try:
        failed_on = date.fromisoformat(text) if text else None
    except ValueError:
        messages.error(request, gettext("Enter a date, for example 2026-03-01."))
        return redirect("alarms:detail", pk=pk)
    try:
        failure = registers.failure_from_alarm(request.scope, request.user, alarm, failed_on=failed_on,
                                               note=request.POST.get("note", "").strip()[:2000])  # fmt: skip
    except WorkflowError as exc:
        messages.error(request, exc.message)
        return redirect("alarms:detail", pk=pk)
    messages.success(
        request,
        gettext("The device failure is recorded; replace the device by %(day)s.")
        % {"day": formats.date_format(failure.due_on, "SHORT_DATE_FORMAT")},
    )
    return redirect("alarms:detail", pk=pk)


@cabinet_view()
def alarm_export(request):
    """The list as filtered, every row (Excel or CSV), audited like the other exports."""
    fmt = request.GET.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        fmt = "xlsx"
    params = {k: v for k, v in request.GET.items() if k not in ("page", "format")}
    at = utcnow()
    table = alarms_table(request.scope, request.user, params, at)
    out = io.BytesIO()
    if fmt == "xlsx":
        rows = write_xlsx(table, out)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow([str(c.label) for c in table.columns])
        rows = 0
        for row in table.rows():
            writer.writerow(
                ["" if v is None else v.isoformat() if hasattr(v, "isoformat") else v for v in row]
            )
            rows += 1
        out.write(text.getvalue().encode("utf-8-sig"))
        content_type = "text/csv; charset=utf-8"
    name = f"egsu-alarms-{at:%Y%m%d-%H%M}.{fmt}"
    trail.audit(Event.EXPORT, object_type="export", object_id=name, request=request,
                summary=f"alarms {fmt}: {rows} rows", after={"what": "alarms", "format": fmt, **params})  # fmt: skip
    response = HttpResponse(out.getvalue(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# ---------------------------------------------------------------- subscriptions (issue 14 item 4)


class SubscriptionForm(forms.ModelForm):
    regions_text = forms.CharField(
        label=_("Regions"), required=False, max_length=1000,
        help_text=_("One per line; leave empty for every region you see."), widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip

    class Meta:
        model = Subscription
        fields = ["active", "severity", "delivery", "subjects"]
        widgets = {"subjects": forms.CheckboxSelectMultiple}
        help_texts = {"subjects": _("Leave all unticked for every subject you see.")}

    def __init__(self, scope, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subjects"].queryset = gate.subjects(scope).order_by("name")
        self.fields["regions_text"].initial = "\n".join(self.instance.regions or [])

    def save(self, commit=True):
        self.instance.regions = [
            r.strip() for r in self.cleaned_data["regions_text"].splitlines() if r.strip()
        ]
        return super().save(commit)


@cabinet_view()
def subscription(request):
    instance = Subscription.objects.filter(user=request.user).first() or Subscription(user=request.user)
    form = SubscriptionForm(request.scope, request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        trail.audit(Event.ALARM_SUBSCRIBED, obj=saved, request=request, summary=str(saved),
                    after={"severity": saved.severity, "delivery": saved.delivery, "active": saved.active,
                           "regions": saved.regions, "subjects": [s.bin for s in saved.subjects.all()]})  # fmt: skip
        messages.success(request, gettext("Your alarm notifications are saved."))
        return redirect("alarms:subscription")
    return render(request, "alarms/subscription.html", {"form": form, "has_email": bool(request.user.email)})


# ---------------------------------------------------------------- notices (INT-09..12)


class NoticeForm(forms.ModelForm):
    class Meta:
        model = Notice
        fields = ["subject", "kind", "starts_at", "ends_at", "points", "text"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "points": forms.SelectMultiple(attrs={"size": 6}),
        }

    def __init__(self, scope, *args, **kwargs):
        super().__init__(*args, **kwargs)
        subjects = gate.subjects(scope).order_by("name")
        self.fields["subject"].queryset = subjects
        self.fields["points"].queryset = (
            gate.points(scope).filter(subject__in=subjects).order_by("object_code")
        )
        self.fields["kind"].choices = NoticeKind.choices
        if subjects.count() == 1:
            self.fields["subject"].initial = subjects.first()

    def clean(self):
        data = super().clean()
        start, end = data.get("starts_at"), data.get("ends_at")
        if start and end and end <= start:
            self.add_error("ends_at", gettext("The period must end after it starts."))
        subject, points = data.get("subject"), data.get("points")
        if subject and points and any(p.subject_id != subject.pk for p in points):
            self.add_error("points", gettext("Choose metering points of this subject only."))
        return data


def file_notice(notice: Notice, points, *, actor=None, request=None, via: str) -> Notice:
    """Store a notice (from the cabinet or the agent's API call), audited."""
    notice.via = via[:40]
    notice.created_at = utcnow()
    notice.filed_by = actor
    notice.save()
    notice.points.set(points or [])
    trail.audit(Event.NOTICE_FILED, actor=actor, obj=notice, request=request, source=via, summary=str(notice),
                after={"kind": notice.kind, "from": notice.starts_at.isoformat(), "until": notice.ends_at.isoformat(),
                       "points": [p.pk for p in notice.points.all()]})  # fmt: skip
    if notice.kind == NoticeKind.DEVICE_FAILURE:  # the failed devices' replacement clocks start (DIG-45)
        from egsu.schemes.registers import failures_from_notice

        failures_from_notice(notice, notice.points.all(), actor)
    return notice


@cabinet_view()
def notices(request):
    scope = request.scope
    may_file = gate.may_file_notice(scope)
    form = NoticeForm(scope, request.POST or None) if may_file else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("only a subject's users file notices")
        if form.is_valid():
            file_notice(form.save(commit=False), form.cleaned_data["points"], actor=request.user, request=request,
                        via="cabinet")  # fmt: skip
            messages.success(request, gettext("The notice is filed."))
            return redirect("alarms:notices")
    found = gate.notices(scope).select_related("subject", "filed_by").prefetch_related("points")
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "alarms/notices.html", {"form": form, "page": page, "now": utcnow()})


@require_POST
@cabinet_view()
def notice_withdraw(request, pk: int):
    notice = get_object_or_404(gate.notices(request.scope), pk=pk, withdrawn_at__isnull=True)
    if not gate.may_file_notice(request.scope):
        raise PermissionDenied("only the subject's users withdraw its notices")
    notice.withdrawn_at = utcnow()
    notice.save(update_fields=["withdrawn_at"])
    trail.audit(Event.NOTICE_WITHDRAWN, obj=notice, request=request, summary=str(notice))
    messages.success(request, gettext("The notice is withdrawn."))
    return redirect("alarms:notices")
