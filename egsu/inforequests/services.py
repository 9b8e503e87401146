"""ACC-16: a state body files a request, the authorized body approves or refuses it with reasons, and an
approved request is answered with a data package built by the worker through a scope limited to what
was approved (egsu.access.scope.approved_scope), downloadable by the requester for PACKAGE_DAYS.
Every step is audited; the requester is told by e-mail."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from egsu.access import audit as audit_log
from egsu.access import scope as gate
from egsu.access.audit import Event
from egsu.access.scope import Scope
from egsu.cabinet.views_totals import DEFAULT_INTERVAL, daily_totals
from egsu.inforequests.models import InfoRequest
from egsu.mail.outbox import send
from egsu.monitoring.summaries import arrivals_summary
from egsu.reports.tables import Column, ExportTable
from egsu.reports.xlsx import write_xlsx
from egsu.spreadsheets import csv_cell
from egsu_core.clock import utcnow

PACKAGE_DAYS = 14  # how long an approved package may be downloaded
MAX_DAYS = 366


class RequestError(ValueError):
    """A request that cannot be filed or decided as asked (the message says why)."""


def packages_dir() -> Path:
    directory = Path(settings.CONFIG.var_dir) / "inforequests"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def file_request(scope: Scope, user, *, organisation, what, energy, subjects, period_start, period_end,
                 legal_basis, purpose="", request=None) -> InfoRequest:  # fmt: skip
    if not gate.may_file_info_request(scope):
        raise PermissionDenied("only a state body's user files information requests (ACC-16)")
    if period_end < period_start:
        raise RequestError(_("The end date is before the start date."))
    if (period_end - period_start).days >= MAX_DAYS:
        raise RequestError(_("Choose a period of at most one year."))
    if what == InfoRequest.What.TOTALS and not energy:
        raise RequestError(_("Choose the energy whose totals are asked for."))
    if not legal_basis.strip():
        raise RequestError(_("Give the legal basis of the request."))
    with transaction.atomic():
        found = InfoRequest.objects.create(
            requester=user, organisation=organisation, what=what, energy=energy if what == "totals" else "",
            period_start=period_start, period_end=period_end, legal_basis=legal_basis, purpose=purpose,
            filed_at=utcnow(),
        )  # fmt: skip
        found.subjects.set(subjects)
        audit_log.audit(Event.INFO_REQUEST_FILED, actor=user, obj=found, request=request,
                        after=_snapshot(found))  # fmt: skip
    return found


def _snapshot(found: InfoRequest) -> dict:
    return {"what": found.what, "energy": found.energy, "subjects": sorted(found.subjects.values_list("bin", flat=True)),
            "period": [found.period_start.isoformat(), found.period_end.isoformat()], "status": found.status,
            "legal_basis": found.legal_basis[:200], "reasons": found.reasons[:200]}  # fmt: skip


def decide(
    scope: Scope, user, found: InfoRequest, *, approve: bool, reasons: str, request=None
) -> InfoRequest:
    if not gate.may_decide_info_request(scope):
        raise PermissionDenied("only the authorized body decides information requests (ACC-16)")
    if found.status != InfoRequest.Status.SUBMITTED:
        raise RequestError(_("This request has been decided already."))
    if not approve and not reasons.strip():
        raise RequestError(_("Give the reasons for the refusal."))
    from egsu.inforequests.tasks import build_package

    before = _snapshot(found)
    with transaction.atomic():
        found.status = InfoRequest.Status.APPROVED if approve else InfoRequest.Status.REFUSED
        found.decided_by, found.decided_at, found.reasons = user, utcnow(), reasons.strip()
        found.save(update_fields=["status", "decided_by", "decided_at", "reasons"])
        audit_log.audit(Event.INFO_REQUEST_APPROVED if approve else Event.INFO_REQUEST_REFUSED, actor=user,
                        obj=found, request=request, before=before, after=_snapshot(found))  # fmt: skip
        if approve:
            transaction.on_commit(lambda: build_package.enqueue(found.pk))
        else:
            _tell(found, gettext_lazy("Your information request was refused"))
    return found


def package_table(found: InfoRequest) -> ExportTable:
    """The package's rows, read through a scope of only the approved subjects and data."""
    scope = gate.approved_scope(found)
    header = [(_("Request"), f"#{found.pk} {found.organisation}"), (_("Legal basis"), found.legal_basis[:200]),
              (_("Period (Astana days)"), f"{found.period_start.isoformat()} – {found.period_end.isoformat()}")]  # fmt: skip
    if found.what == InfoRequest.What.TOTALS:
        rows = daily_totals(scope, start=found.period_start, end=found.period_end, energy=found.energy,
                            interval=DEFAULT_INTERVAL.get(found.energy, ""), group="subject")  # fmt: skip
        return ExportTable(
            title=_("Daily totals"), header=header,
            columns=[Column(_("Day")), Column(_("Subject")), Column(_("Quantity")), Column(_("Unit")),
                     Column(_("Total"), numeric=True), Column(_("Values"), numeric=True)],
            rows=lambda: ((r.day, r.group, r.quantity, r.unit, r.total, r.values) for r in rows),
            row_count=len(rows),
        )  # fmt: skip
    summary = arrivals_summary(scope, start=found.period_start, end=found.period_end, group_by="subject")
    return ExportTable(
        title=_("Arrivals"), header=header,
        columns=[Column(_("Subject")), Column(_("BIN")), Column(_("Expected"), numeric=True),
                 Column(_("Arrived"), numeric=True), Column(_("Late"), numeric=True),
                 Column(_("Missing"), numeric=True), Column(_("Rejected"), numeric=True)],
        rows=lambda: ((str(r.label), r.bin, r.expected, r.arrived, r.late, r.missing, r.rejected) for r in summary),
        row_count=len(summary),
    )  # fmt: skip


