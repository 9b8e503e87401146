"""Regular and urgent reports (ANA-05..07): plan them, build them on the worker, keep their files, mail them.

The worker builds a report with the system's national scope (the authorized body's view, ACC-12);
who may then read or receive it is the gate's decision (egsu.access.scope.reports), asked again for
every subscriber before anything is mailed.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from egsu.access import scope as gate
from egsu.access.roles import Module, Role
from egsu.access.scope import Scope, scope_for
from egsu.mail.outbox import Attachment, send
from egsu.registry.models import Subject
from egsu.reporting import figures, render
from egsu.reporting.contents import build_contents, period_of
from egsu.reporting.definitions import REGULAR, Frequency, Kind, Level, Period, last_complete
from egsu.reporting.models import Report, ReportFile, Subscription
from egsu_core.clock import astana_date, utcnow

log = logging.getLogger(__name__)

# The view reports are built with: every subject, every module (the authorized body's, ACC-12).
SYSTEM_SCOPE = Scope(user_id=None, role=Role.AUTHORITY, all_subjects=True, subject_bins=frozenset(),
                     modules=frozenset(Module.values))  # fmt: skip
FORMATS = {
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", render.write_xlsx),
    "pdf": ("application/pdf", render.write_pdf),
}


def reports_dir() -> Path:
    directory = Path(settings.CONFIG.var_dir) / "reports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def area_label(level: str, area: str) -> str:
    if level == Level.LOCAL:
        subject = Subject.objects.filter(bin=area).first()
        return f"{subject.name} ({area})" if subject else area
    return area


def areas(kind: str, frequency: str, level: str) -> list[str]:
    """Which areas a regular report is made for: the nation, every region in the registry, and the
    subjects someone subscribed to (a subject's own report is made when somebody reads it)."""
    if level == Level.NATIONAL:
        return [""]
    if level == Level.REGIONAL:
        return figures.regions(SYSTEM_SCOPE)
    return sorted(set(Subscription.objects.filter(kind=kind, frequency=frequency, level=level)
                      .exclude(area="").values_list("area", flat=True)))  # fmt: skip


def plan_regular(today: date, frequencies=REGULAR) -> list[int]:
    """Queue every regular report whose period ended before `today` and that is not made yet (idempotent)."""
    from egsu.reporting.tasks import build_report

    made = []
    now = utcnow()
    for frequency in frequencies:
        period = last_complete(Frequency(frequency), today)
        for kind in Kind:
            for level in Level:
                for area in areas(kind, frequency, level):
                    report = _create(kind, frequency, level, area, period, now)
                    if report is not None:
                        made.append(report.pk)
    for pk in made:
        transaction.on_commit(lambda pk=pk: build_report.enqueue(pk))
    return made


def _create(kind, frequency, level, area, period: Period, now, reason: str = "") -> Report | None:
    try:
        with transaction.atomic():
            return Report.objects.create(
                kind=kind, frequency=frequency, level=level, area=area, area_label=area_label(level, area),
                period_start=period.start, period_end=period.end, created_at=now, reason=reason[:300],
            )  # fmt: skip
    except IntegrityError:
        return None  # made already (another scheduler's run, or an earlier day)


def build(report_id: int) -> Report:
    """Compute the report's contents, draw nothing yet (files are drawn per language), mail subscribers."""
    report = Report.objects.get(pk=report_id)
    if report.status != Report.Status.BUILT:
        report.figures = build_contents(
            SYSTEM_SCOPE, report.kind, report.level, report.area, period_of(report)
        )
        report.status = Report.Status.BUILT
        report.built_at = utcnow()
        report.error = ""
        report.save(update_fields=["figures", "status", "built_at", "error"])
    deliver(report)
    return report


def file_for(report: Report, language: str, fmt: str) -> ReportFile:
    """The report drawn in a language and format, drawn once and kept under var/reports/."""
    found = ReportFile.objects.filter(report=report, language=language, format=fmt).first()
    if found is not None and (reports_dir() / found.file_name).exists():
        return found
    _content_type, writer = FORMATS[fmt]
    with translation.override(language):
        content = writer(report, report.figures)
    name = f"{report.pk}/{report.kind}-{report.frequency}-{report.level}-{report.period_start:%Y%m%d}-{language}.{fmt}"
    path = reports_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    row, _created = ReportFile.objects.update_or_create(
        report=report, language=language, format=fmt,
        defaults={"file_name": name, "size": len(content), "created_at": utcnow()},
    )  # fmt: skip
    return row


def subscribers(report: Report):
    """Users subscribed to this report's kind, frequency, level and area who may read it (asked of the gate)."""
    found = Subscription.objects.filter(kind=report.kind, frequency=report.frequency, level=report.level,
                                        area=report.area, user__is_active=True).select_related("user")  # fmt: skip
    for subscription in found:
        user = subscription.user
        if user.email and gate.reports(scope_for(user)).filter(pk=report.pk).exists():
            yield user


def deliver(report: Report) -> int:
    """E-mail the report (Excel and PDF attached) to each subscriber, in the subscriber's language, once."""
    sent = 0
    for user in subscribers(report):
        profile = getattr(user, "profile", None)
        language = profile.language if profile is not None else settings.LANGUAGE_CODE
        attachments = []
        for fmt, (content_type, _writer) in FORMATS.items():
            row = file_for(report, language, fmt)
            attachments.append(Attachment(Path(row.file_name).name, (reports_dir() / row.file_name).read_bytes(),
                                          content_type))  # fmt: skip
        with translation.override(language):
            context = {"report": report, "lines": render.header_lines(report),
                       "title": str(_(Kind(report.kind).label))}  # fmt: skip
        send(user, _("Report: %(title)s"), template="reporting/mail/report.txt", context=context,
             dedupe_key=f"report:{report.pk}", attachments=attachments)  # fmt: skip
        sent += 1
    return sent


def urgent(kind: str, level: str, area: str, *, reason: str, today: date | None = None) -> Report:
    """An urgent report of today so far (ANA-07), queued at once at the front of the queue."""
    from egsu.reporting.tasks import build_report

    today = today or astana_date(utcnow())
    report = _create(kind, Frequency.URGENT, level, area, Period(today, today), utcnow(), reason=reason)
    assert report is not None  # urgent reports are never unique per period
    transaction.on_commit(lambda: build_report.using(priority=10).enqueue(report.pk))
    return report


def on_critical_alarm(
    title: str, *, subject_bin: str = "", region: str = "", energy: str = ""
) -> list[Report]:
    """THE HOOK the alarms app calls when a critical alarm opens: urgent reports at once (ANA-07).

    Made: the arrivals report and, for an energy, its totals report, at the alarm's most local level
    (the subject, else its region) and nationally; each is mailed to the subscribers of urgent
    reports of that kind, level and area.
    """
    kinds = [Kind.ARRIVALS]
    if energy:
        kinds.insert(0, Kind.OIL_GAS_TURNOVER if energy == "oil_gas" else Kind.CONSUMPTION)
    places = [(Level.NATIONAL, "")]
    if subject_bin:
        places.insert(0, (Level.LOCAL, subject_bin))
    elif region:
        places.insert(0, (Level.REGIONAL, region))
    return [urgent(kind, level, area, reason=title) for kind in kinds for level, area in places]