def _csv(table: ExportTable) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.label for c in table.columns])
    for row in table.rows():
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue().encode("utf-8")


def build_package(request_id: int) -> InfoRequest:
    """Write the Excel and CSV files of an approved request (idempotent: a ready one is left alone)."""
    found = InfoRequest.objects.get(pk=request_id)
    if found.status != InfoRequest.Status.APPROVED:
        return found
    table = package_table(found)
    stem = f"request-{found.pk}-{utcnow():%Y%m%d%H%M%S}"
    xlsx, csv_bytes = io.BytesIO(), _csv(table)
    written = write_xlsx(table, xlsx)
    (packages_dir() / f"{stem}.xlsx").write_bytes(xlsx.getvalue())
    (packages_dir() / f"{stem}.csv").write_bytes(csv_bytes)
    found.package_xlsx, found.package_csv, found.package_rows = f"{stem}.xlsx", f"{stem}.csv", written
    found.available_until = utcnow() + timedelta(days=PACKAGE_DAYS)
    found.status = InfoRequest.Status.READY
    found.save(update_fields=["package_xlsx", "package_csv", "package_rows", "available_until", "status"])
    audit_log.audit(Event.INFO_REQUEST_PACKAGE_BUILT, obj=found, source="inforequests.build_package",
                    summary=f"{written} rows, available until {found.available_until:%Y-%m-%d %H:%M} UTC")  # fmt: skip
    _tell(found, gettext_lazy("The data package of your information request is ready"))
    return found


def _tell(found: InfoRequest, subject) -> None:
    if found.requester.email:
        send(found.requester, subject, template="inforequests/mail/decided.txt", context={"found": found},
             dedupe_key=f"inforequest:{found.pk}:{found.status}")  # fmt: skip


def package_path(scope: Scope, found: InfoRequest, fmt: str, *, now=None) -> Path:
    """The package file, for its requester only, while it is available."""
    if found.requester_id != scope.user_id or found.status != InfoRequest.Status.READY:
        raise PermissionDenied("only the requester downloads the package of a ready request")
    if found.available_until is None or found.available_until <= (now or utcnow()):
        raise PermissionDenied("this package is no longer available")
    name = {"xlsx": found.package_xlsx, "csv": found.package_csv}.get(fmt)
    if not name:
        raise PermissionDenied("no such file")
    return packages_dir() / name


def expire(now=None) -> int:
    """Remove packages past their time (their rows stay, marked expired, for the audit trail)."""
    now = now or utcnow()
    count = 0
    for found in InfoRequest.objects.filter(status=InfoRequest.Status.READY, available_until__lte=now):
        for name in (found.package_xlsx, found.package_csv):
            if name:
                (packages_dir() / name).unlink(missing_ok=True)
        found.status = InfoRequest.Status.EXPIRED
        found.save(update_fields=["status"])
        count += 1
    return count
